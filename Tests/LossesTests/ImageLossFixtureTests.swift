import Losses
import Testing
import TestSupport

/// Focal, Dice, PSNR and SSIM against the float64 references of
/// `scripts/make_image_losses.py` (written from torchvision's, MONAI's and
/// TorchMetrics' documented formulas, and cross-checked against them).
@Suite struct ImageLossFixtureTests {
    @Test func fixtureFileLoadsWithCasesOfEveryImageLoss() {
        let cases = ImageLossCase.all
        #expect(cases.count >= 80)
        for loss in ["focal", "dice", "psnr", "ssim"] {
            #expect(cases.filter { $0.loss == loss }.count >= 5, "too few \(loss) cases")
        }
    }

    @Test(arguments: ImageLossCase.all)
    func matchesTheReferenceWithin1e12Relative(_ golden: ImageLossCase) throws {
        let result = try golden.run()
        #expect(result.reduction == golden.reduction)
        #expect(result.loss.shape == golden.expected.loss.shape)
        #expect(result.count == golden.expected.count)
        #expect(closeEnough(result.weightSum, golden.expected.weightSum), "weight_sum")
        guard result.loss.shape == golden.expected.loss.shape else { return }
        for (index, (actual, expected)) in zip(result.loss.data, golden.expected.loss.data).enumerated() {
            #expect(closeEnough(actual, expected), "element \(index): \(actual) vs the reference's \(expected)")
        }
    }

    @Test func focalKeepsTheExactLossOfConfidentLogitsWithinFourUlps() throws {
        // The mpmath values of focal_confident_logits_none, where torchvision's 1 - p_t cancels (1 % off at x = 30).
        let cases = ImageLossCase.all.filter { $0.loss == "focal" && $0.referenceOnly }
        #expect(!cases.isEmpty)
        for golden in cases {
            let result = try golden.run()
            for (index, (actual, exact)) in zip(result.loss.data, golden.expected.loss.data).enumerated() {
                #expect(ulps(actual, from: exact) <= 4, "\(golden.name) element \(index): \(actual) vs exact \(exact)")
            }
        }
    }
}
