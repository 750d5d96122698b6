#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The structural similarity index (SSIM) of images `(N, C, H, W)` or
/// volumes `(N, C, D, H, W)`, as TorchMetrics' `StructuralSimilarityIndexMeasure`
/// (1.x) in float64. The window is a Gaussian of `k = 2·⌊3.5·sigma + 0.5⌋ + 1`
/// taps per axis (11 for the default sigma 1.5), or with `gaussianKernel`
/// false a uniform one of `kernelSize` taps. Each image is padded by
/// reflection (the edge not repeated, as `F.pad(mode: "reflect")`) by half
/// the window on every side (for volumes TorchMetrics pads W by
/// `(kernelSize - 1)/2` whichever the window, and so does this), the window
/// gives local means μ, variances σ² (clamped at 0) and covariance σpt at each
/// position, and each scores
/// `(2·μp·μt + c1)(2·σpt + c2) / ((μp² + μt² + c1)(σp² + σt² + c2))` with
/// `c1 = (k1·R)²`, `c2 = (k2·R)²`. An image's SSIM is the mean over its
/// channels and positions; `reduction` combines the images.
public struct StructuralSimilarity: Sendable {
    /// Whether the window is a Gaussian (TorchMetrics' default) or uniform.
    public var gaussianKernel: Bool
    /// The Gaussian window's standard deviation in pixels (TorchMetrics' 1.5).
    public var sigma: Double
    /// The uniform window's width, odd (TorchMetrics' 11); checked for the Gaussian too, as TorchMetrics does.
    public var kernelSize: Int
    /// c1 = (k1·R)² (TorchMetrics' 0.01).
    public var k1: Double
    /// c2 = (k2·R)² (TorchMetrics' 0.03).
    public var k2: Double
    /// R, or an interval that clamps the inputs; nil: max(predictions' max - min, targets' max - min), as TorchMetrics.
    public var dataRange: DataRange?
    public var reduction: Reduction

    public init(gaussianKernel: Bool = true, sigma: Double = 1.5, kernelSize: Int = 11, k1: Double = 0.01,
                k2: Double = 0.03, dataRange: DataRange? = nil, reduction: Reduction = .mean) {
        self.gaussianKernel = gaussianKernel
        self.sigma = sigma
        self.kernelSize = kernelSize
        self.k1 = k1
        self.k2 = k2
        self.dataRange = dataRange
        self.reduction = reduction
    }

    /// A span R (or nil), the inputs used as they are.
    public init(gaussianKernel: Bool = true, sigma: Double = 1.5, kernelSize: Int = 11, k1: Double = 0.01,
                k2: Double = 0.03, dataRange: Double?, reduction: Reduction = .mean) {
        self.init(gaussianKernel: gaussianKernel, sigma: sigma, kernelSize: kernelSize, k1: k1, k2: k2,
                  dataRange: dataRange.map(DataRange.span), reduction: reduction)
    }

    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        try requireNonEmpty(predictions, name: "predictions")
        guard predictions.rank == 4 || predictions.rank == 5 else {
            throw LossError("predictions have shape \(predictions.shape) but SSIM needs images of shape (N, C, H, W) or volumes of shape (N, C, D, H, W)")
        }
        try requireNonEmptySameShape(targets, name: "targets", as: predictions)
        guard kernelSize > 0, kernelSize % 2 == 1 else { throw LossError("kernel_size = \(kernelSize) must be an odd number ≥ 1") }
        guard sigma > 0, sigma.isFinite else { throw LossError("sigma = \(formatNumber(sigma)) must be a finite number > 0") }
        guard k1 >= 0, k1.isFinite else { throw LossError("k1 = \(formatNumber(k1)) must be a finite number ≥ 0") }
        guard k2 >= 0, k2.isFinite else { throw LossError("k2 = \(formatNumber(k2)) must be a finite number ≥ 0") }
        let volumes = predictions.rank == 5
        let (samples, channels) = (predictions.shape[0], predictions.shape[1])
        // (D, H, W); an image is a volume of depth 1 that is neither padded nor filtered along D.
        let sizes = volumes ? Array(predictions.shape[2...]) : [1] + Array(predictions.shape[2...])

