import Dispatch

/// The system's monotonic clock (`DispatchTime`, uptime nanoseconds): what
/// the server's connections and sweeper measure their deadlines with.
struct SystemClock: MonotonicClock {
    @inline(__always)
    func now() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }
}
