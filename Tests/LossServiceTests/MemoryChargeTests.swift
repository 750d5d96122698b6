import Testing
@testable import LossService
@testable import TensorJSON

/// `MemoryCharge`: what an inference or a batch holds of the memory budget,
/// reserved before it is taken and given back on every path.
@Suite struct MemoryChargeTests {
    @Test("cover reserves only what is missing; a growing buffer reserves a step ahead, at most up to its final size")
    func coverReservesWhatIsMissing() throws {
        let budget = MemoryBudget(limit: 1 << 20, maxWait: 0, reservationStep: 64)
        let charge = MemoryCharge(budget: budget)
        try charge.cover(100, at: 0)
        #expect(charge.bytes == 100 && budget.reservedBytes == 100)
        try charge.cover(50, at: 0)
        #expect(charge.bytes == 100)
        try charge.cover(120, growingTo: 10_000, at: 0)  // a step: max(100 / 4, 64) = 64
        #expect(charge.bytes == 164)
        try charge.cover(170, growingTo: 180, at: 0)  // the step stops at the final size
        #expect(charge.bytes == 180)
        charge.shrink(to: 150)
        #expect(charge.bytes == 150 && budget.reservedBytes == 150)
        charge.releaseAll()
        #expect(budget.reservedBytes == 0)
    }

    @Test("a refusal gives back all the request held and names the byte; past the whole budget says so")
    func refusal() {
        let budget = MemoryBudget(limit: 1000, maxWait: 0, reservationStep: 8)
        let other = MemoryReservation(budget: budget)
        #expect(other.extend(by: 900) == .granted)
        let charge = MemoryCharge(budget: budget)
        #expect(throws: Never.self) { try charge.cover(60, at: 0) }
        #expect(throws: DecodeError.overBudget(offset: 17, budget: 1000, wait: 0, needsMoreThanBudget: false)) {
            try charge.cover(200, at: 17)
        }
        #expect(charge.bytes == 0 && budget.reservedBytes == 900)
        #expect(throws: DecodeError.overBudget(offset: 3, budget: 1000, wait: 0, needsMoreThanBudget: true)) {
            try charge.cover(1001, at: 3)
        }
        other.releaseAll()
    }

    @Test("a charge that is freed gives back what it held (a handler dropped mid-body)")
    func freedGivesBack() throws {
        let budget = MemoryBudget(limit: 1000, maxWait: 0)
        var charge: MemoryCharge? = MemoryCharge(budget: budget)
        try charge!.cover(500, at: 0)
        #expect(budget.reservedBytes == 500)
        charge = nil
        #expect(budget.reservedBytes == 0)
    }

    @Test("without a budget nothing is charged")
    func noBudget() throws {
        let charge = MemoryCharge(budget: nil)
        #expect(!charge.isCharging)
        try charge.cover(1 << 40, at: 0)
        #expect(charge.bytes == 0)
    }

    @Test("valueBound counts the bytes that end a value in a container (',', ']', '}'), never fewer than the values",
          arguments: [
              ("[1,2,3]", 3, 3), ("[[1,2],[3,4]]", 6, 6), (#"{"a":[1.5,2e3],"b":-0}"#, 4, 4),
              ("[ 1 , 2 ]", 2, 2), (#"["x,y]"]"#, 3, 1), ("7", 0, 0), ("[]", 1, 0),
          ])
    func valueBound(text: String, bound: Int, values: Int) {
        let counted = Array(text.utf8).withUnsafeBytes { MemoryCharge.valueBound($0) }
        #expect(counted == bound)
        #expect(counted >= values)
    }
}
