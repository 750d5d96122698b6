/// A source of monotonic nanoseconds for the connection's timing rules: the
/// system's (`SystemClock`) in the server, a clock the test moves by hand in
/// the tests, so that timeouts are checked without sleeping.
protocol MonotonicClock {
    /// Nanoseconds since an arbitrary, fixed origin; never decreases.
    func now() -> UInt64
}
