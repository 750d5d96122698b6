#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import COpenSSL
@testable import HTTP

/// A small responder that only the tests use: each path exercises one server behaviour.
final class TestResponder: Responder {
    let exchanges = Locked<[Exchange]>([])
    let responded = Locked(0)

    /// Request bodies that `/echo` returns whole.
    final class Echo: BodyHandler {
        var bytes: [UInt8] = []
        func consume(_ piece: UnsafeRawBufferPointer) -> Response? {
            bytes += piece
            return nil
        }
        func finish() -> Response { Response(status: .ok, body: bytes) }
    }

    /// Answers 422 as soon as the first body byte arrives.
    final class StopEarly: BodyHandler {
        func consume(_ piece: UnsafeRawBufferPointer) -> Response? {
            Problem(status: .unprocessableContent, detail: "stopped early").response
        }
        func finish() -> Response { Response(status: .ok) }
    }

    /// Counts the body, then, before answering, marks `slowStarted` and
    /// sleeps 300 ms: heavy work, as a large loss would be.
    final class Slow: BodyHandler {
        let responder: TestResponder
        var count = 0
        init(responder: TestResponder) { self.responder = responder }
        func consume(_ piece: UnsafeRawBufferPointer) -> Response? {
            count += piece.count
            return nil
        }
        func finish() -> Response {
            responder.slowStarted.withLock { $0 = true }
            usleep(300_000)
            return Response(status: .ok, body: Array("\(count)".utf8))
        }
    }

    /// True once a `/slow` request began its heavy work.
    let slowStarted = Locked(false)

    static let bigBody: [UInt8] = Array(String(repeating: #"{"loss":0.25,"count":12},"#, count: 200).utf8)

    func respond(to head: RequestHead) -> Reply {
        responded.withLock { $0 += 1 }
        switch head.path {
        case "/hello": return .response(Response(status: .ok, body: Array("hello".utf8)))
        case "/echo": return .body(Echo())
        case "/stop-early": return .body(StopEarly())
        case "/slow": return .body(Slow(responder: self))
        case "/big": return .response(Response(status: .ok, headers: ["Content-Type": "application/json"], body: TestResponder.bigBody))
        case "/reject": return .response(Problem(status: .notFound, detail: "no such route").response)
        case "/empty": return .response(Response(status: .noContent))
        case "/bad-header": return .response(Response(status: .ok, headers: ["X-Note": "a\r\nSet-Cookie: evil=1"], body: []))
        case "/bad-name": return .response(Response(status: .ok, headers: ["X Note": "a"], body: []))
        case "/close": return .response(Response(status: .ok, headers: ["Connection": "close"], body: Array("bye".utf8)))
        default: return .response(Problem(status: .notFound, detail: "no route").response)
        }
    }

    func prepare(_ response: inout Response, for head: RequestHead?) {
        response.headers.add("X-Prepared", head == nil ? "no-head" : "head")
    }

    func completed(_ exchange: Exchange) {
        exchanges.withLock { $0.append(exchange) }
    }

    /// Waits briefly for `count` exchanges to be reported (the report follows the write).
    func waitForExchanges(_ count: Int) -> [Exchange] {
        for _ in 0..<600 {
            let current = exchanges.withLock { $0 }
            if current.count >= count { return current }
            usleep(5_000)
        }
        return exchanges.withLock { $0 }
    }

    /// Waits briefly until `respond(to:)` was called `count` times.
    func waitForRequests(_ count: Int) {
        for _ in 0..<600 where responded.withLock({ $0 }) < count { usleep(5_000) }
    }
}

/// Starts a server on an ephemeral port of 127.0.0.1 with short limits for tests.
func startServer(host: String = "127.0.0.1", _ adjust: (inout ServerConfiguration) -> Void = { _ in })
    throws -> (Server, TestResponder) {
    var configuration = ServerConfiguration()
    configuration.host = host
    configuration.port = 0
    configuration.limits.maxBodyBytes = 1 << 20
    configuration.limits.headTimeout = 2
    configuration.limits.bodyTimeout = 2
    configuration.limits.idleTimeout = 5
    configuration.lingerTimeout = 0.5
    configuration.log = { _ in }
    adjust(&configuration)
    let responder = TestResponder()
    let server = Server(configuration: configuration, responder: responder)
    try server.start()
    return (server, responder)
}

/// Stops a test server and waits until every connection is closed.
func stop(_ server: Server) {
    let done = DispatchSemaphore(value: 0)
    server.drain(deadline: 0) { done.signal() }
    _ = done.wait(timeout: .now() + 5)
}

/// A response as a test client read it.
struct TestResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
    var text: String { String(decoding: body, as: UTF8.self) }
}

enum TestClientError: Error { case connect(String), timeout, closed, malformed(String) }

/// A blocking socket client with a receive timeout, reading responses by hand
/// so that tests see exactly the bytes the server sent. `send` touches only
/// the descriptor, so one thread may send while another reads.
final class TestClient: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []
    /// Set by `startTLS()`: from then on `send` and reads go through TLS.
    private var ssl: OpaquePointer?
    private var sslContext: OpaquePointer?

