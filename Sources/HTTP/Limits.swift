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
    /// Seconds a body may go without progress (408 and close past it). Default 10.
    public var bodyTimeout: Double = 10
    /// Seconds a connection may send nothing (new, or idle between requests)
    /// before it is closed without a response. Default 60.
    public var idleTimeout: Double = 60
    /// Most open connections; past it new ones are closed at once. Default 1024.
    public var maxConnections: Int = 1024
    /// Longest chunk-size line of a chunked body, its chunk extensions and
    /// CRLF included (RFC 9112 §7.1.1; 400 past it). Extensions carry nothing
    /// the server uses, so this only bounds the work a client can cause.
    /// Default 4 KiB.
    public var maxChunkLineBytes: Int = 4 << 10

    public init() {}
}
