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
        let count = predictions.count
        let keep = reduction == .none
        guard let weight else {
            let outcome = predictions.data.withUnsafeBufferPointer { p in
                targets.data.withUnsafeBufferPointer { t in
                    ElementwiseLoss.run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                        let p = p.baseAddress! + start, t = t.baseAddress! + start
                        for i in 0..<length {
                            let error = p[i] - t[i]
                            out[i] = error * error
                        }
                        return true
                    }
                }
            }
            return LossResult(
                reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: predictions.shape,
                count: count, weightSum: Double(count))
        }
        try requireNonEmptySameShape(weight, name: "weight", as: predictions)
        let weightSum = weight.data.withUnsafeBufferPointer { $0.compensatedSum }
        let outcome = predictions.data.withUnsafeBufferPointer { p in
            targets.data.withUnsafeBufferPointer { t in
                weight.data.withUnsafeBufferPointer { w in
                    ElementwiseLoss.run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                        let p = p.baseAddress! + start, t = t.baseAddress! + start, w = w.baseAddress! + start
                        for i in 0..<length {
                            let error = p[i] - t[i]
                            out[i] = error * error * w[i]
                        }
                        return true
                    }
                }
            }
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: predictions.shape,
            count: count, weightSum: weightSum)
    }
}
