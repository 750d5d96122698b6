import Foundation
import Losses
import Testing

/// Our answers against the exact losses of numerically hard inputs (logits at
/// ±700, probabilities of 1e-300 and 1 - 1e-16, a dominant logit, sums of
/// 10^6 terms), computed in mpmath by `scripts/make_hard_cases.py`.
@Suite struct HardCaseTests {
    /// The bound, in units in the last place of the exact value, for every element and every
    /// reduction (the reductions' compensated sums keep 10^6 terms within it too).
    static let ulpBound = 4.0
    /// Besides: an absolute error of 64 least subnormals (3.2e-322). A subnormal e^-|x|
    /// (|x| > 708.39) is rounded to the subnormals' spacing, and a weight of 70 scales that
    /// rounding to 35 spacings (x = 730, weight 7, pos_weight 10: 24 spacings).
    static let subnormalSlack = 64 * Double.leastNonzeroMagnitude

    @Test func fixtureFileLoadsWithHardCasesOfEveryLossAndReduction() {
        let cases = HardCaseFile.cases
        #expect(cases.count >= 40)
        for loss in ["ce", "bce", "mse"] {
            #expect(cases.contains { $0.loss == loss }, "no \(loss) cases")
        }
        for reduction in [Reduction.none, .mean, .sum] {
            #expect(cases.contains { $0.reduction == reduction }, "no \(reduction) cases")
        }
        #expect(cases.contains { $0.predictions.count == 1_000_000 }, "no sum of 10^6 terms")
    }

    @Test(arguments: HardCaseFile.cases, KernelPath.supported)
    func matchesTheExactLossWithinFourUlps(_ hard: GoldenCase, path: KernelPath) throws {
        let result = try KernelPath.$forced.withValue(path) { try hard.run() }
        #expect(result.loss.shape == hard.expected.loss.shape)
        #expect(result.count == hard.expected.count)
        #expect(ulps(result.weightSum, from: hard.expected.weightSum) <= Self.ulpBound, "weight_sum")
        guard result.loss.shape == hard.expected.loss.shape else { return }
        var worst = (ulps: 0.0, index: 0)
        for (index, (actual, expected)) in zip(result.loss.data, hard.expected.loss.data).enumerated() {
            let distance = abs(actual - expected) <= Self.subnormalSlack ? 0 : ulps(actual, from: expected)
            if !(distance <= worst.ulps) { worst = (distance, index) }
        }
        let index = worst.index
        #expect(
            worst.ulps <= Self.ulpBound,
            "element \(index) (prediction \(hard.predictions.data[index % hard.predictions.count])): \(result.loss.data[index]) vs exact \(hard.expected.loss.data[index]), \(worst.ulps) ulps")
    }

    @Test func bceWithLogitsKeepsTheLossOfAConfidentCorrectLogit() throws {
        // ATen's (1 - t)·x + log1p(e^-|x|) + max(-x, 0) gives -700 + 700 = 0 here.
        let loss = try BinaryCrossEntropy(fromLogits: true, reduction: .none)(
            predictions: tensor([2], [-700, 700]), targets: tensor([2], [0, 1]))
        let exact = 9.85967654375977e-305  // e^-700
        #expect(loss.loss.data.allSatisfy { ulps($0, from: exact) <= 2 }, "\(loss.loss.data)")
    }
}

/// |actual - expected| in units in the last place of `expected` (of the smallest subnormal
/// for 0, so a zero must be met exactly); NaN matches NaN, infinities match exactly.
func ulps(_ actual: Double, from expected: Double) -> Double {
    if expected.isNaN { return actual.isNaN ? 0 : .infinity }
    if expected.isInfinite { return actual == expected ? 0 : .infinity }
    return abs(actual - expected) / expected.ulp
}

/// `Fixtures/hard_cases.json`: its provenance and its cases (the format of golden.json's,
/// with `pattern` tensors for the 10^6-element inputs).
struct HardCaseFile: Decodable {
    var generator: String
    var mpmathVersion: String
    var digits: Int
    var cases: [GoldenCase]

    enum CodingKeys: String, CodingKey {
        case generator, digits, cases
        case mpmathVersion = "mpmath_version"
    }

    /// Every case of the committed file.
    static let cases: [GoldenCase] = {
        guard let url = Bundle.module.url(forResource: "hard_cases", withExtension: "json", subdirectory: "Fixtures"),
            let data = try? Data(contentsOf: url),
            let file = try? JSONDecoder().decode(HardCaseFile.self, from: data)
        else { return [] }
        return file.cases
    }()
}