        // The window's taps per axis, and each axis's reflection: checked as doubles first, so a huge sigma
        // or kernel_size cannot trap in a conversion to Int.
        let taps = gaussianKernel ? 2 * (3.5 * sigma + 0.5).rounded(.towardZero) + 1 : Double(kernelSize)
        let half = (taps - 1) / 2, sizeHalf = Double((kernelSize - 1) / 2)
        // TorchMetrics' _reflection_pad_3d receives (pad_d, pad_w, pad_h) as (pad_h, pad_w, pad_d), so for a volume
        // D and H are padded by half the window and W by (kernel_size - 1)/2.
        let pads: [Double] = volumes ? [half, half, gaussianKernel ? sizeHalf : half] : [0, half, half]
        let axisTaps: [Double] = volumes ? [taps, taps, taps] : [1, taps, taps]
        let least = (0..<3).map { max(pads[$0] + 1, axisTaps[$0] - 2 * pads[$0]) }
        if (0..<3).contains(where: { Double(sizes[$0]) < least[$0] }) {
            throw LossError(Self.tooSmall(sizes: sizes, volumes: volumes, taps: taps, pads: pads, least: least,
                                          window: gaussianKernel ? "Gaussian window (sigma \(formatNumber(sigma)))" : "uniform window"))
        }
        let pad = pads.map { Int($0) }, length = axisTaps.map { Int($0) }
        let out = (0..<3).map { sizes[$0] + 2 * pad[$0] - length[$0] + 1 }

        let p = dataRange?.clamped(predictions) ?? predictions, t = dataRange?.clamped(targets) ?? targets
        let range: Double
        if let dataRange {
            range = try dataRange.checkedSpan()
        } else {
            range = max(predictions.data.max()! - predictions.data.min()!, targets.data.max()! - targets.data.min()!)
        }
        let c1 = (k1 * range) * (k1 * range), c2 = (k2 * range) * (k2 * range)

        // TorchMetrics' _gaussian: e^(-(d/sigma)²/2) at d = -(k-1)/2 … (k-1)/2, divided by its sum; or 1/k each.
        let size = Int(taps)
        var kernel: [Double]
        if gaussianKernel {
            kernel = (0..<size).map { i -> Double in
                let distance = Double(i - size / 2) / sigma
                return exp(-(distance * distance) / 2)
            }
            let kernelSum = kernel.reduce(0, +)
            kernel = kernel.map { $0 / kernelSum }
        } else {
            kernel = [Double](repeating: 1 / Double(size), count: size)
        }
        let kernels = volumes ? [kernel, kernel, kernel] : [[1.0], kernel, kernel]
        /// The source index of each padded coordinate along an axis: reflection without the edge.
        func reflection(_ axis: Int) -> [Int] {
            let n = sizes[axis]
            return (0..<(n + 2 * pad[axis])).map { u in
                let i = u - pad[axis]
                return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i)
            }
        }
        let filter = SeparableMoments(sizes: sizes, out: out, kernels: kernels,
                                      sources: [reflection(0), reflection(1), reflection(2)])
        let volume = sizes.reduce(1, *), positions = out.reduce(1, *)
        var scores = [Double](repeating: 0, count: samples)
        p.data.withUnsafeBufferPointer { p in
            t.data.withUnsafeBufferPointer { t in
                var moments = filter.makeScratch()
                for n in 0..<samples {
                    var image = CompensatedSum()
                    for c in 0..<channels {
                        let offset = (n * channels + c) * volume
                        filter.moments(p.baseAddress! + offset, t.baseAddress! + offset, into: &moments)
                        moments.final.withUnsafeBufferPointer { m in
                            let m = m.baseAddress!
                            for i in 0..<positions {
                                let mx = m[i], my = m[positions + i]
                                let meanX2 = mx * mx, meanY2 = my * my, meanXY = mx * my
                                // TorchMetrics clamps the variances at 0 (rounding can make them negative).
                                let varianceX = max(m[2 * positions + i] - meanX2, 0)
                                let varianceY = max(m[3 * positions + i] - meanY2, 0)
                                let covariance = m[4 * positions + i] - meanXY
                                let upper = 2 * covariance + c2, lower = (varianceX + varianceY) + c2
                                image.add(((2 * meanXY + c1) * upper) / ((meanX2 + meanY2 + c1) * lower))
                            }
                        }
                    }
                    scores[n] = image.total / Double(channels * positions)
                }
            }
        }
        let sum = scores.withUnsafeBufferPointer { $0.compensatedSum }
        return LossResult(
            reducing: (scores, sum), reduction: reduction, shape: [samples], count: predictions.count,
            weightSum: Double(samples))
    }

    /// The 422 for images or volumes smaller than the window's reflection allows.
    private static func tooSmall(sizes: [Int], volumes: Bool, taps: Double, pads: [Double], least: [Double],
                                 window: String) -> String {
        let t = formatNumber(taps)
        if !volumes {
            return "predictions have images of \(sizes[1])×\(sizes[2]) but SSIM's \(t)×\(t) \(window) reflects "
                + "\(formatNumber(pads[1])) pixels at each border: H and W must be at least \(formatNumber(least[1]))"
        }
        return "predictions have volumes of \(sizes[0])×\(sizes[1])×\(sizes[2]) but SSIM's \(t)×\(t)×\(t) \(window) "
            + "reflects \(pads.map(formatNumber).joined(separator: ", ")) pixels at the borders of D, H and W: they must be "
            + "at least \(least.map(formatNumber).joined(separator: ", ")) (TorchMetrics pads W by (kernel_size - 1)/2)"
    }
}

