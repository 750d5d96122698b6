import Testing
@testable import HTTP

/// What decoding a whole input gave: the body, the bytes consumed and whether it finished, or the error.
struct Decoded: Equatable {
    var body: [UInt8]
    var consumed: Int
    var done: Bool
}

/// Decodes `input` handed over in pieces that end at `splits` (the decoder is
/// given, each time, the bytes it has not consumed yet, as a connection would).
func decodeChunked(_ input: [UInt8], splits: [Int] = [], limits: Limits = Limits()) -> Result<Decoded, HTTPError> {
    var decoder = ChunkedDecoder(limits: limits)
    var body: [UInt8] = []
    var consumed = 0
    var done = false
    for end in splits + [input.count] where !done {
        do throws(HTTPError) {
            let result = try decoder.decode(input[consumed..<max(consumed, end)], into: &body)
            consumed += result.consumed
            done = result.done
        } catch {
            return .failure(error)
        }
    }
    return .success(Decoded(body: body, consumed: consumed, done: done))
}

extension ChunkedDecoder {
    /// Decodes `bytes`, appending the payload to `body` (bridges the untyped
    /// `withUnsafeBytes` to the decoder's typed throws).
    mutating func decode(_ bytes: ArraySlice<UInt8>, into body: inout [UInt8]) throws(HTTPError) -> (consumed: Int, done: Bool) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(HTTPError) in try self.decode(raw) { (run) throws(HTTPError) in body.append(contentsOf: run) } }
        }
        return try result.get()
    }

    /// Decodes `bytes` with a payload handler that may throw.
    mutating func decode(_ bytes: [UInt8], payload: (UnsafeRawBufferPointer) throws(HTTPError) -> Void) throws(HTTPError) -> (consumed: Int, done: Bool) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(HTTPError) in try self.decode(raw, payload: payload) }
        }
        return try result.get()
    }
}

struct ChunkedRow: Sendable, CustomTestStringConvertible {
    var rule: String
    var input: [UInt8]
    var body: String
    var consumed: Int

    init(_ rule: String, _ input: String, _ body: String, consumed: Int? = nil) {
        self.rule = rule
        self.input = Array(input.utf8)
        self.body = body
        self.consumed = consumed ?? self.input.count
    }

    var testDescription: String { rule }
}

struct ChunkedRefusal: Sendable, CustomTestStringConvertible {
    var rule: String
    var input: [UInt8]
    var status: Int

    init(_ rule: String, _ input: String, _ status: Int) {
        self.rule = rule
        self.input = Array(input.utf8)
        self.status = status
    }

    var testDescription: String { "\(status): \(rule)" }
}

