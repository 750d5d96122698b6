import Foundation
import Losses
import Testing
import TestSupport

@Suite struct NegativeLogLikelihoodTests {
    struct ErrorCase: Sendable, CustomStringConvertible {
        var description: String
        var loss: NegativeLogLikelihood
        var predictions: Tensor
        var targets: Tensor
        var message: String
    }

    static let logProbabilities = tensor([2, 5], [-1, -2, -3, -4, -5, -5, -4, -3, -2, -1])

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            description: "0-d predictions", loss: NegativeLogLikelihood(), predictions: Tensor(-1), targets: Tensor(0),
            message: "predictions must have shape (C), (N, C) or (N, C, d1, ..., dk), not a 0-d tensor"),
        ErrorCase(
            description: "empty predictions", loss: NegativeLogLikelihood(), predictions: tensor([2, 0], []),
            targets: tensor([2], [0, 0]), message: "predictions has shape [2, 0], which is empty: there is nothing to score"),
        ErrorCase(
            description: "targets of the predictions' shape (no probability targets here)",
            loss: NegativeLogLikelihood(), predictions: logProbabilities, targets: logProbabilities,
            message: "targets have shape [2, 5] but predictions have shape [2, 5]: class indices need shape [2]"),
        ErrorCase(
            description: "targets of another batch size", loss: NegativeLogLikelihood(), predictions: logProbabilities,
            targets: tensor([3], [0, 1, 2]),
            message: "targets have shape [3] but predictions have shape [2, 5]: class indices need shape [2]"),
        ErrorCase(
            description: "weight of the wrong length", loss: NegativeLogLikelihood(weight: tensor([4], [1, 1, 1, 1])),
            predictions: logProbabilities, targets: tensor([2], [0, 1]),
            message: "weight has shape [4] but predictions have 5 classes"),
        ErrorCase(
            description: "index out of range", loss: NegativeLogLikelihood(), predictions: logProbabilities,
            targets: tensor([2], [0, 5]), message: "targets[1] = 5 is out of range for 5 classes"),
        ErrorCase(
            description: "negative index that is not ignore_index", loss: NegativeLogLikelihood(ignoreIndex: -1),
            predictions: logProbabilities, targets: tensor([2], [-1, -2]),
            message: "targets[1] = -2 is out of range for 5 classes"),
        ErrorCase(
            description: "fractional index, full multi-index", loss: NegativeLogLikelihood(),
            predictions: tensor([2, 3, 2], [Double](repeating: -1, count: 12)),
            targets: tensor([2, 2], [0, 1, 2, 0.5]),
            message: "targets[1][1] = 0.5 is not a class index (an integer)"),
        ErrorCase(
            description: "0-d target equal to C", loss: NegativeLogLikelihood(),
            predictions: tensor([3], [-1, -2, -3]), targets: Tensor(3),
            message: "targets = 3 is out of range for 3 classes"),
    ]

    @Test(arguments: errorCases)
    func invalidInputIsATypedErrorThatSaysWhatAndWhere(_ errorCase: ErrorCase) {
        #expect(errorMessage { () throws(LossError) in
            try errorCase.loss(predictions: errorCase.predictions, targets: errorCase.targets)
        } == errorCase.message)
    }

    @Test func meanDividesBySumOfWeightsOfTargetsThatTakePart() throws {
        let loss = NegativeLogLikelihood(weight: tensor([5], [1, 2, 3, 4, 5]), ignoreIndex: 4)
        let result = try loss(predictions: Self.logProbabilities, targets: tensor([2], [1, 4]))
        #expect(result.loss.data == [(2 * 2.0) / 2])
        #expect(result.count == 1)
        #expect(result.weightSum == 2)
    }

    @Test func ignoredPositionsScoreZeroInNone() throws {
        let result = try NegativeLogLikelihood(reduction: .none)(
            predictions: Self.logProbabilities, targets: tensor([2], [-100, 3]))
        #expect(result.loss == tensor([2], [0, 2]))
    }

    @Test func meanOverOnlyIgnoredTargetsIsNaN() throws {
        let result = try NegativeLogLikelihood()(predictions: Self.logProbabilities, targets: tensor([2], [-100, -100]))
        #expect(result.loss.data[0].isNaN)
        #expect(result.count == 0)
    }

    @Test func equalsCrossEntropyOfTheLogSoftmax() throws {
        let logits = tensor([2, 3, 2], [0.5, -1, 2, 0.25, -3, 1, 1, 2, 0, -0.5, 4, 3])
        var logSoftmax = logits.data
        for sample in 0..<2 {
            for pixel in 0..<2 {
                let row = (0..<3).map { logits.data[(sample * 3 + $0) * 2 + pixel] }
                let maximum = row.max()!
                let logSum = maximum + log(row.map { exp($0 - maximum) }.reduce(0, +))
                for c in 0..<3 { logSoftmax[(sample * 3 + c) * 2 + pixel] = row[c] - logSum }
            }
        }
        let targets = tensor([2, 2], [2, 0, -100, 1]), weight = tensor([3], [0.5, 1, 2])
        let nll = try NegativeLogLikelihood(weight: weight)(predictions: tensor([2, 3, 2], logSoftmax), targets: targets)
        let ce = try CrossEntropy(weight: weight)(predictions: logits, targets: targets)
        #expect(closeEnough(nll.loss.data[0], ce.loss.data[0]))
        #expect(nll.weightSum == ce.weightSum)
        #expect(nll.count == ce.count)
    }
}
