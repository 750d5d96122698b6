import Losses

extension MemberValues {
    /// TorchMetrics' reduction names for the image scores: `elementwise_mean` (also written `mean`), `sum`, `none`.
    var scoreReduction: Reduction {
        choice("reduction") == "elementwise_mean" ? .mean : reduction
    }
}

extension MemberDeclaration {
    /// The image scores' reductions: TorchMetrics' `elementwise_mean` and lossd's `mean` are the same.
    static let scoreReductions = ["mean", "elementwise_mean", "sum", "none"]
}
