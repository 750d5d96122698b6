import Losses

extension LossDeclaration {
    /// `POST /loss/kl`: `F.kl_div` (`KLDivergence`), whose reductions add `batchmean`.
    static let klDivergence = LossDeclaration(
        name: "kl", summary: "Kullback–Leibler divergence (F.kl_div)", reference: "torch.nn.functional.kl_div",
        members: [
            .predictions("Log-probabilities, any shape (the batch is the first dimension)."),
            .targets("Exactly the predictions' shape: probabilities, or log-probabilities with `log_target` true."),
            MemberDeclaration("reduction", .choice(KLDivergenceReduction.allCases.map(\.rawValue), default: "mean"), """
                As in PyTorch, with `batchmean`: the sum divided by the batch size
                (the first dimension), the divergence per sample. `mean` (the
                default, as PyTorch's) divides by the number of elements. `null`
                is the same as absent (`mean`).
                """),
            MemberDeclaration("log_target", .bool(default: false), "`true`: the targets are log-probabilities too."),
        ],
        documentation: LossDocumentation(
            typeName: "KLDivergence", title: "Kullback–Leibler divergence",
            description: """
                `predictions` are log-probabilities and `targets` probabilities (or,
                with `log_target: true`, log-probabilities) of the same shape, any
                rank; each position scores `t·(log t - x)` (`exp(t)·(t - x)` with
                `log_target`). As in PyTorch a target of 0 scores 0 against a finite
                prediction and a negative target NaN (written as `null`); differing
                shapes are a 422, never a silent broadcast.

                The default reduction is `mean`, as PyTorch's (the mean over all
                elements, which PyTorch warns is not the divergence); `batchmean`
                divides the sum by the batch size, the first dimension (1 for a 0-d
                tensor), and is answered as `batchmean` with `weight_sum` the batch
                size, so batches merge by the same rule as every other mean.
                """,
            examples: [
                LossExample("batchmean", "Two distributions over three classes, the divergence per sample", [
                    "predictions": "[[-1.2, -0.9, -1.2], [-0.5, -1.5, -1.9]]",
                    "targets": "[[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]]", "reduction": #""batchmean""#]),
                LossExample("logTarget", "Log-probability targets", [
                    "predictions": "[[-1.2, -0.9, -1.2], [-0.5, -1.5, -1.9]]",
                    "targets": "[[-1.6, -0.7, -1.2], [-0.5, -1.2, -2.3]]", "log_target": "true"]),
                LossExample("perElement", #"reduction "none" keeps the shape"#, [
                    "predictions": "[-1.2, -0.9, -1.2]", "targets": "[0.2, 0.5, 0.3]", "reduction": #""none""#]),
            ])
    ) { m throws(LossError) in
        guard let reduction = KLDivergenceReduction(rawValue: m.choice("reduction")) else {
            preconditionFailure("reduction is checked against KLDivergenceReduction's cases")
        }
        return try KLDivergence(logTarget: m.bool("log_target"), reduction: reduction)(
            predictions: m.predictions, targets: m.targets)
    }
}
