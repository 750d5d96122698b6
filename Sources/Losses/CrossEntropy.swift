import LossKernelsAVX2

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
            // The segmentation kernel checks the indices on its own pass over them; the rest check here.
            if !CrossEntropyKernel.checksIndexTargets(layout: layout, loss: self) {
                try requireClassIndices(targets, classes: layout.classes)
            }
        } else {
            throw LossError(
                "targets have shape \(targets.shape) but predictions have shape \(predictions.shape): "
                    + "class indices need shape \(layout.positionShape), class probabilities shape \(predictions.shape)")
        }
        let (result, indicesValid) = score(
            predictions: predictions, targets: targets, layout: layout, classWeights: classWeights,
            indexTargets: targets.shape != predictions.shape)
        // The search names the offender the kernel found (the result, from invalid input, is dropped).
        if !indicesValid { try requireClassIndices(targets, classes: layout.classes) }
        return result
    }

    /// Throws, naming the first offender, unless every target is an integer in [0, classes) or `ignoreIndex`.
    private func requireClassIndices(_ targets: Tensor, classes: Int) throws(LossError) {
        try Losses.requireClassIndices(targets, classes: classes, ignoreIndex: ignoreIndex)
    }

    /// The loss over validated inputs (the index targets possibly not yet:
    /// `false` when the kernel found one that is not a class index).
    private func score(
        predictions: Tensor, targets: Tensor, layout: ClassLayout, classWeights: [Double], indexTargets: Bool
    ) -> (LossResult, indicesValid: Bool) {
        let positions = layout.batch * layout.inner
        let keep = reduction == .none
        var elements = [Double](repeating: 0, count: keep ? positions : 0)
        var lossSum = 0.0, weightSum = Double(positions), count = positions, indicesValid = true
        predictions.data.withUnsafeBufferPointer { predictions in
            targets.data.withUnsafeBufferPointer { targets in
                classWeights.withUnsafeBufferPointer { weights in
                    elements.withUnsafeMutableBufferPointer { elements in
                        var kernel = CrossEntropyKernel(
                            predictions: predictions.baseAddress!, targets: targets.baseAddress!,
                            weights: weights.baseAddress!, layout: layout, loss: self, indexTargets: indexTargets)
                        lossSum = kernel.run(output: keep ? elements.baseAddress! : nil)
                        indicesValid = kernel.indicesValid
                        if indexTargets {
                            count = kernel.count
                            weightSum = kernel.weightSum.total
                        }
                    }
                }
            }
        }
        let result = LossResult(
            reducing: (elements, lossSum), reduction: reduction, shape: layout.positionShape,
            count: count, weightSum: weightSum)
        return (result, indicesValid)
    }
}

/// One cross entropy evaluation over raw buffers of validated inputs.
///
/// Hot path: per tile of positions, the maximum, the sum of exponentials and
/// the logs run along contiguous class rows with vectorisable exp and log (no
/// libm call per element); scratch is allocated once per call, nothing per
/// element. A struct with `mutating` methods, not closures over local
/// variables, so no access to the running sums is checked at run time.
private struct CrossEntropyKernel {
    /// Roughly how many prediction elements are scored together (a block of
    /// rows, or a tile of 256 positions across all classes), so they stay in
    /// cache across the passes over them.
    static let blockElements = 2048

    let predictions: UnsafePointer<Double>
    let targets: UnsafePointer<Double>
    let weights: UnsafePointer<Double>
    let batch: Int, classes: Int, inner: Int
    let fromLogits: Bool
    let indexTargets: Bool
    let smoothing: Double
    let uniformShare: Double
    let ignored: Double

    /// Index targets that took part, and the sum of their class weights.
    var count = 0
    var weightSum = CompensatedSum()
    /// `false` once `runIndexedPlanes` met a target that is neither a class index nor ignored.
    var indicesValid = true
    let ignoreIndex: Int

    /// Whether `run` checks the index targets itself (`runIndexedPlanes` does, on its pass over them).
    static func checksIndexTargets(layout: ClassLayout, loss: CrossEntropy) -> Bool {
        layout.inner > 1 && loss.fromLogits && loss.labelSmoothing == 0
    }

    init(
        predictions: UnsafePointer<Double>, targets: UnsafePointer<Double>, weights: UnsafePointer<Double>,
        layout: ClassLayout, loss: CrossEntropy, indexTargets: Bool
    ) {
        self.predictions = predictions
        self.targets = targets
        self.weights = weights
        batch = layout.batch
        classes = layout.classes
        inner = layout.inner
        fromLogits = loss.fromLogits
        self.indexTargets = indexTargets
        smoothing = loss.labelSmoothing
        uniformShare = loss.labelSmoothing / Double(layout.classes)
        ignored = Double(loss.ignoreIndex)
        ignoreIndex = loss.ignoreIndex
    }

