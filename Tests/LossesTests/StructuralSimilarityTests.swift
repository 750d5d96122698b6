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
        #expect(score.gaussianKernel && score.kernelSize == 11)
    }

    @Test func anUnrelatedImageScoresFarBelowOne() throws {
        let result = try StructuralSimilarity(dataRange: 1)(
            predictions: Self.image([1, 1, 12, 12], seed: 2), targets: Self.image([1, 1, 12, 12], seed: 3))
        #expect(abs(result.loss.data[0]) < 0.3)
    }

    @Test(arguments: [
        (StructuralSimilarity(), [1, 8, 8],
         "predictions have shape [1, 8, 8] but SSIM needs images of shape (N, C, H, W) or volumes of shape (N, C, D, H, W)"),
        (StructuralSimilarity(gaussianKernel: false, kernelSize: 7), [1, 1, 3, 8],
         "predictions have images of 3×8 but SSIM's 7×7 uniform window reflects 3 pixels at each border: H and W must be at least 4"),
        (StructuralSimilarity(gaussianKernel: false, kernelSize: 4), [1, 1, 8, 8], "kernel_size = 4 must be an odd number ≥ 1"),
        (StructuralSimilarity(kernelSize: -3), [1, 1, 8, 8], "kernel_size = -3 must be an odd number ≥ 1"),
        (StructuralSimilarity(), [1, 1, 6, 6, 5],
         "predictions have volumes of 6×6×5 but SSIM's 11×11×11 Gaussian window (sigma 1.5) reflects 5, 5, 5 pixels at the borders of D, H and W: they must be at least 6, 6, 6 (TorchMetrics pads W by (kernel_size - 1)/2)"),
        (StructuralSimilarity(sigma: 0.5, kernelSize: 1), [1, 1, 6, 6, 4],
         "predictions have volumes of 6×6×4 but SSIM's 5×5×5 Gaussian window (sigma 0.5) reflects 2, 2, 0 pixels at the borders of D, H and W: they must be at least 3, 3, 5 (TorchMetrics pads W by (kernel_size - 1)/2)"),
        (StructuralSimilarity(dataRange: .interval(1, 1)), [1, 1, 8, 8], "data_range[1] = 1 must be greater than data_range[0] = 1"),
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

    @Test func anIntervalDataRangeClampsBothInputsFirst() throws {
        let x = Self.image([1, 2, 7, 7], seed: 5)
        let over = tensor(x.shape, x.data.enumerated().map { $0.offset % 3 == 0 ? $0.element + 2 : $0.element - 2 })
        let clamped = tensor(x.shape, over.data.map { min(max($0, 0), 1) })
        let viaInterval = try StructuralSimilarity(dataRange: .interval(0, 1))(predictions: over, targets: x)
        let viaClamp = try StructuralSimilarity(dataRange: 1)(predictions: clamped, targets: x)
        #expect(viaInterval.loss == viaClamp.loss)
    }

    @Test func aVolumeOfDepthOneIsNotAnImage() throws {
        // A volume is filtered along D too (reflected), so (N, C, 1, H, W) is refused, never scored as an image.
        let x = Self.image([1, 1, 1, 8, 8], seed: 6)
        #expect(errorMessage { () throws(LossError) in try StructuralSimilarity(gaussianKernel: false, kernelSize: 3)(predictions: x, targets: x) }
            == "predictions have volumes of 1×8×8 but SSIM's 3×3×3 uniform window reflects 1, 1, 1 pixels at the borders of D, H and W: they must be at least 2, 2, 2 (TorchMetrics pads W by (kernel_size - 1)/2)")
    }
}
