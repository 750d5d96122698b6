/// The outcome of a loss: the value and what a client needs to merge batches.
public struct LossResult: Sendable, Equatable {
    /// The loss: 0-d for `mean` and `sum`; per position, in PyTorch's shape, for `none`.
    public var loss: Tensor
    /// The reduction that produced `loss`.
    public var reduction: Reduction
    /// How many target positions took part (ignored ones excluded).
    public var count: Int
    /// The denominator `mean` divides by (reported for every reduction), so
    /// batches merge exactly as `sum(loss_i * weightSum_i) / sum(weightSum_i)`.
    public var weightSum: Double

    public init(loss: Tensor, reduction: Reduction, count: Int, weightSum: Double) {
        self.loss = loss
        self.reduction = reduction
        self.count = count
        self.weightSum = weightSum
    }
}

extension LossResult {
    /// The result for `reduction`, from the per-position losses (`none`) or their sum.
    init(
        reducing outcome: (elements: [Double], sum: Double), reduction: Reduction,
        shape: [Int], count: Int, weightSum: Double
    ) {
        let loss: Tensor
        switch reduction {
        case .none: loss = Tensor(checkedShape: shape, data: outcome.elements)
        case .sum: loss = Tensor(outcome.sum)
        case .mean: loss = Tensor(outcome.sum / weightSum)
        }
        self.init(loss: loss, reduction: reduction, count: count, weightSum: weightSum)
    }
}
