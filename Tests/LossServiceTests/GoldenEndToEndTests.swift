import Foundation
import Testing
@testable import LossService

/// The golden cases (Tests/LossesTests/Fixtures/golden*.json, made by
/// scripts/make_golden.py and scripts/make_golden_more.py with torch in
/// float64, and image_losses.json, made by scripts/make_image_losses.py from
/// float64 references of torchvision's, MONAI's and TorchMetrics' formulas),
/// each sent over loopback to its declaration's route and checked against the
/// reference's numbers: loss, shape, count, weight_sum. The numbers
/// never come from our own output. The harness is driven by `LossRegistry`:
/// every declared loss must have golden cases, every case must name a
/// declared loss, and every example a declaration shows (in openapi.yaml) has
/// its reference answer in golden_examples.json (scripts/make_golden_examples.py).
@Suite struct GoldenEndToEndTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../LossesTests/Fixtures").standardized
    /// The fixture files, each written by one generator under scripts/.
    static let fixtureFiles = ["golden.json", "golden_more.json", "image_losses.json", "golden_examples.json"]

    static func cases() throws -> [TestJSON] {
        var all: [TestJSON] = []
        for file in fixtureFiles {
            let root = try TestJSON.parse(Array(try Data(contentsOf: fixtures.appendingPathComponent(file))))
            all += try #require(root["cases"]?.array)
        }
        return all
    }

    /// The golden cases of each loss name.
    static func casesByLoss() throws -> [String: [TestJSON]] {
        Dictionary(grouping: try cases()) { $0["loss"]?.string ?? "?" }
    }

    /// The fixture writes non-finite numbers as the strings nan, inf, -inf.
    static func number(_ value: TestJSON) -> Double? {
        switch value {
        case .number(let n): return n
        case .string("nan"): return .nan
        case .string("inf"): return .infinity
        case .string("-inf"): return -.infinity
        default: return nil
        }
    }

    /// Whether a request holds a non-finite number, which JSON cannot carry
    /// (such cases are checked by the Losses tests only).
    static func holdsNonfinite(_ value: TestJSON) -> Bool {
        switch value {
        case .string(let text): return ["nan", "inf", "-inf"].contains(text)
        case .array(let items): return items.contains(where: holdsNonfinite)
        case .object(let members): return members.contains { holdsNonfinite($0.1) }
        default: return false
        }
    }

    /// Within 1e-12 relative or 1e-15 absolute (the Losses tests' own bound);
    /// a non-finite expectation must come back as null.
    static func matches(_ actual: TestJSON?, _ expected: Double) -> Bool {
        guard expected.isFinite else { return actual == .null }
        guard let actual = actual?.double else { return false }
        return abs(actual - expected) <= max(1e-15, 1e-12 * abs(expected))
    }

    @Test("every example of every declaration has its reference answer (rerun scripts/make_golden_examples.py)")
    func everyExampleHasCase() throws {
        let names = Set(try Self.cases().compactMap { $0["name"]?.string })
        for declaration in LossRegistry.all {
            for example in declaration.documentation.examples {
                #expect(names.contains("example \(declaration.name) \(example.name)"),
                        "\(declaration.path)'s example '\(example.name)' has no case in golden_examples.json")
            }
        }
    }

    @Test("every golden case names a declared loss, and every declared loss has golden cases")
    func everyDeclarationHasCases() throws {
        let byLoss = try Self.casesByLoss()
        for name in byLoss.keys { #expect(LossRegistry.named(name) != nil, "golden cases for undeclared loss \(name)") }
        for declaration in LossRegistry.all {
            let sendable = (byLoss[declaration.name] ?? []).filter { !Self.holdsNonfinite($0.removing(["expected"])) }
            #expect(sendable.count >= 20, "\(declaration.name): \(sendable.count) golden cases JSON can carry")
        }
    }

    @Test("every PyTorch golden case gets PyTorch's answer over HTTP, for every declared loss",
          arguments: LossRegistry.all.map(\.name))
    func goldenCases(loss: String) throws {
        let declaration = try #require(LossRegistry.named(loss))
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()  // one keep-alive connection for all of them
        var checked = 0
        for fixtureCase in try Self.casesByLoss()[loss] ?? [] {
            let name = fixtureCase["name"]?.string ?? "?"
            let request = fixtureCase.removing(["name", "loss", "expected"])
            if Self.holdsNonfinite(request) { continue }
            let response = try client.post(declaration.path, request.text)
            try #require(response.status == 200, "\(name): \(response.status) \(response.text)")
            let body = try TestJSON.parse(response.body)
            let expected = try #require(fixtureCase["expected"])
            let shape = try #require(expected["loss"]?["shape"]?.array).compactMap(\.int)
            let data = try #require(expected["loss"]?["data"]?.array).compactMap(Self.number)

            #expect(body["shape"]?.array?.compactMap(\.int) == shape, "\(name)")
            #expect(body["reduction"] == (request["reduction"] ?? .string("mean")), "\(name)")
            #expect(body["count"]?.int == expected["count"]?.int, "\(name)")
            let weightSum = try #require(expected["weight_sum"].flatMap(Self.number))
            #expect(Self.matches(body["weight_sum"], weightSum), "\(name): weight_sum \(body["weight_sum"]?.text ?? "-") vs \(weightSum)")
            let actual = try #require(body["loss"]).flattened
            try #require(actual.count == data.count, "\(name)")
            for (index, (a, e)) in zip(actual, data).enumerated() {
                #expect(Self.matches(a, e), "\(name)[\(index)]: \(a.text) vs PyTorch \(e)")
            }
            checked += 1
        }
        #expect(checked >= 20, "\(loss): only \(checked) golden cases checked")
    }
}
