import Losses

extension LossDeclaration {
    /// `POST /loss/nll`: `F.nll_loss` (`NegativeLogLikelihood`).
    static let negativeLogLikelihood = LossDeclaration(
        name: "nll", summary: "Negative log likelihood (F.nll_loss)", reference: "torch.nn.functional.nll_loss",
        members: [
            .predictions("Log-probabilities (any numbers) of shape `(C)`, `(N, C)` or `(N, C, d1, ..., dk)`."),
            .targets("Class indices of shape `()`, `(N)` or `(N, d1, ..., dk)`: integral values in `[0, C)` or equal to `ignore_index`."),
            .reduction,
            .weight("Per-class weights, shape `(C)`."),
            MemberDeclaration("ignore_index", .integer(default: -100), """
                A target index that takes no part (loss 0 in `none`). Integral
                values only (`2.0` is `2`); beyond ±2^53 a 422.
                """),
        ],
        documentation: LossDocumentation(
            typeName: "NegativeLogLikelihood", title: "Negative log likelihood",
            description: """
                `predictions` are log-probabilities (for example a `log_softmax`
                output) of shape `(C)`, `(N, C)` or `(N, C, d1, ..., dk)`; each
                position scores `-weight[t]·x[t]`. `targets` are class indices of
                the predictions' shape without the class dimension, integral values
                in `[0, C)` or equal to `ignore_index` (422 otherwise).

                The mean divides by the sum of the class weights of the targets
                that take part (`weight_sum`), exactly as PyTorch; when every target
                is ignored that is 0 and the mean is PyTorch's NaN, written as `null`.
                """,
            examples: [
                LossExample("indices", "Log-probabilities (N, C) = (2, 3) with class-index targets", [
                    "predictions": "[[-0.2, -2.0, -2.5], [-1.5, -0.4, -1.8]]", "targets": "[0, 1]"]),
                LossExample("weightedIgnored", "Class weights and an ignored target",
                            resultSummary: "The second target is ignored; the mean divides by weight[0]", [
                    "predictions": "[[-0.2, -2.0, -2.5], [-1.5, -0.4, -1.8]]", "targets": "[0, -100]",
                    "weight": "[2.0, 1.0, 0.5]"]),
                LossExample("perSample", #"reduction "none" returns one loss per sample"#, [
                    "predictions": "[[-0.2, -2.0, -2.5], [-1.5, -0.4, -1.8]]", "targets": "[0, 1]",
                    "reduction": #""none""#]),
            ])
    ) { m throws(LossError) in
        let loss = NegativeLogLikelihood(weight: m.tensor("weight"), ignoreIndex: m.integer("ignore_index"),
                                         reduction: m.reduction)
        return try loss(predictions: m.predictions, targets: m.targets)
    }
}
