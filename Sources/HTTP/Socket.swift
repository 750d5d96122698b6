#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin helpers over the POSIX socket calls the server makes. Every descriptor
/// is non-blocking and close-on-exec.
enum Socket {
    /// Opens, binds and listens on `host`:`port`; returns the descriptor and
    /// the port actually bound (the ephemeral one when `port` is 0).
    static func listen(host: String, port: Int, backlog: Int32) throws(ServerError) -> (fd: Int32, port: Int) {
        guard (0...65535).contains(port) else {
            throw ServerError(message: "port \(port) is out of range 0...65535")
        }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(host, String(port), &hints, &list)
        guard gai == 0, let info = list else {
            throw ServerError(message: "cannot resolve host \"\(host)\": \(String(cString: gai_strerror(gai)))")
        }
        defer { freeaddrinfo(list) }

        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ServerError(message: "socket(): \(errorText())") }
        var one: Int32 = 1
        var zero: Int32 = 0
        // A restarted server must be able to bind while old connections sit in TIME_WAIT.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if info.pointee.ai_family == AF_INET6 {
            // "::" should accept IPv4 too (dual stack) whatever the system default says.
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let reason = errno == EADDRINUSE ? "address already in use" : errorText()
            close(fd)
            throw ServerError(message: "cannot listen on \(displayAddress(host, port)): \(reason)")
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let reason = errorText()
            close(fd)
            throw ServerError(message: "cannot listen on \(displayAddress(host, port)): \(reason)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let bound = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0 else {
            let reason = errorText()
            close(fd)
            throw ServerError(message: "getsockname(): \(reason)")
        }
        let family = storage.ss_family
        let boundPort: UInt16 = withUnsafePointer(to: &storage) { pointer in
            if family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port }
        }
        return (fd, Int(UInt16(bigEndian: boundPort)))
    }

    /// `host:port`, with IPv6 literals in brackets.
    static func displayAddress(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Accepts one pending connection, already non-blocking; nil when none is
    /// pending (or on a transient error, which `error` then describes).
    static func accept(_ listener: Int32) -> (fd: Int32?, error: Int32) {
        let fd = Glibc.accept(listener, nil, nil)
        if fd >= 0 {
            // Accepted sockets inherit neither flag on Linux (accept4 is not exported to Swift by Glibc).
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            // Responses go out in one write each; Nagle would only delay a `100 Continue` or a pipelined reply.
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return (fd, 0)
        }
        return (nil, errno)
    }

    /// The text of the current `errno`.
    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}

extension ServerConfiguration {
    /// The default log sink: unbuffered, so lines from several threads do not interleave mid-line.
    static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}
