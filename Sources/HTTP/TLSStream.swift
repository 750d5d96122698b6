import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// TLS over one connection's non-blocking socket: the handshake, then
/// reads and writes with the contract of `read(2)` and `sendmsg(2)`, so
/// that `Connection` handles a TLS and a plain socket alike.
///
/// Edge-triggered epoll and TLS: a short `SSL_read` does not mean the socket
/// is drained (OpenSSL reads one record at a time, and keeps decrypted bytes
/// in `SSL_pending`), so a TLS connection reads until "would block"
/// (`SSL_ERROR_WANT_READ`) rather than until a short read.
///
/// Confinement: used only on its connection's queue.
final class TLSStream {
    /// How far `handshake()` got.
    enum Handshake {
        /// Established: read requests.
        case done
        /// The socket needs to become readable (or writable) first.
        case pending
        /// The client sent plain HTTP to this TLS port. The stream now
        /// passes bytes through in clear, for a plain-text answer.
        case plainHTTP
        /// Not TLS, or a failed handshake: close without a word.
        case failed
    }

    private let ssl: OpaquePointer
    private let fd: Int32
    private(set) var isEstablished = false
    /// Bytes go to and from the socket in clear: after a plain HTTP request,
    /// or once the sending side is shut down and input is only dropped.
    private var passthrough = false
    private var sawFirstByte = false
    /// Gathers a record's worth of bytes that straddle the head and the body.
    private var scratch: UnsafeMutableRawBufferPointer?

    /// The most bytes given to one `SSL_write`: one TLS record's payload (RFC 8446 §5.1).
    static let recordBytes = 16384

    /// Nil when OpenSSL cannot allocate the connection's state.
    init?(context: TLSContext, fd: Int32) {
        guard let ssl = SSL_new(context.context) else {
            ERR_clear_error()
            return nil
        }
        guard SSL_set_fd(ssl, fd) == 1 else {
            ERR_clear_error()
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.fd = fd
    }

    deinit {
        SSL_free(ssl)  // the descriptor is the connection's to close (SSL_set_fd does not own it)
        scratch?.deallocate()
    }

    /// Advances the handshake as far as the socket allows.
    func handshake() -> Handshake {
        if isEstablished { return .done }
        if passthrough { return .plainHTTP }
        if !sawFirstByte {
            var first: UInt8 = 0
            let n = recv(fd, &first, 1, Int32(MSG_PEEK))
            if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? .pending : .failed }
            if n == 0 { return .failed }
            sawFirstByte = true
            // Every TLS connection opens with a handshake record, content type 22 (RFC 8446 §5.1).
            if first != 22 {
                // An upper-case letter starts an HTTP method (RFC 9110 §9.1: methods are tokens,
                // and every registered one is upper case): answer it in clear, as nginx and Go do.
                if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) {
                    passthrough = true
                    return .plainHTTP
                }
                return .failed
            }
        }
        // SSL_get_error reads this thread's error queue, which other connections share: start it empty.
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            isEstablished = true
            return .done
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .pending
        default:
            ERR_clear_error()  // the queue is per thread, shared with other connections
            return .failed
        }
    }

    /// Like `read(2)`: bytes read, 0 at the end of the stream (close_notify,
    /// or the client's FIN), or -1 with `errno` set (EAGAIN: nothing now).
    func read(_ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        if passthrough { return Glibc.read(fd, pointer, count) }
        var n = 0
        if SSL_read_ex(ssl, pointer, count, &n) == 1 { return n }
        switch SSL_get_error(ssl, 0) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            // WANT_WRITE (a TLS 1.3 key update's answer): the connection retries on the writable edge too.
            errno = EAGAIN
        case SSL_ERROR_ZERO_RETURN:
            return 0
        case SSL_ERROR_SYSCALL:
            ERR_clear_error()
            if errno == 0 { return 0 }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { errno = ECONNRESET }
        default:
            ERR_clear_error()
            errno = EPROTO  // a bad record: the stream cannot be trusted further
        }
        return -1
    }

    /// Like one `sendmsg(2)` of `head` then `body`: the bytes written
    /// (fewer than both only when the socket is full), or -1 on failure.
    ///
    /// A write the socket could not take must be retried with the same
    /// bytes (OpenSSL has already sealed them into a record), which the
    /// connection does: it retries from the offset it reached, and the
    /// record-sized pieces here depend only on that offset.
    func send(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int {
        if passthrough { return sendInClear(head, body) }
        var written = 0
        let total = head.count + body.count
        while written < total {
            let length = min(TLSStream.recordBytes, total - written)
            let piece: UnsafeRawPointer
            if written + length <= head.count {
                piece = head.baseAddress! + written
            } else if written >= head.count {
                piece = body.baseAddress! + (written - head.count)
            } else {
                // The piece straddles head and body: gather it, one record rather than two.
                if scratch == nil { scratch = .allocate(byteCount: TLSStream.recordBytes, alignment: 16) }
                let headPart = head.count - written
                scratch!.baseAddress!.copyMemory(from: head.baseAddress! + written, byteCount: headPart)
                (scratch!.baseAddress! + headPart).copyMemory(from: body.baseAddress!, byteCount: length - headPart)
                piece = UnsafeRawPointer(scratch!.baseAddress!)
            }
            var n = 0
            if SSL_write_ex(ssl, piece, length, &n) == 1 {
                written += n
                continue
            }
            switch SSL_get_error(ssl, 0) {
            case SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_READ:
                return written
            default:
                ERR_clear_error()
                return -1
            }
        }
        return written
    }

    private func sendInClear(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int {
        var written = 0
        for part in [head, body] where part.count > 0 {
            let n = Glibc.send(fd, part.baseAddress, part.count, Int32(MSG_NOSIGNAL))
            if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? written : (written > 0 ? written : -1) }
            written += n
            if n < part.count { break }
        }
        return written
    }

    /// Sends close_notify (RFC 8446 §6.1) when established; from then on,
    /// input is read in clear, since it is only dropped.
    func shutdownWrite() {
        if isEstablished && !passthrough {
            if SSL_shutdown(ssl) < 0 { ERR_clear_error() }
        }
        passthrough = true
    }
}
