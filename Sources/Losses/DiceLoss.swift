/// Soft Dice loss for segmentation maps, with MONAI `DiceLoss` semantics in
/// float64. Predictions have shape `(N, C, d1, ..., dk)`, k ≥ 1; targets are a
/// mask (or one-hot or soft labels) of the same shape, or class indices of
/// shape `(N, d1, ..., dk)` or `(N, 1, d1, ..., dk)` (one-hot encoded here, as
/// MONAI's `to_onehot_y`). After the optional `sigmoid` or `softmax` (over C)
/// and dropping channel 0 unless `includeBackground`, each (sample, channel)
/// — or each channel over the whole batch with `batch` — scores
/// `1 - (2·I + smoothNumerator) / (D + smoothDenominator)` with
/// `I = Σ p·t` and `D = Σ p + Σ t` (`Σ p² + Σ t²` with `squaredPrediction`;
/// `2·(D - I)` with `jaccard`), times the class `weight`. `mean` is the plain
/// mean of those terms, as MONAI (the weights do not divide).
public struct DiceLoss: Sendable {
    /// What is applied to the predictions before scoring.
    public enum Activation: Sendable {
        /// The predictions are probabilities already.
        case none
        /// Each element through σ (multi-label maps).
        case sigmoid
        /// A softmax over the channel dimension (ignored for one channel, as MONAI).
        case softmax
    }

    public var activation: Activation
    /// `false` drops channel 0 of predictions and targets (ignored for one channel, as MONAI).
    public var includeBackground: Bool
    /// `true`: the denominator sums `p²` and `t²` instead of `p` and `t`.
    public var squaredPrediction: Bool
    /// `true`: the Jaccard (IoU) form, denominator `2·(D - I)`.
    public var jaccard: Bool
    /// Added to the numerator `2·I` (MONAI's `smooth_nr`, 1e-5).
    public var smoothNumerator: Double
    /// Added to the denominator (MONAI's `smooth_dr`, 1e-5).
    public var smoothDenominator: Double
    /// `true`: sum over the batch too, one term per channel.
    public var batch: Bool
    /// Class weights ≥ 0: shape `()` (every class) or `(C')`, the channels scored; unused for one channel.
    public var weight: Tensor?
    public var reduction: Reduction

