import Losses

extension LossDeclaration {
    /// `POST /loss/bce`: `F.binary_cross_entropy` or, with `from_logits`,
    /// `F.binary_cross_entropy_with_logits` (`BinaryCrossEntropy`).
    static let binaryCrossEntropy = LossDeclaration(
        name: "bce", summary: "Binary cross entropy (F.binary_cross_entropy[_with_logits])",
        reference: "torch.nn.functional.binary_cross_entropy",
        members: [
            .predictions("Probabilities in `[0, 1]`, or logits with `from_logits` true; any shape."),
            .targets("The predictions' shape, values in `[0, 1]` (soft labels allowed)."),
            .reduction,
            MemberDeclaration("from_logits", .bool(default: false),
                              "`false`: `F.binary_cross_entropy`; `true`: `F.binary_cross_entropy_with_logits`."),
            .weight("Broadcastable (NumPy rules) to the predictions' shape, without growing it."),
            MemberDeclaration("pos_weight", .tensor(required: false, role: .values),
                              "Weight of the positive class, broadcastable to the predictions' shape (usually `(C)`); only with `from_logits` true."),
        ],
        documentation: LossDocumentation(
            typeName: "BinaryCrossEntropy", title: "Binary cross entropy",
            description: """
                `predictions` and `targets` have the same shape, any rank. Targets
                lie in `[0, 1]` (soft labels allowed) in both modes, else 422.

                With `from_logits: false` (the default) this is
                `F.binary_cross_entropy`: predictions must lie in `[0, 1]` and each
                log is clamped below at -100. With `from_logits: true` it is
                `F.binary_cross_entropy_with_logits`, computed as
                `(1 - t)·softplus(x) + pos_weight·t·softplus(-x)`, where nothing
                cancels: `x = -700`, `t = 0` gives e^-700, not torch's 0.

                `weight` and `pos_weight` broadcast to the predictions' shape by
                NumPy's rules; the broadcast result must be exactly the predictions'
                shape (a weight never grows the shape). `pos_weight` (usually of
                shape `(C)`, the last dimension) is allowed only with
                `from_logits: true`. `weight_sum` is always the number of positions:
                PyTorch's mean does not divide by the weights.
                """,
            examples: [
                LossExample("probabilities", "Probabilities against hard labels", [
                    "predictions": "[0.8, 0.1, 0.6]", "targets": "[1, 0, 1]"]),
                LossExample("logitsWithPosWeight", "Logits of a 2-label classifier with a per-label pos_weight", [
                    "predictions": "[[1.5, -0.3], [0.2, -2.0]]", "targets": "[[1, 0], [1, 0]]", "from_logits": "true",
                    "pos_weight": "[2.0, 1.0]"]),
                LossExample("perElement", #"reduction "none""#, [
                    "predictions": "[0.8, 0.1, 0.6]", "targets": "[1, 0, 1]", "reduction": #""none""#]),
            ])
    ) { m throws(LossError) in
        let loss = BinaryCrossEntropy(weight: m.tensor("weight"), posWeight: m.tensor("pos_weight"),
                                      fromLogits: m.bool("from_logits"), reduction: m.reduction)
        return try loss(predictions: m.predictions, targets: m.targets)
    }
}
