import Dispatch
import Foundation
import HTTP
import Losses
import Synchronization
import Testing
import TestSupport

@testable import LossService
@testable import TensorJSON

/// `MemoryBudget`: what loss requests' decoded tensors may hold together.
/// Requests reserve before they hold, give back on every path, wait a bounded
/// time when it is spent and then get a 503 with `Retry-After`; small
/// requests bypass it.
/// `MemoryBudget` as loss requests meet it: the 503 problem, reservations given
/// back when a body fails or its client goes, and the budget through the server.
@Suite struct MemoryBudgetServiceTests {
    @Test("a decoder's over-budget error is a 503 problem with Retry-After")
    func overBudgetIsA503() {
        let response = LossBodyHandler.problem(for: .overBudget(offset: 14, budget: 32, wait: 0, needsMoreThanBudget: true))
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers["Retry-After"] == "1")
    }

    @Test("a body that fails mid-decode (400, 422, 413) gives its reservation back at once, before the rest of the body")
    func failuresMidDecodeGiveBack() {
        // (body so far, the rest, status): 400 and 413 answer early; 422 is said at the end, but what was read is dropped at once.
        let cases: [(String, String, Int)] = [
            (#"{"predictions":[1,2,3,x"#, "]}", 400),
            (#"{"predictions":[[1,2],[3]],"targets":[1,2,3"#, "]}", 422),
            (#"{"predictions":[1,2,3,4,5,6,7,8,9,10,11"#, "]}", 413),
        ]
        for (prefix, rest, status) in cases {
            let budget = MemoryBudget(limit: 1 << 20, maxWait: 0, reservationStep: 8)
            let handler = LossBodyHandler(declaration: .meanSquaredError, metrics: ServiceMetrics(includeProcessMetrics: false),
                                                      bodyLength: 4096, maxTensorBytes: 64, budget: budget)
            var early: Response?
            for byte in Array(prefix.utf8) where early == nil {
                early = [byte].withUnsafeBytes { handler.consume($0) }
            }
            #expect(budget.reservedBytes == 0, "\(status): \(budget.reservedBytes) bytes still reserved mid-body")
            if status == 422 {
                #expect(early == nil)
                #expect(Array(rest.utf8).withUnsafeBytes { handler.consume($0) } == nil)
                #expect(handler.finish().status.code == 422)
            } else {
                #expect(early?.status.code == status, "\(prefix)")
            }
        }
    }

    @Test("a request whose handler is dropped mid-body (its client gone) gives its reservation back")
    func droppedHandlerGivesBack() {
        let budget = MemoryBudget(limit: 1 << 30, maxWait: 0)
        var handler: LossBodyHandler? = LossBodyHandler(declaration: .meanSquaredError,
            metrics: ServiceMetrics(includeProcessMetrics: false), bodyLength: 1 << 20, budget: budget)
        #expect(Array(#"{"predictions":[1,2,3,"#.utf8).withUnsafeBytes { handler!.consume($0) } == nil)
        #expect(budget.reservedBytes > 0)
        handler = nil
        #expect(budget.reservedBytes == 0)
    }

    // MARK: Through the server

    /// An MSE body of `count` predictions and targets, about 4 bytes a number.
    static func mseBody(_ count: Int) -> String {
        let values = Array(repeating: "0.5", count: count).joined(separator: ",")
        return #"{"predictions":["# + values + #"],"targets":["# + values + "]}"
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    @Test("over a spent budget a large request gets 503 with Retry-After after the wait, counted as reason memory; meanwhile a small request gets 200, /readyz stays ready and the gauges show the budget held")
    func spentBudgetEndToEnd() throws {
        let budget = MemoryBudget(limit: 1 << 20, maxWait: 0.3)
        let service = try LoopbackService(memoryBudget: budget)
        defer { service.stop() }
        let large = MemoryReservation(budget: budget)  // a large request holding the whole budget
        #expect(large.extend(by: 1 << 20) == .granted)

        let start = DispatchTime.now()
        let refused = try service.client().post("/loss/mse", Self.mseBody(20_000))  // 160 KB: past the 64 KiB exemption
        let waited = Self.seconds(since: start)
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "1")
        #expect(refused.header("Content-Type") == "application/problem+json")
        #expect(refused.text.contains("memory budget of 1048576 bytes is held by other requests"), "\(refused.text)")
        #expect(waited >= 0.29, "answered after \(waited) s, before the wait")

        let small = try service.client().post("/loss/mse", Self.mseBody(1000))  // 8 KB: runs inline, bypasses the budget
        #expect(small.status == 200, "\(small.text)")
        #expect(try service.client().get("/readyz").status == 200)
        let metrics = try service.client().get("/metrics").text
        #expect(metrics.contains(#"lossd_rejected_requests_total{reason="memory"} 1"#), "\(metrics)")
        #expect(metrics.contains("lossd_memory_budget_bytes 1048576\n"), "\(metrics)")
        #expect(metrics.contains("lossd_memory_reserved_bytes 1048576\n"), "\(metrics)")

        large.releaseAll()
        let accepted = try service.client().post("/loss/mse", Self.mseBody(20_000))
        #expect(accepted.status == 200, "\(accepted.text)")
        #expect(eventually(timeout: 2) { budget.reservedBytes == 0 })
    }

    @Test("only a body the server runs inline (identity, Content-Length at most 64 KiB) bypasses the budget; a small gzip or chunked body reserves (it may decode to far more)")
    func exemptionIsTheInlineRule() {
        let budget = MemoryBudget(limit: 1 << 20, maxWait: 0.05)
        let harness = ResponderHarness(LossResponder(metrics: ServiceMetrics(includeProcessMetrics: false), memoryBudget: budget))
        #expect(budget.reserve(1 << 20, holding: 0) == .granted)  // a large request holds it all
        let body = Self.mseBody(100)
        let length = String(body.utf8.count)
        let cases: [(Headers, Int)] = [
            (["Content-Type": "application/json", "Content-Length": length], 200),
            (["Content-Type": "application/json", "Content-Length": length, "Content-Encoding": "identity"], 200),
            (["Content-Type": "application/json", "Content-Length": length, "Content-Encoding": "gzip"], 503),
            (["Content-Type": "application/json", "Content-Length": length, "Content-Encoding": "X-GZIP"], 503),
            (["Content-Type": "application/json", "Transfer-Encoding": "chunked"], 503),
            (["Content-Type": "application/json", "Content-Length": String(64 << 10 + 1)], 503),
        ]
        for (headers, status) in cases {
            let response = harness.call(.post, "/loss/mse", headers: headers, body: body, chunk: 1 << 20)
            #expect(response.status.code == status, "\(headers): \(response.text)")
        }
        budget.release(1 << 20)
    }

    @Test("the server's own 503 (the connection cap) is counted as reason connections; other unrouted answers are not")
    func connectionCapIsCounted() {
        let responder = LossResponder(metrics: ServiceMetrics(includeProcessMetrics: false))
        for status in [Status.serviceUnavailable, .requestTimeout, .serviceUnavailable] {
            responder.completed(Exchange(head: nil, wasRouted: false, status: status, requestBodyBytes: 0,
                                         responseBodyBytes: 0, duration: 0))
        }
        let text = responder.metrics.render()
        #expect(text.contains(#"lossd_rejected_requests_total{reason="connections"} 2"#), "\(text)")
        #expect(text.contains(#"lossd_rejected_requests_total{reason="memory"} 0"#), "\(text)")
    }

    @Test("a client that disconnects mid-body gives its reservation back")
    func disconnectMidBody() throws {
        let budget = MemoryBudget(limit: 1 << 30, maxWait: 0)
        let service = try LoopbackService(memoryBudget: budget)
        defer { service.stop() }
        var client: TestClient? = try service.client()
        let body = Array(Self.mseBody(200_000).utf8)
        client!.send("POST /loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
        client!.send(Array(body[..<(body.count / 3)]))
        #expect(eventually(timeout: 5) { budget.reservedBytes > 0 })
        client = nil  // closes the socket
        #expect(eventually(timeout: 5) { budget.reservedBytes == 0 }, "\(budget.reservedBytes) bytes still reserved")
    }

    // MARK: Open Inference Protocol inferences and batches

    /// A binary MSE inference of `count` FP32 predictions and targets: the body and its JSON part's length.
    static func binaryMSE(_ count: Int) -> (body: [UInt8], headerLength: Int) {
        let size = count * 4
        let json = #"{"inputs":[{"name":"predictions","datatype":"FP32","shape":[\#(count)],"parameters":{"binary_data_size":\#(size)}},"#
            + #"{"name":"targets","datatype":"FP32","shape":[\#(count)],"parameters":{"binary_data_size":\#(size)}}]}"#
        var body = Array(json.utf8)
        for index in 0..<count { withUnsafeBytes(of: Float(index % 7).bitPattern.littleEndian) { body += $0 } }
        for _ in 0..<count { withUnsafeBytes(of: Float(1).bitPattern.littleEndian) { body += $0 } }
        return (body, json.utf8.count)
    }

    /// The same inference in the protocol's JSON form.
    static func jsonMSE(_ count: Int) -> String {
        let predictions = (0..<count).map { String($0 % 7) }.joined(separator: ",")
        let targets = Array(repeating: "1", count: count).joined(separator: ",")
        return #"{"inputs":[{"name":"predictions","datatype":"FP64","shape":[\#(count)],"data":[\#(predictions)]},"#
            + #"{"name":"targets","datatype":"FP64","shape":[\#(count)],"data":[\#(targets)]}]}"#
    }

    static func oipHandler(_ budget: MemoryBudget, headerLength: Int?, metrics: ServiceMetrics = ServiceMetrics(includeProcessMetrics: false)) -> OIPBodyHandler {
        OIPBodyHandler(declaration: .meanSquaredError, metrics: metrics, headerLength: headerLength,
                       maxTensorBytes: 1 << 30, budget: budget)
    }

    @Test("a binary inference reserves its inputs' doubles once its JSON part is in, before any binary byte, and gives them back when answered; MSE's targets, folded into its predictions, take none")
    func binaryInferenceReservesBeforeReading() throws {
        let budget = MemoryBudget(limit: 1 << 30, maxWait: 0, reservationStep: 8)
        let (body, headerLength) = Self.binaryMSE(10_000)
        let handler = Self.oipHandler(budget, headerLength: headerLength)
        #expect(Array(body[..<headerLength]).withUnsafeBytes { handler.consume($0) } == nil)
        #expect(budget.reservedBytes >= 10_000 * 8 && budget.reservedBytes < 2 * 10_000 * 8,
                "\(budget.reservedBytes) bytes reserved for 10000 doubles (the targets are folded into the predictions)")
        #expect(Array(body[headerLength...]).withUnsafeBytes { handler.consume($0) } == nil)
        let response = handler.finish()
        #expect(response.status == .ok, "\(response.text)")
        #expect(budget.reservedBytes == 0)
    }

    @Test("a JSON inference reserves its text as it arrives and 16 bytes a value before it is parsed; all given back when answered")
    func jsonInferenceReserves() throws {
        let budget = MemoryBudget(limit: 1 << 30, maxWait: 0, reservationStep: 8)
        let body = Array(Self.jsonMSE(5_000).utf8)
        let handler = Self.oipHandler(budget, headerLength: nil)
        let half = body.count / 2
        #expect(Array(body[..<half]).withUnsafeBytes { handler.consume($0) } == nil)
        #expect(budget.reservedBytes >= half, "\(budget.reservedBytes) bytes reserved for \(half) buffered")
        #expect(Array(body[half...]).withUnsafeBytes { handler.consume($0) } == nil)
        // Exactly enough for the text and 16 bytes for each value it can hold (10 000 numbers need 160 000).
        let values = body.withUnsafeBytes { MemoryCharge.valueBound($0) } + 1
        #expect(values >= 10_000)
        let exact = MemoryBudget(limit: body.count + 16 * values, maxWait: 0, reservationStep: 8)
        #expect(ResponderHarness.feed(body, to: Self.oipHandler(exact, headerLength: nil), chunk: 4096).status == .ok)
        let short = MemoryBudget(limit: body.count + 16 * values - 1, maxWait: 0, reservationStep: 8)
        let refused = ResponderHarness.feed(body, to: Self.oipHandler(short, headerLength: nil), chunk: 4096)
        #expect(refused.status == .serviceUnavailable)
        #expect(refused.text.contains("past the server's whole memory budget"), "\(refused.text)")
        #expect(handler.finish().status == .ok)
        #expect(budget.reservedBytes == 0 && exact.reservedBytes == 0 && short.reservedBytes == 0)
    }

    @Test("over a spent budget an inference gets 503 {\"error\"} with Retry-After before its binary part, counted as reason memory, holding nothing")
    func inferenceOverSpentBudget() throws {
        let budget = MemoryBudget(limit: 1 << 20, maxWait: 0)
        let other = MemoryReservation(budget: budget)
        #expect(other.extend(by: (1 << 20) - 1000) == .granted)
        let metrics = ServiceMetrics(includeProcessMetrics: false)
        let (body, headerLength) = Self.binaryMSE(1000)
        let handler = Self.oipHandler(budget, headerLength: headerLength, metrics: metrics)
        #expect(Array(body[..<(headerLength - 1)]).withUnsafeBytes { handler.consume($0) } == nil)
        let response = try #require(Array(body[(headerLength - 1)...]).withUnsafeBytes { handler.consume($0) })
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers["Retry-After"] == "1")
        #expect(response.headers["Content-Type"] == "application/json")
        let json = try TestJSON.parse(response.body)
        #expect(json["error"]?.string?.contains("memory budget of 1048576 bytes is held by other requests: the tensors at byte \(headerLength)") == true,
                "\(response.text)")
        #expect(budget.reservedBytes == (1 << 20) - 1000)
        #expect(handler.finish().status == .serviceUnavailable)
        #expect(metrics.render().contains(#"lossd_rejected_requests_total{reason="memory"} 1"#))
        // Inputs that need more than the whole budget are refused however free it is.
        other.releaseAll()
        let (large, largeHeader) = Self.binaryMSE(140_000)  // 140 000 doubles (the targets folded in): 1.12 MB
        let refused = ResponderHarness.feed(large, to: Self.oipHandler(budget, headerLength: largeHeader), chunk: 1 << 16)
        #expect(refused.status == .serviceUnavailable)
        #expect(refused.text.contains("past the server's whole memory budget of 1048576 bytes"), "\(refused.text)")
        #expect(budget.reservedBytes == 0)
    }

    @Test("an inference whose handler is dropped mid-body gives its reservation back")
    func droppedInferenceGivesBack() {
        let budget = MemoryBudget(limit: 1 << 30, maxWait: 0)
        let (body, headerLength) = Self.binaryMSE(10_000)
        var handler: OIPBodyHandler? = Self.oipHandler(budget, headerLength: headerLength)
        #expect(Array(body[..<(headerLength + 100)]).withUnsafeBytes { handler!.consume($0) } == nil)
        #expect(budget.reservedBytes > 0)
        handler = nil
        #expect(budget.reservedBytes == 0)
    }

    /// A batch of `count` MSE requests of 100 values each.
    static func batch(_ count: Int) -> [UInt8] {
        let one = #"{"loss":"mse","predictions":[\#(Array(repeating: "0.5", count: 100).joined(separator: ","))],"targets":[\#(Array(repeating: "1", count: 100).joined(separator: ","))]}"#
        return Array(("[" + Array(repeating: one, count: count).joined(separator: ",") + "]").utf8)
    }

    @Test("a batch reserves its body as it arrives and each request's tensors (8 bytes a value) before decoding it, and gives all back when answered")
    func batchReserves() {
        let body = Self.batch(50)
        let budget = MemoryBudget(limit: 1 << 30, maxWait: 0, reservationStep: 8)
        let handler = BatchBodyHandler(metrics: ServiceMetrics(includeProcessMetrics: false), budget: budget)
        #expect(Array(body[..<1000]).withUnsafeBytes { handler.consume($0) } == nil)
        #expect(budget.reservedBytes >= 1000)
        #expect(Array(body[1000...]).withUnsafeBytes { handler.consume($0) } == nil)
        #expect(handler.finish().status == .ok)
        #expect(budget.reservedBytes == 0)
        // The body and one request's tensors at a time: exactly enough passes, a byte less is refused.
        let element = try! BatchBodyHandler.split(body)[0]
        let values = body.withUnsafeBytes { MemoryCharge.valueBound(UnsafeRawBufferPointer(rebasing: $0[element])) } + 1
        #expect(values >= 200)
        for (limit, status) in [(body.count + 8 * values, 200), (body.count + 8 * values - 1, 503)] {
            let metrics = ServiceMetrics(includeProcessMetrics: false)
            let budget = MemoryBudget(limit: limit, maxWait: 0, reservationStep: 8)
            let response = ResponderHarness.feed(body, to: BatchBodyHandler(metrics: metrics, budget: budget), chunk: 4096)
            #expect(response.status.code == status, "\(limit): \(response.text)")
            #expect(budget.reservedBytes == 0)
            #expect(metrics.render().contains(#"lossd_rejected_requests_total{reason="memory"} \#(status == 503 ? 1 : 0)"#))
        }
    }

    @Test("over a spent budget a batch gets 503 with Retry-After and a problem document, counted as reason memory")
    func batchOverSpentBudget() throws {
        let budget = MemoryBudget(limit: 1 << 20, maxWait: 0)
        let other = MemoryReservation(budget: budget)
        #expect(other.extend(by: (1 << 20) - 100) == .granted)
        let metrics = ServiceMetrics(includeProcessMetrics: false)
        let response = ResponderHarness.feed(Self.batch(3), to: BatchBodyHandler(metrics: metrics, budget: budget), chunk: 4096)
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers["Retry-After"] == "1")
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(response.text.contains("held by other requests"), "\(response.text)")
        #expect(budget.reservedBytes == (1 << 20) - 100)
        #expect(metrics.render().contains(#"lossd_rejected_requests_total{reason="memory"} 1"#))
        other.releaseAll()
    }

    @Test("inferences and batches follow the inline rule: a small identity body bypasses the budget, a gzip, chunked or large one reserves")
    func inferenceAndBatchExemption() {
        let budget = MemoryBudget(limit: 1 << 20, maxWait: 0)
        let harness = ResponderHarness(LossResponder(metrics: ServiceMetrics(includeProcessMetrics: false), memoryBudget: budget))
        #expect(budget.reserve(1 << 20, holding: 0) == .granted)  // a large request holds it all
        let inference = Self.jsonMSE(100), batch = String(decoding: Self.batch(2), as: UTF8.self)
        for (path, body) in [("/v2/models/mse/infer", inference), ("/loss", batch)] {
            let length = String(body.utf8.count)
            let cases: [(Headers, Int)] = [
                (["Content-Type": "application/json", "Content-Length": length], 200),
                (["Content-Type": "application/json", "Transfer-Encoding": "chunked"], 503),
                (["Content-Type": "application/json", "Content-Length": String(64 << 10 + 1)], 503),
            ]
            for (headers, status) in cases {
                let response = harness.call(.post, path, headers: headers, body: body, chunk: 1 << 20)
                #expect(response.status.code == status, "\(path) \(headers): \(response.text)")
                if status == 503 { #expect(response.headers["Retry-After"] == "1") }
            }
        }
        budget.release(1 << 20)
        #expect(budget.reservedBytes == 0)
    }

    @Test("through the server: a large binary inference over a spent budget gets 503 with Retry-After; once bytes are free, 200, and nothing stays reserved")
    func binaryInferenceEndToEnd() throws {
        let budget = MemoryBudget(limit: 1 << 20, maxWait: 0.2)
        let service = try LoopbackService(memoryBudget: budget)
        defer { service.stop() }
        let large = MemoryReservation(budget: budget)
        #expect(large.extend(by: 1 << 20) == .granted)
        let (body, headerLength) = Self.binaryMSE(20_000)  // 160 KB: past the 64 KiB exemption; 320 KB of doubles
        let headers = [("Inference-Header-Content-Length", String(headerLength))]
        let refused = try service.client().request("POST", "/v2/models/mse/infer", headers: headers, body: body)
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "1")
        #expect(refused.text.contains("held by other requests"), "\(refused.text)")
        large.releaseAll()
        let accepted = try service.client().request("POST", "/v2/models/mse/infer", headers: headers, body: body)
        #expect(accepted.status == 200, "\(accepted.text)")
        let metrics = try service.client().get("/metrics").text
        #expect(metrics.contains(#"lossd_rejected_requests_total{reason="memory"} 1"#), "\(metrics)")
        #expect(eventually(timeout: 2) { budget.reservedBytes == 0 })
    }
}
