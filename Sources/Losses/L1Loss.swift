/// Mean absolute error, as `torch.nn.functional.l1_loss` in float64, with its
/// optional element weight: the mean is `sum(w·|x - y|) / sum(w)`. Unlike
/// PyTorch, predictions and targets of different shapes are an error, never a
/// silent broadcast.
public struct L1Loss: DifferenceLoss {
    /// Per-element weights, of exactly the predictions' shape.
    public var weight: Tensor?
    public var reduction: Reduction

    public init(weight: Tensor? = nil, reduction: Reduction = .mean) {
        self.weight = weight
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        try ElementwiseLoss.scoreDifferences(
            predictions: predictions, targets: targets, weight: weight, weightedMean: .bySumOfWeights,
            reduction: reduction
        ) { $0 }
    }

    /// The same loss from `predictions - targets` already taken (bit for bit, the same errors).
    public func callAsFunction(differences: Differences) throws(LossError) -> LossResult {
        try ElementwiseLoss.scoreDifferences(
            differences, weight: weight, weightedMean: .bySumOfWeights, reduction: reduction) { $0 }
    }
}
