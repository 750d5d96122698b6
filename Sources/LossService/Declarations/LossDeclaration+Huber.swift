import Losses

extension LossDeclaration {
    /// `POST /loss/huber`: `F.huber_loss` with an optional element weight (`HuberLoss`).
    static let huber = LossDeclaration(
        name: "huber", summary: "Huber loss (F.huber_loss)", reference: "torch.nn.functional.huber_loss",
        members: [
            .predictions("Any shape."),
            .targets("Exactly the predictions' shape (no broadcasting)."),
            .reduction,
            MemberDeclaration("delta", .number(default: 1, range: .greaterThan(0)),
                              "Where the quadratic part meets the linear one; greater than 0."),
            .weight("Element weights of exactly the predictions' shape; the mean becomes `sum(w·e) / sum(w)`."),
        ],
        documentation: LossDocumentation(
            typeName: "Huber", title: "Huber loss",
            description: """
                `predictions` and `targets` have the same shape, any rank. With
                `z = |x - y|` each position scores `0.5·z²` where `z < delta`, else
                `delta·(z - 0.5·delta)`. Differing shapes are a 422, never a silent
                broadcast. With a `weight` of exactly the predictions' shape the mean
                becomes `sum(w·e) / sum(w)`, as in current PyTorch, and `weight_sum`
                is `sum(w)`.
                """,
            examples: [
                LossExample("mean", "Differences on both sides of delta = 1", [
                    "predictions": "[0.5, 2.0, -3.0]", "targets": "[0.0, 0.0, 0.0]"]),
                LossExample("delta", "A larger delta", [
                    "predictions": "[0.5, 2.0, -3.0]", "targets": "[0.0, 0.0, 0.0]", "delta": "2.5"]),
                LossExample("weightedPerElement", #"Element weights with reduction "none""#, [
                    "predictions": "[0.5, 2.0, -3.0]", "targets": "[0.0, 0.0, 0.0]", "weight": "[1.0, 0.5, 2.0]",
                    "reduction": #""none""#]),
            ])
    ) { m in
        HuberLoss(delta: m.number("delta"), weight: m.tensor("weight"), reduction: m.reduction)
    }
}
