import Losses
import Testing
import TestSupport

@Suite struct CrossEntropyTests {
    struct ErrorCase: Sendable, CustomStringConvertible {
        var description: String
        var loss: CrossEntropy
        var predictions: Tensor
        var targets: Tensor
        var message: String
    }

    static let logits = tensor([2, 5], [1, 2, 3, 4, 5, 5, 4, 3, 2, 1])

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            description: "label smoothing above 1", loss: CrossEntropy(labelSmoothing: 1.5),
            predictions: logits, targets: tensor([2], [0, 1]),
            message: "label_smoothing = 1.5 is outside [0, 1]"),
        ErrorCase(
            description: "negative label smoothing", loss: CrossEntropy(labelSmoothing: -0.25),
            predictions: logits, targets: tensor([2], [0, 1]),
            message: "label_smoothing = -0.25 is outside [0, 1]"),
        ErrorCase(
            description: "NaN label smoothing", loss: CrossEntropy(labelSmoothing: .nan),
            predictions: logits, targets: tensor([2], [0, 1]),
            message: "label_smoothing = nan is outside [0, 1]"),
        ErrorCase(
            description: "0-d predictions", loss: CrossEntropy(), predictions: Tensor(1), targets: Tensor(0),
            message: "predictions must have shape (C), (N, C) or (N, C, d1, ..., dk), not a 0-d tensor"),
        ErrorCase(
            description: "empty predictions", loss: CrossEntropy(), predictions: tensor([2, 0], []),
            targets: tensor([2], [0, 0]),
            message: "predictions has shape [2, 0], which is empty: there is nothing to score"),
        ErrorCase(
            description: "empty targets", loss: CrossEntropy(), predictions: logits, targets: tensor([0], []),
            message: "targets has shape [0], which is empty: there is nothing to score"),
        ErrorCase(
            description: "weight of the wrong length", loss: CrossEntropy(weight: tensor([4], [1, 1, 1, 1])),
            predictions: logits, targets: tensor([2], [0, 1]),
            message: "weight has shape [4] but predictions have 5 classes"),
        ErrorCase(
            description: "targets of neither shape", loss: CrossEntropy(), predictions: logits,
            targets: tensor([3], [0, 1, 2]),
            message: "targets have shape [3] but predictions have shape [2, 5]: "
                + "class indices need shape [2], class probabilities shape [2, 5]"),
        ErrorCase(
            description: "index out of range", loss: CrossEntropy(),
            predictions: tensor([4, 5], [Double](repeating: 0, count: 20)), targets: tensor([4], [0, 1, 2, 7]),
            message: "targets[3] = 7 is out of range for 5 classes"),
        ErrorCase(
            description: "negative index that is not ignore_index", loss: CrossEntropy(),
            predictions: logits, targets: tensor([2], [0, -1]),
            message: "targets[1] = -1 is out of range for 5 classes"),
        ErrorCase(
            description: "0-d index target equal to C", loss: CrossEntropy(),
            predictions: tensor([5], [1, 2, 3, 4, 5]), targets: Tensor(5),
            message: "targets = 5 is out of range for 5 classes"),
        ErrorCase(
            description: "fractional index, full multi-index", loss: CrossEntropy(),
            predictions: tensor([2, 3, 4], [Double](repeating: 0, count: 24)),
            targets: tensor([2, 4], [0, 1, 2, 0, 1, 2, 0, 1.5]),
            message: "targets[1][3] = 1.5 is not a class index (an integer)"),
        ErrorCase(
            description: "NaN index", loss: CrossEntropy(), predictions: logits, targets: tensor([2], [.nan, 0]),
            message: "targets[0] = nan is not a class index (an integer)"),
        ErrorCase(
            description: "ignore_index ≥ 0 with probability targets", loss: CrossEntropy(ignoreIndex: 0),
            predictions: tensor([1, 2], [0, 1]), targets: tensor([1, 2], [0.5, 0.5]),
            message: "ignore_index = 0 is not supported with class-probability targets "
                + "(targets of the predictions' shape [1, 2]); leave it out or make it negative"),
        ErrorCase(
            description: "probability target above 1", loss: CrossEntropy(),
            predictions: tensor([2, 3], [0, 0, 0, 0, 0, 0]), targets: tensor([2, 3], [0, 0, 1, 0, 0, 1.3]),
            message: "targets[1][2] = 1.3 is outside [0, 1]"),
        ErrorCase(
            description: "probability prediction above 1", loss: CrossEntropy(fromLogits: false),
            predictions: tensor([2, 3], [0.2, 0.3, 1.3, 0, 0, 1]), targets: tensor([2], [0, 1]),
            message: "predictions[0][2] = 1.3 is outside [0, 1]"),
        ErrorCase(
            description: "negative probability prediction", loss: CrossEntropy(fromLogits: false),
            predictions: tensor([2, 3], [0.2, 0.3, 0.5, -0.5, 1, 0.5]), targets: tensor([2], [0, 1]),
            message: "predictions[1][0] = -0.5 is outside [0, 1]"),
    ]

    @Test(arguments: errorCases)
    func invalidInputIsATypedErrorThatSaysWhatAndWhere(_ errorCase: ErrorCase) {
        #expect(errorMessage { () throws(LossError) in
            try errorCase.loss(predictions: errorCase.predictions, targets: errorCase.targets)
        } == errorCase.message)
    }

    @Test func negativeIgnoreIndexIsAcceptedWithProbabilityTargets() throws {
        let result = try CrossEntropy(ignoreIndex: -1)(
            predictions: tensor([1, 2], [0, 1]), targets: tensor([1, 2], [0.5, 0.5]))
        #expect(result.count == 1)
        #expect(result.weightSum == 1)
    }

    @Test func integralDoublesAreClassIndices() throws {
        let asDoubles = try CrossEntropy()(predictions: Self.logits, targets: tensor([2], [2.0, 4.0]))
        let asIndices = try CrossEntropy()(predictions: Self.logits, targets: Tensor(shape: [2], indices: [2, 4]))
        #expect(asDoubles == asIndices)
    }

    @Test func singleSampleWithZeroDimensionalTargetGivesZeroDimensionalNone() throws {
        let result = try CrossEntropy(reduction: .none)(predictions: tensor([3], [0, 0, 0]), targets: Tensor(1))
        #expect(result.loss.shape == [])
        #expect(closeEnough(result.loss.data[0], 1.0986122886681098))  // log 3
    }

    @Test func ignoredPositionsAreZeroAndUncountedInNone() throws {
        let result = try CrossEntropy(ignoreIndex: 3, reduction: .none)(
            predictions: tensor([3, 4], [Double](repeating: 1, count: 12)), targets: tensor([3], [3, 0, 3]))
        #expect(result.loss.shape == [3])
        #expect(result.loss.data[0] == 0 && result.loss.data[2] == 0 && result.loss.data[1] > 0)
        #expect(result.count == 1)
        #expect(result.weightSum == 1)
    }

    @Test func allIgnoredMeanIsNaNAndSumIsZero() throws {
        let predictions = tensor([2, 3], [1, 2, 3, 4, 5, 6]), targets = tensor([2], [-100, -100])
        let mean = try CrossEntropy()(predictions: predictions, targets: targets)
        #expect(mean.loss.data[0].isNaN)
        #expect(mean.count == 0 && mean.weightSum == 0)
        let sum = try CrossEntropy(reduction: .sum)(predictions: predictions, targets: targets)
        #expect(sum.loss.data == [0])
    }

    @Test func weightSumIsTheSumOfTheTargetsClassWeights() throws {
        let result = try CrossEntropy(weight: tensor([3], [0.5, 2, 0]))(
            predictions: tensor([4, 3], [Double](repeating: 0, count: 12)), targets: tensor([4], [1, 2, 0, 1]))
        #expect(result.count == 4)  // a zero class weight still counts
        #expect(result.weightSum == 4.5)
    }

    @Test func probabilityTargetsWeightSumIsThePositionCount() throws {
        let result = try CrossEntropy(weight: tensor([2], [3, 5]))(
            predictions: tensor([2, 2, 3], [Double](repeating: 0.5, count: 12)),
            targets: tensor([2, 2, 3], [Double](repeating: 0.5, count: 12)))
        #expect(result.count == 6)
        #expect(result.weightSum == 6)
    }

    @Test func extremeLogitsGiveFiniteExactAnswers() throws {
        let result = try CrossEntropy(reduction: .none)(
            predictions: tensor([2, 3], [1000, -1000, 0, -1000, 1000, 1000]), targets: tensor([2], [1, 0]))
        #expect(result.loss.data == [2000, 2000 + 0.6931471805599453])
    }

    /// Rows are scored in blocks (and planes in tiles); no block edge may change a row's loss.
    @Test(arguments: [[700, 7], [3, 3000], [2, 3, 700]])
    func blocksAndTilesGiveEachPositionTheLossItHasAlone(shape: [Int]) throws {
        var generator = SplitMix64(seed: 9)
        let classes = shape[1], inner = shape[2...].reduce(1, *)
        let count = shape.reduce(1, *)
        let logits = (0..<count).map { _ in Double.random(in: -20...20, using: &generator) }
        let targets = (0..<(count / classes)).map { _ in Double(Int.random(in: 0..<classes, using: &generator)) }
        let loss = CrossEntropy(labelSmoothing: 0.1, reduction: .none)
        let whole = try loss(predictions: tensor(shape, logits), targets: tensor([shape[0]] + shape[2...], targets))
        for position in 0..<(count / classes) {
            let (sample, s) = position.quotientAndRemainder(dividingBy: inner)
            let row = (0..<classes).map { logits[(sample * classes + $0) * inner + s] }
            let alone = try loss(predictions: tensor([classes], row), targets: Tensor(targets[position]))
            #expect(whole.loss.data[position] == alone.loss.data[0], "position \(position)")
        }
    }

    /// ATen computes log(1 + e^-40) = 0 here; the exact loss is log1p(e^-40) ≈ 4.2e-18.
    @Test func confidentPredictionsKeepTheirSmallLoss() throws {
        let exact = 4.248354255291589e-18  // log1p(exp(-40)), to the double nearest
        let rows = try CrossEntropy(reduction: .none)(predictions: tensor([1, 2], [40, 0]), targets: tensor([1], [0]))
        #expect(closeEnough(rows.loss.data[0], exact, relative: 1e-15, absolute: 0))
        let planes = try CrossEntropy(reduction: .none)(
            predictions: tensor([1, 2, 2], [40, 3, 0, 3]), targets: tensor([1, 2], [0, 1]))
        #expect(closeEnough(planes.loss.data[0], exact, relative: 1e-15, absolute: 0))
        #expect(closeEnough(planes.loss.data[1], 0.6931471805599453))  // a tie: log 2
    }

    @Test(arguments: [
        CrossEntropy(), CrossEntropy(weight: tensor([4], [0.1, 2, 3, 0.5]), ignoreIndex: 2, labelSmoothing: 0.3),
        CrossEntropy(labelSmoothing: 0.2, fromLogits: false),
    ])
    func meanTimesWeightSumIsSumAndNoneSumsToSum(_ loss: CrossEntropy) throws {
        var generator = SplitMix64(seed: 7)
        let shape = [6, 4, 3, 5]
        let logits = (0..<360).map { _ in Double.random(in: 0.01...1, using: &generator) }
        let indices = (0..<90).map { _ in Double(Int.random(in: 0..<4, using: &generator)) }
        try expectReductionsAgree(loss, tensor(shape, logits), tensor([6, 3, 5], indices))
        let probabilities = (0..<360).map { _ in Double.random(in: 0...1, using: &generator) }
        var probabilityLoss = loss
        probabilityLoss.ignoreIndex = -100
        try expectReductionsAgree(probabilityLoss, tensor(shape, logits), tensor(shape, probabilities))
    }

    private func expectReductionsAgree(_ loss: CrossEntropy, _ predictions: Tensor, _ targets: Tensor) throws {
        var loss = loss
        loss.reduction = .mean
        let mean = try loss(predictions: predictions, targets: targets)
        loss.reduction = .sum
        let sum = try loss(predictions: predictions, targets: targets)
        loss.reduction = .none
        let none = try loss(predictions: predictions, targets: targets)
        #expect(closeEnough(mean.loss.data[0] * mean.weightSum, sum.loss.data[0]))
        #expect(closeEnough(none.loss.data.reduce(0, +), sum.loss.data[0]))
        #expect(mean.count == sum.count && sum.count == none.count)
        #expect(mean.weightSum == sum.weightSum && sum.weightSum == none.weightSum)
    }

    /// Bit for bit on the baseline path; the AVX2 build's planes take its own exp and log (fused
    /// multiply-adds, a polynomial exp), the rows the scalar ones, so there within the golden tolerance.
    @Test(arguments: [-100, 2], KernelPath.supported)
    func eachPixelOfAPlaneScoresAsItsOwnRowAtAnyWidth(ignoreIndex: Int, path: KernelPath) throws {
        try KernelPath.$forced.withValue(path) { try eachPixelScoresAsItsOwnRow(ignoreIndex: ignoreIndex, path: path) }
    }

    private func eachPixelScoresAsItsOwnRow(ignoreIndex: Int, path: KernelPath) throws {
        var generator = SplitMix64(seed: 21)
        let (batch, classes) = (2, 4)
        let weight = tensor([classes], [0.5, 1, 1.5, 2])
        for width in 2...7 {
            let x = (0..<(batch * classes * width)).map { _ in Double.random(in: -30...30, using: &generator) }
            let t = (0..<(batch * width)).map { _ in Double(Int.random(in: 0..<classes, using: &generator)) }
            let loss = CrossEntropy(weight: weight, ignoreIndex: ignoreIndex, reduction: .none)
            let planes = try loss(predictions: tensor([batch, classes, width], x), targets: tensor([batch, width], t))
            var count = 0
            for n in 0..<batch {
                for s in 0..<width {
                    let row = (0..<classes).map { x[(n * classes + $0) * width + s] }
                    let alone = try loss(predictions: tensor([1, classes], row), targets: tensor([1], [t[n * width + s]]))
                    let (plane, single) = (planes.loss.data[n * width + s], alone.loss.data[0])
                    #expect(path == .baseline ? plane == single : closeEnough(plane, single), "\(path): \(plane) vs \(single)")
                    count += alone.count
                }
            }
            #expect(planes.count == count)
            let kept = t.filter { $0 != Double(ignoreIndex) }
            #expect(planes.weightSum == kept.map { weight.data[Int($0)] }.reduce(0, +))
        }
    }

    @Test func aTargetThatIsNoClassIndexIsNamedWhereverItLiesInAPlane() {
        let bad: [Double] = [4, 1.5, .nan, -1, 2.000001]
        for position in 0..<10 {
            var targets: [Double] = [0, 1, 2, 3, 2, 1, 0, 3, 2, 1]
            targets[position] = bad[position % bad.count]
            let message = errorMessage { () throws(LossError) in
                try CrossEntropy(ignoreIndex: 2)(
                    predictions: tensor([2, 4, 5], [Double](repeating: 0.25, count: 40)), targets: tensor([2, 5], targets))
            }
            let value = formatNumber(bad[position % bad.count])
            let reason = value == "4" || value == "-1" ? "is out of range for 4 classes" : "is not a class index (an integer)"
            #expect(message == "targets[\(position / 5)][\(position % 5)] = \(value) \(reason)")
        }
    }

    @Test func aNaNLogitMakesItsPixelsLossNaNUnlessThePixelIsIgnored() throws {
        for layout in [[1, 3, 5], [5, 3]] {
            let planes = layout.count == 3
            var x = [Double](repeating: 0.5, count: 15)
            for position in [1, 2] { x[planes ? position : position * 3] = .nan }  // pixels 1 and 2, class 0
            let result = try CrossEntropy(ignoreIndex: 2, reduction: .none)(
                predictions: tensor(layout, x), targets: tensor(planes ? [1, 5] : [5], [0, 1, 2, 0, 1]))
            #expect(closeEnough(result.loss.data[0], 1.0986122886681098))  // log 3
            #expect(result.loss.data[1].isNaN)
            #expect(result.loss.data[2] == 0)
        }
    }
}
