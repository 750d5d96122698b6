/// TorchMetrics' `data_range` of the image scores (PSNR, SSIM): either the
/// span R of the signal (`1.0` for images in [0, 1], `255` for bytes), or an
/// interval `(low, high)`, which clamps predictions and targets into it
/// before scoring and gives R = high - low.
public enum DataRange: Sendable, Equatable {
    /// R itself; the inputs are used as they are.
    case span(Double)
    /// `(low, high)`: the inputs are clamped to it, R = high - low.
    case interval(Double, Double)

    /// Checks the range (`name` is the member it came from) and returns R:
    /// a span must be finite and > 0; an interval finite with `low < high`.
    public func checkedSpan(name: String = "data_range") throws(LossError) -> Double {
        switch self {
        case .span(let span):
            guard span > 0, span.isFinite else { throw LossError("\(name) = \(formatNumber(span)) must be a finite number > 0") }
            return span
        case .interval(let low, let high):
            guard low.isFinite else { throw LossError("\(name)[0] = \(formatNumber(low)) must be finite") }
            guard high.isFinite else { throw LossError("\(name)[1] = \(formatNumber(high)) must be finite") }
            guard low < high else {
                throw LossError("\(name)[1] = \(formatNumber(high)) must be greater than \(name)[0] = \(formatNumber(low))")
            }
            let span = high - low
            guard span.isFinite else { throw LossError("\(name) = [\(formatNumber(low)), \(formatNumber(high))] spans more than a double holds") }
            return span
        }
    }

    /// `tensor` clamped into the interval (as `torch.clamp`, which keeps NaN), or `tensor` itself for a span.
    public func clamped(_ tensor: Tensor) -> Tensor {
        guard case .interval(let low, let high) = self else { return tensor }
        return Tensor(checkedShape: tensor.shape, data: tensor.data.map { $0.isNaN ? $0 : Swift.min(Swift.max($0, low), high) })
    }
}