@Suite struct ChunkedDecoderTests {
    static let valid: [ChunkedRow] = [
        ChunkedRow("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
        ChunkedRow("several chunks", "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", "hello world"),
        ChunkedRow("empty body", "0\r\n\r\n", ""),
        ChunkedRow("hex sizes in either case", "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n", "0123456789abcdefghijk"),
        ChunkedRow("leading zeros in sizes", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
        ChunkedRow("data holding CRLF and digits", "6\r\n\r\n0\r\n\r\r\n0\r\n\r\n", "\r\n0\r\n\r"),
        ChunkedRow("chunk extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"),
        ChunkedRow("extension after whitespace (BWS)", "5 \t;a=b\r\nhello\r\n0\r\n\r\n", "hello"),
        ChunkedRow("quoted extension value", "5;a=\"x;y \\\"z\\\"\"\r\nhello\r\n0\r\n\r\n", "hello"),
        ChunkedRow("trailers are read and dropped", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\t1 2\r\n\r\n", "hello"),
        ChunkedRow("trailer with an empty value", "0\r\nX-Empty:\r\n\r\n", ""),
        ChunkedRow("bytes after the body are left for the next request", "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "abc", consumed: 13),
    ]

    @Test("a valid chunked body decodes to its data", arguments: valid)
    func decodes(_ row: ChunkedRow) {
        let result = decodeChunked(row.input)
        #expect(result == .success(Decoded(body: Array(row.body.utf8), consumed: row.consumed, done: true)))
    }

    @Test("a valid chunked body decodes the same split at any point", arguments: valid)
    func decodesSplitAnywhere(_ row: ChunkedRow) {
        let expected = Result<Decoded, HTTPError>.success(Decoded(body: Array(row.body.utf8), consumed: row.consumed, done: true))
        for split in 0...row.input.count {
            #expect(decodeChunked(row.input, splits: [split]) == expected, "split at \(split)")
        }
        #expect(decodeChunked(row.input, splits: Array(0...row.input.count)) == expected, "one byte at a time")
    }

    @Test("every proper prefix of a chunked body is not done and not an error", arguments: valid)
    func prefixesAreUnfinished(_ row: ChunkedRow) {
        for end in 0..<row.consumed {
            guard case .success(let decoded) = decodeChunked(Array(row.input[0..<end])) else {
                Issue.record("prefix of \(end) bytes refused")
                continue
            }
            #expect(!decoded.done, "prefix of \(end) bytes")
            #expect(decoded.consumed == end)
        }
    }

    static let refusals: [ChunkedRefusal] = [
        ChunkedRefusal("no chunk size", "\r\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("non-hex chunk size", "g\r\n", 400),
        ChunkedRefusal("signed chunk size", "+5\r\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("junk after the size", "5x\r\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("whitespace then no extension", "5 \r\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("whitespace before the size", " 5\r\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("bare LF after the size", "5\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("bare CR after the size", "5\rhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("control byte in an extension", "5;a\u{1}\r\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("bare LF in an extension", "5;a\nhello\r\n0\r\n\r\n", 400),
        ChunkedRefusal("data longer than its size", "5\r\nhello!\r\n0\r\n\r\n", 400),
        ChunkedRefusal("data followed by LF only", "5\r\nhello\n0\r\n\r\n", 400),
        ChunkedRefusal("data followed by CR and junk", "5\r\nhello\rx0\r\n\r\n", 400),
        ChunkedRefusal("bare LF ends the body", "0\r\n\n", 400),
        ChunkedRefusal("bare CR ends the body", "0\r\n\rX", 400),
        ChunkedRefusal("trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", 400),
        ChunkedRefusal("space before a trailer colon", "0\r\nX : a\r\n\r\n", 400),
        ChunkedRefusal("trailer without a colon", "0\r\nX\r\n\r\n", 400),
        ChunkedRefusal("control byte in a trailer value", "0\r\nX: a\u{0}\r\n\r\n", 400),
        ChunkedRefusal("bare LF in a trailer", "0\r\nX: a\n\r\n", 400),
        ChunkedRefusal("invalid byte starting a trailer", "0\r\n(X): a\r\n\r\n", 400),
        ChunkedRefusal("chunk size over the body limit", "8000001\r\n", 413),
        ChunkedRefusal("chunk size of 2^64 does not wrap", "10000000000000000\r\n", 413),
        ChunkedRefusal("chunk size of 40 hex digits", String(repeating: "F", count: 40) + "\r\n", 413),
        ChunkedRefusal("chunk size of leading zeros then a huge value", "0000000000FFFFFFFFFFFFFFFFFFFF\r\n", 413),
    ]

    @Test("a malformed chunked body is refused with the rule's status", arguments: refusals)
    func refuses(_ row: ChunkedRefusal) {
        guard case .failure(let error) = decodeChunked(row.input) else { Issue.record("accepted"); return }
        #expect(error.status.code == row.status)
        #expect(error.detail.count > 10)
    }

    @Test func aChunkSizeOverflowIsRefusedBeforeItsDataArrives() {
        // Only size digits are sent: refused while they arrive, without waiting for the line end or the data.
        guard case .failure(let error) = decodeChunked(Array("FFFFFFFFFFFFFFFFF".utf8)) else { Issue.record("not refused"); return }
        #expect(error.status.code == 413)
    }

    @Test func theChunkLineLimitCountsExtensionsAndCRLF() {
        var limits = Limits()
        limits.maxChunkLineBytes = 16
        let fits = "5;" + String(repeating: "e", count: 12) + "\r\nhello\r\n0\r\n\r\n"  // 16 bytes with CRLF
        #expect(decodeChunked(Array(fits.utf8), limits: limits) == .success(Decoded(body: Array("hello".utf8), consumed: fits.utf8.count, done: true)))
        let over = "5;" + String(repeating: "e", count: 13) + "\r\nhello\r\n0\r\n\r\n"
        guard case .failure(let error) = decodeChunked(Array(over.utf8), limits: limits) else { Issue.record("accepted"); return }
        #expect(error.status.code == 400)
    }

    @Test func anEndlessChunkExtensionIsRefusedAtTheDefaultLimit() {
        let endless = Array(("1;" + String(repeating: "x", count: 100_000)).utf8)
        var decoder = ChunkedDecoder(limits: Limits())
        var consumed = 0
        do throws(HTTPError) {
            var body: [UInt8] = []
            _ = try decoder.decode(endless[...], into: &body)
            Issue.record("accepted")
        } catch {
            #expect(error.status.code == 400)
            consumed = 1
        }
        #expect(consumed == 1)
    }

    @Test func theBodyLimitAllowsExactlyMaxBodyBytes() {
        var limits = Limits()
        limits.maxBodyBytes = 10
        let exact = "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"
        #expect(decodeChunked(Array(exact.utf8), limits: limits).map(\.body) == .success(Array("abcdefghij".utf8)))
        let over = "6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n"
        guard case .failure(let error) = decodeChunked(Array(over.utf8), limits: limits) else { Issue.record("accepted"); return }
        #expect(error.status.code == 413)
    }

    @Test func trailersAreLimitedLikeHeaders() {
        var limits = Limits()
        limits.maxHeaderBytes = 20
        limits.maxHeaderCount = 2
        let fits = "0\r\nA: 1\r\nB: 2\r\n\r\n"  // trailer section: 6 + 6 + 2 = 14 bytes, 2 fields
        #expect(decodeChunked(Array(fits.utf8), limits: limits).map(\.done) == .success(true))
        let tooMany = "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        guard case .failure(let countError) = decodeChunked(Array(tooMany.utf8), limits: limits) else { Issue.record("accepted"); return }
        #expect(countError.status.code == 431)
        let tooLong = "0\r\nA: " + String(repeating: "v", count: 20) + "\r\n\r\n"
        guard case .failure(let sizeError) = decodeChunked(Array(tooLong.utf8), limits: limits) else { Issue.record("accepted"); return }
        #expect(sizeError.status.code == 431)
    }

    @Test func chunkDataIsHandedOnInOneRunPerChunkAndPiece() throws {
        let data = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        let input = Array("100000\r\n".utf8) + data + Array("\r\n0\r\n\r\n".utf8)
        var decoder = ChunkedDecoder(limits: Limits())
        var runs: [Int] = []
        let result = try decoder.decode(input) { (run) throws(HTTPError) in runs.append(run.count) }
        #expect(result.done && result.consumed == input.count)
        #expect(runs == [1 << 20])
    }

    @Test func anErrorFromThePayloadHandlerStopsDecoding() {
        var decoder = ChunkedDecoder(limits: Limits())
        let input = Array("5\r\nhello\r\n0\r\n\r\n".utf8)
        let stop = HTTPError(.unprocessableContent, "handler said no")
        do throws(HTTPError) {
            _ = try decoder.decode(input) { (_) throws(HTTPError) in throw stop }
            Issue.record("not thrown")
        } catch {
            #expect(error == stop)
        }
    }

    @Test func aFinishedDecoderConsumesNothingMore() throws {
        var decoder = ChunkedDecoder(limits: Limits())
        let input = Array("0\r\n\r\n".utf8)
        var body: [UInt8] = []
        let first = try decoder.decode(input[...], into: &body)
        #expect(first.consumed == 5 && first.done)
        let second = try decoder.decode(Array("5\r\nhello".utf8)[...], into: &body)
        #expect(second.consumed == 0 && second.done)
        #expect(body.isEmpty)
    }
}
