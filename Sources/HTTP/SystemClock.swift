import Dispatch
import Synchronization

/// The system's monotonic clock (`DispatchTime`, uptime nanoseconds): what
/// the server's connections and sweeper measure their deadlines with. A test
/// may give the server one with an `offset` it moves forward
/// (`ClockOffset.advance`), so that a deadline passes at once instead of
/// after a wait, and the sweep that follows is run by the test
/// (`Server.sweep`): a timeout checked end to end without a wall-clock bound.
struct SystemClock: MonotonicClock {
    /// Added to the system's time; nil in the server (no cost but a branch).
    let offset: ClockOffset?

    init(offset: ClockOffset? = nil) {
        self.offset = offset
    }

    @inline(__always)
    func now() -> UInt64 {
        let time = DispatchTime.now().uptimeNanoseconds
        guard let offset else { return time }
        return time &+ offset.nanoseconds.load(ordering: .relaxed)
    }
}

/// Nanoseconds a test adds to a server's `SystemClock`; it only grows, so
/// the clock stays monotonic.
final class ClockOffset: Sendable {
    let nanoseconds = Atomic<UInt64>(0)

    init() {}

    /// Moves the clock on by `seconds`.
    func advance(_ seconds: Double) {
        nanoseconds.add(UInt64(seconds * 1e9), ordering: .relaxed)
    }
}
