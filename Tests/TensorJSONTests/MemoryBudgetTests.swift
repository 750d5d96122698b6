import Dispatch
import Foundation
import Losses
import Synchronization
import Testing
import TestSupport

@testable import TensorJSON

/// `MemoryBudget`: what loss requests' decoded tensors may hold together.
/// Requests reserve before they hold, give back on every path and wait a
/// bounded time when it is spent; the decoder reserves before it holds.
@Suite struct MemoryBudgetTests {
    // MARK: The budget's own rules

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

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
            // Once the request below waits for the bytes, give them back.
            _ = eventually(timeout: 5) { budget.waitingRequests == 1 }
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
        #expect(eventually(timeout: 2) { budget.waitingRequests == 1 })
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
        #expect(eventually(timeout: 2) { budget.waitingRequests == 1 })
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

    @Test("a tensor that outgrows the whole budget is refused at the number that does not fit, and nothing stays reserved")
    func tensorPastTheWholeBudget() {
        let budget = MemoryBudget(limit: 32, maxWait: 0, reservationStep: 8)
        let (result, _) = Self.decodeBudgeted(Array(#"{"p":[1,2,3,4,5]}"#.utf8), splits: [], bodyLength: nil, budget: budget)
        #expect(result == .failure(.overBudget(offset: 14, budget: 32, wait: 0, needsMoreThanBudget: true)))
        #expect(budget.reservedBytes == 0)
    }
}
