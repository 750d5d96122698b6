import HTTP
import Testing
@testable import LossService

/// `POST /loss`: many loss requests in one JSON array, answered in order,
/// each with the result its own route gives or a problem of its own.
@Suite struct BatchBodyHandlerTests {
    let harness = ResponderHarness()

    static let ce = #"{"predictions": [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "targets": [0, 2]}"#
    static let kl = #"{"predictions": [[-1.2, -0.9, -1.2], [-0.5, -1.5, -1.9]], "targets": [[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]], "reduction": "batchmean"}"#

    /// `{"loss": name, ...members}` from a single request's body.
    static func element(_ name: String, _ body: String) -> String {
        #"{"loss": "\#(name)", "# + body.dropFirst()
    }

    @Test("each request gets exactly what its own route answers, in order")
    func resultsInOrder() throws {
        let batch = "[" + [Self.element("ce", Self.ce), Self.element("kl", Self.kl), Self.element("ce", Self.ce)]
            .joined(separator: ", ") + "]"
        let response = harness.post("/loss", batch)
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "application/json")
        let ce = harness.post("/loss/ce", Self.ce).text, kl = harness.post("/loss/kl", Self.kl).text
        #expect(response.text == "[\(ce),\(kl),\(ce)]")
    }

    @Test("a refused request is a problem in its place; the others are still answered and the batch is 200")
    func problemsInPlace() throws {
        let batch = "[" + [
            Self.element("mse", #"{"predictions": [1.0], "targets": [0.0]}"#),
            Self.element("mse", #"{"predictions": [1.0], "targets": [0.0], "reduce": "sum"}"#),
            #"{"loss": "nope", "predictions": [1.0], "targets": [0.0]}"#,
            #"{"predictions": [1.0], "targets": [0.0]}"#,
            Self.element("ce", #"{"predictions": [[1.0, 2.0]], "targets": [7]}"#),
            Self.element("mse", #"{"predictions": [[1.0], [2.0, 3.0]], "targets": [0.0]}"#),
            "3",
        ].joined(separator: ",") + "]"
        let response = harness.post("/loss", batch)
        #expect(response.status == .ok)
        let answers = try #require(try TestJSON.parse(response.body).array)
        try #require(answers.count == 7)
        #expect(answers[0]["loss"]?.double == 1)
        for (index, fragment) in [(1, "unknown member 'reduce'"), (2, #"'loss' = \"nope\" is not a loss"#),
                                  (3, "'loss' must name a loss"), (4, "out of range"), (5, "predictions[1]"), (6, "request [6]")] {
            #expect(answers[index]["status"]?.int == 422, "\(index): \(answers[index].text)")
            #expect(answers[index]["type"]?.string == "about:blank")
            let detail = answers[index]["detail"]?.string ?? ""
            #expect(detail.hasPrefix("request [\(index)]: "), "\(detail)")
            #expect(detail.contains(fragment.replacingOccurrences(of: #"\""#, with: "\"")), "\(index): \(detail)")
        }
    }

    @Test("an empty array is answered with an empty array")
    func empty() {
        let response = harness.post("/loss", " [ ] ")
        #expect(response.status == .ok && response.text == "[]")
    }

    @Test("valid JSON that is no array is a 422")
    func notAnArray() {
        let response = harness.post("/loss", Self.element("ce", Self.ce))
        #expect(response.status == .unprocessableContent)
        #expect(response.text.contains("a batch is a JSON array"), "\(response.text)")
    }

    @Test("malformed JSON anywhere is a 400 naming the body's byte offset",
          arguments: [
            (#"[{"loss": "mse", "predictions": [1,], "targets": [0]}]"#, 35),
            (#"[{"loss": "mse", "predictions": [1], "targets": [0]},]"#, 53),
            (#"[{"loss": "mse", "predictions": [1], "targets": [0]}] x"#, 54),
            (#"[{"loss": "mse", "predictions": [1], "targets": [0]} {}]"#, 53),
            (#"[{"loss": "mse""#, 15),
            ("", 0),
          ])
    func malformed(body: String, offset: Int) {
        let response = harness.post("/loss", body)
        #expect(response.status == .badRequest, "\(response.text)")
        #expect(response.text.contains("at byte \(offset)"), "\(body): \(response.text)")
    }

    @Test("more requests than the limit is a 422; a body past its limit is a 413 while it arrives")
    func limits() {
        let many = "[" + Array(repeating: "{}", count: BatchBodyHandler.defaultMaxRequests + 1).joined(separator: ",") + "]"
        let response = harness.post("/loss", many)
        #expect(response.status == .unprocessableContent)
        #expect(response.text.contains("at most \(BatchBodyHandler.defaultMaxRequests) requests"))

        let handler = BatchBodyHandler(metrics: ServiceMetrics(includeProcessMetrics: false), maxBodyBytes: 10)
        let early = Array("[{\"loss\": \"mse\"}]".utf8).withUnsafeBytes { handler.consume($0) }
        #expect(early?.status == .contentTooLarge)
    }

    @Test("the batch is counted under the route /loss and its elements under each loss's label")
    func metrics() {
        _ = harness.post("/loss", "[" + Self.element("ce", Self.ce) + "," + Self.element("kl", Self.kl) + "]")
        let text = harness.call(.get, "/metrics").text
        #expect(text.contains(#"lossd_http_requests_total{method="POST",route="/loss",status="200"} 1"#))
        #expect(text.contains(#"lossd_loss_elements_total{loss="ce"} 6"#))
        #expect(text.contains(#"lossd_loss_elements_total{loss="kl"} 6"#))
    }

    @Test("GET /loss is a 405 that allows POST")
    func methods() {
        let response = harness.call(.get, "/loss")
        #expect(response.status == .methodNotAllowed && response.headers["Allow"] == "POST, OPTIONS")
    }
}
