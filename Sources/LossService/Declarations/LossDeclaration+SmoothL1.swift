import Losses

extension LossDeclaration {
    /// `POST /loss/smooth_l1`: `F.smooth_l1_loss` with an optional element weight (`SmoothL1Loss`).
    static let smoothL1 = LossDeclaration(
        name: "smooth_l1", summary: "Smooth L1 (F.smooth_l1_loss)", reference: "torch.nn.functional.smooth_l1_loss",
        members: [
            .predictions("Any shape."),
            .targets("Exactly the predictions' shape (no broadcasting)."),
            .reduction,
            MemberDeclaration("beta", .number(default: 1, range: .atLeast(0)),
                              "Where the quadratic part meets the linear one; `0` is the L1 loss."),
            .weight("Element weights of exactly the predictions' shape (a lossd extension); the mean becomes `sum(w·e) / sum(w)`."),
        ],
        documentation: LossDocumentation(
            typeName: "SmoothL1", title: "Smooth L1",
            description: """
                `predictions` and `targets` have the same shape, any rank. With
                `z = |x - y|` each position scores `0.5·z²/beta` where `z < beta`,
                else `z - 0.5·beta`; `beta: 0` is the L1 loss, as PyTorch
                dispatches it. Differing shapes are a 422, never a silent broadcast.

                PyTorch's `smooth_l1_loss` has no weight; lossd's optional `weight`
                of exactly the predictions' shape multiplies each position's loss
                and makes the mean `sum(w·e) / sum(w)` (`weight_sum` is `sum(w)`),
                as for L1 and MSE.
                """,
            examples: [
                LossExample("mean", "Differences on both sides of beta = 1", [
                    "predictions": "[0.5, 2.0, -3.0]", "targets": "[0.0, 0.0, 0.0]"]),
                LossExample("beta", "A smaller beta", [
                    "predictions": "[0.5, 2.0, -3.0]", "targets": "[0.0, 0.0, 0.0]", "beta": "0.25"]),
                LossExample("weightedPerElement", #"Element weights with reduction "none""#, [
                    "predictions": "[0.5, 2.0, -3.0]", "targets": "[0.0, 0.0, 0.0]", "weight": "[1.0, 0.5, 2.0]",
                    "reduction": #""none""#]),
            ])
    ) { m in
        SmoothL1Loss(beta: m.number("beta"), weight: m.tensor("weight"), reduction: m.reduction)
    }
}
