import Losses

extension LossDeclaration {
    /// `POST /score/psnr`: TorchMetrics' `PeakSignalNoiseRatio` (`PeakSignalNoiseRatio`).
    static let peakSignalNoiseRatio = LossDeclaration(
        name: "psnr", kind: .score, summary: "Peak signal-to-noise ratio in dB (TorchMetrics PeakSignalNoiseRatio)",
        reference: "torchmetrics.image.PeakSignalNoiseRatio",
        members: [
            .predictions("Any shape (images `(N, C, H, W)`)."),
            .targets("Exactly the predictions' shape."),
            MemberDeclaration("data_range", .scalar(required: true, range: .greaterThan(0), interval: true), """
                The range of the signal: a number > 0 (`1.0` for images in `[0, 1]`,
                `255` for bytes), or `[min, max]`, which clamps predictions and
                targets into it and scores with `max - min`, as TorchMetrics.
                Required, as in TorchMetrics 1.x.
                """),
            MemberDeclaration("base", .number(default: 10, range: .greaterThan(0)), """
                The logarithm's base (not 1): 10 gives decibels, as TorchMetrics.
                """),
            MemberDeclaration("dim", .integers(required: false), """
                A dimension or an array of dimensions (negative ones count from the
                end) each score averages over: `[1, 2, 3]` scores each image of
                `(N, C, H, W)`. Absent: one score over every element.
                """),
            MemberDeclaration("reduction", .choice(MemberDeclaration.scoreReductions, default: "mean"), """
                How the scores of `dim` combine: TorchMetrics' `elementwise_mean`
                (also written `mean`), `sum` or `none` (the scores, in the shape of
                the dimensions not in `dim`). Without `dim` there is one score,
                whatever the reduction. `null` is the same as absent (`mean`).
                """),
        ],
        documentation: LossDocumentation(
            typeName: "PeakSignalNoiseRatio", title: "Peak signal-to-noise ratio",
            description: """
                TorchMetrics' `PeakSignalNoiseRatio` in float64:
                `10·log_b(R² / MSE)` with `R = data_range` (or `max - min` of a
                `[min, max]` data_range, which clamps both inputs first) and
                `b = base` (10: decibels), computed as TorchMetrics does,
                `(2·ln R - ln(SSE / n))·10 / ln b`, the squared errors summed
                exactly. `loss` holds the score (higher is better); a perfect
                prediction scores +∞, written as `null` with `nonfinite: inf`.

                Without `dim`, one score over every element (`weight_sum` 1). With
                `dim`, one score per index of the other dimensions, combined by
                `reduction` (`weight_sum` is the number of scores, so per-image means
                of many requests merge exactly). `count` is the number of elements.
                """,
            examples: [
                LossExample("whole", "One score over a batch of 2×2 images in [0, 1]", [
                    "predictions": "[[[[0.1, 0.5], [0.7, 0.2]]], [[[0.9, 0.4], [0.3, 0.3]]]]",
                    "targets": "[[[[0.2, 0.4], [0.6, 0.2]]], [[[0.8, 0.4], [0.3, 0.5]]]]", "data_range": "1.0"]),
                LossExample("perImage", "One score per image, averaged", [
                    "predictions": "[[[[0.1, 0.5], [0.7, 0.2]]], [[[0.9, 0.4], [0.3, 0.3]]]]",
                    "targets": "[[[[0.2, 0.4], [0.6, 0.2]]], [[[0.8, 0.4], [0.3, 0.5]]]]", "data_range": "1.0",
                    "dim": "[1, 2, 3]"]),
                LossExample("perImageNone", #"Per-image scores of bytes, reduction "none""#, [
                    "predictions": "[[[[10, 50], [70, 20]]], [[[90, 40], [30, 30]]]]",
                    "targets": "[[[[12, 48], [70, 25]]], [[[90, 40], [30, 30]]]]", "data_range": "255",
                    "dim": "[1, 2, 3]", "reduction": #""none""#]),
                LossExample("clampedRange", "Predictions overshooting [0, 1], clamped by a [min, max] data_range", [
                    "predictions": "[[[[-0.2, 0.5], [1.3, 0.2]]]]",
                    "targets": "[[[[0.1, 0.4], [0.9, 0.2]]]]", "data_range": "[0.0, 1.0]"]),
            ])
    ) { m throws(LossError) in
        guard let dataRange = m.dataRange("data_range") else { preconditionFailure("data_range is a required member") }
        let score = PeakSignalNoiseRatio(
            dataRange: dataRange, base: m.number("base"), dimensions: m.integers("dim"), reduction: m.scoreReduction)
        return try score(predictions: m.predictions, targets: m.targets)
    }
}