    /// Scores every position, writing the losses to `output` when given;
    /// returns their compensated sum when not.
    mutating func run(output: UnsafeMutablePointer<Double>?) -> Double {
        if inner == 1 { return runRows(output: output) }
        if indexTargets && fromLogits && smoothing == 0 { return runIndexedPlanes(output: output) }
        return runPlanes(output: output)
    }

    /// `(N, C, d1, ..., dk)` with logits and class indices, unsmoothed (segmentation):
    /// `IndexedPlanesCrossEntropy`, in the build `KernelPath.current` names.
    private mutating func runIndexedPlanes(output: UnsafeMutablePointer<Double>?) -> Double {
        let kernel: IndexedPlanesCrossEntropy
        switch KernelPath.current {
        case .baseline:
            kernel = IndexedPlanesCrossEntropy(
                lanes: Lanes.self, multiplyAdd: SeparateMultiplyAdd.self, predictions: predictions, targets: targets,
                weights: weights,
                batch: batch, classes: classes, inner: inner, ignoreIndex: ignoreIndex, output: output)
        case .avx2:
            kernel = AVX2Kernels.indexedPlanesCrossEntropy(
                predictions: predictions, targets: targets, weights: weights,
                batch: batch, classes: classes, inner: inner, ignoreIndex: ignoreIndex, output: output)
        }
        count = kernel.count
        weightSum = CompensatedSum()
        weightSum.add(kernel.weightSum)
        indicesValid = kernel.indicesValid
        return kernel.lossSum
    }

    /// `(C)` and `(N, C)`: blocks of whole rows, so the exponentials of a
    /// block run as one long contiguous loop instead of one short loop per row.
    private mutating func runRows(output: UnsafeMutablePointer<Double>?) -> Double {
        let rowsPerBlock = Swift.max(1, Self.blockElements / classes)
        // Per row of a block: the maximum, log Σ exp(x - max), the loss; then the block's C·rows exponentials.
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 3 * rowsPerBlock + rowsPerBlock * classes)
        defer { scratch.deallocate() }
        let maximum = scratch, logSumExp = scratch + rowsPerBlock, blockLosses = scratch + 2 * rowsPerBlock
        let exponentials = scratch + 3 * rowsPerBlock
        var lossSum = CompensatedSum()

