import Losses
import Testing
import TestSupport

/// Random shapes, values and options, valid or not: every call either returns
/// a result of the right shape or throws a LossError; none crashes or hangs.
@Suite struct LossInvariantTests {
    static func randomShape(_ generator: inout SplitMix64, maxRank: Int = 4) -> [Int] {
        (0..<Int.random(in: 0...maxRank, using: &generator)).map { _ in
            Int.random(in: 0...4, using: &generator) == 0 ? Int.random(in: 0...1, using: &generator) : Int.random(in: 1...4, using: &generator)
        }
    }

    static func randomTensor(_ shape: [Int], _ generator: inout SplitMix64) -> Tensor {
        let specials: [Double] = [0, 1, -1, 0.5, 2, 1e300, -1e300, .leastNormalMagnitude / 1024, .nan, .infinity, -.infinity, 3, -100]
        let data = (0..<shape.reduce(1, *)).map { _ in
            Int.random(in: 0...5, using: &generator) == 0
                ? specials.randomElement(using: &generator)!
                : Double.random(in: -2...4, using: &generator).rounded(Bool.random(using: &generator) ? .down : .toNearestOrEven)
        }
        return tensor(shape, data)
    }

    /// One of the predictions' own shape, a nearby one, or (for CE) the shape without the class dimension.
    static func randomTargetsShape(for shape: [Int], _ generator: inout SplitMix64) -> [Int] {
        switch Int.random(in: 0...3, using: &generator) {
        case 0, 1: return shape
        case 2 where shape.count >= 2: return [shape[0]] + shape[2...]
        case 2: return []
        default: return randomShape(&generator)
        }
    }

    static func check(_ result: LossResult, reduction: Reduction, positions: [Int]) {
        if reduction == .none {
            #expect(result.loss.shape == positions)
        } else {
            #expect(result.loss.shape == [])
        }
        #expect(result.count >= 0 && result.count <= max(1, positions.reduce(1, *)))
    }

    @Test func randomInputsGiveAResultOrATypedError() {
        var generator = SplitMix64(seed: 2026)
        var results = 0, errors = 0
        for _ in 0..<3000 {
            let shape = Self.randomShape(&generator)
            let predictions = Self.randomTensor(shape, &generator)
            let targets = Self.randomTensor(Self.randomTargetsShape(for: shape, &generator), &generator)
            let reduction = Reduction.allCases.randomElement(using: &generator)!
            let weight = Bool.random(using: &generator)
                ? Self.randomTensor(Bool.random(using: &generator) ? Array(shape.suffix(1)) : Self.randomShape(&generator, maxRank: 2), &generator)
                : nil
            let fromLogits = Bool.random(using: &generator)
            let ce = CrossEntropy(
                weight: weight, ignoreIndex: [-100, -1, 0, 2].randomElement(using: &generator)!,
                labelSmoothing: [0, 0.1, 1, -0.5, 2].randomElement(using: &generator)!, fromLogits: fromLogits,
                reduction: reduction)
            do {
                let result = try ce(predictions: predictions, targets: targets)
                Self.check(result, reduction: reduction, positions: shape.count == 1 ? [] : [shape[0]] + shape[2...])
                results += 1
            } catch { errors += 1 }
            let bce = BinaryCrossEntropy(
                weight: weight, posWeight: Bool.random(using: &generator) ? weight : nil, fromLogits: fromLogits,
                reduction: reduction)
            do {
                Self.check(try bce(predictions: predictions, targets: targets), reduction: reduction, positions: shape)
                results += 1
            } catch { errors += 1 }
            do {
                let mse = MeanSquaredError(weight: weight, reduction: reduction)
                Self.check(try mse(predictions: predictions, targets: targets), reduction: reduction, positions: shape)
                results += 1
            } catch { errors += 1 }
        }
        // Both outcomes must actually be exercised for the test to mean anything.
        #expect(results > 500)
        #expect(errors > 500)
    }
}
