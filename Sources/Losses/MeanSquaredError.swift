import LossKernelsAVX2

/// Mean squared error, as `torch.nn.functional.mse_loss` in float64, with
/// current PyTorch's optional element weight: the mean is `sum(w·e²) / sum(w)`.
/// Unlike PyTorch, predictions and targets of different shapes are an error,
/// never a silent broadcast.
public struct MeanSquaredError: Sendable {
    /// Per-element weights, of exactly the predictions' shape.
    public var weight: Tensor?
    public var reduction: Reduction

    public init(weight: Tensor? = nil, reduction: Reduction = .mean) {
        self.weight = weight
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        try requireNonEmpty(predictions, name: "predictions")
        try requireNonEmptySameShape(targets, name: "targets", as: predictions)
        if let weight { try requireNonEmptySameShape(weight, name: "weight", as: predictions) }
        let count = predictions.count
        let weightSum = weight?.data.withUnsafeBufferPointer { $0.compensatedSum } ?? Double(count)
        let outcome = predictions.data.withUnsafeBufferPointer { p in
            targets.data.withUnsafeBufferPointer { t in
                (weight?.data ?? []).withUnsafeBufferPointer { w in
                    let (p, t, w) = (p.baseAddress!, t.baseAddress!, weight == nil ? nil : w.baseAddress!)
                    return switch KernelPath.current {
                    case .baseline:
                        SquaredError.run(
                            lanes: Lanes.self, predictions: p, targets: t, weights: w, count: count,
                            keepElements: reduction == .none)
                    case .avx2:
                        AVX2Kernels.squaredError(
                            predictions: p, targets: t, weights: w, count: count, keepElements: reduction == .none)
                    }
                }
            }
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: predictions.shape,
            count: count, weightSum: weightSum)
    }
}
