import Testing
@testable import HTTP

/// The bookkeeping of a response the socket takes in pieces (backpressure), driven by hand.
@Suite struct PendingWriteTests {
    static func unsent(_ head: [UInt8], _ body: [UInt8], from offset: Int) -> ([UInt8], [UInt8]) {
        head.withUnsafeBytes { h in
            body.withUnsafeBytes { b in
                let (headPart, bodyPart) = PendingWrite.unsent(h, b, from: offset)
                return (Array(headPart), Array(bodyPart))
            }
        }
    }

    @Test func theUnsentPartsFollowTheOffsetAcrossTheHeadBodyBoundary() {
        let head = Array("HEAD".utf8)
        let body = Array("body!".utf8)
        #expect(PendingWriteTests.unsent(head, body, from: 0) == (head, body))
        #expect(PendingWriteTests.unsent(head, body, from: 3) == (Array("D".utf8), body))
        #expect(PendingWriteTests.unsent(head, body, from: 4) == ([], body))
        #expect(PendingWriteTests.unsent(head, body, from: 6) == ([], Array("dy!".utf8)))
        #expect(PendingWriteTests.unsent(head, body, from: 9) == ([], []))
    }

    @Test func aResponseTakenInPiecesIsCompleteAtItsLastByteAndKeepsItsExchange() {
        let exchange = Exchange(head: nil, wasRouted: false, status: .ok, requestBodyBytes: 0,
                                responseBodyBytes: 5, duration: 0)
        var write = PendingWrite(head: Array("HEAD".utf8), body: Array("body!".utf8), written: 2, exchange: exchange)
        #expect(write.total == 9 && !write.isComplete)
        for piece in [0, 3, 1] {  // a full socket takes nothing, then a few bytes at a time
            write.advance(by: piece)
            #expect(!write.isComplete)
        }
        write.advance(by: 3)
        #expect(write.isComplete && write.offset == 9)
        #expect(write.exchange?.status == .ok)
    }

    @Test func anInterimResponseHasNoExchangeToReport() {
        let write = PendingWrite(head: ResponseWriter.continueHead, body: [], written: 0, exchange: nil)
        #expect(write.exchange == nil && write.total == ResponseWriter.continueHead.count)
    }
}
