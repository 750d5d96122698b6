import Losses

extension LossDeclaration {
    /// `POST /score/ssim`: TorchMetrics' `StructuralSimilarityIndexMeasure` (`StructuralSimilarity`).
    static let structuralSimilarity = LossDeclaration(
        name: "ssim", kind: .score, summary: "Structural similarity (TorchMetrics StructuralSimilarityIndexMeasure)",
        reference: "torchmetrics.image.StructuralSimilarityIndexMeasure",
        members: [
            .predictions("Images of shape `(N, C, H, W)` or volumes of shape `(N, C, D, H, W)`."),
            .targets("Exactly the predictions' shape."),
            MemberDeclaration("reduction", .choice(MemberDeclaration.scoreReductions, default: "mean"), """
                How the images' scores combine: TorchMetrics' `elementwise_mean` (also
                written `mean`), `sum`, or `none` for one score per image. `null` is
                the same as absent (`mean`).
                """),
            MemberDeclaration("data_range", .scalar(required: false, range: .greaterThan(0), interval: true), """
                The range of the signal: a number > 0 (`1.0` for images in `[0, 1]`),
                or `[min, max]`, which clamps predictions and targets into it and
                uses `max - min`, as TorchMetrics. Absent: `max(predictions' max -
                min, targets' max - min)` over the request, as TorchMetrics.
                """),
            MemberDeclaration("gaussian_kernel", .bool(default: true), """
                `true`: a Gaussian window of `sigma` (TorchMetrics' default); `false`:
                a uniform window of `kernel_size`.
                """),
            MemberDeclaration("sigma", .number(default: 1.5, range: .greaterThan(0)),
                              "The Gaussian window's standard deviation; the window is `2·⌊3.5·sigma + 0.5⌋ + 1` pixels wide (11 for 1.5)."),
            MemberDeclaration("kernel_size", .integer(default: 11), """
                The uniform window's width, an odd number ≥ 1 (checked with the
                Gaussian window too, as TorchMetrics; for volumes TorchMetrics pads W
                by `(kernel_size - 1)/2` whichever the window, and so does lossd).
                """),
            MemberDeclaration("k1", .number(default: 0.01, range: .atLeast(0)), "`c1 = (k1·R)²`."),
            MemberDeclaration("k2", .number(default: 0.03, range: .atLeast(0)), "`c2 = (k2·R)²`."),
        ],
        documentation: LossDocumentation(
            typeName: "StructuralSimilarity", title: "Structural similarity",
            description: """
                TorchMetrics' `StructuralSimilarityIndexMeasure` in float64, for
                images `(N, C, H, W)` and volumes `(N, C, D, H, W)`, with its Gaussian
                window (or a uniform one, `gaussian_kernel: false`). Each image is
                padded by reflection (the edge pixel not repeated) by half the window
                on every side; at each pixel the window gives local means μ,
                variances σ² (clamped at 0) and covariance σpt, which score
                `(2·μp·μt + c1)(2·σpt + c2) / ((μp² + μt² + c1)(σp² + σt² + c2))`
                with `c1 = (k1·R)²`, `c2 = (k2·R)²`. An image's SSIM is the mean over
                its channels and pixels; `loss` holds the images' mean (higher is
                better), their sum, or with `none` one score per image (shape
                `(N)`). `weight_sum` is N, `count` the number of elements. A
                `[min, max]` data_range clamps both inputs first.

                H and W (and D) must exceed half the window (at least 6 for the
                default sigma), as reflection padding needs.
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
                LossExample("uniformVolume", "A 1×4×4×4 volume with a uniform 3-pixel window", [
                    "predictions": #"{"shape": [1, 1, 4, 4, 4], "data": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0.4, 0.6, 0.8, 0.1, 0.3, 0.5, 0.7, 0.9, 0.7, 0.5, 0.3, 0.2, 0.2, 0.4, 0.4, 0.5, 0.5, 0.6, 0.6, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.5, 0.5, 0.6, 0.4, 0.7, 0.3, 0.8, 0.2, 0.9, 0.1, 0.5, 0.5, 0.3, 0.3, 0.7, 0.7, 0.2, 0.8, 0.4, 0.6]}"#,
                    "targets": #"{"shape": [1, 1, 4, 4, 4], "data": [0.1, 0.2, 0.3, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9, 0.8, 0.6, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0.4, 0.6, 0.8, 0.2, 0.3, 0.5, 0.7, 0.9, 0.7, 0.5, 0.3, 0.2, 0.3, 0.4, 0.4, 0.5, 0.5, 0.6, 0.6, 0.1, 0.8, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.5, 0.5, 0.6, 0.4, 0.7, 0.3, 0.8, 0.2, 0.8, 0.1, 0.5, 0.5, 0.3, 0.3, 0.7, 0.7, 0.2, 0.8, 0.4, 0.7]}"#,
                    "gaussian_kernel": "false", "kernel_size": "3", "data_range": "[0.0, 1.0]"]),
            ])
    ) { m throws(LossError) in
        let score = StructuralSimilarity(
            gaussianKernel: m.bool("gaussian_kernel"), sigma: m.number("sigma"), kernelSize: m.integer("kernel_size"),
            k1: m.number("k1"), k2: m.number("k2"), dataRange: m.dataRange("data_range"), reduction: m.scoreReduction)
        return try score(predictions: m.predictions, targets: m.targets)
    }
}
