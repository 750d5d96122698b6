/// Smooth L1, as `torch.nn.functional.smooth_l1_loss` in float64: with
/// z = |x - y|, `0.5·z²/beta` where z < beta, else `z - 0.5·beta`; beta = 0 is
/// the L1 loss, as PyTorch dispatches it. PyTorch has no weight here; lossd's
/// optional element weight makes the mean `sum(w·e) / sum(w)`, as for L1 and
/// MSE. Different shapes are an error, never a silent broadcast.
public struct SmoothL1Loss: DifferenceLoss {
    /// Where the quadratic part meets the linear one; at least 0 (PyTorch's rule; NaN is refused too).
    public var beta: Double
    /// Per-element weights, of exactly the predictions' shape (a lossd extension).
    public var weight: Tensor?
    public var reduction: Reduction

    public init(beta: Double = 1, weight: Tensor? = nil, reduction: Reduction = .mean) {
        self.beta = beta
        self.weight = weight
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        guard beta >= 0 else { throw LossError("beta = \(formatNumber(beta)) must be at least 0") }
        if beta == 0 {
            return try L1Loss(weight: weight, reduction: reduction)(predictions: predictions, targets: targets)
        }
        let beta = self.beta, halfBeta = 0.5 * beta
        // ATen's expression, operation for operation.
        return try ElementwiseLoss.scoreDifferences(
            predictions: predictions, targets: targets, weight: weight, weightedMean: .bySumOfWeights,
            reduction: reduction
        ) { z in z < beta ? 0.5 * z * z / beta : z - halfBeta }
    }

    /// The same loss from `predictions - targets` already taken (bit for bit, the same errors).
    public func callAsFunction(differences: Differences) throws(LossError) -> LossResult {
        guard beta >= 0 else { throw LossError("beta = \(formatNumber(beta)) must be at least 0") }
        if beta == 0 { return try L1Loss(weight: weight, reduction: reduction)(differences: differences) }
        let beta = self.beta, halfBeta = 0.5 * beta
        return try ElementwiseLoss.scoreDifferences(
            differences, weight: weight, weightedMean: .bySumOfWeights, reduction: reduction
        ) { z in z < beta ? 0.5 * z * z / beta : z - halfBeta }
    }
}
