import Dispatch
import HTTP

/// Access-log lines on their way to standard error, written in batches.
///
/// Why: one write(2) per request cost about 1.3 µs of system time here, a
/// few percent of a small request's whole CPU; batched, the same lines cost
/// one write per `flushBytes` or per `flushDelay`. Lines keep their order
/// (they are written under the lock), a batch holds only whole lines, and
/// the process flushes before it exits (see `Shutdown`), so a drained
/// shutdown loses nothing; a crash or SIGKILL can lose the last
/// `flushDelay` of lines, as with nginx's `access_log … buffer=`.
final class AccessLogBuffer: Sendable {
    /// Lines are written once this many bytes wait: 8 KiB.
    static let flushBytes = 8 << 10
    /// A line waits at most this long: 0.1 s (a person tailing the log does not notice).
    static let flushDelay: DispatchTimeInterval = .milliseconds(100)

    private let fd: Int32
    private let pending = Locked<[UInt8]>([])
    private let timerQueue = DispatchQueue(label: "lossd.access-log")

    init(fd: Int32 = 2) {
        self.fd = fd
        pending.withLock { $0.reserveCapacity(Self.flushBytes * 2) }
    }

    /// Adds one whole line (newline included).
    func append(_ line: UnsafeBufferPointer<UInt8>) {
        let armTimer = pending.withLock { bytes -> Bool in
            let wasEmpty = bytes.isEmpty
            bytes.append(contentsOf: line)
            if bytes.count >= Self.flushBytes {
                write(&bytes)
                return false
            }
            return wasEmpty
        }
        // Only the first line of a batch arms a flush, so an idle server has no timer at all.
        if armTimer { timerQueue.asyncAfter(deadline: .now() + Self.flushDelay) { [self] in flush() } }
    }

    /// Writes every waiting line now.
    func flush() {
        pending.withLock { write(&$0) }
    }

    private func write(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBufferPointer { LogTime.write($0, to: fd) }
        bytes.removeAll(keepingCapacity: true)
    }
}
