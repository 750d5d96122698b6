#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The focal loss of dense detection (Lin et al.), as
/// `torchvision.ops.sigmoid_focal_loss` in float64: predictions are logits,
/// targets binary labels (or soft ones in [0, 1]) of the same shape, and each
/// element scores `α_t · (1 - p_t)^γ · BCE-with-logits(x, t)` with
/// `p = σ(x)`, `p_t = p·t + (1 - p)(1 - t)`, `α_t = α·t + (1 - α)(1 - t)`.
/// A negative `alpha` turns the α weighting off, as torchvision's `alpha < 0`.
/// Unlike torchvision (whose default is `none`), the default reduction is `mean`.
public struct SigmoidFocalLoss: Sendable {
    /// The weight of the positive class in [0, 1] (torchvision's 0.25); negative: no weighting.
    public var alpha: Double
    /// The focusing exponent γ ≥ 0 (torchvision's 2); 0 gives α-weighted BCE with logits.
    public var gamma: Double
    public var reduction: Reduction

    public init(alpha: Double = 0.25, gamma: Double = 2, reduction: Reduction = .mean) {
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        guard alpha <= 1 else {
            throw LossError("alpha = \(formatNumber(alpha)) is greater than 1 (use a value in [0, 1], or a negative one for no weighting)")
        }
        guard gamma >= 0, gamma.isFinite else {
            throw LossError("gamma = \(formatNumber(gamma)) must be a finite number ≥ 0")
        }
        try requireNonEmpty(predictions, name: "predictions")
        try requireNonEmptySameShape(targets, name: "targets", as: predictions)
        try requireUnitInterval(targets, name: "targets")

        let count = predictions.count
        let weighted = alpha >= 0
        let alpha = weighted ? alpha : 0, gamma = gamma
        let squared = gamma == 2
        let outcome = predictions.data.withUnsafeBufferPointer { p in
            targets.data.withUnsafeBufferPointer { t in
                ElementwiseLoss.run(count: count, patternLength: count, keepElements: reduction == .none) {
                    start, _, out, length in
                    let x = p.baseAddress! + start, y = t.baseAddress! + start
                    // Hot path: contiguous reads and writes, no allocation per element; exp and log1p are the
                    // inlined polynomials of VectorMath, pow a call only when γ is not the default 2.
                    for i in 0..<length {
                        let e = expNonPositiveGradual(-abs(x[i]))  // e^-|x|, subnormal kept
                        let log = logOnePlus(e)
                        // softplus(±x) = max(±x, 0) + log1p(e^-|x|): -log(1 - σ(x)) and -log σ(x), no cancellation.
                        let softplus = max(x[i], 0) + log, softplusOfNegative = max(-x[i], 0) + log
                        let s = 1 / (1 + e)
                        let sigmoid = x[i] >= 0 ? s : e * s, sigmoidOfNegative = x[i] >= 0 ? e * s : s
                        let target = y[i], complement = 1 - target
                        let crossEntropy = complement * softplus + target * softplusOfNegative
                        // 1 - p_t = (1 - t)·σ(x) + t·σ(-x): two non-negative terms, where torchvision's
                        // 1 - (p·t + (1 - p)(1 - t)) loses σ(-x) to cancellation for confident logits.
                        let miss = complement * sigmoid + target * sigmoidOfNegative
                        let modulation = squared ? miss * miss : pow(miss, gamma)
                        let weight = weighted ? alpha * target + (1 - alpha) * complement : 1
                        out[i] = weight * (crossEntropy * modulation)
                    }
                    return true
                }
            }
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: predictions.shape,
            count: count, weightSum: Double(count))
    }
}