/// The five local moments SSIM needs (E[x], E[y], E[x²], E[y²], E[xy] under
/// the window) of one channel of a (D, H, W) volume, by three separable
/// passes over reflected coordinates: along W, then H, then D.
///
/// Hot path: every pass runs over contiguous `Double` storage allocated once
/// per request (`Scratch`), with the reflection as precomputed index tables;
/// nothing is allocated per element.
struct SeparableMoments {
    let sizes: [Int]
    let out: [Int]
    let kernels: [[Double]]
    let sources: [[Int]]

    /// The buffers of one request: after W (D·H·W'), after H (D·H'·W'), after D (D'·H'·W'), five moments each.
    struct Scratch {
        var alongW: [Double]
        var alongH: [Double]
        var final: [Double]
    }

    func makeScratch() -> Scratch {
        Scratch(alongW: [Double](repeating: 0, count: 5 * sizes[0] * sizes[1] * out[2]),
                alongH: [Double](repeating: 0, count: 5 * sizes[0] * out[1] * out[2]),
                final: [Double](repeating: 0, count: 5 * out[0] * out[1] * out[2]))
    }

    func moments(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, into scratch: inout Scratch) {
        let (d, h, w) = (sizes[0], sizes[1], sizes[2])
        let (outD, outH, outW) = (out[0], out[1], out[2])
        // Along W: each row reflected once into `padded`, then the window slides over it.
        let planeW = d * h * outW
        var padded = [Double](repeating: 0, count: 2 * sources[2].count)
        kernels[2].withUnsafeBufferPointer { g in
            scratch.alongW.withUnsafeMutableBufferPointer { a in
                padded.withUnsafeMutableBufferPointer { padded in
                    let px = padded.baseAddress!, py = px + sources[2].count
                    for row in 0..<d * h {
                        for (u, source) in sources[2].enumerated() {
                            px[u] = x[row * w + source]
                            py[u] = y[row * w + source]
                        }
                        for j in 0..<outW {
                            var m = (0.0, 0.0, 0.0, 0.0, 0.0)
                            for b in 0..<g.count {
                                let xv = px[j + b], yv = py[j + b], weight = g[b]
                                m.0 += weight * xv
                                m.1 += weight * yv
                                m.2 += weight * (xv * xv)
                                m.3 += weight * (yv * yv)
                                m.4 += weight * (xv * yv)
                            }
                            let at = row * outW + j
                            a[at] = m.0
                            a[planeW + at] = m.1
                            a[2 * planeW + at] = m.2
                            a[3 * planeW + at] = m.3
                            a[4 * planeW + at] = m.4
                        }
                    }
                }
            }
        }
        // Along H, then along D; a pass with a one-tap window of weight 1 (an image's D) copies exactly.
        Self.pass(scratch.alongW, into: &scratch.alongH, outer: d, inner: outW, length: h, outLength: outH,
                  kernel: kernels[1], source: sources[1])
        Self.pass(scratch.alongH, into: &scratch.final, outer: 1, inner: outH * outW, length: d, outLength: outD,
                  kernel: kernels[0], source: sources[0])
    }

    /// Filters the five moment arrays of shape (outer, length, inner) along the middle axis into (outer, outLength, inner).
    private static func pass(_ input: [Double], into output: inout [Double], outer: Int, inner: Int, length: Int,
                             outLength: Int, kernel: [Double], source: [Int]) {
        let inPlane = outer * length * inner, outPlane = outer * outLength * inner
        input.withUnsafeBufferPointer { a in
            output.withUnsafeMutableBufferPointer { o in
                kernel.withUnsafeBufferPointer { g in
                    for moment in 0..<5 {
                        let a = a.baseAddress! + moment * inPlane, o = o.baseAddress! + moment * outPlane
                        for q in 0..<outer {
                            for r in 0..<outLength {
                                let target = o + (q * outLength + r) * inner
                                for j in 0..<inner { target[j] = 0 }
                                for tap in 0..<g.count {
                                    let weight = g[tap], row = a + (q * length + source[r + tap]) * inner
                                    for j in 0..<inner { target[j] += weight * row[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