    public init(
        activation: Activation = .none, includeBackground: Bool = true, squaredPrediction: Bool = false,
        jaccard: Bool = false, smoothNumerator: Double = 1e-5, smoothDenominator: Double = 1e-5, batch: Bool = false,
        weight: Tensor? = nil, reduction: Reduction = .mean
    ) {
        self.activation = activation
        self.includeBackground = includeBackground
        self.squaredPrediction = squaredPrediction
        self.jaccard = jaccard
        self.smoothNumerator = smoothNumerator
        self.smoothDenominator = smoothDenominator
        self.batch = batch
        self.weight = weight
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        guard smoothNumerator >= 0, smoothNumerator.isFinite else {
            throw LossError("smooth_nr = \(formatNumber(smoothNumerator)) must be a finite number ≥ 0")
        }
        guard smoothDenominator >= 0, smoothDenominator.isFinite else {
            throw LossError("smooth_dr = \(formatNumber(smoothDenominator)) must be a finite number ≥ 0")
        }
        try requireNonEmpty(predictions, name: "predictions")
        guard predictions.rank >= 3 else {
            throw LossError(
                "predictions have shape \(predictions.shape) but Dice needs (N, C, d1, ..., dk) with at least one spatial dimension")
        }
        try requireNonEmpty(targets, name: "targets")
        let samples = predictions.shape[0], channels = predictions.shape[1]
        let spatial = Array(predictions.shape[2...])
        let inner = spatial.reduce(1, *)
        let indexTargets: Bool
        if targets.shape == predictions.shape {
            indexTargets = false
            try requireUnitInterval(targets, name: "targets")
        } else if channels > 1 && (targets.shape == [samples] + spatial || targets.shape == [samples, 1] + spatial) {
            indexTargets = true
            try requireChannelIndices(targets, channels: channels)
        } else {
            throw LossError(
                "targets have shape \(targets.shape) but predictions have shape \(predictions.shape): targets need "
                    + (channels > 1
                        ? "the same shape (a mask or one-hot labels) or class indices of shape \([samples] + spatial) or \([samples, 1] + spatial)"
                        : "the same shape (a mask); class indices need at least 2 channels"))
        }
        // MONAI ignores include_background (and softmax) for a single channel, with a warning.
        let first = includeBackground || channels == 1 ? 0 : 1
        let scored = channels - first
        var classWeights: [Double]? = nil
        if let weight, scored != 1 {
            guard weight.shape == [] || weight.shape == [scored] else {
                throw LossError("weight has shape \(weight.shape) but \(scored) channels are scored: it needs shape [] or [\(scored)]")
            }
            if let index = weight.data.firstIndex(where: { !($0 >= 0) }) {
                throw LossError("\(weight.describeElement(index, name: "weight")) is negative: class weights must be ≥ 0")
            }
            classWeights = weight.rank == 0 ? [Double](repeating: weight.data[0], count: scored) : weight.data
        }

        // The three sums of every (sample, scored channel): I = Σ p·t, Σ p (or p²), Σ t (or t²).
        var intersections = [CompensatedSum](repeating: CompensatedSum(), count: samples * scored)
        var predictionSums = intersections, targetSums = intersections
        // Hot path: one sample's activated predictions at a time in one scratch buffer (allocated once per call),
        // then each channel's sums over its contiguous d1·…·dk elements; no allocation per element.
        var probabilities = [Double](repeating: 0, count: channels * inner)
        var oneHot = [Double](repeating: 0, count: indexTargets ? inner : 0)
        let squared = squaredPrediction
        predictions.data.withUnsafeBufferPointer { x in
            targets.data.withUnsafeBufferPointer { t in
                probabilities.withUnsafeMutableBufferPointer { p in
                    oneHot.withUnsafeMutableBufferPointer { hot in
                        for n in 0..<samples {
                            activate(x.baseAddress! + n * channels * inner, into: p.baseAddress!, channels: channels, inner: inner)
                            for c in first..<channels {
                                let probability = UnsafePointer(p.baseAddress! + c * inner)
                                let target: UnsafePointer<Double>
                                if indexTargets {
                                    let indices = t.baseAddress! + n * inner, label = Double(c)
                                    for i in 0..<inner { hot[i] = indices[i] == label ? 1 : 0 }
                                    target = UnsafePointer(hot.baseAddress!)
                                } else {
                                    target = t.baseAddress! + (n * channels + c) * inner
                                }
                                let slot = n * scored + (c - first)
                                for i in 0..<inner {
                                    let pi = probability[i], ti = target[i]
                                    intersections[slot].add(pi * ti)
                                    predictionSums[slot].add(squared ? pi * pi : pi)
                                    targetSums[slot].add(squared ? ti * ti : ti)
                                }
                            }
                        }
                    }
                }
            }
        }

        let terms = batch ? scored : samples * scored
        var losses = [Double](repeating: 0, count: terms)
        for term in 0..<terms {
            var intersection = CompensatedSum(), predicted = CompensatedSum(), truth = CompensatedSum()
            // With `batch`, a channel's term sums its sums over every sample.
            for slot in batch ? Array(stride(from: term, to: samples * scored, by: scored)) : [term] {
                intersection.add(intersections[slot].total)
                predicted.add(predictionSums[slot].total)
                truth.add(targetSums[slot].total)
            }
            let i = intersection.total
            var denominator = truth.total + predicted.total
            if jaccard { denominator = 2 * (denominator - i) }
            var loss = 1 - (2 * i + smoothNumerator) / (denominator + smoothDenominator)
            if let classWeights { loss *= classWeights[term % scored] }
            losses[term] = loss
        }

        let count = samples * scored * inner
        let shape = (batch ? [scored] : [samples, scored]) + [Int](repeating: 1, count: spatial.count)
        let sum = losses.withUnsafeBufferPointer { $0.compensatedSum }
        return LossResult(
            reducing: (losses, sum), reduction: reduction, shape: shape, count: count, weightSum: Double(terms))
    }

    /// Writes one sample's predictions, `channels` rows of `inner`, after the activation.
    private func activate(_ x: UnsafePointer<Double>, into p: UnsafeMutablePointer<Double>, channels: Int, inner: Int) {
        let total = channels * inner
        switch activation {
        case .none:
            p.update(from: x, count: total)
        case .softmax where channels == 1:  // MONAI ignores softmax for a single channel
            p.update(from: x, count: total)
        case .sigmoid:
            for i in 0..<total {
                let e = expNonPositiveGradual(-abs(x[i]))
                let s = 1 / (1 + e)
                p[i] = x[i] >= 0 ? s : e * s  // σ(x) without overflow: e^x / (1 + e^x) for x < 0
            }
        case .softmax:
            // Per position over the channels, a stride of `inner` apart: max, then e^(x - max), then normalise.
            for i in 0..<inner { p[i] = x[i] }
            for c in 1..<channels {
                for i in 0..<inner { p[i] = max(p[i], x[c * inner + i]) }
            }
            // p[0..<inner] holds the maxima until channel 0 overwrites them last.
            for c in (0..<channels).reversed() {
                for i in 0..<inner { p[c * inner + i] = expNonPositive(x[c * inner + i] - p[i]) }
            }
            var sums = [Double](repeating: 0, count: inner)
            for c in 0..<channels {
                for i in 0..<inner { sums[i] += p[c * inner + i] }
            }
            for c in 0..<channels {
                for i in 0..<inner { p[c * inner + i] /= sums[i] }
            }
        }
    }
}

/// Throws, naming the first offender, unless every target is an integer in [0, channels).
private func requireChannelIndices(_ targets: Tensor, channels: Int) throws(LossError) {
    let limit = Double(channels)
    for (index, value) in targets.data.enumerated() {
        guard value.rounded(.towardZero) == value else {
            throw LossError("\(targets.describeElement(index, name: "targets")) is not a class index (an integer)")
        }
        guard value >= 0 && value < limit else {
            throw LossError("\(targets.describeElement(index, name: "targets")) is out of range for \(channels) classes")
        }
    }
}
