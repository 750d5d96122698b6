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
        (PeakSignalNoiseRatio(dataRange: .interval(2, 1)), "data_range[1] = 1 must be greater than data_range[0] = 2"),
        (PeakSignalNoiseRatio(dataRange: .interval(-.infinity, 1)), "data_range[0] = -inf must be finite"),
        (PeakSignalNoiseRatio(dataRange: .interval(-1e308, 1e308)), "data_range = [-1e+308, 1e+308] spans more than a double holds"),
        (PeakSignalNoiseRatio(dataRange: 1, base: 1), "base = 1 must be a finite number > 0 other than 1"),
        (PeakSignalNoiseRatio(dataRange: 1, base: 0), "base = 0 must be a finite number > 0 other than 1"),
    ])
    func refusesWithAMessageNamingTheMember(_ score: PeakSignalNoiseRatio, _ message: String) {
        let p = tensor([2, 2], [0.1, 0.5, 0.7, 0.2])
        #expect(errorMessage { () throws(LossError) in try score(predictions: p, targets: p) } == message)
    }

    @Test func baseTwoCountsBitsInsteadOfDecibels() throws {
        // MSE 1/100 at R = 1: 10·log2(100) = 66.438… (TorchMetrics' 10 / ln b factor, not 20·log2).
        let result = try PeakSignalNoiseRatio(dataRange: 1, base: 2)(predictions: tensor([2], [0.1, 0.5]), targets: tensor([2], [0.2, 0.4]))
        #expect(closeEnough(result.loss.data[0], 10 * log2(100), relative: 1e-14))
    }

    @Test func anIntervalDataRangeClampsBothInputsAndScoresWithItsWidth() throws {
        // Clamped to [0, 2]: predictions [2, 0.5], targets [1.5, 0] → MSE 0.25, R = 2: 10·log10(4 / 0.25).
        let result = try PeakSignalNoiseRatio(dataRange: .interval(0, 2))(
            predictions: tensor([2], [3.0, 0.5]), targets: tensor([2], [1.5, -1]))
        #expect(closeEnough(result.loss.data[0], 10 * log10(16), relative: 1e-14))
    }
}
