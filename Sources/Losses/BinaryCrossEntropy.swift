/// Binary cross entropy, as `torch.nn.functional.binary_cross_entropy`
/// (probabilities, logs clamped at -100) or, with `fromLogits`,
/// `binary_cross_entropy_with_logits`, in float64; with logits in a form
/// without cancellation (see `logitsKernel`), within a few ulps where ATen's loses digits.
public struct BinaryCrossEntropy: Sendable {
    /// Per-element weights, broadcast (NumPy rules, never growing the shape) to the predictions.
    public var weight: Tensor?
    /// Weights of the positive term, broadcast like `weight`; only with `fromLogits`.
    public var posWeight: Tensor?
    /// `true`: predictions are logits; `false`: probabilities in [0, 1].
    public var fromLogits: Bool
    public var reduction: Reduction

    public init(weight: Tensor? = nil, posWeight: Tensor? = nil, fromLogits: Bool = false, reduction: Reduction = .mean) {
        self.weight = weight
        self.posWeight = posWeight
        self.fromLogits = fromLogits
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        if posWeight != nil && !fromLogits {
            throw LossError("pos_weight is only supported with from_logits: true")
        }
        try requireNonEmpty(predictions, name: "predictions")
        try requireNonEmpty(targets, name: "targets")
        let shape = predictions.shape
        guard targets.shape == shape else {
            throw LossError("targets have shape \(targets.shape) but predictions have shape \(shape); they must be the same")
        }
        var weightOperand = BroadcastOperand.ones
        if let weight { weightOperand = try BroadcastOperand(weight, to: shape, name: "weight") }
        var posWeightOperand = BroadcastOperand.ones
        if let posWeight { posWeightOperand = try BroadcastOperand(posWeight, to: shape, name: "pos_weight") }
        if !fromLogits {
            try requireUnitInterval(predictions, name: "predictions")
            try requireUnitInterval(targets, name: "targets")
        }

        let count = predictions.count
        let keep = reduction == .none
        let outcome: (elements: [Double], sum: Double, inRange: Bool)
        if fromLogits && weight == nil && posWeight == nil {
            outcome = predictions.data.withUnsafeBufferPointer { p in
                targets.data.withUnsafeBufferPointer { t in
                    ElementwiseLoss.run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                        Self.logitsKernel(x: p.baseAddress! + start, y: t.baseAddress! + start, out: out, length: length) {
                            y, positive, negative, log, _ in
                            // pw = 1: (1 - y)·softplus(x) + y·softplus(-x), the shared log1p added once.
                            (Lanes(repeating: 1) - y) * positive + y * negative + log
                        }
                    }
                }
            }
        } else if fromLogits {
            let patternLength = BroadcastOperand.commonLength([weightOperand, posWeightOperand], total: count)
            let weights = weightOperand.tiled(to: patternLength)
            let posWeights = posWeightOperand.tiled(to: patternLength)
            outcome = predictions.data.withUnsafeBufferPointer { p in
                targets.data.withUnsafeBufferPointer { t in
                    weights.withUnsafeBufferPointer { w in
                        posWeights.withUnsafeBufferPointer { pw in
                            ElementwiseLoss.run(count: count, patternLength: patternLength, keepElements: keep) {
                                start, offset, out, length in
                                let w = w.baseAddress! + offset, pw = pw.baseAddress! + offset
                                return Self.logitsKernel(
                                    x: p.baseAddress! + start, y: t.baseAddress! + start, out: out, length: length
                                ) { y, positive, negative, log, operand in
                                    let softplus = positive + log, softplusOfNegative = negative + log
                                    let negativeTerm = (Lanes(repeating: 1) - y) * softplus
                                    return (negativeTerm + operand(pw) * y * softplusOfNegative) * operand(w)
                                }
                            }
                        }
                    }
                }
            }
        } else {
            let patternLength = BroadcastOperand.commonLength([weightOperand], total: count)
            let weights = weightOperand.tiled(to: patternLength)
            outcome = predictions.data.withUnsafeBufferPointer { p in
                targets.data.withUnsafeBufferPointer { t in
                    weights.withUnsafeBufferPointer { w in
                        ElementwiseLoss.run(count: count, patternLength: patternLength, keepElements: keep) {
                            start, offset, out, length in
                            let x = p.baseAddress! + start, y = t.baseAddress! + start
                            let w = w.baseAddress! + offset
                            for i in 0..<length {
                                // ATen's expression and clamp, so that p = 0 or 1 gives the same finite loss.
                                let logP = clampedLog(x[i])
                                let log1mP = clampedLogOnePlus(-x[i])
                                out[i] = ((y[i] - 1) * log1mP - y[i] * logP) * w[i]
                            }
                            return true
                        }
                    }
                }
            }
        }
        // The logits kernels check the targets' range on their pass; the slow search names the offender.
        if !outcome.inRange { try requireUnitInterval(targets, name: "targets") }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: shape,
            count: count, weightSum: Double(count))
    }

    /// BCE with logits over `length` elements, written to `out`:
    /// `loss(y, max(x, 0), max(-x, 0), log1p(e^-|x|), operand)` for the elements
    /// in lanes (softplus(±x) is `max(±x, 0) + log1p(e^-|x|)`), where `operand(p)`
    /// reads the lanes' elements of another buffer at `p`.
    /// Returns `false` when some target lies outside [0, 1] (or is NaN).
    ///
    /// Exactness: the loss is `(1 - y)·softplus(x) + pw·y·softplus(-x)`
    /// (−log σ(x) = softplus(-x), −log(1 - σ(x)) = softplus(x)), and each
    /// softplus is `max(±x, 0) + log1p(e^-|x|)`: for y in [0, 1] and pw ≥ 0
    /// every term is non-negative, so nothing cancels and each loss is within
    /// a few ulps (HardCaseTests). ATen's `(1 - y)·x + log1p(e^-|x|) + max(-x, 0)`
    /// adds -700 and 700 for x = -700, y = 0, losing the whole e^-700.
    /// Below x = -708.39 the loss is subnormal, and kept (`expNonPositiveGradual`).
    ///
    /// Hot path: exp and log1p inlined as polynomials (no call per element),
    /// the exp loop vectorised by the compiler, the rest two elements per step
    /// in SSE2 lanes, where the targets' range check rides along instead of
    /// taking a pass of its own.
    @inline(__always)
    private static func logitsKernel(
        x: UnsafePointer<Double>, y: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>, length: Int,
        _ loss: (
            _ y: Lanes, _ positive: Lanes, _ negative: Lanes, _ log: Lanes,
            _ operand: (UnsafePointer<Double>) -> Lanes
        ) -> Lanes
    ) -> Bool {
        // exp(-|x|) in a pass of its own, into `out`: see the note on Lanes. Subnormal where it is
        // (|x| > 708.39): for x = -740, y = 0 the loss is e^-740 itself.
        for i in 0..<length { out[i] = expNonPositiveGradual(-abs(x[i])) }
        /// The parts of softplus(x) and softplus(-x): max(x, 0) and max(-x, 0) by a mask (an AND, exact;
        /// a NaN x gives 0 there, and NaN through the log1p), and their shared log1p(e^-|x|).
        @inline(__always) func softplusParts(_ x: Lanes, _ exponential: Lanes) -> (Lanes, Lanes, Lanes) {
            let zero = Lanes(repeating: 0)
            return (x.masked(by: x .> zero), (-x).masked(by: x .< zero), logOnePlusUnit(exponential))
        }
        var inRange = SIMDMask<SIMD2<Int64>>(repeating: true)
        var i = 0
        // Wrapping index arithmetic: i + lanes ≤ length cannot overflow, and no trap enters the loop.
        while i &+ Lanes.scalarCount <= length {
            let x = Lanes.load(x + i), y = Lanes.load(y + i)
            inRange .&= (y .>= Lanes(repeating: 0)) .& (y .<= Lanes(repeating: 1))
            let (positive, negative, log) = softplusParts(x, Lanes.load(out + i))
            loss(y, positive, negative, log) { Lanes.load($0 + i) }.store(to: out + i)
            i &+= Lanes.scalarCount
        }
        if i < length {  // the last few elements, the unused lanes scoring a harmless x = 0, y = 0
            let rest = length - i
            func partial(_ p: UnsafePointer<Double>) -> Lanes {
                var lanes = Lanes(repeating: 0)
                for j in 0..<rest { lanes[j] = p[i + j] }
                return lanes
            }
            let x = partial(x), y = partial(y)
            inRange .&= (y .>= Lanes(repeating: 0)) .& (y .<= Lanes(repeating: 1))
            let (positive, negative, log) = softplusParts(x, partial(out))
            let losses = loss(y, positive, negative, log) { partial($0) }
            for j in 0..<rest { out[i + j] = losses[j] }
        }
        return all(inRange)
    }
}
