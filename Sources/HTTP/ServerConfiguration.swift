#if canImport(Glibc)
import Glibc
#endif

/// Where and how a `Server` listens, with the limits it enforces on clients.
///
/// The client-facing limits of the contract live in `limits`; the values here
/// are the server's own housekeeping, each with its default in its comment.
public struct ServerConfiguration: Sendable {
    /// The address to listen on: an IPv4 literal (`"0.0.0.0"` for every IPv4
    /// interface, `"127.0.0.1"`), an IPv6 literal (`"::1"`; `"::"` listens on
    /// every IPv6 interface and, where the system allows dual-stack sockets,
    /// on every IPv4 interface too) or a host name such as `"localhost"`, of
    /// which the first address found is used. Default `"0.0.0.0"`.
    public var host: String = "0.0.0.0"
    /// The TCP port; 0 asks the system for an ephemeral port (read it back
    /// from `Server.port`). Default 8080.
    public var port: Int = 8080
    /// The limits enforced on every client (body and head sizes, timeouts,
    /// connection cap). Default `Limits()`, the contract's values.
    public var limits: Limits = Limits()
    /// Response bodies smaller than this many bytes are sent uncompressed even
    /// when the client accepts gzip: below it gzip gains little and costs CPU.
    /// Default 1024.
    public var gzipMinimumBytes: Int = 1024
    /// The zlib level (1 fastest … 9 smallest) for gzip responses. Default 5,
    /// close to 9's size for JSON at well under half its CPU.
    public var gzipLevel: Int = 5
    /// Seconds a response may go without any byte being accepted by the
    /// client's socket before the connection is closed, so a client that never
    /// reads cannot hold a connection forever. Default 60.
    public var writeTimeout: Double = 60
    /// Bytes per second a response must average, once it has waited
    /// `writeTimeout` seconds for the client's socket, before the connection is
    /// closed: each byte the socket takes buys `1 / minSendRate` seconds more
    /// (nginx's send_timeout bounds only the pause between two writes, so a
    /// client reading a byte a minute would hold the connection forever).
    /// Counted from the first write that did not fit in the socket; what fit
    /// at once earns nothing. 0 turns the rule off. Default 1024.
    public var minSendRate: Int = 1024
    /// At `Limits.maxConnections`, connections past it that are still accepted
    /// and answered, once their request head arrives (within the head
    /// timeout), with a 503 problem, `Retry-After` and `Connection: close`,
    /// instead of a reset. Evicted connections that are still closing count
    /// toward it too, so the process never holds more than
    /// `maxConnections + overflowConnections` connections; past that, new ones
    /// are closed at once. Default 64.
    public var overflowConnections: Int = 64
    /// At `Limits.maxConnections` a new connection is admitted in the place
    /// of the one idle longest (between requests, nothing buffered or pending),
    /// which is closed cleanly (FIN, then a lingering close), provided it has
    /// been idle at least this many seconds: a keep-alive client between two
    /// requests is not picked. Default 1.
    public var minIdleBeforeEviction: Double = 1
    /// The seconds the 503 over the connection cap asks a client to wait in
    /// its `Retry-After` field (RFC 9110 §10.2.3). Default 1.
    public var overloadRetryAfter: Int = 1
    /// After a response that ends a connection, the server shuts down its
    /// sending side and reads (and drops) what the client still sends for at
    /// most this many seconds before closing, so that closing with unread
    /// bytes does not reset the connection before the client has read the
    /// last response (RFC 9112 §9.6). Default 2.
    public var lingerTimeout: Double = 2
    /// The most bytes read and dropped during that lingering close. Default 1 MiB.
    public var lingerBytes: Int = 1 << 20
    /// When a response is sent before its request's body was read (an early
    /// answer), a remaining body of at most this many bytes is read and
    /// dropped so the connection can be kept alive; a larger one closes the
    /// connection instead. Default 64 KiB.
    public var discardBodyBytes: Int = 64 << 10
    /// Bytes of the per-connection read buffer. Request heads larger than
    /// this grow it up to the head limits, large bodies to
    /// `bodyReadBufferBytes`; it returns to this size between requests.
    /// Default 16 KiB.
    public var readBufferBytes: Int = 16 << 10
    /// While a request body larger than the read buffer is read, the buffer
    /// grows to this many bytes, so a large body takes fewer reads and fewer
    /// loop wake-ups; it returns to `readBufferBytes` once the body is read,
    /// so idle connections stay small. Default 64 KiB: with 256 KiB, four
    /// clients posting 67 MB bodies back to back were served unfairly (p90
    /// latency 1-4 s, p99 up to 8 s, against 0.3 s and 0.5-0.8 s with 64 KiB,
    /// same run) for about 5% less CPU per request.
    public var bodyReadBufferBytes: Int = 64 << 10
    /// Requests whose body is declared (Content-Length) at most this many
    /// bytes, without a content coding, are read and answered on the event
    /// loop's thread, which saves two context switches per request; a larger,
    /// chunked or gzip body is read and answered on the connection's queue,
    /// so the loop never waits behind heavy work. Default 64 KiB.
    public var inlineBodyBytes: Int = 64 << 10
    /// Event-loop threads, each waiting for the readiness of its share of the
    /// connections (given out in turn) and answering their cheap requests.
    /// Default: the number of CPUs this process may run on
    /// (`sched_getaffinity`), or 1 when that is unknown.
    public var eventLoops: Int = ServerConfiguration.schedulableCPUs()
    /// Serve HTTPS: TLS 1.2 or 1.3 with this certificate and key on every
    /// connection (a plain HTTP request gets a 400 in clear and is closed).
    /// Default nil: plain HTTP.
    public var tls: TLSConfiguration? = nil
    /// Seconds after `Server.drain` is called during which new connections
    /// are still accepted, each answered with `Connection: close`, before the
    /// listener closes (bounded by the drain's deadline). A load balancer or
    /// probe that has not yet seen the drain then gets an answer (`/readyz`'s
    /// 503) instead of a refused connection. Default 0: refuse at once, for
    /// deployments where a pre-stop pause (Kubernetes' preStop) already
    /// keeps the listener open while the endpoint is removed.
    public var drainAcceptGrace: Double = 0
    /// Seconds a connection that is idle during a drain (its last response
    /// written, nothing of a next request received) is kept before it ends,
    /// within the drain's deadline. A keep-alive client in a request loop
    /// writes its next request as soon as it reads a response: closing at
    /// once would lose that request (a reset, or an end the client cannot
    /// tell from a crash); within the grace it is answered, with
    /// `Connection: close`. Past it the server reads a last time, then
    /// half-closes (a FIN, with the lingering close of `lingerTimeout`), so a
    /// client sees a clean end. Checked by the deadline sweep, so it may end
    /// up to one sweep (a quarter of the shortest timeout, at most 1 s)
    /// late. Default 1; 0 ends idle connections at the next sweep, after one
    /// last read.
    public var drainIdleGrace: Double = 1
    /// Receives the server's own diagnostics: a response header the responder
    /// made invalid, an accept error. Default: one line to standard error.
    public var log: @Sendable (String) -> Void = { message in
        ServerConfiguration.writeToStandardError("lossd http: " + message + "\n")
    }

    public init() {}

    /// The CPUs this process may run on (its affinity mask, which `taskset`
    /// and container CPU sets narrow), or 1 when the system does not say.
    /// Read from /proc, the mask `sched_getaffinity` returns: that call is a
    /// GNU extension Swift's Glibc module does not declare.
    public static func schedulableCPUs() -> Int {
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 1 }
        defer { close(fd) }
        var status: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            status += chunk[..<count]
        }
        let field = "Cpus_allowed:"  // a hexadecimal mask, 32 bits per comma-separated group
        for line in String(decoding: status, as: UTF8.self).split(separator: "\n") where line.hasPrefix(field) {
            let cpus = line.dropFirst(field.count).reduce(0) { $0 + ($1.hexDigitValue?.nonzeroBitCount ?? 0) }
            return max(1, cpus)
        }
        return 1
    }
}
