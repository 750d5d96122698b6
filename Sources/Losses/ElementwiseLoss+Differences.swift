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
        return try predictions.data.withUnsafeBufferPointer { (p) throws(LossError) in
            try targets.data.withUnsafeBufferPointer { (t) throws(LossError) in
                try score(
                    PredictionsMinusTargets(predictions: p.baseAddress!, targets: t.baseAddress!),
                    shape: predictions.shape, count: predictions.count, weight: weight, weightedMean: weightedMean,
                    reduction: reduction, loss)
            }
        }
    }

    /// `scoreDifferences` from `predictions - targets` already taken: the same checks in the same
    /// order, then `loss(|d|)` of the same doubles, so the same result bit for bit.
    @inline(__always)
    static func scoreDifferences(
        _ differences: Differences, weight: Tensor?, weightedMean: WeightedMean, reduction: Reduction,
        _ loss: (_ absoluteError: Double) -> Double
    ) throws(LossError) -> LossResult {
        try differences.requireNonEmptySameShapes()
        return try differences.data.withUnsafeBufferPointer { (d) throws(LossError) in
            try score(
                TakenDifferences(d.baseAddress!), shape: differences.predictionsShape, count: differences.data.count,
                weight: weight, weightedMean: weightedMean, reduction: reduction, loss)
        }
    }

    /// What both `scoreDifferences` do once predictions and targets are checked: checks the weight,
    /// then scores `loss(|d|)` of the `count` operands from `d` on (times the weight).
    @inline(__always)
    private static func score<Operands: DifferenceOperands>(
        _ d: Operands, shape: [Int], count: Int, weight: Tensor?, weightedMean: WeightedMean, reduction: Reduction,
        _ loss: (_ absoluteError: Double) -> Double
    ) throws(LossError) -> LossResult {
        let keep = reduction == .none
        // Hot path: `run` walks contiguous blocks, no allocation per element; `loss` is inlined, a select
        // rather than a branch, so each block's loop vectorises.
        guard let weight else {
            let outcome = run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                let d = d.advanced(by: start)
                for i in 0..<length { out[i] = loss(abs(d[i])) }
                return true
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
        let outcome = weight.data.withUnsafeBufferPointer { w in
            run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                let d = d.advanced(by: start), w = w.baseAddress! + start
                for i in 0..<length { out[i] = loss(abs(d[i])) * w[i] }
                return true
            }
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: shape,
            count: count, weightSum: weightSum)
    }
}
