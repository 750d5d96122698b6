import Losses

extension LossDeclaration {
    /// `POST /score/ssim`: TorchMetrics' `StructuralSimilarityIndexMeasure` (`StructuralSimilarity`).
    static let structuralSimilarity = LossDeclaration(
        name: "ssim", kind: .score, summary: "Structural similarity (TorchMetrics StructuralSimilarityIndexMeasure)",
        reference: "torchmetrics.image.StructuralSimilarityIndexMeasure",
        members: [
            .predictions("Images of shape `(N, C, H, W)`."),
            .targets("Exactly the predictions' shape."),
            MemberDeclaration("reduction", .choice(MemberDeclaration.reductions, default: "mean"), """
                How the images' scores combine (TorchMetrics' `elementwise_mean` is
                `mean`); `none` gives one score per image. `null` is the same as
                absent (`mean`).
                """),
            MemberDeclaration("data_range", .tensor(required: false, role: .values), """
                One number > 0, the range of the signal (`1.0` for images in
                `[0, 1]`). Absent: `max(predictions' max - min, targets' max - min)`
                over the request, as TorchMetrics.
                """),
            MemberDeclaration("sigma", .number(default: 1.5, range: .greaterThan(0)),
                              "The Gaussian window's standard deviation; the window is `2·⌊3.5·sigma + 0.5⌋ + 1` pixels wide (11 for 1.5)."),
            MemberDeclaration("k1", .number(default: 0.01, range: .atLeast(0)), "`c1 = (k1·R)²`."),
            MemberDeclaration("k2", .number(default: 0.03, range: .atLeast(0)), "`c2 = (k2·R)²`."),
        ],
        documentation: LossDocumentation(
            typeName: "StructuralSimilarity", title: "Structural similarity",
            description: """
                TorchMetrics' `StructuralSimilarityIndexMeasure` with its Gaussian
                window, in float64. Each image is padded by reflection (the edge
                pixel not repeated) by half the window on every side; at each of the
                H × W pixels the window gives local means μ, variances σ² (clamped at
                0) and covariance σpt, which score
                `(2·μp·μt + c1)(2·σpt + c2) / ((μp² + μt² + c1)(σp² + σt² + c2))`
                with `c1 = (k1·R)²`, `c2 = (k2·R)²`. An image's SSIM is the mean over
                its channels and pixels; `loss` holds the images' mean (higher is
                better), their sum, or with `none` one score per image (shape
                `(N)`). `weight_sum` is N, `count` the number of elements.

                H and W must exceed half the window (at least 6 for the default
                sigma), as reflection padding needs.
                """,
            examples: [
                LossExample("images", "Two 1×6×6 images in [0, 1], one score per image", [
                    "predictions": #"{"shape": [2, 1, 6, 6], "data": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.7, 0.3, 0.6, 0.4, 0.5, 0.5, 0.3, 0.7, 0.4, 0.6, 0.5, 0.5]}"#,
                    "targets": #"{"shape": [2, 1, 6, 6], "data": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.6, 0.7, 0.8, 0.9, 1.0, 0.9, 0.8, 0.2, 0.8, 0.2, 0.6, 0.3, 0.2, 0.9, 0.2, 0.7, 0.3, 0.7, 0.8, 0.2, 0.6, 0.3, 0.6, 0.5, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.7, 0.3, 0.6, 0.4, 0.5, 0.5, 0.3, 0.6, 0.4, 0.6, 0.5, 0.4]}"#,
                    "data_range": "1.0", "reduction": #""none""#]),
                LossExample("smallWindow", "A 3×3 image with sigma 0.5 (a 5-pixel window)", [
                    "predictions": "[[[[0.1, 0.5, 0.9], [0.4, 0.6, 0.2], [0.8, 0.3, 0.7]]]]",
                    "targets": "[[[[0.2, 0.5, 0.8], [0.4, 0.5, 0.3], [0.7, 0.3, 0.7]]]]", "sigma": "0.5",
                    "data_range": "1.0"]),
            ])
    ) { m throws(LossError) in
        let score = StructuralSimilarity(
            sigma: m.number("sigma"), k1: m.number("k1"), k2: m.number("k2"), dataRange: try m.scalar("data_range"),
            reduction: m.reduction)
        return try score(predictions: m.predictions, targets: m.targets)
    }
}
