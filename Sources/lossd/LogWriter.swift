import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// lossd's log lines on their way to standard error: the serving threads
/// append them, one thread of the writer's own writes them, so that a slow or
/// stalled reader of standard error (`lossd 2>&1 | slow-shipper`) can never
/// block serving (issue #17: a blocking write(2) under the log's lock froze
/// every request, `/livez` included, once the pipe was full).
///
/// Backpressure is dropping, by design: lines wait in a ring of `capacity`
/// bytes; a line that does not fit is dropped whole and counted
/// (`droppedLines`, exported as `lossd_log_lines_dropped_total`), and
/// `append` returns at once. Lines keep their order and are written whole.
///
/// Batching, because one write(2) per request cost about 1.3 µs of system
/// time here, a few percent of a small request's whole CPU: the writer
/// writes once `batchBytes` (at most half the ring) wait or `batchDelay` after a batch's first line.
/// `append` wakes the writer only for a batch's first line and when a batch
/// is full, so a line costs a copy under a short lock and no system call.
///
/// The writer blocks in write(2), hence a thread of its own rather than a
/// Dispatch worker (a blocked worker would take one of Dispatch's few
/// threads). `flush(within:)` before a clean exit writes what waits unless
/// the reader has stalled; a crash or SIGKILL can lose the last `batchDelay`
/// of lines, as with nginx's `access_log … buffer=`.
///
/// `@unchecked Sendable`: the mutable state below is guarded by `lock`, a
/// pthread mutex because the writer waits on condition variables, which
/// `Synchronization.Mutex` lacks.
final class LogWriter: @unchecked Sendable {
    /// Default `capacity`: 1 MiB, about 7,000 access lines, seconds of a busy server's log.
    static let defaultCapacity = 1 << 20
    /// Lines are written once this many bytes wait: 64 KiB, about 430 access
    /// lines. Large, because each batch costs the serving CPU two wake-ups of
    /// the writer and a write(2) (with 8 KiB, a few percent of a small request).
    static let batchBytes = 64 << 10
    /// A batch's first line waits at most this long, in seconds: 0.1 (a person tailing the log does not notice).
    static let batchDelay = 0.1
    /// Longest a clean exit waits for waiting lines to be written, in seconds:
    /// 1.5, so that a reader that never reads cannot keep lossd from exiting.
    static let exitFlushTimeout = 1.5

    /// Where the lines go: standard error.
    let fd: Int32
    /// Most bytes of lines held, those being written included; a line that does not fit is dropped.
    let capacity: Int
    /// Bytes that make a batch: `batchBytes`, or half the ring when that is
    /// smaller, so that a small ring is written before it fills and drops lines.
    private let batchSize: Int
    private let ring: UnsafeMutableRawPointer
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// The writer waits here for lines (or for a batch to fill).
    private let linesWaiting = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// `flush(within:)` waits here for the ring to empty.
    private let allWritten = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let dropped = Atomic<Int>(0)

    // Guarded by `lock`.
    /// The ring index of the oldest byte not yet written.
    private var head = 0
    /// Bytes held from `head` on, those being written included.
    private var count = 0
    private var phase = Phase.idle
    /// A wake-up is on its way to the writer: appenders need not signal again.
    private var woken = false
    /// A flush waits: write without waiting for a batch to fill.
    private var flushing = false

    private enum Phase {
        /// Waiting for a first line.
        case idle
        /// Waiting for a batch to fill, up to `batchDelay`.
        case batching
        /// In write(2), without the lock: it looks at the ring again when it returns.
        case writing
    }

