#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The structural similarity index (SSIM) of images `(N, C, H, W)`, as
/// TorchMetrics' `StructuralSimilarityIndexMeasure` (1.x) with its Gaussian
/// window in float64: each image is padded by reflection (the edge pixel not
/// repeated, as `F.pad(mode: "reflect")`) by `(k - 1)/2` on every side, where
/// the window is `k × k` with `k = 2·⌊3.5·sigma + 0.5⌋ + 1` (11 for the
/// default sigma 1.5); the Gaussian gives local means μ, variances σ²
/// (clamped at 0) and covariance σpt at each of the H × W pixels, and each
/// scores `(2·μp·μt + c1)(2·σpt + c2) / ((μp² + μt² + c1)(σp² + σt² + c2))`
/// with `c1 = (k1·R)²`, `c2 = (k2·R)²`. An image's SSIM is the mean over its
/// channels and pixels; `reduction` combines the images.
public struct StructuralSimilarity: Sendable {
    /// The Gaussian window's standard deviation in pixels (TorchMetrics' 1.5).
    public var sigma: Double
    /// c1 = (k1·R)² (TorchMetrics' 0.01).
    public var k1: Double
    /// c2 = (k2·R)² (TorchMetrics' 0.03).
    public var k2: Double
    /// R, the range of the signal; nil: max(predictions' max - min, targets' max - min), as TorchMetrics.
    public var dataRange: Double?
    public var reduction: Reduction

