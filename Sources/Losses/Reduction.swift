/// How per-position losses are combined, as PyTorch's `reduction` argument.
public enum Reduction: String, Sendable, CaseIterable {
    /// The (weighted) mean: the sum divided by `LossResult.weightSum`.
    case mean
    /// The sum.
    case sum
    /// No reduction: one loss per position, in PyTorch's output shape.
    case none
}
