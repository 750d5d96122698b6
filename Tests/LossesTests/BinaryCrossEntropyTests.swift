import Losses
import Testing
import TestSupport

@Suite struct BinaryCrossEntropyTests {
    struct ErrorCase: Sendable, CustomStringConvertible {
        var description: String
        var loss: BinaryCrossEntropy
        var predictions: Tensor
        var targets: Tensor
        var message: String
    }

    static let matrix = tensor([2, 4], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            description: "pos_weight without logits", loss: BinaryCrossEntropy(posWeight: tensor([4], [1, 1, 1, 1])),
            predictions: matrix, targets: matrix, message: "pos_weight is only supported with from_logits: true"),
        ErrorCase(
            description: "empty predictions", loss: BinaryCrossEntropy(), predictions: tensor([0, 3], []),
            targets: tensor([0, 3], []), message: "predictions has shape [0, 3], which is empty: there is nothing to score"),
        ErrorCase(
            description: "different shapes", loss: BinaryCrossEntropy(), predictions: matrix,
            targets: tensor([8], matrix.data),
            message: "targets have shape [8] but predictions have shape [2, 4]; they must be the same"),
        ErrorCase(
            description: "weight that does not broadcast", loss: BinaryCrossEntropy(weight: tensor([3], [1, 1, 1])),
            predictions: matrix, targets: matrix,
            message: "weight has shape [3], which does not broadcast to the predictions' shape [2, 4]"),
        ErrorCase(
            description: "weight that would grow the rank", loss: BinaryCrossEntropy(weight: tensor([1, 1, 4], [1, 1, 1, 1])),
            predictions: matrix, targets: matrix,
            message: "weight has shape [1, 1, 4], which does not broadcast to the predictions' shape [2, 4]"),
        ErrorCase(
            description: "weight that would grow a dimension of 1",
            loss: BinaryCrossEntropy(weight: tensor([2, 4], [1, 1, 1, 1, 1, 1, 1, 1])),
            predictions: tensor([1, 4], [0.1, 0.2, 0.3, 0.4]), targets: tensor([1, 4], [0, 0, 1, 1]),
            message: "weight has shape [2, 4], which does not broadcast to the predictions' shape [1, 4]"),
        ErrorCase(
            description: "empty weight", loss: BinaryCrossEntropy(weight: tensor([0], [])),
            predictions: matrix, targets: matrix,
            message: "weight has shape [0], which is empty: there is nothing to score"),
        ErrorCase(
            description: "pos_weight that does not broadcast",
            loss: BinaryCrossEntropy(posWeight: tensor([2], [1, 1]), fromLogits: true), predictions: matrix,
            targets: matrix, message: "pos_weight has shape [2], which does not broadcast to the predictions' shape [2, 4]"),
        ErrorCase(
            description: "probability above 1", loss: BinaryCrossEntropy(),
            predictions: tensor([2, 4], [0.1, 0.2, 1.3, 0.4, 0.5, 0.6, 0.7, 0.8]), targets: matrix,
            message: "predictions[0][2] = 1.3 is outside [0, 1]"),
        ErrorCase(
            description: "NaN probability", loss: BinaryCrossEntropy(), predictions: tensor([2], [0.5, .nan]),
            targets: tensor([2], [0, 1]), message: "predictions[1] = nan is outside [0, 1]"),
        ErrorCase(
            description: "target below 0", loss: BinaryCrossEntropy(), predictions: matrix,
            targets: tensor([2, 4], [0, 1, 0, 1, 0, 1, -0.5, 1]), message: "targets[1][2] = -0.5 is outside [0, 1]"),
        ErrorCase(
            description: "target above 1 with logits", loss: BinaryCrossEntropy(fromLogits: true),
            predictions: Tensor(3), targets: Tensor(2), message: "targets = 2 is outside [0, 1]"),
    ]

    @Test(arguments: errorCases)
    func invalidInputIsATypedErrorThatSaysWhatAndWhere(_ errorCase: ErrorCase) {
        #expect(errorMessage { () throws(LossError) in
            try errorCase.loss(predictions: errorCase.predictions, targets: errorCase.targets)
        } == errorCase.message)
    }

    @Test func logitsOutsideZeroOneAreAcceptedWithFromLogits() throws {
        let result = try BinaryCrossEntropy(fromLogits: true)(predictions: tensor([2], [-7, 12]), targets: tensor([2], [0, 1]))
        #expect(result.loss.data[0] > 0)
    }

    @Test func extremeLogitsAreFiniteAndExact() throws {
        let result = try BinaryCrossEntropy(fromLogits: true, reduction: .none)(
            predictions: tensor([4], [1000, -1000, 1000, -1000]), targets: tensor([4], [1, 0, 0, 1]))
        #expect(result.loss.data == [0, 0, 1000, 1000])
    }

    @Test func probabilitiesOfZeroAndOneClampTheLogAtMinus100() throws {
        let result = try BinaryCrossEntropy(reduction: .none)(
            predictions: tensor([2], [0, 1]), targets: tensor([2], [1, 0]))
        #expect(result.loss.data == [100, 100])
    }

    @Test func broadcastWeightEqualsTheExpandedWeight() throws {
        var generator = SplitMix64(seed: 3)
        let shape = [3, 5, 4]
        let predictions = tensor(shape, (0..<60).map { _ in Double.random(in: -3...3, using: &generator) })
        let targets = tensor(shape, (0..<60).map { _ in Double.random(in: 0...1, using: &generator) })
        let column = tensor([5, 1], (0..<5).map { Double($0) + 0.5 })
        let expanded = tensor(shape, (0..<60).map { Double(($0 / 4) % 5) + 0.5 })
        for reduction in Reduction.allCases {
            let broadcast = try BinaryCrossEntropy(weight: column, posWeight: column, fromLogits: true, reduction: reduction)(
                predictions: predictions, targets: targets)
            let full = try BinaryCrossEntropy(weight: expanded, posWeight: expanded, fromLogits: true, reduction: reduction)(
                predictions: predictions, targets: targets)
            #expect(broadcast == full)
        }
    }

    @Test func weightSumIsThePositionCountEvenWithAWeight() throws {
        let result = try BinaryCrossEntropy(weight: tensor([4], [0, 1, 2, 3]))(predictions: Self.matrix, targets: Self.matrix)
        #expect(result.count == 8)
        #expect(result.weightSum == 8)
    }

    @Test(arguments: [false, true])
    func meanTimesWeightSumIsSumAndNoneSumsToSum(fromLogits: Bool) throws {
        var generator = SplitMix64(seed: 11)
        let predictions = tensor([50, 7], (0..<350).map { _ in Double.random(in: 0.001...0.999, using: &generator) })
        let targets = tensor([50, 7], (0..<350).map { _ in Double.random(in: 0...1, using: &generator) })
        let weight = tensor([7], (0..<7).map { _ in Double.random(in: 0...2, using: &generator) })
        let mean = try BinaryCrossEntropy(weight: weight, fromLogits: fromLogits)(predictions: predictions, targets: targets)
        let sum = try BinaryCrossEntropy(weight: weight, fromLogits: fromLogits, reduction: .sum)(
            predictions: predictions, targets: targets)
        let none = try BinaryCrossEntropy(weight: weight, fromLogits: fromLogits, reduction: .none)(
            predictions: predictions, targets: targets)
        #expect(closeEnough(mean.loss.data[0] * mean.weightSum, sum.loss.data[0]))
        #expect(closeEnough(none.loss.data.reduce(0, +), sum.loss.data[0]))
        #expect(none.loss.shape == [50, 7])
    }

    @Test(arguments: [false, true])
    func eachElementsLossIsTheSameAloneAsAmongOthersAtAnyLength(weighted: Bool) throws {
        var generator = SplitMix64(seed: 12)
        for length in 1...9 {
            let x = (0..<length).map { _ in Double.random(in: -40...40, using: &generator) }
            let y = (0..<length).map { _ in Double(Int.random(in: 0...1, using: &generator)) }
            let w = (0..<length).map { _ in Double.random(in: 0...2, using: &generator) }
            func loss(_ i: Int?) throws -> [Double] {
                let indices = i.map { [$0] } ?? Array(0..<length)
                let shape = i == nil ? [length] : []
                let weight = weighted ? tensor(shape, indices.map { w[$0] }) : nil
                return try BinaryCrossEntropy(weight: weight, posWeight: weight, fromLogits: true, reduction: .none)(
                    predictions: tensor(shape, indices.map { x[$0] }), targets: tensor(shape, indices.map { y[$0] })
                ).loss.data
            }
            #expect(try loss(nil) == (0..<length).map { try loss($0)[0] })
        }
    }

    @Test func theTargetOutsideZeroOneIsNamedWhereverItLies() {
        for position in 0..<7 {
            var targets = [0, 1, 0.5, 1, 0, 0.25, 1.0]
            targets[position] = position.isMultiple(of: 2) ? 1.5 : .nan
            let message = errorMessage { () throws(LossError) in
                try BinaryCrossEntropy(fromLogits: true)(predictions: tensor([7], [Double](repeating: 0.5, count: 7)),
                    targets: tensor([7], targets))
            }
            #expect(message == "targets[\(position)] = \(position.isMultiple(of: 2) ? "1.5" : "nan") is outside [0, 1]")
        }
    }
}
