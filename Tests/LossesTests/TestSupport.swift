import Losses

/// A tensor for tests, from a shape and row-major values.
func tensor(_ shape: [Int], _ data: [Double]) -> Tensor {
    try! Tensor(shape: shape, data: data)
}

/// The message of the error `body` throws, or nil when it throws none.
func errorMessage(_ body: () throws(LossError) -> LossResult) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return error.message
    }
}

/// SplitMix64: fixed test inputs without global state.
struct TestGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Within 1e-12 relative or 1e-15 absolute; NaN matches NaN, infinities match exactly.
func isClose(_ actual: Double, _ expected: Double, relative: Double = 1e-12, absolute: Double = 1e-15) -> Bool {
    if expected.isNaN { return actual.isNaN }
    if expected.isInfinite { return actual == expected }
    return abs(actual - expected) <= max(absolute, relative * abs(expected))
}
