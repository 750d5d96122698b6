/// Squared errors over raw buffers: the kernel behind `MeanSquaredError`, generic over the
/// lane width only so that the AVX2 build instantiates its own copy (the loops are the
/// compiler's to vectorise, the compensated sum runs in SIMD4 either way).
@usableFromInline package enum SquaredError {
    /// `(p - t)²`, times `weights` when given, per element (`keepElements`) or their compensated sum.
    @inlinable @inline(__always)
    package static func run<V: DoubleLanes>(
        lanes: V.Type, predictions: UnsafePointer<Double>, targets: UnsafePointer<Double>,
        weights: UnsafePointer<Double>?, count: Int, keepElements: Bool
    ) -> (elements: [Double], sum: Double) {
        let outcome: (elements: [Double], sum: Double, inRange: Bool)
        if let weights {
            outcome = ElementwiseLoss.run(count: count, patternLength: count, keepElements: keepElements) {
                start, _, out, length in
                let p = predictions + start, t = targets + start, w = weights + start
                for i in 0..<length {
                    let error = p[i] - t[i]
                    out[i] = error * error * w[i]
                }
                return true
            }
        } else {
            outcome = ElementwiseLoss.run(count: count, patternLength: count, keepElements: keepElements) {
                start, _, out, length in
                let p = predictions + start, t = targets + start
                for i in 0..<length {
                    let error = p[i] - t[i]
                    out[i] = error * error
                }
                return true
            }
        }
        return (outcome.elements, outcome.sum)
    }

    /// `d²` of differences `d = p - t` already taken (the same double `run` takes), times
    /// `weights` when given: bit for bit what `run` gives for the predictions and targets.
    @inlinable @inline(__always)
    package static func run<V: DoubleLanes>(
        lanes: V.Type, differences: UnsafePointer<Double>, weights: UnsafePointer<Double>?, count: Int,
        keepElements: Bool
    ) -> (elements: [Double], sum: Double) {
        let outcome: (elements: [Double], sum: Double, inRange: Bool)
        if let weights {
            outcome = ElementwiseLoss.run(count: count, patternLength: count, keepElements: keepElements) {
                start, _, out, length in
                let d = differences + start, w = weights + start
                for i in 0..<length {
                    let error = d[i]
                    out[i] = error * error * w[i]
                }
                return true
            }
        } else {
            outcome = ElementwiseLoss.run(count: count, patternLength: count, keepElements: keepElements) {
                start, _, out, length in
                let d = differences + start
                for i in 0..<length {
                    let error = d[i]
                    out[i] = error * error
                }
                return true
            }
        }
        return (outcome.elements, outcome.sum)
    }
}
