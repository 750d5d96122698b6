import Losses

extension LossDeclaration {
    /// `POST /loss/ce`: `F.cross_entropy` (`CrossEntropy`).
    static let crossEntropy = LossDeclaration(
        name: "ce", summary: "Cross entropy (F.cross_entropy)", reference: "torch.nn.functional.cross_entropy",
        members: [
            .predictions("Logits (or probabilities with `from_logits` false) of shape `(C)`, `(N, C)` or `(N, C, d1, ..., dk)`."),
            .targets("Class indices of shape `()`, `(N)` or `(N, d1, ..., dk)`, or class probabilities of the predictions' shape."),
            .reduction,
            MemberDeclaration("from_logits", .bool(default: true), """
                `true`: predictions are unnormalised logits (PyTorch).
                `false`: predictions are probabilities in `[0, 1]` (422 otherwise),
                not renormalised; `log_softmax(x)` becomes `max(log p, -100)`.
                """),
            .weight("Per-class weights, shape `(C)`."),
            MemberDeclaration("ignore_index", .integer(default: -100), """
                A target index that takes no part (index targets only; loss 0 in
                `none`). With probability targets a negative value (the default)
                has no effect and a value ≥ 0 is a 422, as in PyTorch. Integral
                values only (`2.0` is `2`). The value is read as a double, and
                beyond ±2^53 a double names no single integer, so such values are
                a 422.
                """),
            MemberDeclaration("label_smoothing", .number(default: 0, range: .closed(0, 1)), "As in PyTorch."),
        ],
        documentation: LossDocumentation(
            typeName: "CrossEntropy", title: "Cross entropy",
            description: """
                `predictions` has shape `(C)`, `(N, C)` or `(N, C, d1, ..., dk)` (for
                example a segmentation map `(N, C, H, W)`). `targets` are either class
                indices of shape `()`, `(N)` or `(N, d1, ..., dk)` (integral values in
                `[0, C)` or equal to `ignore_index`; `2`, `2.0` and `2e0` are the same
                index, `1.5` is a 422), or class probabilities in `[0, 1]` of the same
                shape as `predictions`. The shapes decide which: the same shape means
                probabilities, the predictions' shape without the class dimension
                means indices, anything else is a 422.

                The weighted mean divides, for index targets, by the sum of the
                weights of the non-ignored targets and, for probability targets, by
                the number of positions `N·d1·…·dk`, exactly as PyTorch.
                """,
            examples: [
                LossExample("indices", "Logits (N, C) = (2, 3) with class-index targets", [
                    "predictions": "[[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]]", "targets": "[0, 2]"]),
                LossExample("probabilities", "Class-probability targets (same shape as predictions)", [
                    "predictions": "[[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]]",
                    "targets": "[[0.9, 0.05, 0.05], [0.0, 0.2, 0.8]]"]),
                LossExample("weightedIgnoredSmoothed", "Class weights, an ignored target and label smoothing",
                            resultSummary: "The third target is ignored; the mean divides by weight[0] + weight[2]", [
                    "predictions": "[[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [0.3, 0.3, 0.3]]", "targets": "[0, 2, -100]",
                    "weight": "[1.0, 2.0, 0.5]", "ignore_index": "-100", "label_smoothing": "0.1"]),
                LossExample("segmentation", "A (N, C, H, W) = (1, 2, 2, 2) map as a flat tensor object", [
                    "predictions": #"{"shape": [1, 2, 2, 2], "data": [0.5, -0.5, 1.0, 0.0, -1.0, 2.0, 0.0, 0.5], "datatype": "FP64"}"#,
                    "targets": #"{"shape": [1, 2, 2], "data": [0, 1, 1, 0], "datatype": "INT64"}"#]),
                LossExample("perSample", #"reduction "none" returns one loss per sample"#, [
                    "predictions": "[[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]]", "targets": "[0, 2]", "reduction": #""none""#]),
                LossExample("allIgnored", "Every target ignored (PyTorch's NaN is written as null)", [
                    "predictions": "[[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]]", "targets": "[-100, -100]"]),
            ])
    ) { m throws(LossError) in
        let loss = CrossEntropy(weight: m.tensor("weight"), ignoreIndex: m.integer("ignore_index"),
                                labelSmoothing: m.number("label_smoothing"), fromLogits: m.bool("from_logits"),
                                reduction: m.reduction)
        return try loss(predictions: m.predictions, targets: m.targets)
    }
}
