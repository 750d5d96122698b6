import Foundation
import Losses

/// One case of `Fixtures/golden.json` or `Fixtures/golden_more.json`: inputs,
/// options and PyTorch's float64 answer, written by `scripts/make_golden.py` and
/// `scripts/make_golden_more.py`.
struct GoldenCase: Decodable, Sendable, CustomStringConvertible {
    struct Expected: Decodable, Sendable {
        var loss: Tensor
        var count: Int
        var weightSum: Double

        enum CodingKeys: String, CodingKey {
            case loss, count
            case weightSum = "weight_sum"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            loss = try container.decode(FixtureTensor.self, forKey: .loss).tensor
            count = try container.decode(Int.self, forKey: .count)
            weightSum = try container.decode(FixtureNumber.self, forKey: .weightSum).value
        }
    }

    var name: String
    var loss: String
    var predictions: Tensor
    var targets: Tensor
    var weight: Tensor?
    var posWeight: Tensor?
    var ignoreIndex: Int
    var labelSmoothing: Double
    var fromLogits: Bool?
    var beta: Double?
    var delta: Double?
    var logTarget: Bool
    var reduction: Reduction
    /// The reduction as the fixture names it (`batchmean` for kl, which `reduction` reads as `mean`).
    var reductionName: String
    var expected: Expected

    var description: String { name }

    enum CodingKeys: String, CodingKey {
        case name, loss, predictions, targets, weight, reduction, expected, beta, delta
        case logTarget = "log_target"
        case posWeight = "pos_weight"
        case ignoreIndex = "ignore_index"
        case labelSmoothing = "label_smoothing"
        case fromLogits = "from_logits"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        loss = try container.decode(String.self, forKey: .loss)
        predictions = try container.decode(FixtureTensor.self, forKey: .predictions).tensor
        targets = try container.decode(FixtureTensor.self, forKey: .targets).tensor
        weight = try container.decodeIfPresent(FixtureTensor.self, forKey: .weight)?.tensor
        posWeight = try container.decodeIfPresent(FixtureTensor.self, forKey: .posWeight)?.tensor
        ignoreIndex = try container.decodeIfPresent(Int.self, forKey: .ignoreIndex) ?? -100
        labelSmoothing = try container.decodeIfPresent(Double.self, forKey: .labelSmoothing) ?? 0
        fromLogits = try container.decodeIfPresent(Bool.self, forKey: .fromLogits)
        beta = try container.decodeIfPresent(FixtureNumber.self, forKey: .beta)?.value
        delta = try container.decodeIfPresent(FixtureNumber.self, forKey: .delta)?.value
        logTarget = try container.decodeIfPresent(Bool.self, forKey: .logTarget) ?? false
        reductionName = try container.decode(String.self, forKey: .reduction)
        guard let reduction = Reduction(rawValue: reductionName == "batchmean" ? "mean" : reductionName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .reduction, in: container, debugDescription: "unknown reduction \(reductionName)")
        }
        self.reduction = reduction
        expected = try container.decode(Expected.self, forKey: .expected)
    }

    /// Runs the case through the loss it names.
    func run() throws(LossError) -> LossResult {
        switch loss {
        case "ce":
            let loss = CrossEntropy(
                weight: weight, ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing,
                fromLogits: fromLogits ?? true, reduction: reduction)
            return try loss(predictions: predictions, targets: targets)
        case "bce":
            let loss = BinaryCrossEntropy(
                weight: weight, posWeight: posWeight, fromLogits: fromLogits ?? false, reduction: reduction)
            return try loss(predictions: predictions, targets: targets)
        case "mse":
            return try MeanSquaredError(weight: weight, reduction: reduction)(predictions: predictions, targets: targets)
        case "l1":
            return try L1Loss(weight: weight, reduction: reduction)(predictions: predictions, targets: targets)
        case "smooth_l1":
            let loss = SmoothL1Loss(beta: beta ?? 1, weight: weight, reduction: reduction)
            return try loss(predictions: predictions, targets: targets)
        case "huber":
            let loss = HuberLoss(delta: delta ?? 1, weight: weight, reduction: reduction)
            return try loss(predictions: predictions, targets: targets)
        case "nll":
            let loss = NegativeLogLikelihood(weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
            return try loss(predictions: predictions, targets: targets)
        case "kl":
            guard let klReduction = KLDivergenceReduction(rawValue: reductionName) else {
                throw LossError("the fixture names an unknown kl reduction \(reductionName)")
            }
            return try KLDivergence(logTarget: logTarget, reduction: klReduction)(predictions: predictions, targets: targets)
        default:
            throw LossError("the fixture names an unknown loss \(loss)")
        }
    }

    /// Every case of `golden.json` (CE, BCE, MSE).
    static let all: [GoldenCase] = load("golden")

    /// Every case of `golden_more.json` (the losses added after the first three).
    static let more: [GoldenCase] = load("golden_more")

    /// The cases of `Fixtures/<name>.json`, or none when it does not load (a test counts them).
    private static func load(_ name: String) -> [GoldenCase] {
        // JSONDecoder reads doubles correctly rounded (JSONSerialization on Linux does not).
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
            let data = try? Data(contentsOf: url),
            let file = try? JSONDecoder().decode(GoldenFile.self, from: data)
        else { return [] }
        return file.cases
    }
}

/// The fixture file: its provenance and its cases.
struct GoldenFile: Decodable {
    var generator: String
    var torchVersion: String
    var seed: Int
    var cases: [GoldenCase]

    enum CodingKeys: String, CodingKey {
        case generator, seed, cases
        case torchVersion = "torch_version"
    }
}

/// A fixture tensor, `{"shape": [...], "data": [...]}`, or `{"shape": [...], "pattern": [...]}`
/// for the pattern repeated to fill the shape (hard_cases.json's 10^6-element tensors).
struct FixtureTensor: Decodable {
    var tensor: Tensor

    enum CodingKeys: String, CodingKey { case shape, data, pattern }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let shape = try container.decode([Int].self, forKey: .shape)
        if let pattern = try container.decodeIfPresent([FixtureNumber].self, forKey: .pattern)?.map(\.value) {
            let count = shape.reduce(1, *)
            guard !pattern.isEmpty, count % pattern.count == 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .pattern, in: container,
                    debugDescription: "a pattern of \(pattern.count) does not tile shape \(shape)")
            }
            tensor = try Tensor(shape: shape, data: Array([[Double]](repeating: pattern, count: count / pattern.count).joined()))
            return
        }
        let data = try container.decode([FixtureNumber].self, forKey: .data).map(\.value)
        tensor = try Tensor(shape: shape, data: data)
    }
}

/// A fixture number: a JSON number, or `"nan"`, `"inf"`, `"-inf"`.
struct FixtureNumber: Decodable {
    var value: Double

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        switch try container.decode(String.self) {
        case "nan": value = .nan
        case "inf": value = .infinity
        case "-inf": value = -.infinity
        case let other:
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number: \(other)")
        }
    }
}
