import Losses
import Testing
import TestSupport

/// The kernel builds (KernelPath) against each other: the AVX2 build computes each lane
/// as the baseline does and sums in the same order, so MSE agrees bit for bit; the
/// segmentation cross entropy's and BCE with logits' exp and log use fused multiply-adds there,
/// so their losses agree within the golden tolerance (and its counts and weight sums exactly). Against
/// PyTorch each build is checked on its own in GoldenFixtureTests and HardCaseTests.
/// Scores with `score` on the baseline path and then on every supported path, and expects the
/// same loss shape, every element within the golden tolerance, and the count and weight sum bit for bit.
private func expectEveryPathAgreesWithBaseline(_ label: String, _ score: () throws -> LossResult) throws {
    let baseline = try KernelPath.$forced.withValue(.baseline) { try score() }
    for path in KernelPath.supported {
        let other = try KernelPath.$forced.withValue(path) { try score() }
        #expect(other.loss.shape == baseline.loss.shape)
        for (index, (a, b)) in zip(other.loss.data, baseline.loss.data).enumerated() {
            #expect(closeEnough(a, b), "\(path) \(label) element \(index): \(a) vs baseline \(b)")
        }
        #expect(other.count == baseline.count && other.weightSum.bitPattern == baseline.weightSum.bitPattern)
    }
}

@Suite struct KernelPathTests {
    @Test func baselineIsAlwaysSupportedAndListedFirst() {
        #expect(KernelPath.baseline.isSupported)
        #expect(KernelPath.supported.first == .baseline)
        #expect(KernelPath.supported.contains(KernelPath.detected))
    }

