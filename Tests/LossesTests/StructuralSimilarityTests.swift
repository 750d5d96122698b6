import Losses
import Testing
import TestSupport

/// SSIM: TorchMetrics' rules the fixture cannot show, and the errors.
@Suite struct StructuralSimilarityTests {
    static func image(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SplitMix64(seed: seed)
        return tensor(shape, (0..<shape.reduce(1, *)).map { _ in Double.random(in: 0..<1, using: &generator) })
    }

    @Test func anImageIsPerfectlySimilarToItself() throws {
        let x = Self.image([2, 3, 8, 9], seed: 1)
        let result = try StructuralSimilarity(reduction: .none)(predictions: x, targets: x)
        #expect(result.loss.shape == [2])
        for score in result.loss.data { #expect(closeEnough(score, 1, relative: 1e-14)) }
        #expect(result.count == 2 * 3 * 8 * 9 && result.weightSum == 2)
    }

    @Test func theDefaultsAreTorchMetrics() {
        let score = StructuralSimilarity()
        #expect(score.sigma == 1.5 && score.k1 == 0.01 && score.k2 == 0.03 && score.dataRange == nil && score.reduction == .mean)
    }

    @Test func anUnrelatedImageScoresFarBelowOne() throws {
        let result = try StructuralSimilarity(dataRange: 1)(
            predictions: Self.image([1, 1, 12, 12], seed: 2), targets: Self.image([1, 1, 12, 12], seed: 3))
        #expect(abs(result.loss.data[0]) < 0.3)
    }

    @Test(arguments: [
        (StructuralSimilarity(), [1, 8, 8], "predictions have shape [1, 8, 8] but SSIM needs images of shape (N, C, H, W)"),
        (StructuralSimilarity(), [1, 1, 5, 8],
         "predictions have images of 5×8 but SSIM's 11×11 Gaussian window (sigma 1.5) reflects 5 pixels at each border: H and W must be at least 6"),
        (StructuralSimilarity(sigma: 1e300), [1, 1, 8, 8],
         "predictions have images of 8×8 but SSIM's 7e+300×7e+300 Gaussian window (sigma 1e+300) reflects 3.5e+300 pixels at each border: H and W must be at least 3.5e+300"),
        (StructuralSimilarity(sigma: 0), [1, 1, 8, 8], "sigma = 0 must be a finite number > 0"),
        (StructuralSimilarity(k2: -0.1), [1, 1, 8, 8], "k2 = -0.1 must be a finite number ≥ 0"),
        (StructuralSimilarity(dataRange: -1), [1, 1, 8, 8], "data_range = -1 must be a finite number > 0"),
    ])
    func refusesWithAMessageNamingTheMember(_ score: StructuralSimilarity, _ shape: [Int], _ message: String) {
        let x = Self.image(shape, seed: 4)
        #expect(errorMessage { () throws(LossError) in try score(predictions: x, targets: x) } == message)
    }
}