        var firstRow = 0
        while firstRow < batch {
            let rows = Swift.min(rowsPerBlock, batch - firstRow)
            let x = predictions + firstRow * classes
            let losses = output.map { $0 + firstRow } ?? blockLosses
            if fromLogits {
                // log_softmax as ATen, (x - max) - log Σ exp(x - max), finite for any finite x; but as
                // log1p of the sum without the maximum's own e^0 = 1, so a confident prediction's small
                // loss keeps its digits (ATen's log(1 + 1e-17) is 0). Ties at the maximum are counted
                // apart (their exponent becomes -∞), so the sum has no cancellation.
                for r in 0..<rows {
                    let row = x + r * classes, out = exponentials + r * classes
                    var rowMaximum = row[0]
                    for c in 1..<classes { rowMaximum = Swift.max(rowMaximum, row[c]) }
                    var ties = -1
                    for c in 0..<classes {
                        let d = row[c] - rowMaximum
                        out[c] = d == 0 ? -.infinity : d
                        ties &+= d == 0 ? 1 : 0
                    }
                    maximum[r] = rowMaximum
                    logSumExp[r] = Double(ties)
                }
                for i in 0..<(rows * classes) { exponentials[i] = expNonPositive(exponentials[i]) }
                for r in 0..<rows {
                    let row = exponentials + r * classes
                    var rest = 0.0
                    for c in 0..<classes { rest += row[c] }
                    logSumExp[r] += rest
                }
                formLogOnePlus(logSumExp, count: rows)
                for r in 0..<rows {
                    let rowMaximum = maximum[r], rowLogSumExp = logSumExp[r]
                    scoreTile(
                        sample: firstRow + r, first: 0, width: 1, stride: 1, losses: losses + r
                    ) { row, s in (row[s] - rowMaximum) - rowLogSumExp }
                }
            } else {
                for r in 0..<rows {
                    scoreTile(sample: firstRow + r, first: 0, width: 1, stride: 1, losses: losses + r) { row, s in
                        clampedLog(row[s])
                    }
                }
            }
            if output == nil { lossSum.add(UnsafeBufferPointer(start: losses, count: rows)) }
            firstRow += rows
        }
        return lossSum.total
    }

    /// `(N, C, d1, ..., dk)`: tiles of positions, each pass running along contiguous class rows.
    private mutating func runPlanes(output: UnsafeMutablePointer<Double>?) -> Double {
        let tileWidth = Swift.min(inner, Self.blockElements / 8)
        // Per position of a tile: the maximum, log Σ exp(x - max), the loss, the ties at the maximum.
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 4 * tileWidth)
        defer { scratch.deallocate() }
        let maximum = scratch, logSumExp = scratch + tileWidth, tileLosses = scratch + 2 * tileWidth
        let ties = scratch + 3 * tileWidth
        var lossSum = CompensatedSum()

        for sample in 0..<batch {
            var first = 0
            while first < inner {
                let width = Swift.min(tileWidth, inner - first)
                // Class c of the tile's position s is x[c * inner + s].
                let x = predictions + sample * classes * inner + first
                let losses = output.map { $0 + sample * inner + first } ?? tileLosses
                if fromLogits {
                    // As in runRows: log1p of the sum beside the maximum, ties counted apart.
                    for s in 0..<width { maximum[s] = x[s] }
                    for c in 1..<classes {
                        let row = x + c * inner
                        for s in 0..<width { maximum[s] = Swift.max(maximum[s], row[s]) }
                    }
                    for s in 0..<width {
                        logSumExp[s] = 0
                        ties[s] = -1
                    }
                    for c in 0..<classes {
                        let row = x + c * inner
                        for s in 0..<width {
                            let d = row[s] - maximum[s]
                            // A select of the exp's input, not a branch around the exp, so the loop vectorises.
                            logSumExp[s] += expNonPositive(d == 0 ? -.infinity : d)
                            ties[s] += d == 0 ? 1 : 0
                        }
                    }
                    for s in 0..<width { logSumExp[s] += ties[s] }
                    formLogOnePlus(logSumExp, count: width)
                    scoreTile(sample: sample, first: first, width: width, stride: inner, losses: losses) { row, s in
                        (row[s] - maximum[s]) - logSumExp[s]
                    }
                } else {
                    scoreTile(sample: sample, first: first, width: width, stride: inner, losses: losses) { row, s in
                        clampedLog(row[s])
                    }
                }
                if output == nil { lossSum.add(UnsafeBufferPointer(start: losses, count: width)) }
                first += width
            }
        }
        return lossSum.total
    }

    /// The losses of one tile, given log p of the class row at `row`, position `s`.
    /// Called with literal `width` and `stride` of 1 for `(N, C)`, so the position loops fold away.
    @inline(__always)
    private mutating func scoreTile(
        sample: Int, first: Int, width: Int, stride: Int, losses: UnsafeMutablePointer<Double>,
        _ logProbability: (UnsafePointer<Double>, Int) -> Double
    ) {
        let x = predictions + sample * classes * inner + first
        let w = weights
        if indexTargets {
            let t = targets + sample * inner + first
            if smoothing > 0 {
                // ATen's smoothing term: Σ_c w_c·log p_c, later negated and scaled by ε/C.
                for s in 0..<width { losses[s] = 0 }
                for c in 0..<classes {
                    let row = x + c * stride
                    for s in 0..<width { losses[s] += logProbability(row, s) * w[c] }
                }
            }
            for s in 0..<width {
                let target = t[s]
                if target == ignored {
                    losses[s] = 0
                    continue
                }
                let k = Int(target)
                count += 1
                weightSum.add(w[k])
                let nll = -logProbability(x + k * stride, s) * w[k]
                losses[s] = smoothing > 0 ? (1 - smoothing) * nll + -losses[s] * uniformShare : nll
            }
        } else {
            let t = targets + sample * classes * inner + first
            for s in 0..<width { losses[s] = 0 }
            for c in 0..<classes {
                let row = x + c * stride, target = t + c * stride
                if smoothing > 0 {
                    for s in 0..<width {
                        let smoothed = target[s] * (1 - smoothing) + uniformShare
                        losses[s] += logProbability(row, s) * smoothed * w[c]
                    }
                } else {
                    for s in 0..<width { losses[s] += logProbability(row, s) * target[s] * w[c] }
                }
            }
            for s in 0..<width { losses[s] = -losses[s] }
        }
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
