import LossKernelsAVX2

/// Mean squared error, as `torch.nn.functional.mse_loss` in float64, with
/// current PyTorch's optional element weight: the mean is `sum(w·e²) / sum(w)`.
/// Unlike PyTorch, predictions and targets of different shapes are an error,
/// never a silent broadcast.
public struct MeanSquaredError: DifferenceLoss {
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
        return score(shape: predictions.shape, count: predictions.count) { w in
            predictions.data.withUnsafeBufferPointer { p in
                targets.data.withUnsafeBufferPointer { t in
                    let (p, t) = (p.baseAddress!, t.baseAddress!)
                    return switch KernelPath.current {
                    case .baseline:
                        SquaredError.run(
                            lanes: Lanes.self, PredictionsMinusTargets(predictions: p, targets: t), weights: w,
                            count: predictions.count, keepElements: reduction == .none)
                    case .avx2:
                        AVX2Kernels.squaredError(
                            predictions: p, targets: t, weights: w, count: predictions.count,
                            keepElements: reduction == .none)
                    }
                }
            }
        }
    }

    /// The same loss from `predictions - targets` already taken: bit for bit the two tensors' result,
    /// and the same errors (the shapes are checked first).
    public func callAsFunction(differences: Differences) throws(LossError) -> LossResult {
        try differences.requireNonEmptySameShapes()
        let shape = differences.predictionsShape
        if let weight { try requireNonEmptySameShape(shape: weight.shape, name: "weight", as: shape) }
        let count = differences.data.count
        return score(shape: shape, count: count) { w in
            differences.data.withUnsafeBufferPointer { d in
                switch KernelPath.current {
                case .baseline:
                    SquaredError.run(
                        lanes: Lanes.self, TakenDifferences(d.baseAddress!), weights: w, count: count,
                        keepElements: reduction == .none)
                case .avx2:
                    AVX2Kernels.squaredError(
                        differences: d.baseAddress!, weights: w, count: count, keepElements: reduction == .none)
                }
            }
        }
    }

    /// Runs `kernel` with the weights' buffer (nil without a weight) and reduces its outcome.
    private func score(
        shape: [Int], count: Int,
        _ kernel: (UnsafePointer<Double>?) -> (elements: [Double], sum: Double)
    ) -> LossResult {
        let weightSum = weight?.data.withUnsafeBufferPointer { $0.compensatedSum } ?? Double(count)
        let outcome = (weight?.data ?? []).withUnsafeBufferPointer { w in
            kernel(weight == nil ? nil : w.baseAddress!)
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: shape,
            count: count, weightSum: weightSum)
    }
}
