#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Cross entropy, as `torch.nn.functional.cross_entropy` in float64: class
/// indices or class probabilities as targets (the targets' shape decides),
/// class weights, an ignored index and label smoothing. With `fromLogits:
/// false` the predictions are probabilities and `log_softmax` becomes
/// `max(log p, -100)`, as `binary_cross_entropy` clamps.
public struct CrossEntropy: Sendable {
    /// One weight per class, shape `(C)`.
    public var weight: Tensor?
    /// A class index whose targets take no part (index targets only).
    public var ignoreIndex: Int
    /// In [0, 1]: the share of each target spread evenly over all classes.
    public var labelSmoothing: Double
    /// `true`: predictions are unnormalised logits; `false`: probabilities in [0, 1].
    public var fromLogits: Bool
    public var reduction: Reduction

    public init(
        weight: Tensor? = nil, ignoreIndex: Int = -100, labelSmoothing: Double = 0,
        fromLogits: Bool = true, reduction: Reduction = .mean
    ) {
        self.weight = weight
        self.ignoreIndex = ignoreIndex
        self.labelSmoothing = labelSmoothing
        self.fromLogits = fromLogits
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
            throw LossError("label_smoothing = \(formatNumber(labelSmoothing)) is outside [0, 1]")
        }
        try requireNonEmpty(predictions, name: "predictions")
        guard predictions.rank >= 1 else {
            throw LossError("predictions must have shape (C), (N, C) or (N, C, d1, ..., dk), not a 0-d tensor")
        }
        try requireNonEmpty(targets, name: "targets")
        let layout = ClassLayout(predictions.shape)
        var classWeights = [Double](repeating: 1, count: layout.classes)
        if let weight {
            guard weight.shape == [layout.classes] else {
                throw LossError("weight has shape \(weight.shape) but predictions have \(layout.classes) classes")
            }
            classWeights = weight.data
        }
        if !fromLogits { try requireUnitInterval(predictions, name: "predictions") }

