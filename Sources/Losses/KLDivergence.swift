#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Kullback–Leibler divergence, as `torch.nn.functional.kl_div` in float64:
/// the predictions are log-probabilities; each position scores
/// `xlogy(y, y) - y·x` (`y·(log y - x)`), or `exp(y)·(y - x)` with
/// `logTarget`. As in PyTorch, a target of 0 scores `0 - 0·x` (0 for finite x,
/// NaN where x = -∞), a negative target NaN (its log is NaN), and `reduction`
/// adds `batchmean`. Different shapes are an error, never a silent broadcast.
public struct KLDivergence: Sendable {
    /// `true`: the targets are log-probabilities too.
    public var logTarget: Bool
    public var reduction: KLDivergenceReduction

    public init(logTarget: Bool = false, reduction: KLDivergenceReduction = .mean) {
        self.logTarget = logTarget
        self.reduction = reduction
    }

    /// The result's `reduction` is `mean` for `batchmean` too, whose `weightSum`
    /// is the batch size N (1 for 0-d predictions, which PyTorch sums), so that
    /// batches merge by the same rule as every other mean.
    public func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult {
        try requireNonEmpty(predictions, name: "predictions")
        try requireNonEmptySameShape(targets, name: "targets", as: predictions)
        let count = predictions.count
        let keep = reduction == .none
        let logTarget = self.logTarget
        let outcome = predictions.data.withUnsafeBufferPointer { p in
            targets.data.withUnsafeBufferPointer { t in
                ElementwiseLoss.run(count: count, patternLength: count, keepElements: keep) { start, _, out, length in
                    let x = p.baseAddress! + start, y = t.baseAddress! + start
                    if logTarget {
                        // A call to libm's exp per element: the targets may be any number, beyond
                        // expNonPositive's x ≤ 0, and exp(y) meets (y - x) of any size.
                        for i in 0..<length { out[i] = exp(y[i]) * (y[i] - x[i]) }
                    } else {
                        // Hot path: selects, not branches, so the loop vectorises with logPositive.
                        for i in 0..<length { out[i] = xLogX(y[i]) - y[i] * x[i] }
                    }
                    return true
                }
            }
        }
        let result: Reduction
        let weightSum: Double
        switch reduction {
        case .none: (result, weightSum) = (.none, Double(count))
        case .sum: (result, weightSum) = (.sum, Double(count))
        case .mean: (result, weightSum) = (.mean, Double(count))
        case .batchmean: (result, weightSum) = (.mean, Double(predictions.shape.first ?? 1))
        }
        return LossResult(
            reducing: (outcome.elements, outcome.sum), reduction: result, shape: predictions.shape,
            count: count, weightSum: weightSum)
    }
}

/// How `KLDivergence` combines its per-position losses: PyTorch's `kl_div`
/// reductions, which add `batchmean` to those of `Reduction`.
public enum KLDivergenceReduction: String, Sendable, CaseIterable {
    /// The sum divided by the number of elements (PyTorch's default, which it warns is not the divergence).
    case mean
    /// The sum.
    case sum
    /// One loss per position, of the predictions' shape.
    case none
    /// The sum divided by the batch size, the first dimension: the divergence per sample.
    case batchmean
}

/// `xlogy(y, y)` as ATen computes it: NaN for NaN, 0 for ±0, else `y·log y`
/// (NaN for negative y). Subnormal y is scaled by 2^54 into logPositive's
/// domain, and 54·ln 2 taken back off.
@inline(__always)
private func xLogX(_ y: Double) -> Double {
    let subnormal = y < Double.leastNormalMagnitude
    let log = logPositive(subnormal ? y * 0x1p54 : y) - (subnormal ? 54 * 0.693147180559945309417232121458176568 : 0)
    let product = y * log
    return y > 0 ? product : (y == 0 ? 0 : .nan)
}
