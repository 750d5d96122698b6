import Testing
@testable import HTTP

/// The read buffer's growth rules, filled by hand.
@Suite struct ReadBufferTests {
    /// Writes `bytes` into the free space as a read would.
    static func fill(_ buffer: inout ReadBuffer, _ bytes: [UInt8]) {
        let (space, room) = buffer.freeSpace
        precondition(bytes.count <= room)
        bytes.withUnsafeBytes { space.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        buffer.didRead(bytes.count)
    }

    static func bytes(_ count: Int, from first: UInt8 = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: Int(first) + $0) }
    }

    @Test func itStartsAtTheNormalSizeAndNeverBelowOneKiB() {
        let small = ReadBuffer(normalBytes: 100, bodyBytes: 8192, headBound: 4096)
        defer { small.deallocate() }
        #expect(small.storage.count == 1024)
        #expect(small.isEmpty && small.freeSpace.count == 1024)
    }

    @Test func consumedBytesAreMovedToTheFrontWhenTheEndIsReached() {
        var buffer = ReadBuffer(normalBytes: 1024, bodyBytes: 8192, headBound: 4096)
        defer { buffer.deallocate() }
        ReadBufferTests.fill(&buffer, ReadBufferTests.bytes(1024))
        buffer.consume(1000)
        buffer.makeRoom(largeBody: false)
        #expect(buffer.storage.count == 1024)
        #expect(buffer.start == 0 && buffer.count == 24)
        #expect(Array(buffer.unread) == ReadBufferTests.bytes(24, from: UInt8(1000 % 256)))
        #expect(buffer.freeSpace.count == 1000)
    }

    @Test func anEmptyBufferRestartsAtTheFront() {
        var buffer = ReadBuffer(normalBytes: 1024, bodyBytes: 8192, headBound: 4096)
        defer { buffer.deallocate() }
        ReadBufferTests.fill(&buffer, ReadBufferTests.bytes(10))
        buffer.consume(10)
        buffer.makeRoom(largeBody: false)
        #expect(buffer.start == 0 && buffer.end == 0)
    }

    @Test func aHeadLargerThanTheBufferDoublesItUpToTheBoundThenNoFurther() {
        var buffer = ReadBuffer(normalBytes: 1024, bodyBytes: 8192, headBound: 3000)
        defer { buffer.deallocate() }
        var sizes: [Int] = []
        for _ in 0..<4 {
            ReadBufferTests.fill(&buffer, ReadBufferTests.bytes(buffer.freeSpace.count))
            #expect(buffer.isFull)
            buffer.makeRoom(largeBody: false)
            sizes.append(buffer.storage.count)
        }
        #expect(sizes == [2048, 3000, 3000, 3000])
        #expect(buffer.isFull && buffer.isFullAtHeadBound)
        #expect(Array(buffer.unread.prefix(4)) == [0, 1, 2, 3])  // kept across the moves
    }

    @Test func notYetFullMeansNothingMoves() {
        var buffer = ReadBuffer(normalBytes: 1024, bodyBytes: 8192, headBound: 4096)
        defer { buffer.deallocate() }
        ReadBufferTests.fill(&buffer, ReadBufferTests.bytes(100))
        buffer.consume(50)
        buffer.makeRoom(largeBody: false)
        #expect(buffer.start == 50 && buffer.end == 100)
    }

    @Test func aLargeBodyTakesTheBodySizeAndTheBoundaryShrinksItBack() {
        var buffer = ReadBuffer(normalBytes: 1024, bodyBytes: 8192, headBound: 4096)
        defer { buffer.deallocate() }
        ReadBufferTests.fill(&buffer, ReadBufferTests.bytes(300))
        buffer.consume(100)
        buffer.makeRoom(largeBody: true)
        #expect(buffer.storage.count == 8192)
        #expect(buffer.start == 0 && Array(buffer.unread) == Array(ReadBufferTests.bytes(300)[100...]))
        buffer.makeRoom(largeBody: true)
        #expect(buffer.storage.count == 8192)  // not reallocated again
        buffer.shrinkToNormal()
        #expect(buffer.storage.count == 1024 && buffer.count == 200)
    }

    @Test func theBoundaryKeepsALargeBufferWhileWhatItHoldsDoesNotFitTheNormalOne() {
        var buffer = ReadBuffer(normalBytes: 1024, bodyBytes: 8192, headBound: 4096)
        defer { buffer.deallocate() }
        buffer.makeRoom(largeBody: true)
        ReadBufferTests.fill(&buffer, ReadBufferTests.bytes(2000))
        buffer.shrinkToNormal()
        #expect(buffer.storage.count == 8192)
        buffer.consume(1000)
        buffer.shrinkToNormal()
        #expect(buffer.storage.count == 1024 && buffer.count == 1000)
    }
}
