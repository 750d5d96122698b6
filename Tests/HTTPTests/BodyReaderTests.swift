import Testing
@testable import HTTP

/// The body stage, fed bytes by hand: where a body ends in a pipelined
/// stream, chunked and gzip bodies in pieces, the limit, early answers and
/// dropping a body after one.
@Suite struct BodyReaderTests {
    /// Collects the body; answers `stopAfter` bytes early when set.
    final class Collect: BodyHandler {
        var bytes: [UInt8] = []
        let stopAfter: Int?
        init(stopAfter: Int? = nil) { self.stopAfter = stopAfter }
        func consume(_ piece: UnsafeRawBufferPointer) -> Response? {
            bytes += piece
            if let stopAfter, bytes.count >= stopAfter { return Response(status: .unprocessableContent) }
            return nil
        }
        func finish() -> Response { Response(status: .ok, body: bytes) }
    }

    static func reader(maxBodyBytes: Int = 1 << 20, discardBodyBytes: Int = 100) -> BodyReader {
        var limits = Limits()
        limits.maxBodyBytes = maxBodyBytes
        return BodyReader(limits: limits, discardBodyBytes: discardBodyBytes)
    }

    static func plan(_ length: Int, gzip: Bool = false) -> BodyPlan {
        BodyPlan(length: length, expectsContinue: false, gzip: gzip)
    }

    static func read(_ reader: inout BodyReader, _ text: String) -> (consumed: Int, step: BodyReader.Step) {
        read(&reader, Array(text.utf8))
    }

    static func read(_ reader: inout BodyReader, _ bytes: [UInt8]) -> (consumed: Int, step: BodyReader.Step) {
        bytes.withUnsafeBytes { reader.read($0) }
    }

    /// The step's response body as text, for a finished or early-answered step.
    static func answer(_ step: BodyReader.Step) -> String? {
        switch step {
        case .finished(let response?): String(decoding: response.body, as: UTF8.self)
        case .answeredEarly(let response, _, _): "early \(response.status.code)"
        default: nil
        }
    }

    @Test func aBodyWithALengthEndsThereAndLeavesThePipelinedRequestAfterIt() {
        var reader = BodyReaderTests.reader()
        let handler = Collect()
        reader.start(BodyReaderTests.plan(5), handler: handler)
        let first = BodyReaderTests.read(&reader, "hel")
        #expect(first.consumed == 3)
        guard case .needMore = first.step else { Issue.record("\(first.step)"); return }
        let (consumed, step) = BodyReaderTests.read(&reader, "loGET / HTTP/1.1\r\n\r\n")
        #expect(consumed == 2)
        #expect(BodyReaderTests.answer(step) == "hello")
        #expect(reader.decodedBytes == 5)
    }

    @Test func aChunkedBodyInPiecesEndsAtItsLastChunkAndItsTrailer() {
        var reader = BodyReaderTests.reader()
        reader.start(BodyReaderTests.plan(-1), handler: Collect())
        let wire = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT"
        var offset = 0
        var last = BodyReader.Step.needMore
        for piece in wire.utf8.map({ [$0] }) where offset < wire.utf8.count - 4 {
            let (consumed, step) = BodyReaderTests.read(&reader, piece)
            offset += consumed
            last = step
        }
        #expect(offset == wire.utf8.count - 4)
        #expect(BodyReaderTests.answer(last) == "abcde")
    }

    @Test func aGzipBodyReachesTheHandlerDecoded() {
        var reader = BodyReaderTests.reader()
        reader.start(BodyReaderTests.plan(GzipTests.pythonGzip.count, gzip: true), handler: Collect())
        let (consumed, step) = BodyReaderTests.read(&reader, GzipTests.pythonGzip)
        #expect(consumed == GzipTests.pythonGzip.count)
        #expect(BodyReaderTests.answer(step) == #"{"hello":"gzip"}"#)
    }

    @Test func aTruncatedGzipBodyIs400() {
        var reader = BodyReaderTests.reader()
        let truncated = Array(GzipTests.pythonGzip.dropLast(4))
        reader.start(BodyReaderTests.plan(truncated.count, gzip: true), handler: Collect())
        guard case .failed(let error) = BodyReaderTests.read(&reader, truncated).step else {
            Issue.record("not refused"); return
        }
        #expect(error == HTTPError(status: .badRequest, detail: "the gzip request body is truncated"))
    }

    @Test func aChunkedBodyOverTheLimitIs413() {
        var reader = BodyReaderTests.reader(maxBodyBytes: 4)
        reader.start(BodyReaderTests.plan(-1), handler: Collect())
        let (consumed, step) = BodyReaderTests.read(&reader, "5\r\nabcde\r\n0\r\n\r\n")
        #expect(consumed == 0)
        guard case .failed(let error) = step else { Issue.record("\(step)"); return }
        #expect(error.status == .contentTooLarge)
    }

    @Test func anEarlyAnswerAtTheBodysEndGoesBackToTheNextRequest() {
        var reader = BodyReaderTests.reader()
        reader.start(BodyReaderTests.plan(3), handler: Collect(stopAfter: 1))
        let (consumed, step) = BodyReaderTests.read(&reader, "abc")
        #expect(consumed == 3)
        guard case .answeredEarly(_, bodyEnded: true, close: false) = step else { Issue.record("\(step)"); return }
    }

    @Test func anEarlyAnswerDropsASmallRestThenFinishesWithoutASecondResponse() {
        var reader = BodyReaderTests.reader(discardBodyBytes: 100)
        reader.start(BodyReaderTests.plan(150), handler: Collect(stopAfter: 1))
        let first = BodyReaderTests.read(&reader, String(repeating: "x", count: 60))
        guard case .answeredEarly(_, bodyEnded: false, close: false) = first.step else { Issue.record("\(first.step)"); return }
        #expect(reader.isDropping)
        let rest = BodyReaderTests.read(&reader, String(repeating: "x", count: 90) + "GET")
        #expect(rest.consumed == 90)
        guard case .finished(nil) = rest.step else { Issue.record("\(rest.step)"); return }
    }

    @Test func anEarlyAnswerWithALargeRestCloses() {
        var reader = BodyReaderTests.reader(discardBodyBytes: 100)
        reader.start(BodyReaderTests.plan(1000), handler: Collect(stopAfter: 1))
        let (_, step) = BodyReaderTests.read(&reader, "xx")
        guard case .answeredEarly(_, bodyEnded: false, close: true) = step else { Issue.record("\(step)"); return }
    }

    @Test func aDroppedBodyStopsOnceOverItsBudget() {
        var reader = BodyReaderTests.reader(discardBodyBytes: 10)
        reader.start(BodyReaderTests.plan(-1), handler: nil)
        let (consumed, step) = BodyReaderTests.read(&reader, "10\r\n0123456789abcdef\r\n")
        #expect(consumed > 10)
        guard case .stopDropping = step else { Issue.record("\(step)"); return }
    }

    @Test func aMalformedDroppedBodyStopsWithoutASecondResponse() {
        var reader = BodyReaderTests.reader()
        reader.start(BodyReaderTests.plan(-1), handler: nil)
        guard case .stopDropping = BodyReaderTests.read(&reader, "zz\r\n").step else { Issue.record("not stopped"); return }
    }

    @Test func aResetForgetsTheLastBody() {
        var reader = BodyReaderTests.reader()
        reader.start(BodyReaderTests.plan(2), handler: Collect())
        _ = BodyReaderTests.read(&reader, "ab")
        reader.reset()
        #expect(reader.decodedBytes == 0)
        #expect(reader.isDropping)
        #expect(!reader.isLarge(than: 100))
    }
}
