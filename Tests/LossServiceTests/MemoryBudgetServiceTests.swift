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
}
