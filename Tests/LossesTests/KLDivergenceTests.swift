import Foundation
import Losses
import Testing
import TestSupport

@Suite struct KLDivergenceTests {
    @Test func differentShapesAreNeverBroadcast() {
        #expect(errorMessage { () throws(LossError) in
            try KLDivergence()(predictions: tensor([2, 2], [-1, -1, -1, -1]), targets: tensor([2], [0.5, 0.5]))
        } == "targets have shape [2] but predictions have shape [2, 2]; they must be the same")
    }

    @Test func emptyPredictionsAreAnError() {
        #expect(errorMessage { () throws(LossError) in
            try KLDivergence()(predictions: tensor([0, 3], []), targets: tensor([0, 3], []))
        } == "predictions has shape [0, 3], which is empty: there is nothing to score")
    }

    @Test func batchmeanIsAMeanOverTheBatchSize() throws {
        let predictions = tensor([2, 3], [-1, -2, -3, -0.5, -1, -2]), targets = tensor([2, 3], [0.2, 0.3, 0.5, 0.1, 0.6, 0.3])
        let sum = try KLDivergence(reduction: .sum)(predictions: predictions, targets: targets)
        let batchmean = try KLDivergence(reduction: .batchmean)(predictions: predictions, targets: targets)
        let mean = try KLDivergence(reduction: .mean)(predictions: predictions, targets: targets)
        #expect(batchmean.reduction == .mean)
        #expect(batchmean.weightSum == 2)
        #expect(batchmean.loss.data == [sum.loss.data[0] / 2])
        #expect(mean.weightSum == 6)
        #expect(mean.loss.data == [sum.loss.data[0] / 6])
    }

    @Test func batchmeanOfA0dTensorIsTheSum() throws {
        let result = try KLDivergence(reduction: .batchmean)(predictions: Tensor(-1), targets: Tensor(0.5))
        #expect(result.weightSum == 1)
        #expect(result.loss.shape == [])
    }

    /// PyTorch's xlogy: a target of 0 scores 0·x (0, or NaN against -∞); a negative target scores NaN.
    @Test func zeroTargetsScoreZeroAndNegativeTargetsNaN() throws {
        let result = try KLDivergence(reduction: .none)(
            predictions: tensor([4], [-3, -.infinity, -1, -1]), targets: tensor([4], [0, 0, -0.25, -0.0]))
        #expect(result.loss.data[0] == 0)
        #expect(result.loss.data[1].isNaN)
        #expect(result.loss.data[2].isNaN)
        #expect(result.loss.data[3] == 0)
    }

    /// Below the golden tolerance's 1e-15 floor: y·log y for subnormal y takes the log of y itself,
    /// not of the nearest normal number.
    @Test func subnormalTargetsTakeTheirOwnLog() throws {
        let targets = ["5e-324", "1e-310", "2.2e-308"].map { Double($0)! }  // parsed, as literals warn of underflow
        let result = try KLDivergence(reduction: .none)(predictions: tensor([3], [0, 0, 0]), targets: tensor([3], targets))
        for (actual, y) in zip(result.loss.data, targets) {
            #expect(closeEnough(actual, y * log(y), relative: 1e-12, absolute: 0), "y = \(y)")
        }
    }
}
