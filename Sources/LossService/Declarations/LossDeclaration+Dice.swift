import Losses

extension LossDeclaration {
    /// `POST /loss/dice`: soft Dice with MONAI `DiceLoss` semantics (`DiceLoss`).
    static let dice = LossDeclaration(
        name: "dice", summary: "Soft Dice loss (MONAI DiceLoss)", reference: "monai.losses.DiceLoss",
        members: [
            .predictions("Shape `(N, C, d1, ..., dk)`, k ≥ 1 (a segmentation map `(N, C, H, W)`): probabilities, or logits with `sigmoid` or `softmax`."),
            .targets("A mask, one-hot or soft labels in `[0, 1]` of the predictions' shape, or class indices of shape `(N, d1, ..., dk)` or `(N, 1, d1, ..., dk)` (one-hot encoded, as MONAI's `to_onehot_y`)."),
            .reduction,
            MemberDeclaration("sigmoid", .bool(default: false), "`true`: σ of each prediction first (multi-label)."),
            MemberDeclaration("softmax", .bool(default: false), "`true`: a softmax over C first (ignored for one channel, as MONAI); not with `sigmoid`."),
            MemberDeclaration("include_background", .bool(default: true), "`false`: channel 0 takes no part (ignored for one channel, as MONAI)."),
            MemberDeclaration("squared_pred", .bool(default: false), "`true`: the denominator sums `p²` and `t²`."),
            MemberDeclaration("jaccard", .bool(default: false), "`true`: the Jaccard (IoU) form, denominator `2·(D - I)`."),
            MemberDeclaration("smooth_nr", .number(default: 1e-5, range: .atLeast(0)), "Added to the numerator `2·I`."),
            MemberDeclaration("smooth_dr", .number(default: 1e-5, range: .atLeast(0)), "Added to the denominator."),
            MemberDeclaration("batch", .bool(default: false), "`true`: sum over the batch too, one term per channel."),
            .weight("Class weights ≥ 0: one number for every class, or shape `(C')`, the channels scored (without the background when `include_background` is false); unused for one channel."),
        ],
        documentation: LossDocumentation(
            typeName: "Dice", title: "Soft Dice loss",
            description: """
                MONAI's `DiceLoss`, in float64. After the optional `sigmoid` or
                `softmax` (over C) and, with `include_background: false`, dropping
                channel 0, each (sample, channel) — each channel over the whole batch
                with `batch: true` — scores
                `1 - (2·I + smooth_nr) / (D + smooth_dr)` with `I = Σ p·t` and
                `D = Σ p + Σ t` over the spatial positions (`Σ p² + Σ t²` with
                `squared_pred`; `2·(D - I)` with `jaccard`), times its class
                `weight`. `mean` is the plain mean of those terms (the weights do
                not divide), `weight_sum` their number and `count` the prediction
                elements scored; `none` returns MONAI's broadcastable shape
                `(N, C', 1, ..., 1)` (`(C', 1, ..., 1)` with `batch`).

                Targets of the predictions' shape are a mask (or one-hot or soft
                labels, in `[0, 1]`); with two or more channels, targets of shape
                `(N, d1, ..., dk)` or `(N, 1, d1, ..., dk)` are class indices
                (integers in `[0, C)`), one-hot encoded first. Anything else is a 422.
                """,
            examples: [
                LossExample("softmaxIndices", "Logits (N, C, H, W) = (1, 3, 2, 2) against class indices", [
                    "predictions": "[[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 2.0], [0.0, 1.0]], [[0.3, 0.3], [1.5, -2.0]]]]",
                    "targets": "[[[0, 1], [2, 1]]]", "softmax": "true"]),
                LossExample("binaryMask", "A one-channel probability map against a mask, per sample", [
                    "predictions": "[[[[0.9, 0.2], [0.8, 0.1]]], [[[0.3, 0.6], [0.4, 0.7]]]]",
                    "targets": "[[[[1, 0], [1, 0]]], [[[0, 1], [0, 1]]]]", "reduction": #""none""#]),
                LossExample("weightedJaccard", "Softmax, no background, class weights, the Jaccard form", [
                    "predictions": "[[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 2.0], [0.0, 1.0]], [[0.3, 0.3], [1.5, -2.0]]]]",
                    "targets": "[[[0, 1], [2, 1]]]", "softmax": "true", "include_background": "false",
                    "weight": "[1.0, 2.0]", "jaccard": "true"]),
            ])
    ) { m throws(LossError) in
        let sigmoid = m.bool("sigmoid"), softmax = m.bool("softmax")
        guard !(sigmoid && softmax) else { throw LossError("sigmoid and softmax cannot both be true") }
        let loss = DiceLoss(
            activation: sigmoid ? .sigmoid : (softmax ? .softmax : .none), includeBackground: m.bool("include_background"),
            squaredPrediction: m.bool("squared_pred"), jaccard: m.bool("jaccard"), smoothNumerator: m.number("smooth_nr"),
            smoothDenominator: m.number("smooth_dr"), batch: m.bool("batch"), weight: m.tensor("weight"),
            reduction: m.reduction)
        return try loss(predictions: m.predictions, targets: m.targets)
    }
}