        if targets.shape == predictions.shape {
            // PyTorch refuses an ignore_index it cannot honour with probabilities; -100 is its "none".
            guard ignoreIndex < 0 else {
                throw LossError(
                    "ignore_index = \(ignoreIndex) is not supported with class-probability targets "
                        + "(targets of the predictions' shape \(predictions.shape)); leave it out or make it negative")
            }
            try requireUnitInterval(targets, name: "targets")
        } else if targets.shape == layout.positionShape {
            try requireClassIndices(targets, classes: layout.classes)
        } else {
            throw LossError(
                "targets have shape \(targets.shape) but predictions have shape \(predictions.shape): "
                    + "class indices need shape \(layout.positionShape), class probabilities shape \(predictions.shape)")
        }
        return score(
            predictions: predictions, targets: targets, layout: layout, classWeights: classWeights,
            indexTargets: targets.shape != predictions.shape)
    }

    /// Throws, naming the first offender, unless every target is an integer in [0, classes) or `ignoreIndex`.
    private func requireClassIndices(_ targets: Tensor, classes: Int) throws(LossError) {
        let ignored = Double(ignoreIndex)
        let limit = Double(classes)
        for (index, value) in targets.data.enumerated() where value != ignored {
            guard value.rounded(.towardZero) == value else {
                throw LossError("\(targets.describeElement(index, name: "targets")) is not a class index (an integer)")
            }
            guard value >= 0 && value < limit else {
                throw LossError("\(targets.describeElement(index, name: "targets")) is out of range for \(classes) classes")
            }
        }
    }

    /// The loss over validated inputs.
    ///
    /// Hot path: per sample, one pass each for the maximum, the sum of
    /// exponentials and the log-probabilities, over contiguous class planes
    /// (`S` positions wide) so the loops vectorise; scratch is allocated once per call.
    private func score(
        predictions: Tensor, targets: Tensor, layout: ClassLayout, classWeights: [Double], indexTargets: Bool
    ) -> LossResult {
        let classes = layout.classes, inner = layout.inner, batch = layout.batch
        let positions = batch * inner
        let keep = reduction == .none
        let smoothing = labelSmoothing
        let ignored = Double(ignoreIndex)
        let logits = fromLogits

        let logP = UnsafeMutablePointer<Double>.allocate(capacity: classes * inner)
        defer { logP.deallocate() }
        // Per position: the maximum, the log of the sum of exponentials, the losses of one sample.
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 3 * inner)
        defer { scratch.deallocate() }
        let maximum = scratch, logSumExp = scratch + inner, sampleLosses = scratch + 2 * inner

        var lossSum = CompensatedSum()
        var weightSum = CompensatedSum()
        var count = 0
        var elements = [Double](repeating: 0, count: keep ? positions : 0)

        predictions.data.withUnsafeBufferPointer { predictions in
            targets.data.withUnsafeBufferPointer { targets in
                classWeights.withUnsafeBufferPointer { weights in
                    elements.withUnsafeMutableBufferPointer { elements in
                        let w = weights.baseAddress!
                        for sample in 0..<batch {
                            let x = predictions.baseAddress! + sample * classes * inner
                            if logits {
                                // log_softmax as ATen: (x - max) - log(sum(exp(x - max))), finite for any finite x.
                                for s in 0..<inner { maximum[s] = x[s] }
                                for c in 1..<classes {
                                    let row = x + c * inner
                                    for s in 0..<inner { maximum[s] = Swift.max(maximum[s], row[s]) }
                                }
                                for s in 0..<inner { logSumExp[s] = 0 }
                                for c in 0..<classes {
                                    let row = x + c * inner
                                    for s in 0..<inner { logSumExp[s] += exp(row[s] - maximum[s]) }
                                }
                                for s in 0..<inner { logSumExp[s] = log(logSumExp[s]) }
                                for c in 0..<classes {
                                    let row = x + c * inner, out = logP + c * inner
                                    for s in 0..<inner { out[s] = (row[s] - maximum[s]) - logSumExp[s] }
                                }
                            } else {
                                for i in 0..<(classes * inner) { logP[i] = Swift.max(log(x[i]), -100) }
                            }

                            let losses = keep ? elements.baseAddress! + sample * inner : sampleLosses
                            if indexTargets {
                                let t = targets.baseAddress! + sample * inner
                                if smoothing > 0 {
                                    for s in 0..<inner { losses[s] = 0 }
                                    for c in 0..<classes {
                                        let row = logP + c * inner
                                        for s in 0..<inner { losses[s] += row[s] * w[c] }
                                    }
                                }
                                for s in 0..<inner {
                                    let target = t[s]
                                    if target == ignored {
                                        losses[s] = 0
                                        continue
                                    }
                                    let k = Int(target)
                                    count += 1
                                    weightSum.add(w[k])
                                    let nll = -logP[k * inner + s] * w[k]
                                    losses[s] = smoothing > 0
                                        ? (1 - smoothing) * nll + (-losses[s]) * (smoothing / Double(classes))
                                        : nll
                                }
                            } else {
                                let t = targets.baseAddress! + sample * classes * inner
                                let offset = smoothing / Double(classes)
                                for s in 0..<inner { losses[s] = 0 }
                                for c in 0..<classes {
                                    let row = logP + c * inner, target = t + c * inner
                                    if smoothing > 0 {
                                        for s in 0..<inner { losses[s] += row[s] * (target[s] * (1 - smoothing) + offset) * w[c] }
                                    } else {
                                        for s in 0..<inner { losses[s] += row[s] * target[s] * w[c] }
                                    }
                                }
                                for s in 0..<inner { losses[s] = -losses[s] }
                            }
                            if !keep { lossSum.add(UnsafeBufferPointer(start: losses, count: inner)) }
                        }
                    }
                }
            }
        }
        if !indexTargets {
            count = positions
            weightSum.add(Double(positions))
        }
        return LossResult(
            reducing: (elements, lossSum.total), reduction: reduction, shape: layout.positionShape,
            count: count, weightSum: weightSum.total)
    }
}

/// How cross entropy reads a predictions shape: `(C)`, `(N, C)` or `(N, C, d1, ..., dk)`.
struct ClassLayout {
    /// N (1 for `(C)`).
    let batch: Int
    /// C.
    let classes: Int
    /// d1·…·dk (1 when there are none): the stride between two classes of one position.
    let inner: Int
    /// The shape of index targets and of the `none` result: the predictions' without C.
    let positionShape: [Int]

    init(_ shape: [Int]) {
        if shape.count == 1 {
            batch = 1
            classes = shape[0]
            inner = 1
            positionShape = []
        } else {
            batch = shape[0]
            classes = shape[1]
            inner = shape[2...].reduce(1, *)
            positionShape = [shape[0]] + shape[2...]
        }
    }
}