    init(port: Int, host: String = "127.0.0.1", timeout: Double = 3) throws {
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var result: Int32
        if v6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        if result != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestClientError.connect(reason)
        }
    }

    deinit {
        if let ssl { SSL_free(ssl) }
        if let sslContext { SSL_CTX_free(sslContext) }
        close(fd)
    }

    /// Runs a TLS handshake (no certificate check: the tests' certificate is
    /// self-signed), offering at most `maximumVersion` (e.g. `TLS1_1_VERSION`)
    /// when given, and returns the ALPN protocol the server chose ("" for none).
    @discardableResult
    func startTLS(maximumVersion: Int32? = nil) throws -> String {
        // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a write to a connection the server
        // closed must fail with EPIPE, not end the test process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TestClientError.connect("SSL_CTX_new failed") }
        if let maximumVersion {
            // Old versions are refused by the client's own default security level too: lift it, so only the server decides.
            SSL_CTX_set_security_level(context, 0)
            SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(maximumVersion), nil)
        }
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw TestClientError.connect("SSL_new failed")
        }
        sslContext = context
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        _ = lossd_SSL_set_tlsext_host_name(ssl, "localhost")
        _ = lossd_SSL_set_alpn_http11(ssl)
        guard SSL_connect(ssl) == 1 else {
            ERR_clear_error()
            throw TestClientError.connect("the TLS handshake failed")
        }
        var protocolName: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &protocolName, &length)
        guard let protocolName else { return "" }
        return String(decoding: UnsafeBufferPointer(start: protocolName, count: Int(length)), as: UTF8.self)
    }

    /// The subject of the certificate the server presented in the TLS handshake (nil before it, or without one).
    var peerCertificateSubject: String? {
        guard let ssl, let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        return TLSContext.subject(of: certificate)
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { part in
                if let ssl {
                    var written = 0
                    return SSL_write_ex(ssl, part.baseAddress, part.count, &written) == 1 ? written : -1
                }
                return Glibc.send(fd, part.baseAddress, part.count, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            offset += n
        }
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads more bytes; false on EOF, reset or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { raw in
            if let ssl {
                var read = 0
                return SSL_read_ex(ssl, raw.baseAddress, raw.count, &read) == 1 ? read : -1
            }
            return recv(fd, raw.baseAddress, raw.count, 0)
        }
        if n <= 0 { return false }
        buffer += chunk[..<n]
        return true
    }

    /// Reads one response. `bodyless` for a HEAD request's response.
    func readResponse(bodyless: Bool = false) throws -> TestResponse {
        var headEnd: Int?
        while true {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4)
                where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                    headEnd = i
                    break
                }
            }
            if headEnd != nil { break }
            guard fill() else { throw buffer.isEmpty ? TestClientError.closed : TestClientError.timeout }
        }
        let headText = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw TestClientError.malformed(statusLine)
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw TestClientError.malformed(line) }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " })))
        }
        buffer.removeFirst(headEnd! + 4)
        var response = TestResponse(status: status, headers: headers, body: [])
        let length = bodyless || status < 200 ? 0 : Int(response.header("Content-Length") ?? "0") ?? 0
        while buffer.count < length {
            guard fill() else { throw TestClientError.timeout }
        }
        response.body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return response
    }

    /// How the connection ended: 0 for an orderly close (FIN), else the
    /// receive error (ECONNRESET for a reset, EAGAIN for a timeout); -1 when
    /// more bytes came.
    func readEnd() -> Int32 {
        guard buffer.isEmpty else { return -1 }
        var byte: UInt8 = 0
        if let ssl {
            // TLS: the end is close_notify (or the FIN, which OpenSSL reports as a syscall error with errno 0).
            var read = 0
            if SSL_read_ex(ssl, &byte, 1, &read) == 1 { return -1 }
            let error = SSL_get_error(ssl, 0)
            ERR_clear_error()
            if error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && errno == 0) { return 0 }
            return error == SSL_ERROR_SYSCALL ? errno : EPROTO
        }
        let n = recv(fd, &byte, 1, 0)
        return n == 0 ? 0 : n > 0 ? -1 : errno
    }

    /// True when the server closed the connection (EOF or reset) with no
    /// further bytes, within the receive timeout.
    func isClosedWithoutResponse() -> Bool {
        guard buffer.isEmpty else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }
}

/// Repeats `bytes` as a request with a Content-Length body.
func post(_ path: String, _ body: [UInt8], headers: String = "") -> [UInt8] {
    Array("POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\(headers)\r\n".utf8) + body
}

/// True once connecting to `port` is refused, within `seconds`: a drain closes
/// the listener on the server's accept queue, which a loaded machine may run
/// a little after `drain` returns.
func refusesConnections(port: Int, within seconds: Double = 2) -> Bool {
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
    repeat {
        guard (try? TestClient(port: port)) != nil else { return true }
        usleep(10_000)
    } while DispatchTime.now().uptimeNanoseconds < deadline
    return false
}

/// The seconds `body` took.
func elapsed(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
