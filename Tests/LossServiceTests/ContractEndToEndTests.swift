#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import HTTP
import Testing
import TestSupport
@testable import LossService

/// The contract (shared/api-contract.md), endpoint by endpoint and rule by
/// rule, over loopback against a real `Server` and `LossResponder`. Expected
/// numbers are hand-computed or PyTorch's, never our own output.
@Suite struct ContractEndToEndTests {
    /// Checks a problem document (rule 12) and returns its detail.
    @discardableResult
    static func expectProblem(_ response: TestResponse, _ status: Int, _ fragment: String = "",
                              sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        #expect(response.status == status, "\(response.status) \(response.text)", sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
        let body = try TestJSON.parse(response.body)
        #expect(body["type"]?.string == "about:blank", sourceLocation: sourceLocation)
        #expect(body["title"]?.string?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(body["status"]?.int == status, sourceLocation: sourceLocation)
        let detail = try #require(body["detail"]?.string, sourceLocation: sourceLocation)
        if !fragment.isEmpty {
            #expect(detail.contains(fragment), "detail: \(detail)", sourceLocation: sourceLocation)
        }
        #expect(response.header("Access-Control-Allow-Origin") == "*", sourceLocation: sourceLocation)
        return detail
    }

    static func loss(_ response: TestResponse) throws -> TestJSON {
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("Content-Type") == "application/json")
        return try TestJSON.parse(response.body)
    }

    // MARK: Losses and responses

    @Test("MSE of [1, 2] against [0, 0]: 2.5 mean, 5 sum, [1, 4] none")
    func mse() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let mean = try Self.loss(client.post("/loss/mse", #"{"predictions": [1, 2], "targets": [0, 0]}"#))
        #expect(mean["loss"]?.double == 2.5 && mean["count"]?.int == 2 && mean["weight_sum"]?.double == 2)
        #expect(mean["reduction"]?.string == "mean" && mean["shape"]?.array == [])
        let sum = try Self.loss(client.post("/loss/mse", #"{"predictions": [1, 2], "targets": [0, 0], "reduction": "sum"}"#))
        #expect(sum["loss"]?.double == 5)
        let none = try Self.loss(client.post("/loss/mse", #"{"predictions": [1, 2], "targets": [0, 0], "reduction": "none"}"#))
        #expect(none["loss"] == .array([.number(1), .number(4)]) && none["shape"] == .array([.number(2)]))
    }

    @Test("a flat tensor object (KServe layout, datatype and name ignored) equals the nested array")
    func tensorObject() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let body = try Self.loss(try service.client().post("/loss/mse", #"""
            {"predictions": {"shape": [2, 2], "data": [1, 2, 3, 4], "datatype": "FP32", "name": "p"},
             "targets": [[0, 0], [0, 0]], "reduction": "sum"}
            """#))
        #expect(body["loss"]?.double == 30)
    }

    @Test("CE with index targets written 2, 2.0 and 2e0 is the same; 1.5 is a 422 (rule 1)")
    func integralTargets() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        // Uniform logits over 4 classes: the loss is ln 4 whatever the target.
        for target in ["2", "2.0", "2e0"] {
            let body = try Self.loss(client.post("/loss/ce", #"{"predictions": [[0, 0, 0, 0]], "targets": [\#(target)]}"#))
            #expect(abs((body["loss"]?.double ?? 0) - log(4.0)) < 1e-15)
        }
        try Self.expectProblem(client.post("/loss/ce", #"{"predictions": [[0, 0, 0, 0]], "targets": [1.5]}"#), 422)
    }

    @Test("a mean over all-ignored targets is NaN in PyTorch and null here, with count 0 (rules 6, 8)")
    func nullLoss() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let body = try Self.loss(try service.client().post(
            "/loss/ce", #"{"predictions": [[1, 2], [3, 4]], "targets": [-100, -100]}"#))
        #expect(body["loss"] == .null && body["count"]?.int == 0)
        #expect(body["nonfinite"]?.string == "nan")
        let overflow = try Self.loss(try service.client().post(
            "/loss/mse", #"{"predictions": [1e200], "targets": [-1e200], "reduction": "sum"}"#))
        #expect(overflow["loss"] == .null && overflow["nonfinite"]?.string == "inf")
    }

    @Test("numbers that underflow round to 0; numbers that overflow are a 422 (rule 8)")
    func underflowOverflow() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let body = try Self.loss(client.post("/loss/mse", #"{"predictions": [1e-400], "targets": [0]}"#))
        #expect(body["loss"]?.double == 0)
        try Self.expectProblem(client.post("/loss/mse", #"{"predictions": [1e400], "targets": [0]}"#), 422)
        let digits = String(repeating: "9", count: 400)
        try Self.expectProblem(client.post("/loss/mse", #"{"predictions": [\#(digits)], "targets": [0]}"#), 422)
    }

    @Test("member names may use escapes (rule 9)")
    func escapedNames() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let body = try Self.loss(try service.client().post(
            "/loss/mse", #"{"\u0070redictions": [3], "targ\u0065ts": [1]}"#))
        #expect(body["loss"]?.double == 4)
    }

    @Test("an optional member set to null is the same as absent (rule 10)")
    func nullMembers() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let body = try Self.loss(try service.client().post("/loss/bce", #"""
            {"predictions": [0.5], "targets": [1], "weight": null, "pos_weight": null, "from_logits": null, "reduction": null}
            """#))
        #expect(abs((body["loss"]?.double ?? 0) - log(2.0)) < 1e-15 && body["reduction"]?.string == "mean")
    }

    // MARK: Errors

    @Test("malformed JSON is a 400 naming the byte offset (rule 9)", arguments: [
        ("", 0), (#"{"predictions": NaN}"#, 16), (#"{"predictions": [1,], "targets": [0]}"#, 19),
        (#"{'predictions': [1]}"#, 1), (#"{"predictions": Infinity}"#, 16), (#"{"predictions": [1]"#, 19),
    ])
    func malformed(body: String, offset: Int) throws {
        let service = try LoopbackService()
        defer { service.stop() }
        try Self.expectProblem(try service.client().post("/loss/mse", body), 400, "byte \(offset)")
    }

    @Test("NaN and Infinity as Python's json.dumps writes them are a 400 that says JSON has neither and how to send the data")
    func nonFiniteNumbers() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        // json.dumps({"predictions": [1.0, float("nan")], "targets": [1.0, float("-inf")]})
        let detail = try Self.expectProblem(
            client.post("/loss/mse", #"{"predictions": [1.0, NaN], "targets": [1.0, -Infinity]}"#), 400, "byte 22: NaN is not JSON")
        #expect(detail.contains("allow_nan=False") && detail.contains("replace or drop non-finite values"), "\(detail)")
        try Self.expectProblem(client.post("/loss/mse", #"{"predictions": [1.0, 2.0], "targets": [1.0, -Infinity]}"#),
                               400, "byte 45: -Infinity is not JSON")
    }

    @Test("invalid UTF-8, a lone surrogate and nesting deeper than 64 are malformed (rule 9)")
    func malformedMore() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let prefix = Array(#"{"predictions": [1], "targets": [0], "reduction": ""#.utf8)
        try Self.expectProblem(client.request("POST", "/loss/mse", headers: [("Content-Type", "application/json")],
                                              body: prefix + [0xFF] + Array(#""}"#.utf8)), 400, "byte \(prefix.count)")
        try Self.expectProblem(client.post("/loss/mse", #"{"predictions": [1], "targets": [0], "reduction": "\ud800"}"#), 400)
        let deep = #"{"predictions": "# + String(repeating: "[", count: 70) + "1" + String(repeating: "]", count: 70)
            + #", "targets": 0}"#
        try Self.expectProblem(client.post("/loss/mse", deep), 400)
    }

    @Test("valid JSON that is no valid request is a 422 saying what is wrong", arguments: [
        (#"{"predictions": [1], "targets": [0], "reduce": "sum"}"#, "unknown member 'reduce'"),
        (#"{"predictions": [1], "targets": [0], "predictions": [1]}"#, "predictions"),
        (#"{"predictions": {"shape": [2], "data": [1, 2], "dtype": "FP64"}, "targets": [0, 0]}"#, "dtype"),
        (#"{"predictions": {"shape": [3], "data": [1, 2]}, "targets": [0, 0, 0]}"#, "shape"),
        (#"{"predictions": [[1, 2], [3]], "targets": [[0, 0], [0]]}"#, "predictions"),
        (#"{"predictions": [1, "2"], "targets": [0, 0]}"#, "predictions"),
        (#"{"predictions": [], "targets": []}"#, "empty"),
        (#"{"predictions": [1, 2], "targets": [0, 0, 0]}"#, ""),
        (#"{"targets": [0]}"#, "missing required member 'predictions'"),
        (#"{"predictions": [1], "targets": [0], "reduction": "avg"}"#, "'reduction'"),
        (#"{"predictions": [1], "targets": [0], "weight": "x"}"#, "'weight'"),
        (#"[1, 2]"#, ""),
    ])
    func unprocessableMSE(body: String, fragment: String) throws {
        let service = try LoopbackService()
        defer { service.stop() }
        try Self.expectProblem(try service.client().post("/loss/mse", body), 422, fragment)
    }

    @Test("loss semantics the losses check are 422s with their message", arguments: [
        ("/loss/ce", #"{"predictions": [[1, 2, 3]], "targets": [3]}"#),  // index out of range
        ("/loss/ce", #"{"predictions": [[1, 2, 3]], "targets": [0, 1]}"#),  // shape neither index nor probability
        ("/loss/ce", #"{"predictions": [[1, 2]], "targets": [[0.5, 1.5]]}"#),  // probability outside [0, 1] (rule 2)
        ("/loss/ce", #"{"predictions": [[1, 2]], "targets": [[0.5, 0.5]], "ignore_index": 0}"#),  // rule 2
        ("/loss/ce", #"{"predictions": [[0.2, 1.2]], "targets": [0], "from_logits": false}"#),  // rule 3
        ("/loss/ce", #"{"predictions": [[1, 2]], "targets": [0], "label_smoothing": 1.5}"#),
        ("/loss/ce", #"{"predictions": [[1, 2]], "targets": [0], "weight": [1, 2, 3]}"#),
        ("/loss/bce", #"{"predictions": [0.5], "targets": [1.5]}"#),  // rule 4
        ("/loss/bce", #"{"predictions": [2], "targets": [1], "from_logits": true, "pos_weight": [1], "weight": [[1, 1]]}"#),  // rule 5
        ("/loss/bce", #"{"predictions": [0.5], "targets": [1], "pos_weight": [2]}"#),  // pos_weight needs logits
        ("/loss/bce", #"{"predictions": [1.5], "targets": [1]}"#),  // probabilities in [0, 1]
        ("/loss/mse", #"{"predictions": [[1, 2]], "targets": [1, 2]}"#),  // never a silent broadcast
        ("/loss/mse", #"{"predictions": [1, 2], "targets": [1, 2], "weight": [1]}"#),  // rule 5
    ])
    func lossErrors(path: String, body: String) throws {
        let service = try LoopbackService()
        defer { service.stop() }
        try Self.expectProblem(try service.client().post(path, body), 422)
    }

    @Test("a loss POST that is not application/json is a 415 (rule 11); charset parameters are fine")
    func contentType() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let body = Array(#"{"predictions": [1], "targets": [0]}"#.utf8)
        try Self.expectProblem(client.request("POST", "/loss/mse", headers: [("Content-Type", "text/plain")], body: body), 415)
        try Self.expectProblem(client.request("POST", "/loss/mse", body: body), 415)
        let ok = try client.request("POST", "/loss/mse", headers: [("Content-Type", "Application/JSON; charset=utf-8")], body: body)
        #expect(ok.status == 200)
    }

    @Test("unknown paths are 404, wrong methods 405 with Allow", arguments: [
        ("GET", "/index.html", 404, nil), ("POST", "/loss/hinge", 404, nil), ("GET", "/loss/ce/", 404, nil),
        ("GET", "/loss/ce", 405, "POST, OPTIONS"), ("PUT", "/loss/bce", 405, "POST, OPTIONS"),
        ("DELETE", "/livez", 405, "GET, HEAD, OPTIONS"), ("POST", "/metrics", 405, "GET, HEAD, OPTIONS"),
        ("POST", "/", 405, "GET, HEAD, OPTIONS"),
    ] as [(String, String, Int, String?)])
    func routing(method: String, path: String, status: Int, allow: String?) throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let response = try service.client().request(method, path, headers: [("Content-Type", "application/json")],
                                                    body: method == "GET" || method == "DELETE" ? [] : Array("{}".utf8))
        try Self.expectProblem(response, status)
        #expect(response.header("Allow") == allow)
    }

    @Test("HTTP-level errors are problem documents with CORS headers too (rule 12)")
    func httpErrors() throws {
        let service = try LoopbackService { configuration in
            configuration.limits.maxBodyBytes = 1000
            configuration.limits.maxHeaderCount = 10
            configuration.limits.maxRequestLineBytes = 200
            configuration.limits.headTimeout = 0.5
        }
        defer { service.stop() }
        // 411: a POST with neither Content-Length nor chunked.
        try Self.expectProblem(service.client().request("POST", "/loss/mse", headers: [("Content-Type", "application/json")],
                                                        contentLength: false), 411)
        // 413: over the body limit, answered before the body is read.
        try Self.expectProblem(service.client().request("POST", "/loss/mse",
                                                        headers: [("Content-Type", "application/json"), ("Content-Length", "5000")],
                                                        contentLength: false), 413)
        // 414: request line over its limit.
        try Self.expectProblem(service.client().get("/" + String(repeating: "a", count: 300)), 414)
        // 431: too many header fields.
        try Self.expectProblem(service.client().get("/livez", headers: (0..<20).map { ("X-H\($0)", "v") }), 431)
        // 400: malformed HTTP.
        let garbage = try service.client()
        garbage.send("GARBAGE\r\n\r\n")
        try Self.expectProblem(garbage.readResponse(), 400)
        // 501: an unknown method; 505: an unsupported version.
        try Self.expectProblem(service.client().request("BREW", "/livez"), 501)
        let version = try service.client()
        version.send("GET /livez HTTP/2.0\r\nHost: x\r\n\r\n")
        try Self.expectProblem(version.readResponse(), 505)
        // 408: a head that never completes.
        let slow = try service.client()
        slow.send("GET /livez HTTP/1.1\r\nHost: x\r\n")
        try Self.expectProblem(slow.readResponse(), 408)
    }

    // MARK: HTTP behaviour

    @Test("chunked, gzip and Expect: 100-continue request bodies are scored like plain ones")
    func bodyFramings() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let json = Array(#"{"predictions": [1, 2], "targets": [0, 0]}"#.utf8)
        // Chunked, cut inside a number.
        let chunked = try service.client()
        chunked.send("POST /loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + "11\r\n" + String(decoding: json[..<17], as: UTF8.self) + "\r\n"
                     + String(json.count - 17, radix: 16) + "\r\n" + String(decoding: json[17...], as: UTF8.self) + "\r\n0\r\n\r\n")
        #expect(try Self.loss(chunked.readResponse())["loss"]?.double == 2.5)
        // gzip.
        let gzipped = try #require(Deflater(level: 6).gzip(json))
        let gzip = try service.client().request("POST", "/loss/mse", headers: [("Content-Type", "application/json"),
                                                                              ("Content-Encoding", "gzip")], body: gzipped)
        #expect(try Self.loss(gzip)["loss"]?.double == 2.5)
        // 100-continue.
        let expecting = try service.client()
        expecting.send("POST /loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: \(json.count)\r\n\r\n")
        #expect(try expecting.readResponse().status == 100)
        expecting.send(json)
        #expect(try Self.loss(expecting.readResponse())["loss"]?.double == 2.5)
    }

    /// `{"predictions": [0,0,…], "targets": [0,0,…]}` with `predictions` and `targets` zeros.
    static func zeros(_ predictions: Int, _ targets: Int) -> [UInt8] {
        Array((#"{"predictions":["# + Array(repeating: "0", count: predictions).joined(separator: ",")
               + #"],"targets":["# + Array(repeating: "0", count: targets).joined(separator: ",") + "]}").utf8)
    }

    @Test("a gzip body whose numbers pass the tensor limit is a 413 naming the limit and the number's byte, sent before the body ends; one at the limit is scored")
    func gzipTensorLimit() throws {
        // 1 MiB of tensors holds 131,072 numbers.
        let service = try LoopbackService(maxTensorBytes: 1 << 20)
        defer { service.stop() }
        let gzip = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
        let deflater = Deflater(level: 6)
        let atLimit = try #require(deflater.gzip(Self.zeros(65536, 65536)))
        let scored = try Self.loss(service.client().request("POST", "/loss/mse", headers: gzip, body: atLimit))
        #expect(scored["loss"]?.double == 0 && scored["count"]?.int == 65536)
        let oneMore = Self.zeros(65536, 65537)
        try Self.expectProblem(service.client().request("POST", "/loss/mse", headers: gzip, body: try #require(deflater.gzip(oneMore))),
                               413, "byte \(oneMore.count - 3) takes the request's tensors past the limit of 1048576 bytes")
        // 4M numbers (8 MiB decoded, about 8 KB of gzip): the first half of the
        // gzip bytes already passes the limit, and the 413 comes before the rest is sent.
        let bomb = try #require(deflater.gzip(Self.zeros(4 << 20, 0)))
        let client = try service.client()
        client.send("POST /loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                    + "Content-Length: \(bomb.count)\r\n\r\n")
        client.send(Array(bomb[..<(bomb.count / 2)]))
        // `{"predictions":[` is 16 bytes; number 131,072 follows 131,072 numbers and commas.
        try Self.expectProblem(client.readResponse(), 413, "the number at byte \(16 + 2 * 131_072) takes the request's tensors past the limit of 1048576 bytes")
    }

    @Test("keep-alive and pipelining answer in order on one connection")
    func pipelining() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let a = #"{"predictions": [3], "targets": [1]}"#, b = #"{"predictions": [1], "targets": [0]}"#
        client.send("POST /loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(a.utf8.count)\r\n\r\n\(a)"
                    + "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(b.utf8.count)\r\n\r\n\(b)")
        #expect(try Self.loss(client.readResponse())["loss"]?.double == 4)
        #expect(try client.readResponse().text == #"{"status":"ok"}"#)
        #expect(try Self.loss(client.readResponse())["loss"]?.double == 1)
    }

    @Test("gzip responses when the client accepts them")
    func gzipResponse() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let predictions = "[" + (0..<500).map { "\($0)" }.joined(separator: ",") + "]"
        let targets = "[" + Array(repeating: "0", count: 500).joined(separator: ",") + "]"
        let response = try service.client().post("/loss/mse", #"{"predictions": \#(predictions), "targets": \#(targets), "reduction": "none"}"#,
                                                 headers: [("Accept-Encoding", "gzip")])
        #expect(response.status == 200)
        #expect(response.header("Content-Encoding") == "gzip")
        #expect(response.body.starts(with: [0x1F, 0x8B]))
    }

    // MARK: Operational endpoints

    @Test("health bodies are exact, HEAD has none, readyz turns 503 draining (rule 15)")
    func health() throws {
        let readiness = Readiness()
        let service = try LoopbackService(readiness: readiness)
        defer { service.stop() }
        let client = try service.client()
        for path in ["/livez", "/healthz"] {
            let response = try client.get(path)
            #expect(response.status == 200 && response.text == #"{"status":"ok"}"#)
            #expect(response.header("Content-Type") == "application/json")
        }
        #expect(try client.get("/readyz").text == #"{"status":"ready"}"#)
        let head = try client.request("HEAD", "/livez")
        #expect(head.status == 200 && head.body.isEmpty && head.header("Content-Length") == "15")
        readiness.beginDraining()
        let draining = try client.get("/readyz")
        #expect(draining.status == 503 && draining.text == #"{"status":"draining"}"#)
        #expect(draining.header("Content-Type") == "application/json")
        #expect(try client.get("/livez").status == 200)
    }

    @Test("/metrics over the wire: labels, bytes and loss elements, and promtool accepts it (rule 16)")
    func metrics() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let json = #"{"predictions": [[1, 2, 3], [4, 5, 6]], "targets": [0, 2]}"#
        _ = try client.post("/loss/ce", json)
        _ = try client.get("/nope")
        _ = try client.request("PUT", "/loss/ce", body: Array("{}".utf8))
        _ = try client.request("HEAD", "/livez")
        let garbage = try service.client()
        garbage.send("BAD\r\n\r\n")
        _ = try garbage.readResponse()
        // completed() runs just after each response is written: wait until all five are recorded.
        let recorded = #"lossd_http_requests_total{method="OTHER",route="unmatched",status="400"} 1"#
        #expect(eventually { service.responder.metrics.inFlight.value == 0
            && service.responder.metrics.render().contains(recorded) })
        let response = try client.get("/metrics")
        #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let lines = Set(response.text.split(separator: "\n").map(String.init))
        for expected in [
            #"lossd_http_requests_total{method="POST",route="/loss/ce",status="200"} 1"#,
            #"lossd_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
            #"lossd_http_requests_total{method="OTHER",route="/loss/ce",status="405"} 1"#,
            #"lossd_http_requests_total{method="HEAD",route="/livez",status="200"} 1"#,
            #"lossd_http_requests_total{method="OTHER",route="unmatched",status="400"} 1"#,
            #"lossd_http_request_body_bytes_total{route="/loss/ce"} \#(json.utf8.count)"#,
            #"lossd_loss_elements_total{loss="ce"} 6"#,
            #"lossd_http_request_duration_seconds_count{route="/loss/ce"} 2"#,  // the POST and the PUT
            "lossd_http_requests_in_flight 1",
        ] {
            let present = lines.contains(expected)
            #expect(present, "missing: \(expected)")
        }
        let responseBytes = lines.first { $0.hasPrefix(#"lossd_http_response_body_bytes_total{route="/loss/ce"}"#) }
        #expect(responseBytes.flatMap { Double($0.split(separator: " ")[1]) } ?? 0 > 0)

        if PromtoolTests.promtool != nil {
            let (status, report) = try PromtoolTests.check(Array(response.body))
            #expect(status == 0 && report.isEmpty, "promtool: \(report)")
        }
    }

    @Test("/openapi.yaml serves the document")
    func openAPI() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let response = try service.client().get("/openapi.yaml")
        #expect(response.status == 200 && response.text == OpenAPIDocument.text)
        #expect(response.header("Content-Type") == "application/yaml")
    }

    // MARK: CORS (rule 14)

    @Test("a preflight on a known route is 204 with the CORS headers; unknown paths stay 404")
    func preflight() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let headers = [("Origin", "https://dash.example"), ("Access-Control-Request-Method", "POST"),
                       ("Access-Control-Request-Headers", "content-type")]
        let response = try client.request("OPTIONS", "/loss/ce", headers: headers)
        #expect(response.status == 204 && response.body.isEmpty)
        #expect(response.header("Access-Control-Allow-Origin") == "*")
        #expect(response.header("Access-Control-Allow-Methods") == "POST, OPTIONS")
        let allowed = response.header("Access-Control-Allow-Headers")?.lowercased() ?? ""
        #expect(allowed.contains("content-type") && allowed.contains("content-encoding"))
        #expect(Int(response.header("Access-Control-Max-Age") ?? "") ?? 0 > 0)
        try Self.expectProblem(client.request("OPTIONS", "/nope", headers: headers), 404)
        let actual = try client.post("/loss/mse", #"{"predictions": 1, "targets": 0}"#, headers: [("Origin", "https://dash.example")])
        #expect(actual.header("Access-Control-Allow-Origin") == "*")
    }

    @Test("with an allow-list the matching origin is echoed with Vary: Origin, others get none")
    func allowList() throws {
        let service = try LoopbackService(cors: CORSPolicy(setting: "https://dash.example,http://localhost:3000"))
        defer { service.stop() }
        let client = try service.client()
        let allowed = try client.get("/livez", headers: [("Origin", "http://localhost:3000")])
        #expect(allowed.header("Access-Control-Allow-Origin") == "http://localhost:3000")
        #expect(allowed.headerValues("Vary").contains { $0.contains("Origin") })
        let refused = try client.get("/livez", headers: [("Origin", "https://evil.example")])
        #expect(refused.header("Access-Control-Allow-Origin") == nil)
        let error = try client.get("/nope", headers: [("Origin", "https://dash.example")])
        #expect(error.status == 404 && error.header("Access-Control-Allow-Origin") == "https://dash.example")
    }

    @Test("a client that hangs up mid-body leaves no request in flight")
    func abortedRequest() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        do {
            let quitter = try service.client()
            quitter.send("POST /loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"predictions\": [1,")
            #expect(eventually { service.responder.metrics.inFlight.value == 1 })  // the head was routed
        }  // closed here
        #expect(eventually { service.responder.metrics.inFlight.value == 0 })
        let metrics = try service.client().get("/metrics").text
        let present = metrics.contains("\nlossd_http_requests_in_flight 1\n")  // only the scrape itself
        #expect(present)
    }

    // MARK: Isolation

    @Test("concurrent requests on many connections never change each other's results")
    func isolation() async throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let port = service.port
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let client = try TestClient(port: port)
                    for i in 0..<25 {
                        let value = Double(worker * 100 + i)
                        let body = try TestJSON.parse(client.post("/loss/mse", #"{"predictions": [\#(value)], "targets": [0]}"#).body)
                        #expect(body["loss"]?.double == value * value)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