    /// Starts the writer thread.
    init(fd: Int32 = 2, capacity: Int = LogWriter.defaultCapacity) throws(LogWriterError) {
        precondition(capacity > 0, "LogWriter: capacity must be positive")
        self.fd = fd
        self.capacity = capacity
        batchSize = min(Self.batchBytes, max(1, capacity / 2))
        ring = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
        pthread_mutex_init(lock, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Deadlines on the monotonic clock, so that a clock step cannot stretch a flush.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(linesWaiting, &attributes)
        pthread_cond_init(allWritten, &attributes)
        pthread_condattr_destroy(&attributes)

        var thread = pthread_t()
        let writer = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { argument in
            Unmanaged<LogWriter>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, writer)
        guard created == 0 else {
            Unmanaged<LogWriter>.fromOpaque(writer).release()
            throw LogWriterError(message: "cannot start the log writer thread: pthread_create() returned \(created)")
        }
        pthread_detach(thread)
    }

    /// Lines dropped so far: the ring was full, or the write failed.
    var droppedLines: Int { dropped.load(ordering: .relaxed) }

    /// Adds one whole line (newline included), or drops and counts it when
    /// it does not fit. Never blocks on I/O.
    func append(_ line: UnsafeRawBufferPointer) {
        guard let source = line.baseAddress, !line.isEmpty else { return }
        let size = line.count
        pthread_mutex_lock(lock)
        guard size <= capacity - count else {
            pthread_mutex_unlock(lock)
            dropped.add(1, ordering: .relaxed)
            return
        }
        var tail = head + count
        if tail >= capacity { tail -= capacity }
        let first = min(size, capacity - tail)
        (ring + tail).copyMemory(from: source, byteCount: first)
        if first < size { ring.copyMemory(from: source + first, byteCount: size - first) }
        count += size
        let wake: Bool
        switch phase {
        case .idle: wake = !woken
        case .batching: wake = !woken && count >= batchSize
        case .writing: wake = false
        }
        if wake { woken = true }
        pthread_mutex_unlock(lock)
        if wake { pthread_cond_signal(linesWaiting) }
    }

    /// Adds one whole line of text (newline included), as `append(_:)` on its UTF-8.
    func append(_ line: String) {
        var line = line
        line.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Has the writer write every waiting line now, and waits until it has,
    /// or `seconds` have passed (a reader that does not read); true when
    /// everything was written.
    @discardableResult
    func flush(within seconds: Double) -> Bool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard count > 0 else { return true }
        flushing = true
        pthread_cond_signal(linesWaiting)
        var deadline = Self.deadline(after: seconds)
        while count > 0 {
            if pthread_cond_timedwait(allWritten, lock, &deadline) == ETIMEDOUT { break }
        }
        return count == 0
    }

    /// The writer thread, for the life of the process: waits for lines, lets
    /// a batch fill, writes it outside the lock.
    private func run() {
        pthread_mutex_lock(lock)
        while true {
            while count == 0 {
                phase = .idle
                woken = false
                flushing = false
                pthread_cond_broadcast(allWritten)
                pthread_cond_wait(linesWaiting, lock)
            }
            if count < batchSize && !flushing {
                phase = .batching
                woken = false
                var deadline = Self.deadline(after: Self.batchDelay)
                while count < batchSize && !flushing {
                    if pthread_cond_timedwait(linesWaiting, lock, &deadline) == ETIMEDOUT { break }
                }
            }
            phase = .writing
            let (start, size) = (head, count)
            pthread_mutex_unlock(lock)
            // Appenders copy only past `head + count`, so these bytes are the writer's until `head` moves.
            let lost = writeBatch(start: start, size: size)
            if lost > 0 { dropped.add(lost, ordering: .relaxed) }
            pthread_mutex_lock(lock)
            head += size
            if head >= capacity { head -= capacity }
            count -= size
        }
    }

    /// Writes `size` bytes of the ring from index `start` (wrapping at most
    /// once); returns how many lines a write error lost.
    private func writeBatch(start: Int, size: Int) -> Int {
        let first = min(size, capacity - start)
        let unwritten = Self.writeAll(UnsafeRawBufferPointer(start: ring + start, count: first), to: fd)
        var lost = Self.lineCount(unwritten)
        if first < size {
            let rest = UnsafeRawBufferPointer(start: ring, count: size - first)
            lost += Self.lineCount(unwritten.isEmpty ? Self.writeAll(rest, to: fd) : rest)
        }
        return lost
    }

    /// The newlines in `bytes`: the lines it ends, a partly written one included.
    private static func lineCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// Writes all of `bytes` to `fd` in as few calls as it takes, waiting in
    /// poll(2) should `fd` be non-blocking; returns what was left unwritten
    /// after an error (empty when all was written).
    @discardableResult
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> UnsafeRawBufferPointer {
        guard let base = bytes.baseAddress else { return bytes }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, base + offset, bytes.count - offset)
            if n > 0 {
                offset += n
                continue
            }
            guard n < 0 else { break }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&ready, 1, -1)
            default:
                return UnsafeRawBufferPointer(rebasing: bytes[offset...])
            }
        }
        return UnsafeRawBufferPointer(rebasing: bytes[offset...])
    }

    /// Writes `text` at once, on the caller's thread: only for the start-up
    /// line on standard output and the command line's help, version and
    /// errors, before serving.
    static func writeNow(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { _ = writeAll(UnsafeRawBufferPointer($0), to: fd) }
    }

    /// `seconds` from now on the monotonic clock, for `pthread_cond_timedwait`.
    private static func deadline(after seconds: Double) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = now.tv_nsec + Int((seconds * 1e9).rounded())
        return timespec(tv_sec: now.tv_sec + nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
    }
}

/// The log writer could not start.
struct LogWriterError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
