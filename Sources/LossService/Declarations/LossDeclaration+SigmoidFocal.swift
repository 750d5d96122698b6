import Losses

extension LossDeclaration {
    /// `POST /loss/focal`: `torchvision.ops.sigmoid_focal_loss` (`SigmoidFocalLoss`), `mean` by default.
    static let sigmoidFocal = LossDeclaration(
        name: "focal", summary: "Sigmoid focal loss (torchvision.ops.sigmoid_focal_loss)",
        reference: "torchvision.ops.sigmoid_focal_loss",
        members: [
            .predictions("Logits, any shape (a detector's class scores, a segmentation map)."),
            .targets("Exactly the predictions' shape: binary labels, or soft ones in `[0, 1]`."),
            MemberDeclaration("reduction", .choice(MemberDeclaration.reductions, default: "mean"), """
                As in PyTorch, but the default is `mean` where torchvision's is
                `none`. `null` is the same as absent (`mean`).
                """),
            MemberDeclaration("alpha", .number(default: 0.25, range: NumberRange(lower: nil, lowerInclusive: true, upper: 1)), """
                The weight of the positives, `1 - alpha` that of the negatives
                (torchvision's 0.25); at most 1. A negative value turns the
                weighting off, as in torchvision.
                """),
            MemberDeclaration("gamma", .number(default: 2, range: .atLeast(0)),
                              "The focusing exponent (torchvision's 2); 0 with a negative `alpha` is BCE with logits."),
        ],
        documentation: LossDocumentation(
            typeName: "SigmoidFocal", title: "Sigmoid focal loss",
            description: """
                `predictions` are logits and `targets` labels in `[0, 1]` of the same
                shape, any rank (differing shapes are a 422). With `p = σ(x)` and
                `p_t = p·t + (1 - p)(1 - t)` each element scores
                `alpha_t·(1 - p_t)^gamma·BCE_with_logits(x, t)`, where
                `alpha_t = alpha·t + (1 - alpha)(1 - t)` (no factor for a negative
                `alpha`). Unlike torchvision, whose default reduction is `none`, the
                default is `mean`, as for every other loss here.

                `1 - p_t` is computed as `(1 - t)·σ(x) + t·σ(-x)` and the cross
                entropy as BCE's cancellation-free softplus form, so confident logits
                keep their tiny losses (torchvision's `1 - p_t` loses them: for
                `x = 30`, `t = 1` it is off by 1 %).
                """,
            examples: [
                LossExample("mean", "Logits of three anchors against binary labels", [
                    "predictions": "[2.0, -1.0, 0.5]", "targets": "[1, 0, 0]"]),
                LossExample("alphaGamma", "Another alpha and gamma, summed", [
                    "predictions": "[[2.0, -1.0], [0.5, -3.0]]", "targets": "[[1, 0], [0, 1]]", "alpha": "0.5",
                    "gamma": "1.0", "reduction": #""sum""#]),
                LossExample("perElement", #"reduction "none", as torchvision's default"#, [
                    "predictions": "[2.0, -1.0, 0.5]", "targets": "[1, 0, 0]", "reduction": #""none""#]),
            ])
    ) { m throws(LossError) in
        try SigmoidFocalLoss(alpha: m.number("alpha"), gamma: m.number("gamma"), reduction: m.reduction)(
            predictions: m.predictions, targets: m.targets)
    }
}
