/// Binary cross entropy with logits over raw buffers: the kernel behind `BinaryCrossEntropy`
/// with `fromLogits`, generic over the lane width and the multiply-add so that one source
/// serves the baseline (SIMD2, separate) and the AVX2 build (SIMD4, fused).
///
/// Exactness: the loss is `(1 - y)·softplus(x) + pw·y·softplus(-x)` (−log σ(x) = softplus(-x),
/// −log(1 - σ(x)) = softplus(x)), each softplus `max(±x, 0) + log1p(e^-|x|)`: for y in [0, 1]
/// and pw ≥ 0 every term is non-negative, so nothing cancels and each loss is within a few ulps
/// (HardCaseTests). ATen's `(1 - y)·x + log1p(e^-|x|) + max(-x, 0)` adds -700 and 700 for
/// x = -700, y = 0, losing the whole e^-700. Below x = -708.39 the loss is subnormal, and kept
/// (`expNonPositiveGradual`).
@usableFromInline package enum LogitsBinaryCrossEntropy {
    /// The losses of `count` elements, per element (`keepElements`) or their compensated sum,
    /// and whether every target lies in [0, 1]. `weights` and `posWeights` (both or neither)
    /// hold `patternLength` elements that repeat along the predictions; without them each is 1
    /// and the loss takes the shorter form `(1 - y)·max(x, 0) + y·max(-x, 0) + log1p(e^-|x|)`.
    ///
    /// Hot path: exp and log1p as lane polynomials (no call per element), in two passes over
    /// each block (one polynomial per loop: see LaneMath), the targets' range check riding
    /// along the second instead of taking a pass of its own.
    @inlinable @inline(__always)
    package static func run<V: DoubleLanes, F: MultiplyAdd>(
        lanes: V.Type, multiplyAdd: F.Type, predictions: UnsafePointer<Double>, targets: UnsafePointer<Double>,
        weights: UnsafePointer<Double>?, posWeights: UnsafePointer<Double>?, count: Int, patternLength: Int,
        keepElements: Bool
    ) -> (elements: [Double], sum: Double, inRange: Bool) {
        if let weights, let posWeights {
            return ElementwiseLoss.run(count: count, patternLength: patternLength, keepElements: keepElements) {
                start, offset, out, length in
                let w = weights + offset, pw = posWeights + offset
                return kernel(V.self, F.self, x: predictions + start, y: targets + start, out: out, length: length) {
                    y, positive, negative, log, operand in
                    let softplus = positive + log, softplusOfNegative = negative + log
                    let negativeTerm = (V(repeating: 1) - y) * softplus
                    return (negativeTerm + operand(pw) * y * softplusOfNegative) * operand(w)
                }
            }
        }
        return ElementwiseLoss.run(count: count, patternLength: count, keepElements: keepElements) {
            start, _, out, length in
            kernel(V.self, F.self, x: predictions + start, y: targets + start, out: out, length: length) {
                y, positive, negative, log, _ in
                // pw = 1: (1 - y)·softplus(x) + y·softplus(-x), the shared log1p added once.
                (V(repeating: 1) - y) * positive + y * negative + log
            }
        }
    }

    /// One block of `length` elements, written to `out`: `loss(y, max(x, 0), max(-x, 0),
    /// log1p(e^-|x|), operand)` for the elements in lanes, where `operand(p)` reads the lanes'
    /// elements of another buffer at `p`. Returns `false` when some target lies outside [0, 1]
    /// (or is NaN).
    @inlinable @inline(__always)
    static func kernel<V: DoubleLanes, F: MultiplyAdd>(
        _: V.Type, _: F.Type, x: UnsafePointer<Double>, y: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>,
        length: Int, _ loss: (_ y: V, _ positive: V, _ negative: V, _ log: V, _ operand: (UnsafePointer<Double>) -> V) -> V
    ) -> Bool {
        let width = V.scalarCount
        /// The lanes at `p + i`; past `length` (the last few elements), 0: a harmless x = 0, y = 0.
        @inline(__always) func partial(_ p: UnsafePointer<Double>, _ i: Int) -> V {
            var lanes = V(repeating: 0)
            for j in 0..<(length - i) { lanes[j] = p[i + j] }
            return lanes
        }
        // e^-|x| in a pass of its own, into `out`. Subnormal where it is (|x| > 708.39): for x = -740,
        // y = 0 the loss is e^-740 itself.
        var i = 0
        // Wrapping index arithmetic: i + width ≤ length cannot overflow, and no trap enters the loop.
        while i &+ width <= length {
            var negativeMagnitude = V.load(x + i)
            negativeMagnitude.formBitwiseUnion(V(repeating: -0.0))  // -|x|: the sign bit set, one OR
            expNonPositiveGradual(negativeMagnitude, F.self).store(to: out + i)
            i &+= width
        }
        if i < length {
            var negativeMagnitude = partial(x, i)
            negativeMagnitude.formBitwiseUnion(V(repeating: -0.0))
            let e = expNonPositiveGradual(negativeMagnitude, F.self)
            for j in 0..<(length - i) { out[i + j] = e[j] }
        }
        /// The parts of softplus(x) and softplus(-x): max(x, 0) and max(-x, 0) by a mask (an AND, exact;
        /// a NaN x gives 0 there, and NaN through the log1p), and their shared log1p(e^-|x|).
        @inline(__always) func softplusParts(_ x: V, _ exponential: V) -> (V, V, V) {
            let zero = V(repeating: 0)
            return (x.masked(by: x .> zero), (-x).masked(by: x .< zero), logOnePlusUnit(exponential, F.self))
        }
        var inRange = SIMDMask<V.MaskStorage>(repeating: true)
        i = 0
        while i &+ width <= length {
            let x = V.load(x + i), y = V.load(y + i)
            inRange .&= (y .>= V(repeating: 0)) .& (y .<= V(repeating: 1))
            let (positive, negative, log) = softplusParts(x, V.load(out + i))
            loss(y, positive, negative, log) { V.load($0 + i) }.store(to: out + i)
            i &+= width
        }
        if i < length {
            let x = partial(x, i), y = partial(y, i)
            inRange .&= (y .>= V(repeating: 0)) .& (y .<= V(repeating: 1))
            let (positive, negative, log) = softplusParts(x, partial(out, i))
            let losses = loss(y, positive, negative, log) { partial($0, i) }
            for j in 0..<(length - i) { out[i + j] = losses[j] }
        }
        return all(inRange)
    }
}
