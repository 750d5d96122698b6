import Losses

extension LossDeclaration {
    /// `POST /loss/l1`: `F.l1_loss` with an optional element weight (`L1Loss`).
    static let l1 = LossDeclaration(
        name: "l1", summary: "Mean absolute error (F.l1_loss)", reference: "torch.nn.functional.l1_loss",
        members: [
            .predictions("Any shape."),
            .targets("Exactly the predictions' shape (no broadcasting)."),
            .reduction,
            .weight("Element weights of exactly the predictions' shape; the mean becomes `sum(w·|x - y|) / sum(w)`."),
        ],
        documentation: LossDocumentation(
            typeName: "L1", title: "Mean absolute error",
            description: """
                `predictions` and `targets` have the same shape, any rank; each
                position scores `|x - y|`. Unlike PyTorch, differing shapes are a
                422, never a silent broadcast. With a `weight` of exactly the
                predictions' shape the mean becomes `sum(w·|x - y|) / sum(w)`, as in
                current PyTorch, and `weight_sum` is `sum(w)`.
                """,
            examples: [
                LossExample("mean", "A 2×2 prediction", [
                    "predictions": "[[1.0, 2.0], [3.0, 4.0]]", "targets": "[[1.5, 2.0], [2.0, 4.0]]"]),
                LossExample("weighted", "Element weights of the predictions' shape", [
                    "predictions": "[[1.0, 2.0], [3.0, 4.0]]", "targets": "[[1.5, 2.0], [2.0, 4.0]]",
                    "weight": "[[1.0, 1.0], [2.0, 0.0]]"]),
                LossExample("perElement", #"reduction "none" keeps the shape"#, [
                    "predictions": "[[1.0, 2.0], [3.0, 4.0]]", "targets": "[[1.5, 2.0], [2.0, 4.0]]",
                    "reduction": #""none""#]),
            ])
    ) { m in
        L1Loss(weight: m.tensor("weight"), reduction: m.reduction)
    }
}
