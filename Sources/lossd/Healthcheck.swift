import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// `lossd healthcheck`: asks the local server's `/livez` and exits 0 when it
/// answers 200, 1 otherwise. For a container's HEALTHCHECK, which has no curl.
struct Healthcheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exit 0 when the lossd on this machine answers GET /livez with 200, else 1.",
        discussion: "Asks 127.0.0.1 on --port, else LOSSD_PORT, else 8080.")

    /// `--port` is the server's own option (`lossd healthcheck --port 9000`):
    /// one port setting, whichever command reads it.
    @ParentCommand var lossd: Lossd

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 3

    func run() throws {
        let environment = Environment(values: Configuration.processEnvironment())
        let target = try environment.pick(lossd.port, "LOSSD_PORT", 8080, Int.init)
        guard Healthcheck.livezAnswers200(port: target, timeout: timeout) else { throw ExitCode.failure }
    }

    /// Sends `GET /livez` to 127.0.0.1:`port` over a plain socket.
    static func livezAnswers200(port: Int, timeout: Double) -> Bool {
        guard (1...65535).contains(port) else { return false }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
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
        guard connected == 0 else { return false }
        let request = Array("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else { return false }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while answer.count < 12 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += buffer[..<n]
        }
        // RFC 9112 §4: status-line = HTTP-version SP status-code SP [reason-phrase]
        let statusLine = String(decoding: answer.prefix(12), as: UTF8.self)
        return statusLine == "HTTP/1.1 200" || statusLine == "HTTP/1.0 200"
    }
}
