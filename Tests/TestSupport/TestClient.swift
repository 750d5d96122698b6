#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// One response as a test client read it off the socket.
public struct TestResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name` (compared case-insensitively, RFC 9110 §5.1).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Every value of the header `name`, in the order sent.
    public func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a test client could not connect or read a response.
public enum TestClientError: Error, Equatable {
    case connect(String), closed, timeout, malformed(String)
}

/// A small blocking HTTP/1.1 client over a plain or TLS socket, with a receive
/// timeout: it writes exactly the bytes a test gives it and reads responses by
/// `Content-Length` by hand, so tests see what crossed the wire (keep-alive and
/// pipelining included). `send` touches only the descriptor, so one thread may
/// send while another reads.
public final class TestClient: @unchecked Sendable {
    public let fd: Int32
    private var buffer: [UInt8] = []
    /// Set by `startTLS()`: from then on `send` and reads go through TLS.
    private var ssl: OpaquePointer?
    private var sslContext: OpaquePointer?

    /// Connects to `host` (IPv4 or IPv6 literal) on `port`; reads give up after `timeout` seconds.
    public init(port: Int, host: String = "127.0.0.1", timeout: Double = 5) throws {
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
    public func startTLS(maximumVersion: Int32? = nil) throws -> String {
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

    /// The subject of the certificate the server presented in the TLS handshake,
    /// in OpenSSL's one-line form (`/CN=localhost/O=…`); nil before it, or without one.
    public var peerCertificateSubject: String? {
        guard let ssl, let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        guard let name = X509_get_subject_name(certificate) else { return "no subject" }
        var text = [CChar](repeating: 0, count: 256)
        guard X509_NAME_oneline(name, &text, Int32(text.count)) != nil else { return "no subject" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
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

    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Sends one request with `Content-Length` (unless `contentLength` is false) and reads its response.
    public func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
                        contentLength: Bool = true) throws -> TestResponse {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if contentLength && (!body.isEmpty || method == "POST") { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        send(Array(head.utf8) + body)
        return try readResponse(bodyless: method == "HEAD")
    }

    /// A POST with a JSON body.
    public func post(_ path: String, _ json: String, headers: [(String, String)] = []) throws -> TestResponse {
        try request("POST", path, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
    }

    public func get(_ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try request("GET", path, headers: headers)
    }

    /// Reads more bytes; throws `closed` on EOF or reset, `timeout` when the receive timeout passed.
    private func fill() throws(TestClientError) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        var code: Int32 = 0
        let n = chunk.withUnsafeMutableBytes { raw in
            if let ssl {
                var read = 0
                if SSL_read_ex(ssl, raw.baseAddress, raw.count, &read) == 1 { return read }
                let error = SSL_get_error(ssl, 0)
                code = error == SSL_ERROR_SYSCALL ? errno : 0
                ERR_clear_error()
                return error == SSL_ERROR_ZERO_RETURN ? 0 : -1
            }
            let n = recv(fd, raw.baseAddress, raw.count, 0)
            code = errno
            return n
        }
        if n == 0 { throw .closed }
        if n < 0 { throw code == EAGAIN || code == EWOULDBLOCK ? .timeout : .closed }
        buffer += chunk[..<n]
    }

    /// Reads one response; `bodyless` for the answer to HEAD.
    public func readResponse(bodyless: Bool = false) throws -> TestResponse {
        var headEnd: Int?
        var searched = 0
        while headEnd == nil {
            if buffer.count >= 4 {
                for i in max(0, searched - 3)...(buffer.count - 4)
                where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                    headEnd = i
                    break
                }
                searched = buffer.count
            }
            if headEnd == nil { try fill() }
        }
        var lines = String(decoding: buffer[..<headEnd!], as: UTF8.self).components("\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
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
        let length = bodyless || status < 200 || status == 204 || status == 304
            ? 0 : Int(response.header("Content-Length") ?? "0") ?? 0
        while buffer.count < length { try fill() }
        response.body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return response
    }

    /// How the connection ended: 0 for an orderly close (FIN, or TLS
    /// close_notify), else the receive error (ECONNRESET for a reset, EAGAIN
    /// for a timeout); -1 when more bytes came.
    public func readEnd() -> Int32 {
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
    public func isClosedWithoutResponse() -> Bool {
        guard buffer.isEmpty else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    /// True when the server closed the connection (reads EOF, after any bytes
    /// it still sent) within the receive timeout.
    public func isClosedByPeer() -> Bool {
        do {
            while true { try fill() }
        } catch .closed {
            return true
        } catch {
            return false
        }
    }
}

extension String {
    /// Splits on a multi-character separator, keeping empty pieces.
    fileprivate func components(_ separator: String) -> [String] {
        var pieces: [String] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            pieces.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        pieces.append(String(rest))
        return pieces
    }
}
