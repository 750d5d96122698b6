import Foundation
import Losses
import Testing
import TestSupport

/// PSNR: TorchMetrics' rules the fixture cannot show, and the errors.
@Suite struct PeakSignalNoiseRatioTests {
    @Test func aMeanSquaredErrorOfOneHundredthAtRangeOneIsTwentyDecibels() throws {
        let result = try PeakSignalNoiseRatio(dataRange: 1)(predictions: tensor([2], [0.1, 0.5]), targets: tensor([2], [0.2, 0.4]))
        #expect(closeEnough(result.loss.data[0], 20, relative: 1e-14))
        #expect(result.count == 2 && result.weightSum == 1)
    }

    @Test func aPerfectPredictionIsInfinitelyGood() throws {
        let result = try PeakSignalNoiseRatio(dataRange: 1)(predictions: tensor([2], [0.1, 0.5]), targets: tensor([2], [0.1, 0.5]))
        #expect(result.loss.data[0] == .infinity)
    }

    @Test func withoutDimTheReductionHasNothingToReduce() throws {
        let p = tensor([2, 2], [0.1, 0.5, 0.7, 0.2]), t = tensor([2, 2], [0.2, 0.4, 0.6, 0.2])
        let none = try PeakSignalNoiseRatio(dataRange: 1, reduction: .none)(predictions: p, targets: t)
        let mean = try PeakSignalNoiseRatio(dataRange: 1)(predictions: p, targets: t)
        #expect(none.loss.shape == [] && none.loss == mean.loss)
    }

    @Test func perImageScoresAverageOverTheirOwnPixels() throws {
        let p = tensor([2, 2], [0.1, 0.5, 0.7, 0.2]), t = tensor([2, 2], [0.2, 0.4, 0.6, 0.2])
        let scores = try PeakSignalNoiseRatio(dataRange: 1, dimensions: [1], reduction: .none)(predictions: p, targets: t)
        #expect(scores.loss.shape == [2] && scores.weightSum == 2)
        #expect(closeEnough(scores.loss.data[0], 20, relative: 1e-14))
        #expect(closeEnough(scores.loss.data[1], 10 * log10(1 / 0.005), relative: 1e-14))
    }

    @Test(arguments: [
        (PeakSignalNoiseRatio(dataRange: 0), "data_range = 0 must be a finite number > 0"),
        (PeakSignalNoiseRatio(dataRange: 1, dimensions: [2]), "dim[0] = 2 is not a dimension of predictions of shape [2, 2] (rank 2)"),
        (PeakSignalNoiseRatio(dataRange: 1, dimensions: [1, -1]), "dim[1] = -1 names dimension 1 twice"),
        (PeakSignalNoiseRatio(dataRange: 1, dimensions: []), "dim is empty: name at least one dimension"),
    ])
    func refusesWithAMessageNamingTheMember(_ score: PeakSignalNoiseRatio, _ message: String) {
        let p = tensor([2, 2], [0.1, 0.5, 0.7, 0.2])
        #expect(errorMessage { () throws(LossError) in try score(predictions: p, targets: p) } == message)
    }
}
