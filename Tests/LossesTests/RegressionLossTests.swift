import Losses
import Testing
import TestSupport

/// L1, smooth L1 and Huber: what the golden fixture cannot show (errors, and the rules PyTorch documents).
@Suite struct RegressionLossTests {
    struct ErrorCase: Sendable, CustomStringConvertible {
        var description: String
        var score: @Sendable (Tensor, Tensor) throws(LossError) -> LossResult
        var predictions: Tensor
        var targets: Tensor
        var message: String
    }

    static let pair = tensor([2, 2], [1, 2, 3, 4])

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            description: "l1: different shapes are never broadcast", score: { p, t throws(LossError) in try L1Loss()(predictions: p, targets: t) },
            predictions: pair, targets: tensor([2], [1, 2]),
            message: "targets have shape [2] but predictions have shape [2, 2]; they must be the same"),
        ErrorCase(
            description: "l1: weight of another shape",
            score: { p, t throws(LossError) in try L1Loss(weight: tensor([2], [1, 1]))(predictions: p, targets: t) },
            predictions: pair, targets: pair,
            message: "weight has shape [2] but predictions have shape [2, 2]; they must be the same"),
        ErrorCase(
            description: "l1: empty predictions", score: { p, t throws(LossError) in try L1Loss()(predictions: p, targets: t) },
            predictions: tensor([3, 0], []), targets: tensor([3, 0], []),
            message: "predictions has shape [3, 0], which is empty: there is nothing to score"),
        ErrorCase(
            description: "smooth_l1: negative beta",
            score: { p, t throws(LossError) in try SmoothL1Loss(beta: -0.5)(predictions: p, targets: t) },
            predictions: pair, targets: pair, message: "beta = -0.5 must be at least 0"),
        ErrorCase(
            description: "smooth_l1: NaN beta (PyTorch refuses it too)",
            score: { p, t throws(LossError) in try SmoothL1Loss(beta: .nan)(predictions: p, targets: t) },
            predictions: pair, targets: pair, message: "beta = nan must be at least 0"),
        ErrorCase(
            description: "smooth_l1: different shapes",
            score: { p, t throws(LossError) in try SmoothL1Loss()(predictions: p, targets: t) },
            predictions: pair, targets: Tensor(1),
            message: "targets have shape [] but predictions have shape [2, 2]; they must be the same"),
        ErrorCase(
            description: "smooth_l1 with beta 0: the L1 path still checks shapes",
            score: { p, t throws(LossError) in try SmoothL1Loss(beta: 0)(predictions: p, targets: t) },
            predictions: pair, targets: Tensor(1),
            message: "targets have shape [] but predictions have shape [2, 2]; they must be the same"),
        ErrorCase(
            description: "huber: zero delta", score: { p, t throws(LossError) in try HuberLoss(delta: 0)(predictions: p, targets: t) },
            predictions: pair, targets: pair, message: "delta = 0 must be greater than 0"),
        ErrorCase(
            description: "huber: negative delta",
            score: { p, t throws(LossError) in try HuberLoss(delta: -2)(predictions: p, targets: t) },
            predictions: pair, targets: pair, message: "delta = -2 must be greater than 0"),
        ErrorCase(
            description: "huber: weight of another shape",
            score: { p, t throws(LossError) in try HuberLoss(weight: Tensor(1))(predictions: p, targets: t) },
            predictions: pair, targets: pair,
            message: "weight has shape [] but predictions have shape [2, 2]; they must be the same"),
        ErrorCase(
            description: "huber: empty targets", score: { p, t throws(LossError) in try HuberLoss()(predictions: p, targets: t) },
            predictions: Tensor(1), targets: tensor([0], []),
            message: "targets has shape [0], which is empty: there is nothing to score"),
    ]

    @Test(arguments: errorCases)
    func invalidInputIsATypedErrorThatSaysWhatAndWhere(_ errorCase: ErrorCase) {
        #expect(errorMessage { () throws(LossError) in try errorCase.score(errorCase.predictions, errorCase.targets) }
            == errorCase.message)
    }

    @Test func l1WeightedMeanDividesBySumOfWeights() throws {
        let result = try L1Loss(weight: tensor([3], [1, 3, 0]))(
            predictions: tensor([3], [1, -2, 3]), targets: tensor([3], [0, 0, 0]))
        #expect(result.loss.data == [7.0 / 4.0])
        #expect(result.weightSum == 4)
        #expect(result.count == 3)
    }

    @Test func huberWeightedMeanDividesByCountAsPyTorch() throws {
        let result = try HuberLoss(weight: tensor([3], [1, 3, 0]))(
            predictions: tensor([3], [0.5, -2, 3]), targets: tensor([3], [0, 0, 0]))
        // 0.5·0.5² · 1 + 1·(2 - 0.5) · 3 + 0 = 4.625, over N = 3.
        #expect(result.loss.data == [4.625 / 3])
        #expect(result.weightSum == 3)
    }

    @Test func smoothL1WithBetaZeroIsL1() throws {
        let predictions = tensor([4], [0.25, -1, 3, 0]), targets = tensor([4], [0, 0, 1, 0])
        let smooth = try SmoothL1Loss(beta: 0, reduction: .none)(predictions: predictions, targets: targets)
        let l1 = try L1Loss(reduction: .none)(predictions: predictions, targets: targets)
        #expect(smooth == l1)
    }

    @Test func smoothL1TimesBetaIsHuberWithDeltaBeta() throws {
        let predictions = tensor([5], [0.1, -0.7, 3, 0, 12]), targets = tensor([5], [0, 0, 1, 0.5, -1])
        let smooth = try SmoothL1Loss(beta: 0.75, reduction: .none)(predictions: predictions, targets: targets)
        let huber = try HuberLoss(delta: 0.75, reduction: .none)(predictions: predictions, targets: targets)
        for (s, h) in zip(smooth.loss.data, huber.loss.data) { #expect(closeEnough(s * 0.75, h)) }
    }

    /// Scored from `predictions - targets` already taken (a folded request), each loss gives the
    /// bits it gives from the two tensors, every reduction, with and without a weight.
    @Test func differencesScoreBitForBitAsTheTwoTensors() throws {
        var generator = SplitMix64(seed: 14)
        let count = 2049
        func values(_ range: ClosedRange<Double>) -> Tensor {
            tensor([count], (0..<count).map { _ in Double.random(in: range, using: &generator) })
        }
        let (predictions, targets, weight) = (values(-3...3), values(-3...3), values(0...2))
        let differences = Differences(
            data: zip(predictions.data, targets.data).map { $0 - $1 }, predictionsShape: [count], targetsShape: [count])
        for reduction in [Reduction.none, .mean, .sum] {
            for w in [nil, weight] {
                let losses: [any DifferenceLoss] = [
                    L1Loss(weight: w, reduction: reduction), SmoothL1Loss(beta: 0, weight: w, reduction: reduction),
                    SmoothL1Loss(beta: 0.7, weight: w, reduction: reduction), HuberLoss(delta: 1.3, weight: w, reduction: reduction),
                    MeanSquaredError(weight: w, reduction: reduction),
                ]
                for loss in losses {
                    let stored = try loss.callAsFunction(predictions: predictions, targets: targets)
                    let folded = try loss.callAsFunction(differences: differences)
                    #expect(folded.loss.data.map(\.bitPattern) == stored.loss.data.map(\.bitPattern), "\(loss)")
                    #expect(folded.loss.shape == stored.loss.shape && folded.count == stored.count)
                    #expect(folded.weightSum.bitPattern == stored.weightSum.bitPattern)
                }
            }
        }
    }
}
