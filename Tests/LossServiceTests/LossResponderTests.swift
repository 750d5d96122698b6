import Foundation
import HTTP
import Testing
@testable import LossService
@testable import TensorJSON

/// The JSON object in a response body.
func jsonObject(_ response: Response) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
}

@Suite struct LossResponderTests {
    let harness = ResponderHarness()

    @Test("the tensor limit defaults to the default body limit, and the decoder's default agrees")
    func tensorLimitDefault() {
        #expect(LossResponder().maxTensorBytes == Limits().maxBodyBytes)
        #expect(TensorDecoder.defaultMaxTensorBytes == Limits().maxBodyBytes)
    }

    @Test("MSE of [1, 2] against [0, 0] is 2.5 (hand-computed)")
    func mseByHand() throws {
        let response = harness.post("/loss/mse", #"{"predictions": [1, 2], "targets": [0, 0]}"#)
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "application/json")
        let object = try jsonObject(response)
        #expect(object["loss"] as? Double == 2.5)
        #expect(object["reduction"] as? String == "mean")
        #expect(object["shape"] as? [Int] == [])
        #expect(object["count"] as? Int == 2)
        #expect(object["weight_sum"] as? Double == 2)
        #expect(object.count == 5)
    }

    @Test("reduction none returns the per-element losses in the predictions' shape")
    func mseNone() throws {
        let response = harness.post("/loss/mse", #"{"predictions": [[1, 2], [3, 4]], "targets": [[0, 0], [0, 0]], "reduction": "none"}"#)
        let object = try jsonObject(response)
        #expect(object["loss"] as? [[Double]] == [[1, 4], [9, 16]])
        #expect(object["reduction"] as? String == "none")
        #expect(object["shape"] as? [Int] == [2, 2])
        #expect(object["count"] as? Int == 4)
        #expect(object["weight_sum"] as? Double == 4)
    }

    @Test("a weighted MSE mean divides by the weight sum: (1·1 + 3·4) / 4 = 3.25")
    func mseWeighted() throws {
        let response = harness.post("/loss/mse", #"{"predictions": [1, 2], "targets": [0, 0], "weight": [1, 3]}"#)
        let object = try jsonObject(response)
        #expect(object["loss"] as? Double == 3.25)
        #expect(object["weight_sum"] as? Double == 4)
    }

    @Test("CE with all targets ignored is NaN in PyTorch, written as null")
    func ceAllIgnored() throws {
        let response = harness.post("/loss/ce", #"{"predictions": [[1, 2]], "targets": [-100]}"#)
        #expect(response.status == .ok)
        let object = try jsonObject(response)
        #expect(object["loss"] is NSNull)
        #expect(object["nonfinite"] as? String == "nan")
        #expect(object["count"] as? Int == 0)
    }

    @Test("an MSE that overflows is infinite in PyTorch: null here, with nonfinite \"inf\"")
    func mseOverflow() throws {
        let response = harness.post("/loss/mse", #"{"predictions": [1e200, 0], "targets": [0, 0]}"#)
        #expect(response.status == .ok)
        let object = try jsonObject(response)
        #expect(object["loss"] is NSNull)
        #expect(object["nonfinite"] as? String == "inf")
    }

    @Test("with reduction none, nonfinite lists the kind of each null in row-major order; finite answers have none")
    func nonfiniteElements() throws {
        let response = harness.post(
            "/loss/mse", #"{"predictions": [[1e200, 1], [0, -1e200]], "targets": [[0, 0], [0, 0]], "reduction": "none"}"#)
        let object = try jsonObject(response)
        #expect(object["nonfinite"] as? [String] == ["inf", "inf"])
        let finite = try jsonObject(harness.post("/loss/mse", #"{"predictions": [1, 2], "targets": [0, 0], "reduction": "none"}"#))
        #expect(finite["nonfinite"] == nil)
    }

    @Test("BCE of p = 0.5 against any target is ln 2")
    func bceHalf() throws {
        let response = harness.post("/loss/bce", #"{"predictions": [0.5, 0.5], "targets": [0, 1]}"#)
        let loss = try #require(try jsonObject(response)["loss"] as? Double)
        #expect(abs(loss - log(2.0)) <= 1e-15)
    }

    @Test("the health routes answer exactly their status bodies", arguments: [
        ("/livez", #"{"status":"ok"}"#), ("/healthz", #"{"status":"ok"}"#), ("/readyz", #"{"status":"ready"}"#),
    ])
    func health(path: String, body: String) {
        let response = harness.call(.get, path)
        #expect(response.status == .ok)
        #expect(response.text == body)
        #expect(response.headers["Content-Type"] == "application/json")
    }

    @Test("readyz answers 503 draining once a drain began; livez stays ok")
    func draining() {
        let readiness = Readiness()
        let harness = ResponderHarness(LossResponder(readiness: readiness))
        #expect(harness.call(.get, "/readyz").status == .ok)
        readiness.beginDraining()
        let response = harness.call(.get, "/readyz")
        #expect(response.status == .serviceUnavailable)
        #expect(response.text == #"{"status":"draining"}"#)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(harness.call(.get, "/livez").text == #"{"status":"ok"}"#)
    }

    @Test("/metrics says lossd_ready 1 until a drain begins, then 0, as /readyz does")
    func readyGauge() {
        let readiness = Readiness()
        let harness = ResponderHarness(LossResponder(readiness: readiness, metrics: ServiceMetrics(includeProcessMetrics: false)))
        let ready = harness.call(.get, "/metrics").text
        #expect(ready.contains("# TYPE lossd_ready gauge\nlossd_ready 1\n"), "\(ready)")
        readiness.beginDraining()
        let draining = harness.call(.get, "/metrics").text
        #expect(draining.contains("\nlossd_ready 0\n"), "\(draining)")
        #expect(!draining.contains("\nlossd_ready 1\n"))
    }

    @Test("/metrics is Prometheus text and counts earlier requests")
    func metrics() {
        _ = harness.post("/loss/mse", #"{"predictions": [1, 2, 3], "targets": [0, 0, 0]}"#)
        _ = harness.call(.get, "/nowhere")
        let response = harness.call(.get, "/metrics")
        #expect(response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
        let lines = Set(response.text.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"lossd_http_requests_total{method="POST",route="/loss/mse",status="200"} 1"#))
        #expect(lines.contains(#"lossd_http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
        #expect(lines.contains(#"lossd_loss_elements_total{loss="mse"} 3"#))
        // The scrape itself is in flight while it renders.
        #expect(lines.contains("lossd_http_requests_in_flight 1"))
    }

    @Test("/openapi.yaml serves the embedded document")
    func openAPI() {
        let response = harness.call(.get, "/openapi.yaml")
        #expect(response.status == .ok)
        #expect(response.text == OpenAPIDocument.text)
        #expect(response.headers["Content-Type"] == "application/yaml")
    }

    @Test("an unknown path is a 404 problem")
    func notFound() throws {
        let response = harness.call(.get, "/loss/hinge")
        #expect(response.status == .notFound)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let object = try jsonObject(response)
        #expect(object["status"] as? Int == 404)
        #expect(object["type"] as? String == "about:blank")
        #expect(object["title"] as? String == "Not Found")
        #expect((object["detail"] as? String)?.contains("/loss/hinge") == true)
    }

    @Test("a wrong method on a known path is a 405 problem with Allow", arguments: [
        (Method.get, "/loss/ce", "POST, OPTIONS"), (.put, "/loss/mse", "POST, OPTIONS"),
        (.post, "/livez", "GET, HEAD, OPTIONS"), (.delete, "/metrics", "GET, HEAD, OPTIONS"),
    ])
    func methodNotAllowed(method: Method, path: String, allow: String) throws {
        let response = harness.call(method, path)
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == allow)
        #expect(try jsonObject(response)["status"] as? Int == 405)
    }

    @Test("a loss POST without a JSON content type is a 415 problem", arguments: [nil, "text/plain", "application/xml"])
    func unsupportedMediaType(contentType: String?) throws {
        var headers = Headers()
        if let contentType { headers.add("Content-Type", contentType) }
        let response = harness.call(.post, "/loss/ce", headers: headers, body: #"{"predictions": 1, "targets": 0}"#)
        #expect(response.status == .unsupportedMediaType)
        #expect(try jsonObject(response)["status"] as? Int == 415)
    }

    @Test("malformed JSON is a 400 whose detail names the byte offset, found while streaming")
    func malformed() throws {
        let response = harness.post("/loss/mse", #"{"predictions": [1, 2,], "targets": [0, 0]}"#, chunk: 3)
        #expect(response.status == .badRequest)
        let detail = try #require(try jsonObject(response)["detail"] as? String)
        #expect(detail.contains("byte 22"), "\(detail)")
    }

    @Test("the body handler answers 400 at the first malformed chunk, before the rest arrives")
    func stopsEarly() throws {
        let reply = harness.responder.respond(to: RequestHead(
            method: .post, target: "/loss/ce", version: .http1_1, headers: ["Content-Type": "application/json"]))
        guard case .body(let handler) = reply else {
            Issue.record("expected a body handler")
            return
        }
        let first = Array(#"{"predictions": [1, 2"#.utf8).withUnsafeBytes { handler.consume($0) }
        #expect(first == nil)
        let second = Array(#", oops"#.utf8).withUnsafeBytes { handler.consume($0) }
        #expect(second?.status == .badRequest)
        #expect(second.map { String(decoding: $0.body, as: UTF8.self) }?.contains("byte 23") == true)
    }

    @Test("an empty body is malformed JSON at byte 0")
    func emptyBody() throws {
        let response = harness.post("/loss/mse", "")
        #expect(response.status == .badRequest)
        #expect((try jsonObject(response)["detail"] as? String)?.contains("byte 0") == true)
    }

    @Test("valid JSON that is no valid request is a 422 with the reason", arguments: [
        (#"{"predictions": [1], "targets": [0], "reduce": "sum"}"#, "unknown member 'reduce'"),
        (#"{"predictions": [1]}"#, "missing required member 'targets'"),
        (#"{"predictions": [1], "targets": [0], "reduction": "avg"}"#, "'reduction' must be"),
        (#"{"predictions": [[1, 2], [3]], "targets": [0, 0]}"#, "predictions"),
        (#"{"predictions": [1, 2], "targets": [0, 0, 0]}"#, "shape"),
        (#"{"predictions": [], "targets": []}"#, "empty"),
        (#"{"predictions": [1e400], "targets": [0]}"#, "out of range"),
        (#"{"predictions": [1], "targets": [0], "predictions": [2]}"#, "predictions"),
    ])
    func unprocessable(body: String, fragment: String) throws {
        let response = harness.post("/loss/mse", body)
        #expect(response.status == .unprocessableContent, "\(response.text)")
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let detail = try #require(try jsonObject(response)["detail"] as? String)
        #expect(detail.contains(fragment), "\(detail)")
    }

    @Test("a loss error from the loss itself is a 422 with its message")
    func lossError() throws {
        let response = harness.post("/loss/ce", #"{"predictions": [[1, 2, 3]], "targets": [7]}"#)
        #expect(response.status == .unprocessableContent)
        let detail = try #require(try jsonObject(response)["detail"] as? String)
        #expect(detail.contains("7"), "\(detail)")
    }

    @Test("every response carries Access-Control-Allow-Origin, errors included")
    func corsOnEverything() {
        let origin: Headers = ["Origin": "https://dash.example"]
        #expect(harness.call(.get, "/livez", headers: origin).headers["Access-Control-Allow-Origin"] == "*")
        #expect(harness.call(.get, "/nope", headers: origin).headers["Access-Control-Allow-Origin"] == "*")
        #expect(harness.call(.post, "/loss/ce", headers: origin).headers["Access-Control-Allow-Origin"] == "*")
    }

    @Test("a preflight on a known route is 204 with the CORS headers; on an unknown path 404")
    func preflight() {
        let headers: Headers = ["Origin": "https://dash.example", "Access-Control-Request-Method": "POST",
                                "Access-Control-Request-Headers": "content-type, content-encoding"]
        let response = harness.call(.options, "/loss/bce", headers: headers)
        #expect(response.status == .noContent)
        #expect(response.headers["Access-Control-Allow-Origin"] == "*")
        #expect(response.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS")
        #expect(response.headers["Access-Control-Max-Age"] != nil)
        #expect(harness.call(.options, "/nope", headers: headers).status == .notFound)
    }

    @Test("with an allow-list the matching origin is echoed with Vary: Origin")
    func allowList() {
        let harness = ResponderHarness(LossResponder(cors: CORSPolicy(setting: "https://dash.example")))
        let allowed = harness.call(.get, "/livez", headers: ["Origin": "https://dash.example"])
        #expect(allowed.headers["Access-Control-Allow-Origin"] == "https://dash.example")
        #expect(allowed.headers["Vary"] == "Origin")
        let refused = harness.call(.get, "/livez", headers: ["Origin": "https://other.example"])
        #expect(refused.headers["Access-Control-Allow-Origin"] == nil)
    }

    @Test("the server's own errors get CORS headers through prepare, with no head")
    func prepareWithoutHead() {
        var response = Problem(status: .requestHeaderFieldsTooLarge, detail: "too many").response
        harness.responder.prepare(&response, for: nil)
        #expect(response.headers["Access-Control-Allow-Origin"] == "*")
    }

    @Test("no client can grow the label set: every unknown path is the one route label unmatched")
    func boundedLabels() {
        let metrics = ServiceMetrics(includeProcessMetrics: false)
        let harness = ResponderHarness(LossResponder(metrics: metrics))
        let before = metrics.render().split(separator: "\n").count
        for i in 0..<100 { _ = harness.call(.get, "/probe/\(i)") }
        let after = metrics.render().split(separator: "\n").count
        #expect(after == before + 1)  // one new series: GET, unmatched, 404
        #expect(metrics.requests.value(["GET", "unmatched", "404"]) == 100)
    }

    @Test("a request refused before routing (a 413 on its head) is counted under its method and route, and leaves in-flight alone")
    func rejectedBeforeRouting() {
        let metrics = ServiceMetrics(includeProcessMetrics: false)
        let responder = LossResponder(metrics: metrics)
        let head = RequestHead(method: .post, target: "/loss/ce", version: .http1_1, headers: [:])
        responder.completed(Exchange(head: head, wasRouted: false, status: .contentTooLarge, requestBodyBytes: 0,
                                     responseBodyBytes: 10, duration: 0.01))
        #expect(metrics.requests.value(["POST", "/loss/ce", "413"]) == 1)
        #expect(metrics.inFlight.value == 0)
        // Without a head (malformed HTTP) there is no path to name.
        responder.completed(Exchange(head: nil, wasRouted: false, status: .badRequest, requestBodyBytes: 0,
                                     responseBodyBytes: 10, duration: 0.01))
        #expect(metrics.requests.value(["OTHER", "unmatched", "400"]) == 1)
        #expect(metrics.inFlight.value == 0)
    }
}
