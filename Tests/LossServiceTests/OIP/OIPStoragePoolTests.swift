import Testing
import TensorJSON
@testable import LossService

/// The pool that hands the arrays of large binary tensors from one request
/// to the next.
@Suite struct OIPStoragePoolTests {
    /// Elements in an array just at the pool's lower bound.
    static let large = OIPStoragePool.minimumBytes / 8

    private func address(_ array: [Double]) -> UnsafeRawPointer? {
        array.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test("take gives an array of the count asked for, kept or new")
    func takeGivesTheCount() {
        let pool = OIPStoragePool(maxRetainedBytes: 64 << 20)
        #expect(pool.take(count: 10).count == 10)
        #expect(pool.take(count: Self.large).count == Self.large)
        pool.recycle([Double](repeating: 1, count: Self.large + 100))
        #expect(pool.take(count: Self.large).count == Self.large)
        #expect(pool.retainedBytes == 0)
    }

    @Test("a recycled large array is the storage of the next take that fits")
    func reusesStorage() {
        let pool = OIPStoragePool(maxRetainedBytes: 64 << 20)
        let first = [Double](repeating: 1, count: Self.large)
        let storage = address(first)
        pool.recycle(first)
        #expect(pool.retainedBytes >= Self.large * 8)
        let again = pool.take(count: Self.large)
        #expect(address(again) == storage)
        #expect(pool.retainedBytes == 0)
    }

    @Test("takeEmpty gives a recycled array emptied, its storage kept; nil when none fits or the capacity asked is small")
    func takeEmptyKeepsTheStorage() {
        let pool = OIPStoragePool(maxRetainedBytes: 64 << 20)
        #expect(pool.takeEmpty(capacity: Self.large) == nil)
        // Recycled with no other holder (one still held would be copied on its first write).
        let storage = { () -> UnsafeRawPointer? in
            var first = [Double](repeating: 1, count: Self.large + 100)
            let storage = address(first)
            pool.recycle(first)
            first = []
            return storage
        }()
        #expect(pool.takeEmpty(capacity: 1000) == nil)
        #expect(pool.takeEmpty(capacity: 3 * Self.large) == nil)
        let again = pool.takeEmpty(capacity: Self.large)
        #expect(again?.isEmpty == true)
        #expect((again?.capacity ?? 0) >= Self.large + 100)
        #expect(again.map(address) == storage)
        #expect(pool.retainedBytes == 0)
    }

    @Test("an array more than twice as large as needed is not handed out for it")
    func noLargeWaste() {
        let pool = OIPStoragePool(maxRetainedBytes: 64 << 20)
        let big = [Double](repeating: 1, count: 3 * Self.large)
        let storage = address(big)
        pool.recycle(big)
        #expect(address(pool.take(count: Self.large)) != storage)
        #expect(pool.retainedBytes >= 3 * Self.large * 8)
    }

    @Test("small arrays, and arrays past maxRetainedBytes, are not kept")
    func bounded() {
        // Room for two and a half arrays: two fit whatever the allocator rounds
        // their capacity up to (up to 1.25x), a third never does. (Under
        // ThreadSanitizer's allocator the capacity is exact, so a bound of three
        // whole arrays would keep the third.)
        let pool = OIPStoragePool(maxRetainedBytes: 5 * OIPStoragePool.minimumBytes / 2)
        pool.recycle([Double](repeating: 1, count: 1000))
        #expect(pool.retainedBytes == 0)
        pool.recycle([Double](repeating: 1, count: Self.large))
        pool.recycle([Double](repeating: 1, count: Self.large))
        let kept = pool.retainedBytes
        #expect(kept >= 2 * Self.large * 8)
        pool.recycle([Double](repeating: 1, count: Self.large))
        #expect(pool.retainedBytes == kept)
        #expect(pool.retainedBytes <= pool.maxRetainedBytes)
    }

    @Test("it keeps at most an eighth of the memory budget, and at most 256 MiB")
    func boundFollowsTheBudget() {
        #expect(OIPStoragePool.maxRetainedBytes(budget: MemoryBudget(limit: 64 << 20)) == 8 << 20)
        #expect(OIPStoragePool.maxRetainedBytes(budget: MemoryBudget(limit: 8 << 30)) == 256 << 20)
        #expect(OIPStoragePool.maxRetainedBytes(budget: nil) == 256 << 20)
    }

    @Test("a limit of 0 keeps nothing: every large array recycled is freed, and none is handed out again")
    func zeroLimitKeepsNothing() {
        let pool = OIPStoragePool(maxRetainedBytes: 0)
        let first = [Double](repeating: 1, count: Self.large)
        pool.recycle(first)
        pool.recycle([Double](repeating: 2, count: 4 * Self.large))
        #expect(pool.retainedBytes == 0)
        #expect(pool.takeEmpty(capacity: Self.large) == nil)
    }

    @Test("the responder's pool takes the configured limit (0 included), else an eighth of the budget, at most 256 MiB")
    func responderPoolLimit() {
        #expect(LossResponder(storagePoolBytes: 0).storagePoolBytes == 0)
        #expect(LossResponder(memoryBudget: MemoryBudget(limit: 64 << 20), storagePoolBytes: 1 << 30).storagePoolBytes == 1 << 30)
        #expect(LossResponder(memoryBudget: MemoryBudget(limit: 64 << 20)).storagePoolBytes == 8 << 20)
        #expect(LossResponder().storagePoolBytes == 256 << 20)
        #expect(LossResponder.defaultStoragePoolBytes(memoryBudget: 64 << 20) == 8 << 20)
        #expect(LossResponder.defaultStoragePoolBytes(memoryBudget: 8 << 30) == 256 << 20)
    }

    @Test("an array still shared elsewhere is copied on the next write, never changed under its holder")
    func sharedArraysStayValues() {
        let pool = OIPStoragePool(maxRetainedBytes: 64 << 20)
        let held = [Double](repeating: 7, count: Self.large)
        pool.recycle(held)
        var taken = pool.take(count: Self.large)
        taken[0] = -1
        #expect(held[0] == 7)
        #expect(taken[0] == -1)
    }

    @Test("a reader on recycled storage gives each body's own values, a smaller body after a larger one too")
    func readerOnRecycledStorage() throws {
        let pool = OIPStoragePool(maxRetainedBytes: 64 << 20)
        func read(_ values: [Float]) throws -> [Double] {
            let header = Array(#"{"inputs":[]}"#.utf8)
            var body = header
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { body += $0 } }
            let reader = OIPBinaryReader(headerLength: header.count, storage: pool.take(count:))
            try body.withUnsafeBytes { raw in
                var rest = raw
                while !rest.isEmpty {
                    let used = try reader.feed(UnsafeRawBufferPointer(rebasing: rest.prefix(65_536)))
                    rest = UnsafeRawBufferPointer(rebasing: rest[used...])
                    if reader.headerComplete, reader.parts == nil {
                        reader.plan([OIPBinaryReader.Part(datatype: .fp32, size: values.count * 4)])
                    }
                }
            }
            try reader.finish(names: ["predictions"])
            let tensors = reader.takeTensors()
            for tensor in tensors { pool.recycle(tensor) }
            return tensors[0]
        }
        let first = (0..<Self.large + 1000).map { Float($0 % 977) }
        #expect(try read(first) == first.map(Double.init))
        #expect(pool.retainedBytes > 0)
        let second = (0..<Self.large + 10).map { -Float($0 % 13) - 0.5 }
        #expect(try read(second) == second.map(Double.init))
    }
}
