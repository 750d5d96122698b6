import Dispatch
import Foundation
import HTTP
import Losses
import Synchronization
import Testing
import TestSupport

@testable import LossService

/// `MemoryBudget`: what loss requests' decoded tensors may hold together.
/// Requests reserve before they hold, give back on every path, wait a bounded
/// time when it is spent and then get a 503 with `Retry-After`; small
/// requests bypass it.
@Suite struct MemoryBudgetTests {
    // MARK: The budget's own rules

    @Test("a reservation that fits is granted at once and counted until given back")
    func grantAndRelease() {
        let budget = MemoryBudget(limit: 1000, maxWait: 0)
        let a = MemoryReservation(budget: budget)
        #expect(a.extend(by: 600) == .granted)
        #expect(budget.reservedBytes == 600)
        #expect(a.extend(by: 400) == .granted)
        #expect(budget.reservedBytes == 1000)
        a.releaseAll()
        #expect(budget.reservedBytes == 0 && a.bytes == 0)
    }

    @Test("a request asking for more than the whole budget is refused at once, without waiting")
    func moreThanTheWholeBudget() {
        let budget = MemoryBudget(limit: 1000, maxWait: 5)
        let a = MemoryReservation(budget: budget)
        let start = DispatchTime.now()
        #expect(a.extend(by: 1001) == .exceedsBudget)
        #expect(Self.seconds(since: start) < 1)
        #expect(budget.reservedBytes == 0)
    }

    @Test("a spent budget makes a request wait its maxWait, then refuses it")
    func waitsThenRefuses() {
        let budget = MemoryBudget(limit: 1000, maxWait: 0.3)
        let holder = MemoryReservation(budget: budget)
        #expect(holder.extend(by: 1000) == .granted)
        let start = DispatchTime.now()
        #expect(MemoryReservation(budget: budget).extend(by: 1) == .exhausted)
        let waited = Self.seconds(since: start)
        #expect(waited >= 0.29 && waited < 2, "waited \(waited) s")
        #expect(budget.reservedBytes == 1000)
    }

    @Test("a waiting request gets the bytes as soon as another gives them back")
    func waiterIsWokenByRelease() {
        let budget = MemoryBudget(limit: 1000, maxWait: 5)
        #expect(budget.reserve(800, holding: 0) == .granted)  // another request's
        Thread {
            Thread.sleep(forTimeInterval: 0.1)
            budget.release(800)
        }.start()
        let start = DispatchTime.now()
        #expect(MemoryReservation(budget: budget).extend(by: 500) == .granted)
        #expect(Self.seconds(since: start) < 2)
    }

    @Test("while one request that holds bytes waits for more, another holder that finds the budget short is refused at once (no deadlock)")
    func onlyOneHolderWaits() {
        let budget = MemoryBudget(limit: 1000, maxWait: 1, maxWaiters: 4)
        let second = MemoryReservation(budget: budget)
        #expect(budget.reserve(500, holding: 0) == .granted)  // the first request's 500
        #expect(second.extend(by: 500) == .granted)
        let firstWaits = DispatchSemaphore(value: 0)
        let outcome = Mutex<MemoryBudget.Outcome?>(nil)
        Thread {
            let result = budget.reserve(200, holding: 500)
            outcome.withLock { $0 = result }
            firstWaits.signal()
        }.start()
        #expect(Self.eventually(within: 2) { budget.waitingRequests == 1 })
        let start = DispatchTime.now()
        #expect(second.extend(by: 100) == .exhausted)
        #expect(Self.seconds(since: start) < 0.5)
        second.releaseAll()  // as the refused request does: the first goes on
        #expect(firstWaits.wait(timeout: .now() + 2) == .success)
        #expect(outcome.withLock { $0 } == .granted)
    }

