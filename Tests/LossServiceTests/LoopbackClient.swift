import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
@testable import HTTP
@testable import LossService

/// A running `Server` with a `LossResponder` on an ephemeral loopback port,
/// with short limits so that timeout and size rules can be reached quickly.
final class LoopbackService {
    let server: Server
    let responder: LossResponder
    var port: Int { server.port }

    init(cors: CORSPolicy = CORSPolicy(), readiness: Readiness = Readiness(),
         maxTensorBytes: Int = TensorDecoder.defaultMaxTensorBytes, memoryBudget: MemoryBudget? = nil,
         _ adjust: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.log = { _ in }
        adjust(&configuration)
        responder = LossResponder(cors: cors, readiness: readiness, metrics: ServiceMetrics(memoryBudget: memoryBudget),
                                  maxTensorBytes: maxTensorBytes,
                                  memoryBudget: memoryBudget, budgetExemptBytes: configuration.inlineBodyBytes)
        server = Server(configuration: configuration, responder: responder)
        try server.start()
    }

    /// Drains the server and waits until every connection is closed.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        server.drain(deadline: 0) { done.signal() }
        _ = done.wait(timeout: .now() + 5)
    }

    func client() throws -> LoopbackClient { try LoopbackClient(port: port) }
}

/// One response as read off the socket.
struct WireResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { Headers.equalsIgnoringCase($0.name, name) }?.value
    }
    func headerValues(_ name: String) -> [String] {
        headers.filter { Headers.equalsIgnoringCase($0.name, name) }.map(\.value)
    }
    var text: String { String(decoding: body, as: UTF8.self) }
}

enum LoopbackError: Error { case connect(Int32), closed, timeout, malformed(String) }

/// A small blocking HTTP/1.1 client over a plain socket: it writes exactly the
/// bytes a test gives it and reads responses by `Content-Length`, so tests see
/// what crossed the wire (keep-alive and pipelining included).
final class LoopbackClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw LoopbackError.connect(code)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Sends one request with `Content-Length` (unless given) and reads its response.
    func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
                 contentLength: Bool = true) throws -> WireResponse {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if contentLength && (!body.isEmpty || method == "POST") { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        send(Array(head.utf8) + body)
        return try readResponse(bodyless: method == "HEAD")
    }

    /// A loss POST with a JSON body.
    func post(_ path: String, _ json: String, headers: [(String, String)] = []) throws -> WireResponse {
        try request("POST", path, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
    }

    func get(_ path: String, headers: [(String, String)] = []) throws -> WireResponse {
        try request("GET", path, headers: headers)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { throw LoopbackError.closed }
        if n < 0 { throw errno == EAGAIN || errno == EWOULDBLOCK ? LoopbackError.timeout : LoopbackError.closed }
        buffer += chunk[..<n]
    }

    /// True when the server closed the connection (reads EOF) within the receive timeout.
    func isClosedByPeer() -> Bool {
        do {
            while true { try fill() }
        } catch LoopbackError.closed {
            return true
        } catch {
            return false
        }
    }

    /// Reads one response; `bodyless` for the answer to HEAD.
    func readResponse(bodyless: Bool = false) throws -> WireResponse {
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
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw LoopbackError.malformed(statusLine)
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw LoopbackError.malformed(line) }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " })))
        }
        buffer.removeFirst(headEnd! + 4)
        var response = WireResponse(status: status, headers: headers, body: [])
        let length = bodyless || status < 200 || status == 204 || status == 304
            ? 0 : Int(response.header("Content-Length") ?? "0") ?? 0
        while buffer.count < length { try fill() }
        response.body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return response
    }
}

extension String {
    /// Splits on a multi-character separator, keeping empty pieces.
    func components(_ separator: String) -> [String] {
        var pieces: [String] = []
        var rest = self[...]
        while let range = rest.range(of: separator) {
            pieces.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        pieces.append(String(rest))
        return pieces
    }
}
