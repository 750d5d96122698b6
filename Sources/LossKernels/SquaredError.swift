/// Squared errors over raw buffers: the kernel behind `MeanSquaredError`, generic over the
/// lane width only so that the AVX2 build instantiates its own copy (the loops are the
/// compiler's to vectorise, the compensated sum runs in SIMD4 either way).
@usableFromInline package enum SquaredError {
    /// `(p - t)²`, times `weights` when given, per element (`keepElements`) or their compensated sum;
    /// `p - t` read from the two tensors or from the differences already taken, the same double, so
    /// the same result bit for bit.
    @inlinable @inline(__always)
    package static func run<V: DoubleLanes, Operands: DifferenceOperands>(
        lanes: V.Type, _ operands: Operands, weights: UnsafePointer<Double>?, count: Int, keepElements: Bool
    ) -> (elements: [Double], sum: Double) {
        let outcome: (elements: [Double], sum: Double, inRange: Bool)
        if let weights {
            outcome = ElementwiseLoss.run(count: count, patternLength: count, keepElements: keepElements) {
                start, _, out, length in
                let d = operands.advanced(by: start), w = weights + start
                for i in 0..<length {
                    let error = d[i]
                    out[i] = error * error * w[i]
                }
                return true
            }
        } else {
            outcome = ElementwiseLoss.run(count: count, patternLength: count, keepElements: keepElements) {
                start, _, out, length in
                let d = operands.advanced(by: start)
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
