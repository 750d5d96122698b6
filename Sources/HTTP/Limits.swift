/// Every limit the server enforces on a client. Each is a configuration value
/// (a flag and an environment variable in `lossd`); the defaults are the
/// contract's (rule 13).
public struct Limits: Sendable, Hashable {
    /// Largest request body in bytes, checked on the wire and again after gzip
    /// decoding (413 past it). Default 128 MiB.
    public var maxBodyBytes: Int = 128 << 20
    /// Longest request line in bytes, its CRLF included (414 past it); empty
    /// lines a client sends before it (RFC 9112 §2.2) count toward it. Default 8 KiB.
    public var maxRequestLineBytes: Int = 8 << 10
    /// Largest header section in bytes, its CRLFs included (431 past it); a
    /// chunked body's trailer section has the same limit. Default 32 KiB.
    public var maxHeaderBytes: Int = 32 << 10
    /// Most header fields, Host included (431 past it); likewise for trailer fields. Default 100.
    public var maxHeaderCount: Int = 100
    /// Seconds within which the whole request head must arrive after its
    /// first byte (408 and close past it). Default 10.
    public var headTimeout: Double = 10
    /// Seconds a body may go without progress (408 and close past it); also
    /// the grace before `minBodyRate` applies. Default 10.
    public var bodyTimeout: Double = 10
    /// Bytes per second a request body must average once its grace of
    /// `bodyTimeout` seconds has passed (408 and close below it): a body that
    /// started `t` seconds ago must have sent `(t - bodyTimeout) * minBodyRate`
    /// bytes, so each byte buys `1 / minBodyRate` seconds more (Apache
    /// mod_reqtimeout's MinRate). Bytes are counted on the wire, chunk framing
    /// included. Without it a client sending a byte every few seconds would
    /// hold its connection forever. 0 turns the rule off. Default 1024.
    public var minBodyRate: Int = 1024
    /// Most seconds a request body may take from its first byte expected to
    /// its last, however steadily it arrives (408 and close past it). Default 300.
    public var maxBodyDuration: Double = 300
    /// Seconds a connection may send nothing (new, or idle between requests)
    /// before it is closed without a response. Default 60.
    public var idleTimeout: Double = 60
    /// Most open connections. At the cap a new connection is admitted in the
    /// place of the connection idle the longest (which is closed), or else
    /// answered 503 (see `ServerConfiguration.overflowConnections`). Default 1024.
    public var maxConnections: Int = 1024
    /// Longest chunk-size line of a chunked body, its chunk extensions and
    /// CRLF included (RFC 9112 §7.1.1; 400 past it). Extensions carry nothing
    /// the server uses, so this only bounds the work a client can cause.
    /// Default 4 KiB.
    public var maxChunkLineBytes: Int = 4 << 10

    public init() {}
}
