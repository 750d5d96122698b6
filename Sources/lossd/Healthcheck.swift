import CommandLineOptions
import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// `lossd healthcheck`: asks the local server's `/livez` and exits 0 when it
/// answers 200, 1 otherwise. For a container's HEALTHCHECK, which has no curl.
struct Healthcheck {
    static let command = CommandDeclaration(
        name: "healthcheck",
        abstract: "Exit 0 when the lossd on this machine answers GET /livez with 200, else say why and exit 1.",
        discussion: """
            Asks 127.0.0.1 on --port, else LOSSD_PORT, else 8080; over TLS when --tls-cert and --tls-key \
            (or LOSSD_TLS_CERT and LOSSD_TLS_KEY) are set. Accepts every option of lossd itself.
            """,
        options: [OptionDeclaration("timeout", valueName: "seconds", kind: .number,
                                    help: "Seconds to wait for the answer. (default: \(Int(defaultTimeout)))")])

    /// Seconds the healthcheck waits for the answer when --timeout is not given: 3.
    static let defaultTimeout: Double = 3

    /// `--port` is the server's own option (`lossd healthcheck --port 9000`):
    /// one port setting, whichever command reads it.
    var lossd: Lossd
    var timeout: Double

    init(lossd: Lossd, options: ParsedOptions) throws(UsageError) {
        self.lossd = lossd
        timeout = options.number("timeout") ?? Healthcheck.defaultTimeout
        guard timeout > 0, timeout.isFinite else {
            throw UsageError("--timeout must be a positive number of seconds, got \(timeout)", path: [Healthcheck.command.name])
        }
    }

    func run() throws {
        let environment = Environment(values: Configuration.processEnvironment())
        let target = try environment.pick(lossd.port, "LOSSD_PORT", 8080, Int.init)
        let tls = try Configuration.tls(flags: lossd, env: environment) != nil
        // A failing check says why on standard error (the container runtime
        // keeps it in the health log); a passing one prints nothing.
        if let failure = Healthcheck.failure(port: target, timeout: timeout, tls: tls) {
            let line = Array("lossd healthcheck: \(failure)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            throw ExitCode.failure
        }
    }

    /// Sends `GET /livez` to 127.0.0.1:`port` over a plain socket, or over
    /// TLS; nil when it answers 200, else what went wrong, in words.
    static func failure(port: Int, timeout: Double, tls: Bool = false) -> String? {
        let url = "\(tls ? "https" : "http")://127.0.0.1:\(port)/livez"
        guard (1...65535).contains(port) else { return "port \(port) is not in 1...65535" }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "cannot open a socket: \(Healthcheck.errorText())" }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return "cannot connect to 127.0.0.1:\(port): \(Healthcheck.errorText())" }
        let stream = tls ? HealthcheckTLS(fd: fd) : nil
        if tls && stream == nil { return "TLS handshake with 127.0.0.1:\(port) failed" }
        let request = Array("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { bytes in
            stream?.send(bytes) ?? send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        }
        guard sent == request.count else { return "cannot send GET \(url): \(Healthcheck.errorText())" }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while answer.count < 12 {
            let n = buffer.withUnsafeMutableBytes { bytes in
                stream?.receive(bytes) ?? recv(fd, bytes.baseAddress, bytes.count, 0)
            }
            if n < 0, answer.isEmpty {
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out after \(timeout) s" : Healthcheck.errorText()
                return "no answer from GET \(url): \(reason)"
            }
            if n <= 0 { break }
            answer += buffer[..<n]
        }
        // RFC 9112 §4: status-line = HTTP-version SP status-code SP [reason-phrase]
        let statusLine = String(decoding: answer.prefix(12), as: UTF8.self)
        if statusLine == "HTTP/1.1 200" || statusLine == "HTTP/1.0 200" { return nil }
        if answer.isEmpty { return "GET \(url): the connection closed without an answer" }
        let firstLine = String(decoding: answer.prefix { $0 != 0x0D && $0 != 0x0A }.prefix(64), as: UTF8.self)
        return "GET \(url) answered '\(firstLine)', not 200"
    }

    /// The text of the current `errno`.
    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}

/// The healthcheck's TLS client over a blocking socket (its timeouts set).
///
/// It verifies no certificate, on purpose: it only asks whether the lossd
/// process on this machine is alive, over loopback, and a check that
/// failed on an expired or self-signed certificate would restart a healthy
/// server. Serving a valid certificate is for clients to check.
final class HealthcheckTLS {
    private let context: OpaquePointer
    private let ssl: OpaquePointer

    init?(fd: Int32) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { return nil }
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            return nil
        }
        self.context = context
        self.ssl = ssl
        SSL_set_verify(ssl, SSL_VERIFY_NONE, nil)
        _ = lossd_SSL_set_alpn_http11(ssl)
        guard SSL_set_fd(ssl, fd) == 1, SSL_connect(ssl) == 1 else { return nil }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    func send(_ bytes: UnsafeRawBufferPointer) -> Int {
        var written = 0
        return SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written) == 1 ? written : -1
    }

    func receive(_ bytes: UnsafeMutableRawBufferPointer) -> Int {
        var read = 0
        return SSL_read_ex(ssl, bytes.baseAddress, bytes.count, &read) == 1 ? read : -1
    }
}
