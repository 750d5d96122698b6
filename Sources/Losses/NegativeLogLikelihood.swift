/// Negative log likelihood, as `torch.nn.functional.nll_loss` in float64: the
/// predictions are log-probabilities of shape `(C)`, `(N, C)` or
/// `(N, C, d1, ..., dk)`, the targets class indices of shape `()`, `(N)` or
/// `(N, d1, ..., dk)`; each position scores `-w[t]·x[t]`. Targets equal to
/// `ignoreIndex` score 0 and take no part; the mean divides by the sum of the
/// class weights of the targets that do (NaN when none do, as PyTorch).
public struct NegativeLogLikelihood: Sendable {
    /// One weight per class, shape `(C)`.
    public var weight: Tensor?
    /// A class index whose targets take no part (in [0, C) it ignores that class).
    public var ignoreIndex: Int
    public var reduction: Reduction

    public init(weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean) {
        self.weight = weight
        self.ignoreIndex = ignoreIndex
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        try requireNonEmpty(predictions, name: "predictions")
        guard predictions.rank >= 1 else {
            throw LossError("predictions must have shape (C), (N, C) or (N, C, d1, ..., dk), not a 0-d tensor")
        }
        try requireNonEmpty(targets, name: "targets")
        let layout = ClassLayout(predictions.shape)
        guard targets.shape == layout.positionShape else {
            throw LossError(
                "targets have shape \(targets.shape) but predictions have shape \(predictions.shape): "
                    + "class indices need shape \(layout.positionShape)")
        }
        var classWeights = [Double](repeating: 1, count: layout.classes)
        if let weight {
            guard weight.shape == [layout.classes] else {
                throw LossError("weight has shape \(weight.shape) but predictions have \(layout.classes) classes")
            }
            classWeights = weight.data
        }
        try requireClassIndices(targets, classes: layout.classes, ignoreIndex: ignoreIndex)

        let keep = reduction == .none
        var kernel = NegativeLogLikelihoodKernel(layout: layout, ignoreIndex: ignoreIndex)
        let outcome = predictions.data.withUnsafeBufferPointer { x in
            targets.data.withUnsafeBufferPointer { t in
                classWeights.withUnsafeBufferPointer { w in
                    ElementwiseLoss.run(count: targets.count, patternLength: targets.count, keepElements: keep) {
                        start, _, out, length in
                        kernel.score(
                            x: x.baseAddress!, t: t.baseAddress!, w: w.baseAddress!, first: start, length: length,
                            into: out)
                        return true
                    }
                }
            }
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: reduction, shape: layout.positionShape,
            count: kernel.count, weightSum: kernel.weightSum.total)
    }
}

/// The gather of `nll_loss` over validated targets, one block of positions at a time.
///
/// Hot path: the targets and the output are read and written contiguously, the
/// predictions at one class row per position (a gather: nothing to vectorise);
/// no allocation per element, the position's (sample, pixel) stepped rather than divided.
private struct NegativeLogLikelihoodKernel {
    let classes: Int, inner: Int
    let ignored: Double
    /// Targets that took part, and the sum of their class weights.
    var count = 0
    var weightSum = CompensatedSum()

    init(layout: ClassLayout, ignoreIndex: Int) {
        classes = layout.classes
        inner = layout.inner
        ignored = Double(ignoreIndex)
    }

    /// Scores positions `first..<first + length` into `out`.
    mutating func score(
        x: UnsafePointer<Double>, t: UnsafePointer<Double>, w: UnsafePointer<Double>, first: Int, length: Int,
        into out: UnsafeMutablePointer<Double>
    ) {
        var sample = first / inner, pixel = first % inner
        for i in 0..<length {
            let target = t[first + i]
            if target == ignored {
                out[i] = 0
            } else {
                let k = Int(target)
                let weight = w[k]
                out[i] = -x[(sample * classes + k) * inner + pixel] * weight  // ATen: -input[t] * weight[t]
                count += 1
                weightSum.add(weight)
            }
            pixel += 1
            if pixel == inner {
                pixel = 0
                sample += 1
            }
        }
    }
}
