@testable import HTTP

/// A clock the test moves by hand: timeouts are checked to the nanosecond, without sleeping.
final class ManualClock: MonotonicClock {
    private(set) var time: UInt64

    init(at seconds: Double = 1000) {
        time = UInt64(seconds * 1e9)
    }

    func now() -> UInt64 { time }

    /// Moves the clock on by `seconds`.
    func advance(_ seconds: Double) {
        time += UInt64(seconds * 1e9)
    }

    /// `seconds` from now, in the clock's nanoseconds.
    func inSeconds(_ seconds: Double) -> UInt64 {
        time + UInt64(seconds * 1e9)
    }
}
