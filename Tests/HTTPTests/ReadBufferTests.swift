import Testing
@testable import HTTP

/// The read buffer's growth rules, filled by hand.
@Suite struct ReadBufferTests {
    /// `count` bytes counting up from `first` (wrapping), so moved bytes can be recognised.
    static func bytes(_ count: Int, from first: UInt8 = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: Int(first) + $0) }
    }

    /// Runs `body` on a buffer of `normalBytes` (8 KiB for a large body, heads up to
    /// `headBound`) that already holds `holding` bytes (`bytes(holding)`), then deallocates it.
    static func withBuffer(normalBytes: Int = 1024, headBound: Int = 4096, holding count: Int = 0,
                           _ body: (inout ReadBuffer) -> Void) {
        var buffer = ReadBuffer(normalBytes: normalBytes, bodyBytes: 8192, headBound: headBound)
        defer { buffer.deallocate() }
        if count > 0 { buffer.fill(bytes(count)) }
        body(&buffer)
    }

    @Test func itStartsAtTheNormalSizeAndNeverBelowOneKiB() {
        Self.withBuffer(normalBytes: 100) { small in
            #expect(small.storage.count == 1024)
            #expect(small.isEmpty && small.freeSpace.count == 1024)
        }
    }

    @Test func consumedBytesAreMovedToTheFrontWhenTheEndIsReached() {
        Self.withBuffer(holding: 1024) { buffer in
            buffer.consume(1000)
            buffer.makeRoom(largeBody: false)
            #expect(buffer.storage.count == 1024)
            #expect(buffer.start == 0 && buffer.count == 24)
            #expect(Array(buffer.unread) == Self.bytes(24, from: UInt8(1000 % 256)))
            #expect(buffer.freeSpace.count == 1000)
        }
    }

    @Test func anEmptyBufferRestartsAtTheFront() {
        Self.withBuffer(holding: 10) { buffer in
            buffer.consume(10)
            buffer.makeRoom(largeBody: false)
            #expect(buffer.start == 0 && buffer.end == 0)
        }
    }

    @Test func aHeadLargerThanTheBufferDoublesItUpToTheBoundThenNoFurther() {
        Self.withBuffer(headBound: 3000) { buffer in
            var sizes: [Int] = []
            for _ in 0..<4 {
                buffer.fill(Self.bytes(buffer.freeSpace.count))
                #expect(buffer.isFull)
                buffer.makeRoom(largeBody: false)
                sizes.append(buffer.storage.count)
            }
            #expect(sizes == [2048, 3000, 3000, 3000])
            #expect(buffer.isFull && buffer.isFullAtHeadBound)
            #expect(Array(buffer.unread.prefix(4)) == [0, 1, 2, 3])  // kept across the moves
        }
    }

    @Test func notYetFullMeansNothingMoves() {
        Self.withBuffer(holding: 100) { buffer in
            buffer.consume(50)
            buffer.makeRoom(largeBody: false)
            #expect(buffer.start == 50 && buffer.end == 100)
        }
    }

    @Test func aLargeBodyTakesTheBodySizeAndTheBoundaryShrinksItBack() {
        Self.withBuffer(holding: 300) { buffer in
            buffer.consume(100)
            buffer.makeRoom(largeBody: true)
            #expect(buffer.storage.count == 8192)
            #expect(buffer.start == 0 && Array(buffer.unread) == Array(Self.bytes(300)[100...]))
            buffer.makeRoom(largeBody: true)
            #expect(buffer.storage.count == 8192)  // not reallocated again
            buffer.shrinkToNormal()
            #expect(buffer.storage.count == 1024 && buffer.count == 200)
        }
    }

    @Test func theBoundaryKeepsALargeBufferWhileWhatItHoldsDoesNotFitTheNormalOne() {
        Self.withBuffer { buffer in
            buffer.makeRoom(largeBody: true)
            buffer.fill(Self.bytes(2000))
            buffer.shrinkToNormal()
            #expect(buffer.storage.count == 8192)
            buffer.consume(1000)
            buffer.shrinkToNormal()
            #expect(buffer.storage.count == 1024 && buffer.count == 1000)
        }
    }
}

extension ReadBuffer {
    /// Writes `bytes` into the free space as a read would.
    mutating func fill(_ bytes: [UInt8]) {
        let (space, room) = freeSpace
        precondition(bytes.count <= room)
        bytes.withUnsafeBytes { space.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        didRead(bytes.count)
    }
}
