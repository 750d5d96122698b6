/// Huber loss, as `torch.nn.functional.huber_loss` in float64: with
/// z = |x - y|, `0.5·z²` where z < delta, else `delta·(z - 0.5·delta)`. With
/// PyTorch's optional element weight the mean is `sum(w·e) / N`: PyTorch takes
/// `weighted_loss.mean()` here, not the `sum(w)` of `mse_loss` and `l1_loss`.
/// Different shapes are an error, never a silent broadcast.
public struct HuberLoss: DifferenceLoss {
    /// Where the quadratic part meets the linear one; greater than 0 (PyTorch's rule).
    public var delta: Double
    /// Per-element weights, of exactly the predictions' shape.
    public var weight: Tensor?
    public var reduction: Reduction

    public init(delta: Double = 1, weight: Tensor? = nil, reduction: Reduction = .mean) {
        self.delta = delta
        self.weight = weight
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        guard delta > 0 else { throw LossError("delta = \(formatNumber(delta)) must be greater than 0") }
        let delta = self.delta, halfDelta = 0.5 * delta
        // ATen's expression, operation for operation.
        return try ElementwiseLoss.scoreDifferences(
            predictions: predictions, targets: targets, weight: weight, weightedMean: .byCount, reduction: reduction
        ) { z in z < delta ? 0.5 * z * z : delta * (z - halfDelta) }
    }

    /// The same loss from `predictions - targets` already taken (bit for bit, the same errors).
    public func callAsFunction(differences: Differences) throws(LossError) -> LossResult {
        guard delta > 0 else { throw LossError("delta = \(formatNumber(delta)) must be greater than 0") }
        let delta = self.delta, halfDelta = 0.5 * delta
        return try ElementwiseLoss.scoreDifferences(
            differences, weight: weight, weightedMean: .byCount, reduction: reduction
        ) { z in z < delta ? 0.5 * z * z : delta * (z - halfDelta) }
    }
}
