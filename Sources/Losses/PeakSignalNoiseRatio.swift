#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Peak signal-to-noise ratio, as TorchMetrics' `PeakSignalNoiseRatio` in
/// float64: `10·log_b(R² / MSE)` (decibels for the default base b = 10),
/// computed as TorchMetrics does, `(2·ln R - ln(SSE / n))·10 / ln b`. A
/// `dataRange` interval clamps predictions and targets into it first, with
/// R its width. Without `dimensions` it is one score over every element
/// (`reduction` then has nothing to reduce, as in TorchMetrics); with them,
/// one score per index of the other dimensions (per image for `[1, 2, 3]` of
/// `(N, C, H, W)`), reduced by `reduction`. A perfect prediction scores +∞.
public struct PeakSignalNoiseRatio: Sendable {
    /// R > 0 (1 for images in [0, 1], 255 for bytes), or an interval that clamps the inputs; required, as in TorchMetrics 1.x.
    public var dataRange: DataRange
    /// The logarithm's base b > 0, b ≠ 1 (TorchMetrics' 10, which gives decibels).
    public var base: Double
    /// The dimensions each score averages over (negative ones count from the end); nil: all of them.
    public var dimensions: [Int]?
    public var reduction: Reduction

    public init(dataRange: DataRange, base: Double = 10, dimensions: [Int]? = nil, reduction: Reduction = .mean) {
        self.dataRange = dataRange
        self.base = base
        self.dimensions = dimensions
        self.reduction = reduction
    }

    /// A span R, the inputs used as they are.
    public init(dataRange: Double, base: Double = 10, dimensions: [Int]? = nil, reduction: Reduction = .mean) {
        self.init(dataRange: .span(dataRange), base: base, dimensions: dimensions, reduction: reduction)
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        try requireNonEmpty(predictions, name: "predictions")
        try requireNonEmptySameShape(targets, name: "targets", as: predictions)
        let shape = predictions.shape
        let rank = shape.count
        var reduced = [Bool](repeating: dimensions == nil, count: rank)
        if let dimensions {
            guard !dimensions.isEmpty else { throw LossError("dim is empty: name at least one dimension") }
            for (index, dimension) in dimensions.enumerated() {
                guard dimension >= -rank && dimension < rank else {
                    throw LossError("dim[\(index)] = \(dimension) is not a dimension of predictions of shape \(shape) (rank \(rank))")
                }
                let axis = dimension < 0 ? dimension + rank : dimension
                guard !reduced[axis] else { throw LossError("dim[\(index)] = \(dimension) names dimension \(axis) twice") }
                reduced[axis] = true
            }
        }
        let range = try dataRange.checkedSpan()
        guard base > 0, base.isFinite, base != 1 else {
            throw LossError("base = \(formatNumber(base)) must be a finite number > 0 other than 1")
        }
        // TorchMetrics clamps both to an interval data_range (torch.clamp) before the squared errors.
        let p = dataRange.clamped(predictions), t = dataRange.clamped(targets)

        // One squared-error sum per output position; `outputStride[axis]` is 0 along a reduced dimension.
        let outputShape = shape.indices.filter { !reduced[$0] }.map { shape[$0] }
        let outputs = outputShape.reduce(1, *)
        var outputStride = [Int](repeating: 0, count: rank)
        var stride = 1
        for axis in shape.indices.reversed() where !reduced[axis] {
            outputStride[axis] = stride
            stride *= shape[axis]
        }
        let observations = predictions.count / outputs
        var sums = [CompensatedSum](repeating: CompensatedSum(), count: outputs)
        // Hot path: when the reduced dimensions are the trailing ones (per image of (N, C, H, W), or all of
        // them), each score is one contiguous run; otherwise one ordered pass scatters into the scores.
        let trailing = reduced.firstIndex(of: true).map { first in reduced[first...].allSatisfy { $0 } } ?? false
        if trailing {
            for output in 0..<outputs {
                sums[output] = Self.squaredErrorSum(p.data, t.data, from: output * observations, count: observations)
            }
        } else {
            Self.scatterSquaredErrors(p.data, t.data, shape: shape, outputStride: outputStride, into: &sums)
        }

        // TorchMetrics' _psnr_compute: (2·ln R - ln(SSE / n))·(10 / ln b).
        let logRange2 = 2 * log(range), decibels = 10 / log(base), n = Double(observations)
        let scores = sums.map { (logRange2 - log($0.total / n)) * decibels }
        let sum = scores.withUnsafeBufferPointer { $0.compensatedSum }
        let count = predictions.count
        if dimensions == nil {
            // One score: every reduction returns it, as TorchMetrics (which warns that reduction has no effect).
            return LossResult(loss: Tensor(scores[0]), reduction: reduction, count: count, weightSum: 1)
        }
        return LossResult(
            reducing: (scores, sum), reduction: reduction, shape: outputShape, count: count, weightSum: Double(outputs))
    }

    /// Σ (p - t)² over `count` contiguous elements from `start`.
    private static func squaredErrorSum(_ p: [Double], _ t: [Double], from start: Int, count: Int) -> CompensatedSum {
        var sum = CompensatedSum()
        p.withUnsafeBufferPointer { p in
            t.withUnsafeBufferPointer { t in
                let p = p.baseAddress! + start, t = t.baseAddress! + start
                for i in 0..<count {
                    let difference = p[i] - t[i]
                    sum.add(difference * difference)
                }
            }
        }
        return sum
    }

    /// Adds each element's squared error to the sum of its output position, walking the elements in
    /// order with an odometer over the shape (no division per element).
    private static func scatterSquaredErrors(
        _ p: [Double], _ t: [Double], shape: [Int], outputStride: [Int], into sums: inout [CompensatedSum]
    ) {
        var index = [Int](repeating: 0, count: shape.count)
        var output = 0
        for i in 0..<p.count {
            let difference = p[i] - t[i]
            sums[output].add(difference * difference)
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                output += outputStride[axis]
                if index[axis] < shape[axis] { break }
                output -= outputStride[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