    public init(sigma: Double = 1.5, k1: Double = 0.01, k2: Double = 0.03, dataRange: Double? = nil, reduction: Reduction = .mean) {
        self.sigma = sigma
        self.k1 = k1
        self.k2 = k2
        self.dataRange = dataRange
        self.reduction = reduction
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        try requireNonEmpty(predictions, name: "predictions")
        guard predictions.rank == 4 else {
            throw LossError("predictions have shape \(predictions.shape) but SSIM needs images of shape (N, C, H, W)")
        }
        try requireNonEmptySameShape(targets, name: "targets", as: predictions)
        guard sigma > 0, sigma.isFinite else { throw LossError("sigma = \(formatNumber(sigma)) must be a finite number > 0") }
        guard k1 >= 0, k1.isFinite else { throw LossError("k1 = \(formatNumber(k1)) must be a finite number ≥ 0") }
        guard k2 >= 0, k2.isFinite else { throw LossError("k2 = \(formatNumber(k2)) must be a finite number ≥ 0") }
        let (samples, channels, height, width) = (predictions.shape[0], predictions.shape[1], predictions.shape[2], predictions.shape[3])
        // Checked as a double first: a huge sigma must not trap in the conversion to Int.
        let halfWidth = (3.5 * sigma + 0.5).rounded(.towardZero)
        guard halfWidth < Double(min(height, width)) else {
            let size = formatNumber(2 * halfWidth + 1)
            throw LossError(
                "predictions have images of \(height)×\(width) but SSIM's \(size)×\(size) Gaussian window (sigma "
                    + "\(formatNumber(sigma))) reflects \(formatNumber(halfWidth)) pixels at each border: H and W must be "
                    + "at least \(formatNumber(halfWidth + 1))")
        }
        let pad = Int(halfWidth), size = 2 * pad + 1
        let range: Double
        if let dataRange {
            guard dataRange > 0, dataRange.isFinite else {
                throw LossError("data_range = \(formatNumber(dataRange)) must be a finite number > 0")
            }
            range = dataRange
        } else {
            range = max(predictions.data.max()! - predictions.data.min()!, targets.data.max()! - targets.data.min()!)
        }
        let c1 = (k1 * range) * (k1 * range), c2 = (k2 * range) * (k2 * range)

        // TorchMetrics' _gaussian: e^(-(d/sigma)²/2) at d = -(k-1)/2 … (k-1)/2, divided by its sum.
        var kernel = (0..<size).map { i -> Double in
            let distance = Double(i - size / 2) / sigma
            return exp(-(distance * distance) / 2)
        }
        let kernelSum = kernel.reduce(0, +)
        kernel = kernel.map { $0 / kernelSum }

        let plane = height * width
        /// The source of padded coordinate `u` along a dimension of `length`: reflection without the edge.
        func reflected(_ u: Int, _ length: Int) -> Int {
            let i = u - pad
            return i < 0 ? -i : (i >= length ? 2 * (length - 1) - i : i)
        }
        let sourceRow = (0..<height + 2 * pad).map { reflected($0, height) }
        let sourceColumn = (0..<width + 2 * pad).map { reflected($0, width) }
        // Hot path: the 2-D window is the outer product of `kernel` with itself, so each of the five local
        // moments is a horizontal pass over a reflected copy of the row (contiguous) into `rows`, then a
        // vertical pass over `rows`; the scratch buffers are allocated once per call, nothing per element.
        var rows = [Double](repeating: 0, count: 5 * plane)
        var padded = [Double](repeating: 0, count: 2 * (width + 2 * pad))
        var scores = [Double](repeating: 0, count: samples)
        predictions.data.withUnsafeBufferPointer { p in
            targets.data.withUnsafeBufferPointer { t in
                kernel.withUnsafeBufferPointer { g in
                    rows.withUnsafeMutableBufferPointer { rows in
                        padded.withUnsafeMutableBufferPointer { padded in
                            let g = g.baseAddress!, rows = rows.baseAddress!
                            let px = padded.baseAddress!, py = px + width + 2 * pad
                            for n in 0..<samples {
                                var image = CompensatedSum()
                                for c in 0..<channels {
                                    let x = p.baseAddress! + (n * channels + c) * plane
                                    let y = t.baseAddress! + (n * channels + c) * plane
                                    for r in 0..<height {
                                        for u in 0..<width + 2 * pad {
                                            px[u] = x[r * width + sourceColumn[u]]
                                            py[u] = y[r * width + sourceColumn[u]]
                                        }
                                        let out = rows + r * width
                                        for j in 0..<width {
                                            var mx = 0.0, my = 0.0, mxx = 0.0, myy = 0.0, mxy = 0.0
                                            for b in 0..<size {
                                                let xv = px[j + b], yv = py[j + b], w = g[b]
                                                mx += w * xv
                                                my += w * yv
                                                mxx += w * (xv * xv)
                                                myy += w * (yv * yv)
                                                mxy += w * (xv * yv)
                                            }
                                            out[j] = mx
                                            out[plane + j] = my
                                            out[2 * plane + j] = mxx
                                            out[3 * plane + j] = myy
                                            out[4 * plane + j] = mxy
                                        }
                                    }
                                    for r in 0..<height {
                                        for j in 0..<width {
                                            var m = (0.0, 0.0, 0.0, 0.0, 0.0)
                                            for a in 0..<size {
                                                let w = g[a], at = sourceRow[r + a] * width + j
                                                m.0 += w * rows[at]
                                                m.1 += w * rows[plane + at]
                                                m.2 += w * rows[2 * plane + at]
                                                m.3 += w * rows[3 * plane + at]
                                                m.4 += w * rows[4 * plane + at]
                                            }
                                            let meanX2 = m.0 * m.0, meanY2 = m.1 * m.1, meanXY = m.0 * m.1
                                            // TorchMetrics clamps the variances at 0 (rounding can make them negative).
                                            let varianceX = max(m.2 - meanX2, 0), varianceY = max(m.3 - meanY2, 0)
                                            let covariance = m.4 - meanXY
                                            let upper = 2 * covariance + c2, lower = (varianceX + varianceY) + c2
                                            image.add(((2 * meanXY + c1) * upper) / ((meanX2 + meanY2 + c1) * lower))
                                        }
                                    }
                                }
                                scores[n] = image.total / Double(channels * plane)
                            }
                        }
                    }
                }
            }
        }
        let sum = scores.withUnsafeBufferPointer { $0.compensatedSum }
        return LossResult(
            reducing: (scores, sum), reduction: reduction, shape: [samples], count: predictions.count,
            weightSum: Double(samples))
    }
}
