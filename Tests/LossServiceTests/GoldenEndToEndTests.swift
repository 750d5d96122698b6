import Foundation
import Testing
@testable import LossService

/// The PyTorch golden cases (Tests/LossesTests/Fixtures/golden.json, made by
/// scripts/make_golden.py with torch in float64), each sent over loopback as
/// a request body and checked against PyTorch's numbers: loss, shape, count,
/// weight_sum. The numbers never come from our own output.
@Suite struct GoldenEndToEndTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../LossesTests/Fixtures/golden.json").standardized

    static func cases() throws -> [TestJSON] {
        let root = try TestJSON.parse(Array(try Data(contentsOf: fixture)))
        return try #require(root["cases"]?.array)
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

    /// Within 1e-12 relative or 1e-15 absolute (the Losses tests' own bound);
    /// a non-finite expectation must come back as null.
    static func matches(_ actual: TestJSON?, _ expected: Double) -> Bool {
        guard expected.isFinite else { return actual == .null }
        guard let actual = actual?.double else { return false }
        return abs(actual - expected) <= max(1e-15, 1e-12 * abs(expected))
    }

    @Test("every PyTorch golden case gets PyTorch's answer over HTTP")
    func goldenCases() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()  // one keep-alive connection for all of them
        var checked = 0
        for fixtureCase in try Self.cases() {
            let name = fixtureCase["name"]?.string ?? "?"
            let loss = try #require(fixtureCase["loss"]?.string)
            let request = fixtureCase.removing(["name", "loss", "expected"])
            let response = try client.post("/loss/\(loss)", request.text)
            try #require(response.status == 200, "\(name): \(response.status) \(response.text)")
            let body = try TestJSON.parse(response.body)
            let expected = try #require(fixtureCase["expected"])
            let shape = try #require(expected["loss"]?["shape"]?.array).compactMap(\.int)
            let data = try #require(expected["loss"]?["data"]?.array).compactMap(Self.number)

            #expect(body["shape"]?.array?.compactMap(\.int) == shape, "\(name)")
            #expect(body["reduction"] == request["reduction"], "\(name)")
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
        #expect(checked > 700)
    }
}
