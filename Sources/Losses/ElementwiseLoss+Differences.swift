extension ElementwiseLoss {
    /// How the weighted mean of `scoreDifferences` divides.
    enum WeightedMean {
        /// `sum(w·e) / sum(w)`: `F.mse_loss` and `F.l1_loss` with a weight.
        case bySumOfWeights
        /// `sum(w·e) / N`: `F.huber_loss` with a weight (`weighted_loss.mean()`).
        case byCount
    }

    /// The regression losses of one difference each (L1, smooth L1, Huber): checks that
    /// predictions, targets and the optional weight are non-empty and of one shape (never
    /// broadcast, as MSE), then scores `loss(|prediction - target|)`, times the weight.
    @inline(__always)
    static func scoreDifferences(
        predictions: Tensor, targets: Tensor, weight: Tensor?, weightedMean: WeightedMean, reduction: Reduction,
        _ loss: (_ absoluteError: Double) -> Double
    ) throws(LossError) -> LossResult {
        try requireNonEmpty(predictions, name: "predictions")
        try requireNonEmptySameShape(targets, name: "targets", as: predictions)
        let count = predictions.count
        let keep = reduction == .none
        // Hot path: `run` walks contiguous blocks, no allocation per element; `loss` is inlined, a select
        // rather than a branch, so each block's loop vectorises.
        guard let weight else {
            let outcome = predictions.data.withUnsafeBufferPointer { p in
                targets.data.withUnsafeBufferPointer { t in
                    run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                        let p = p.baseAddress! + start, t = t.baseAddress! + start
                        for i in 0..<length { out[i] = loss(abs(p[i] - t[i])) }
                        return true
                    }
                }
            }
            return LossResult(
                reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: predictions.shape,
                count: count, weightSum: Double(count))
        }
        try requireNonEmptySameShape(weight, name: "weight", as: predictions)
        let weightSum: Double
        switch weightedMean {
        case .bySumOfWeights: weightSum = weight.data.withUnsafeBufferPointer { $0.compensatedSum }
        case .byCount: weightSum = Double(count)
        }
        let outcome = predictions.data.withUnsafeBufferPointer { p in
            targets.data.withUnsafeBufferPointer { t in
                weight.data.withUnsafeBufferPointer { w in
                    run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                        let p = p.baseAddress! + start, t = t.baseAddress! + start, w = w.baseAddress! + start
                        for i in 0..<length { out[i] = loss(abs(p[i] - t[i])) * w[i] }
                        return true
                    }
                }
            }
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: predictions.shape,
            count: count, weightSum: weightSum)
    }

    /// `scoreDifferences` from `predictions - targets` already taken: the same checks in the same
    /// order, then `loss(|d|)` of the same doubles, so the same result bit for bit.
    @inline(__always)
    static func scoreDifferences(
        _ differences: Differences, weight: Tensor?, weightedMean: WeightedMean, reduction: Reduction,
        _ loss: (_ absoluteError: Double) -> Double
    ) throws(LossError) -> LossResult {
        try differences.requireNonEmptySameShapes()
        let shape = differences.predictionsShape
        let count = differences.data.count
        let keep = reduction == .none
        // Hot path: as above, contiguous blocks, one select per element.
        guard let weight else {
            let outcome = differences.data.withUnsafeBufferPointer { d in
                run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                    let d = d.baseAddress! + start
                    for i in 0..<length { out[i] = loss(abs(d[i])) }
                    return true
                }
            }
            return LossResult(
                reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: shape,
                count: count, weightSum: Double(count))
        }
        try requireNonEmptySameShape(shape: weight.shape, name: "weight", as: shape)
        let weightSum: Double
        switch weightedMean {
        case .bySumOfWeights: weightSum = weight.data.withUnsafeBufferPointer { $0.compensatedSum }
        case .byCount: weightSum = Double(count)
        }
        let outcome = differences.data.withUnsafeBufferPointer { d in
            weight.data.withUnsafeBufferPointer { w in
                run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                    let d = d.baseAddress! + start, w = w.baseAddress! + start
                    for i in 0..<length { out[i] = loss(abs(d[i])) * w[i] }
                    return true
                }
            }
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: shape,
            count: count, weightSum: weightSum)
    }
}
