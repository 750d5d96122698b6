import LossKernelsAVX2

/// Binary cross entropy, as `torch.nn.functional.binary_cross_entropy`
/// (probabilities, logs clamped at -100) or, with `fromLogits`,
/// `binary_cross_entropy_with_logits`, in float64; with logits in a form
/// without cancellation (see `LogitsBinaryCrossEntropy`, in the build `KernelPath.current`
/// names), within a few ulps where ATen's loses digits.
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
        if fromLogits {
            // Without weights the kernel takes the shorter pw = 1 form; with either, both are tiled.
            let weighted = weight != nil || posWeight != nil
            let patternLength = weighted ? BroadcastOperand.commonLength([weightOperand, posWeightOperand], total: count) : count
            let weights = weighted ? weightOperand.tiled(to: patternLength) : []
            let posWeights = weighted ? posWeightOperand.tiled(to: patternLength) : []
            outcome = predictions.data.withUnsafeBufferPointer { p in
                targets.data.withUnsafeBufferPointer { t in
                    weights.withUnsafeBufferPointer { w in
                        posWeights.withUnsafeBufferPointer { pw in
                            let (p, t) = (p.baseAddress!, t.baseAddress!)
                            let (w, pw) = weighted ? (w.baseAddress!, pw.baseAddress!) : (nil, nil)
                            return switch KernelPath.current {
                            case .baseline:
                                LogitsBinaryCrossEntropy.run(
                                    lanes: Lanes.self, multiplyAdd: SeparateMultiplyAdd.self, predictions: p, targets: t,
                                    weights: w, posWeights: pw, count: count, patternLength: patternLength,
                                    keepElements: keep)
                            case .avx2:
                                AVX2Kernels.logitsBinaryCrossEntropy(
                                    predictions: p, targets: t, weights: w, posWeights: pw, count: count,
                                    patternLength: patternLength, keepElements: keep)
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
}