    @Test("at most maxWaiters requests wait at once (each blocks a Dispatch worker); the next is refused at once")
    func waitersAreCapped() {
        let budget = MemoryBudget(limit: 1000, maxWait: 1, maxWaiters: 1)
        #expect(budget.reserve(1000, holding: 0) == .granted)
        let waiting = DispatchSemaphore(value: 0)
        Thread {
            _ = budget.reserve(100, holding: 0)
            waiting.signal()
        }.start()
        #expect(Self.eventually(within: 2) { budget.waitingRequests == 1 })
        let start = DispatchTime.now()
        #expect(budget.reserve(100, holding: 0) == .exhausted)
        #expect(Self.seconds(since: start) < 0.5)
        #expect(waiting.wait(timeout: .now() + 3) == .success)
    }

    // MARK: The decoder's reservations

    /// Decodes with a budget whose step is one number, so the reservation is
    /// extended at every number the tensor would otherwise not hold.
    static func decodeBudgeted(_ bytes: [UInt8], splits: [Int], bodyLength: Int?, budget: MemoryBudget)
        -> (Result<[String: JSONMember], DecodeError>, reserved: Int)
    {
        var decoder = TensorDecoder(bodyLength: bodyLength, budget: budget)
        var start = 0
        do throws(DecodeError) {
            for end in splits + [bytes.count] where end >= start {
                try feed(&decoder, bytes[start..<end])
                start = end
            }
            let members = try decoder.finish()
            let reserved = decoder.reservedBytes
            decoder.releaseMemory()
            return (.success(members), reserved)
        } catch {
            return (.failure(error), decoder.reservedBytes)
        }
    }

    @Test("with a budget the decoder gives exactly what it gives without, at every split, and its reservation covers every number it holds")
    func budgetedDecodingIsExact() {
        let json = #"{"predictions":[[1.5,-2,3e2],[4,5,6],[7,8,9.25]],"targets":{"shape":[2,2],"data":[1,2,3,4]},"v":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19],"reduction":"sum"}"#
        let bytes = Array(json.utf8)
        let expected = decode(bytes)
        guard case .success = expected else {
            Issue.record("the document does not decode: \(expected)")
            return
        }
        let numbers = 9 + 2 + 4 + 20
        for split in 0...bytes.count {
            for bodyLength in [nil, bytes.count] {
                let budget = MemoryBudget(limit: 1 << 20, maxWait: 0, reservationStep: 8)
                let (result, reserved) = Self.decodeBudgeted(bytes, splits: [split], bodyLength: bodyLength, budget: budget)
                #expect(result == expected, "split at \(split), body length \(String(describing: bodyLength))")
                #expect(reserved >= numbers * 8, "split at \(split): reserved \(reserved)")
                #expect(budget.reservedBytes == 0, "split at \(split): \(budget.reservedBytes) bytes not given back")
            }
        }
        let budget = MemoryBudget(limit: 1 << 20, maxWait: 0, reservationStep: 8)
        #expect(Self.decodeBudgeted(bytes, splits: Array(0...bytes.count), bodyLength: nil, budget: budget).0 == expected)
    }

    @Test("a tensor that outgrows the whole budget is a 503 problem at the number that does not fit, and nothing stays reserved")
    func tensorPastTheWholeBudget() {
        let budget = MemoryBudget(limit: 32, maxWait: 0, reservationStep: 8)
        let (result, _) = Self.decodeBudgeted(Array(#"{"p":[1,2,3,4,5]}"#.utf8), splits: [], bodyLength: nil, budget: budget)
        #expect(result == .failure(.overBudget(offset: 14, budget: 32, wait: 0, needsMoreThanBudget: true)))
        #expect(budget.reservedBytes == 0)
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

    /// Polls `condition` every 10 ms for up to `seconds`.
    static func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
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
        #expect(Self.eventually(within: 2) { budget.reservedBytes == 0 })
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
        #expect(Self.eventually(within: 5) { budget.reservedBytes > 0 })
        client = nil  // closes the socket
        #expect(Self.eventually(within: 5) { budget.reservedBytes == 0 }, "\(budget.reservedBytes) bytes still reserved")
    }
}
