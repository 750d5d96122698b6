import Losses

extension LossDeclaration {
    /// `POST /score/psnr`: TorchMetrics' `PeakSignalNoiseRatio` (`PeakSignalNoiseRatio`).
    static let peakSignalNoiseRatio = LossDeclaration(
        name: "psnr", kind: .score, summary: "Peak signal-to-noise ratio in dB (TorchMetrics PeakSignalNoiseRatio)",
        reference: "torchmetrics.image.PeakSignalNoiseRatio",
        members: [
            .predictions("Any shape (images `(N, C, H, W)`)."),
            .targets("Exactly the predictions' shape."),
            MemberDeclaration("data_range", .tensor(required: true, role: .values), """
                One number > 0, the range of the signal: `1.0` for images in
                `[0, 1]`, `255` for bytes. Required, as in TorchMetrics 1.x.
                """),
            MemberDeclaration("dim", .tensor(required: false, role: .values), """
                A dimension or an array of dimensions (negative ones count from the
                end) each score averages over: `[1, 2, 3]` scores each image of
                `(N, C, H, W)`. Absent: one score over every element.
                """),
            MemberDeclaration("reduction", .choice(MemberDeclaration.reductions, default: "mean"), """
                How the scores of `dim` combine (TorchMetrics' `elementwise_mean`
                is `mean`). Without `dim` there is one score, whatever the
                reduction. `null` is the same as absent (`mean`).
                """),
        ],
        documentation: LossDocumentation(
            typeName: "PeakSignalNoiseRatio", title: "Peak signal-to-noise ratio",
            description: """
                TorchMetrics' `PeakSignalNoiseRatio` (base 10) in float64:
                `10·log10(R² / MSE)` with `R = data_range`, computed as TorchMetrics
                does, `(2·ln R - ln(SSE / n))·10 / ln 10`, the squared errors summed
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
            ])
    ) { m throws(LossError) in
        guard let dataRange = try m.scalar("data_range") else { preconditionFailure("data_range is a required member") }
        let score = PeakSignalNoiseRatio(dataRange: dataRange, dimensions: try m.dimensions("dim"), reduction: m.reduction)
        return try score(predictions: m.predictions, targets: m.targets)
    }
}
