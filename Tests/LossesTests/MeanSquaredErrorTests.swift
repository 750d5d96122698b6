import Losses
import Testing
import TestSupport

@Suite struct MeanSquaredErrorTests {
    struct ErrorCase: Sendable, CustomStringConvertible {
        var description: String
        var loss: MeanSquaredError
        var predictions: Tensor
        var targets: Tensor
        var message: String
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            description: "different shapes are never broadcast", loss: MeanSquaredError(),
            predictions: tensor([2, 2], [1, 2, 3, 4]), targets: tensor([2], [1, 2]),
            message: "targets have shape [2] but predictions have shape [2, 2]; they must be the same"),
        ErrorCase(
            description: "weight of another shape", loss: MeanSquaredError(weight: tensor([2], [1, 1])),
            predictions: tensor([2, 2], [1, 2, 3, 4]), targets: tensor([2, 2], [1, 2, 3, 4]),
            message: "weight has shape [2] but predictions have shape [2, 2]; they must be the same"),
        ErrorCase(
            description: "empty predictions", loss: MeanSquaredError(), predictions: tensor([3, 0, 2], []),
            targets: tensor([3, 0, 2], []), message: "predictions has shape [3, 0, 2], which is empty: there is nothing to score"),
        ErrorCase(
            description: "empty targets", loss: MeanSquaredError(), predictions: Tensor(1), targets: tensor([0], []),
            message: "targets has shape [0], which is empty: there is nothing to score"),
    ]

    @Test(arguments: errorCases)
    func invalidInputIsATypedErrorThatSaysWhatAndWhere(_ errorCase: ErrorCase) {
        #expect(errorMessage { () throws(LossError) in
            try errorCase.loss(predictions: errorCase.predictions, targets: errorCase.targets)
        } == errorCase.message)
    }

    @Test func weightedMeanDividesBySumOfWeights() throws {
        let result = try MeanSquaredError(weight: tensor([3], [1, 3, 0]))(
            predictions: tensor([3], [1, 2, 3]), targets: tensor([3], [0, 0, 0]))
        #expect(result.loss.data == [13.0 / 4.0])
        #expect(result.weightSum == 4)
        #expect(result.count == 3)
    }

    @Test func zeroDimensionalNoneIsZeroDimensional() throws {
        let result = try MeanSquaredError(reduction: .none)(predictions: Tensor(3), targets: Tensor(1))
        #expect(result.loss == Tensor(4))
    }

    /// The trick that matters for 10^7 elements: fl(0.1)² summed 10^7 times drifts
    /// by ~1e-10 relative in a plain loop; compensated, the mean is the term itself.
    @Test func meanOverTenMillionElementsIsExactTo1e12() throws {
        let count = 10_000_000
        let predictions = tensor([count], [Double](repeating: 0.1, count: count))
        let targets = tensor([count], [Double](repeating: 0, count: count))
        let result = try MeanSquaredError()(predictions: predictions, targets: targets)
        let term = 0.1 * 0.1
        #expect(abs(result.loss.data[0] - term) <= 1e-12 * term)
        let sum = try MeanSquaredError(reduction: .sum)(predictions: predictions, targets: targets)
        // The exact sum of 10^7 copies of fl(0.1)² rounds to 100000.00000000001.
        #expect(sum.loss.data[0] == 100000.00000000001)
    }

    @Test func meanTimesWeightSumIsSumAndNoneSumsToSum() throws {
        var generator = SplitMix64(seed: 5)
        let shape = [2, 3, 4, 5]
        let draw = { (generator: inout SplitMix64) in (0..<120).map { _ in Double.random(in: -2...2, using: &generator) } }
        let predictions = tensor(shape, draw(&generator)), targets = tensor(shape, draw(&generator))
        let weight = tensor(shape, (0..<120).map { _ in Double.random(in: 0...1, using: &generator) })
        let mean = try MeanSquaredError(weight: weight)(predictions: predictions, targets: targets)
        let sum = try MeanSquaredError(weight: weight, reduction: .sum)(predictions: predictions, targets: targets)
        let none = try MeanSquaredError(weight: weight, reduction: .none)(predictions: predictions, targets: targets)
        #expect(closeEnough(mean.loss.data[0] * mean.weightSum, sum.loss.data[0]))
        #expect(closeEnough(none.loss.data.reduce(0, +), sum.loss.data[0]))
    }
}