    @Test func forcingAPathChangesTheCurrentOneForTheTaskOnly() {
        for path in KernelPath.supported {
            KernelPath.$forced.withValue(path) { #expect(KernelPath.current == path) }
        }
        #expect(KernelPath.current == KernelPath.detected)
    }

    /// Widths 1...9 leave every remainder of the lane count; 255 is an ignored target, 7 no class.
    @Test(arguments: [
        [1, 3, 1, 1], [1, 3, 2, 1], [2, 4, 3, 1], [1, 10, 5, 1], [3, 5, 7, 1], [2, 2, 8, 1], [1, 7, 9, 1],
        [4, 10, 25, 20], [2, 5, 64, 64], [1, 1, 6, 1], [2, 3, 300, 1],
    ])
    func segmentationCrossEntropyAgreesWithinTheGoldenToleranceOnEveryPath(_ shape: [Int]) throws {
        var generator = SplitMix64(seed: UInt64(shape.reduce(1, *)))
        let (batch, classes) = (shape[0], shape[1])
        let pixels = shape[2] * shape[3]
        let logits = (0..<(batch * classes * pixels)).map { _ in Double.random(in: -30...30, using: &generator) }
        let targets = (0..<(batch * pixels)).map { _ in
            Int.random(in: 0..<10, using: &generator) == 0 ? 255 : Double(Int.random(in: 0..<classes, using: &generator))
        }
        let weight = tensor([classes], (0..<classes).map { _ in Double.random(in: 0.5...2, using: &generator) })
        let predictions = tensor(shape, logits), indices = tensor([batch] + shape[2...], targets)
        for reduction in [Reduction.none, .mean, .sum] {
            let loss = CrossEntropy(weight: weight, ignoreIndex: 255, reduction: reduction)
            try expectEveryPathAgreesWithBaseline("\(reduction)") { try loss(predictions: predictions, targets: indices) }
        }
    }

    /// Lengths around the block length (2048) and the lane counts; every reduction, with and without weight.
    @Test(arguments: [1, 3, 4, 5, 2047, 2048, 2049, 10_001])
    func meanSquaredErrorIsBitForBitTheSameOnEveryPath(_ count: Int) throws {
        var generator = SplitMix64(seed: UInt64(count))
        func values(_ range: ClosedRange<Double>) -> Tensor {
            tensor([count], (0..<count).map { _ in Double.random(in: range, using: &generator) })
        }
        let (predictions, targets, weight) = (values(-1e3...1e3), values(-1...1), values(0...2))
        for reduction in [Reduction.none, .mean, .sum] {
            for loss in [MeanSquaredError(reduction: reduction), MeanSquaredError(weight: weight, reduction: reduction)] {
                let baseline = try KernelPath.$forced.withValue(.baseline) { try loss(predictions: predictions, targets: targets) }
                // Scored from the differences (as a folded request is), the same bits too.
                let differences = Differences(
                    data: zip(predictions.data, targets.data).map { $0 - $1 }, predictionsShape: [count], targetsShape: [count])
                for path in KernelPath.supported {
                    let other = try KernelPath.$forced.withValue(path) { try loss(predictions: predictions, targets: targets) }
                    #expect(other.loss.data.map(\.bitPattern) == baseline.loss.data.map(\.bitPattern), "\(path) \(reduction)")
                    #expect(other.weightSum.bitPattern == baseline.weightSum.bitPattern)
                    let folded = try KernelPath.$forced.withValue(path) { try loss(differences: differences) }
                    #expect(folded.loss.data.map(\.bitPattern) == baseline.loss.data.map(\.bitPattern), "\(path) \(reduction) from differences")
                    #expect(folded.loss.shape == baseline.loss.shape && folded.count == baseline.count)
                    #expect(folded.weightSum.bitPattern == baseline.weightSum.bitPattern)
                }
            }
        }
    }

    /// Lengths around the block length (2048) and the lane counts, logits out to ±800 (subnormal
    /// e^-|x| kept), soft targets; without weights, and with a weight and a broadcast pos_weight.
    @Test(arguments: [1, 3, 4, 5, 7, 2047, 2048, 2049, 10_001])
    func bceWithLogitsAgreesWithinTheGoldenToleranceOnEveryPath(_ count: Int) throws {
        var generator = SplitMix64(seed: UInt64(count) &+ 7)
        let logits = (0..<count).map { i in
            i % 5 == 0 ? Double.random(in: -800...800, using: &generator) : Double.random(in: -20...20, using: &generator)
        }
        let targets = (0..<count).map { i in i % 3 == 0 ? Double(i % 2) : Double.random(in: 0...1, using: &generator) }
        let predictions = tensor([count, 1], logits), labels = tensor([count, 1], targets)
        let weight = tensor([count, 1], (0..<count).map { _ in Double.random(in: 0...2, using: &generator) })
        let posWeight = tensor([1], [Double.random(in: 0.5...3, using: &generator)])
        for reduction in [Reduction.none, .mean, .sum] {
            for loss in [
                BinaryCrossEntropy(fromLogits: true, reduction: reduction),
                BinaryCrossEntropy(weight: weight, posWeight: posWeight, fromLogits: true, reduction: reduction),
            ] {
                try expectEveryPathAgreesWithBaseline("\(reduction)") { try loss(predictions: predictions, targets: labels) }
            }
        }
    }

    @Test func aBCETargetOutsideTheUnitIntervalIsNamedOnEveryPath() {
        let predictions = tensor([6], [0, 1, -2, 3, 4, 5])
        let targets = tensor([6], [0, 1, 0.5, 1, 1.5, 0])
        for path in KernelPath.supported {
            let message = KernelPath.$forced.withValue(path) {
                errorMessage { () throws(LossError) in
                    try BinaryCrossEntropy(fromLogits: true)(predictions: predictions, targets: targets)
                }
            }
            #expect(message?.contains("1.5") == true, "\(path): \(message ?? "no error")")
        }
    }

    @Test func aTargetThatIsNoClassIndexIsNamedOnEveryPath() {
        let predictions = tensor([1, 3, 5, 1], (0..<15).map(Double.init))
        let indices = tensor([1, 5, 1], [0, 1, 2, 1, 7])
        for path in KernelPath.supported {
            let message = KernelPath.$forced.withValue(path) {
                errorMessage { () throws(LossError) in try CrossEntropy()(predictions: predictions, targets: indices) }
            }
            #expect(message?.contains("7") == true, "\(path): \(message ?? "no error")")
        }
    }
}
