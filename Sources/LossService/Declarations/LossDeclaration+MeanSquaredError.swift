import Losses

extension LossDeclaration {
    /// `POST /loss/mse`: `F.mse_loss` with an optional element weight (`MeanSquaredError`).
    static let meanSquaredError = LossDeclaration(
        name: "mse", summary: "Mean squared error (F.mse_loss)", reference: "torch.nn.functional.mse_loss",
        members: [
            .predictions("Any shape."),
            .targets("Exactly the predictions' shape (no broadcasting)."),
            .reduction,
            .weight("Element weights of exactly the predictions' shape; the mean becomes `sum(w * e) / sum(w)`."),
        ],
        documentation: LossDocumentation(
            typeName: "MeanSquaredError", title: "Mean squared error",
            description: """
                `predictions` and `targets` have the same shape, any rank (images
                `(N, C, H, W)` included). Unlike PyTorch, differing shapes are a 422,
                never a silent broadcast. With a `weight` of exactly the predictions'
                shape the mean becomes `sum(w * e) / sum(w)`, as in current PyTorch,
                and `weight_sum` is `sum(w)`.
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
                LossExample("overflow", "A squared error past the largest double (PyTorch's inf is written as null)", [
                    "predictions": "[1.0e+200, 0.0, -1.0e+200]", "targets": "[0.0, 0.0, 0.0]", "reduction": #""none""#]),
            ])
    ) { m in
        MeanSquaredError(weight: m.tensor("weight"), reduction: m.reduction)
    }
}
