import Losses
import Testing
import TestSupport

/// Our answers against PyTorch's own, case by case (`scripts/make_golden.py`).
@Suite struct GoldenFixtureTests {
    @Test func fixtureFileLoadsWithHundredsOfCasesOfEveryLoss() {
        let cases = GoldenCase.all
        #expect(cases.count >= 500)
        for loss in ["ce", "bce", "mse"] {
            #expect(cases.contains { $0.loss == loss }, "no \(loss) cases")
        }
    }

    @Test func moreFixtureFileLoadsWithCasesOfEveryNewLoss() {
        let cases = GoldenCase.more
        #expect(cases.count >= 200)
        for loss in Self.newLosses {
            #expect(cases.contains { $0.loss == loss }, "no \(loss) cases")
        }
    }

    /// The losses of `golden_more.json`.
    static let newLosses = ["l1", "smooth_l1", "huber", "nll", "kl"]

    /// Through every kernel build this CPU runs (KernelPath): each must match PyTorch on its own.
    @Test(arguments: GoldenCase.all, KernelPath.supported)
    func matchesPyTorchWithin1e12Relative(_ golden: GoldenCase, path: KernelPath) throws {
        try KernelPath.$forced.withValue(path) { try Self.check(golden) }
    }

    @Test(arguments: GoldenCase.more)
    func newLossesMatchPyTorchWithin1e12Relative(_ golden: GoldenCase) throws {
        try Self.check(golden)
    }

    static func check(_ golden: GoldenCase) throws {
        let result = try golden.run()
        #expect(result.reduction == golden.reduction)
        #expect(result.loss.shape == golden.expected.loss.shape)
        #expect(result.count == golden.expected.count)
        #expect(closeEnough(result.weightSum, golden.expected.weightSum), "weight_sum")
        guard result.loss.shape == golden.expected.loss.shape else { return }
        for (index, (actual, expected)) in zip(result.loss.data, golden.expected.loss.data).enumerated() {
            #expect(closeEnough(actual, expected), "element \(index): \(actual) vs PyTorch \(expected)")
        }
    }
}
