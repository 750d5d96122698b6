/// Binary cross entropy, as `torch.nn.functional.binary_cross_entropy`
/// (probabilities, logs clamped at -100) or, with `fromLogits`,
/// `binary_cross_entropy_with_logits` (the numerically stable form), in float64.
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
                            x, y, logSigmoid, _ in (Lanes(repeating: 1) - y) * x - logSigmoid
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
                                ) { x, y, logSigmoid, operand in
                                    let logWeight = (operand(pw) - Lanes(repeating: 1)) * y + Lanes(repeating: 1)
                                    return ((Lanes(repeating: 1) - y) * x - logSigmoid * logWeight) * operand(w)
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
    /// `loss(x, y, log σ(x), operand)` for the elements in lanes, where
    /// `operand(p)` reads the lanes' elements of another buffer at `p`.
    /// Returns `false` when some target lies outside [0, 1] (or is NaN).
    ///
    /// Hot path: exp and log1p inlined as polynomials (no call per element),
    /// the exp loop vectorised by the compiler, the rest two elements per step
    /// in SSE2 lanes, where the targets' range check rides along instead of
    /// taking a pass of its own.
    @inline(__always)
    private static func logitsKernel(
        x: UnsafePointer<Double>, y: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>, length: Int,
        _ loss: (_ x: Lanes, _ y: Lanes, _ logSigmoid: Lanes, _ operand: (UnsafePointer<Double>) -> Lanes) -> Lanes
    ) -> Bool {
        // exp(-|x|) in a pass of its own, into `out`: see the note on Lanes.
        for i in 0..<length { out[i] = expNonPositive(-abs(x[i])) }
        @inline(__always) func logSigmoid(_ x: Lanes, _ exponential: Lanes) -> Lanes {
            // log σ(x) = min(x, 0) - log1p(exp(-|x|)): no overflow, no cancellation (ATen's form).
            x.replacing(with: 0, where: x .> Lanes(repeating: 0)) - logOnePlusUnit(exponential)
        }
        var inRange = SIMDMask<SIMD2<Int64>>(repeating: true)
        var i = 0
        // Wrapping index arithmetic: i + lanes ≤ length cannot overflow, and no trap enters the loop.
        while i &+ Lanes.scalarCount <= length {
            let x = Lanes.load(x + i), y = Lanes.load(y + i)
            inRange .&= (y .>= Lanes(repeating: 0)) .& (y .<= Lanes(repeating: 1))
            loss(x, y, logSigmoid(x, Lanes.load(out + i))) { Lanes.load($0 + i) }.store(to: out + i)
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
            let losses = loss(x, y, logSigmoid(x, partial(out))) { partial($0) }
            for j in 0..<rest { out[i + j] = losses[j] }
        }
        return all(inRange)
    }
}
