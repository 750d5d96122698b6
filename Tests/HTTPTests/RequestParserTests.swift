import Testing
@testable import HTTP

/// One input of a table: a rule, the bytes that exercise it, and what must come out.
struct ParserRow: Sendable, CustomTestStringConvertible {
    var rule: String
    var bytes: [UInt8]
    var status: Int
    /// Words the detail must contain, so that the row fails when another rule refuses the bytes.
    var detail: String

    init(_ rule: String, _ text: String, _ status: Int, _ detail: String) {
        self.init(rule, bytes: Array(text.utf8), status, detail)
    }

    init(_ rule: String, bytes: [UInt8], _ status: Int, _ detail: String) {
        self.rule = rule
        self.bytes = bytes
        self.status = status
        self.detail = detail
    }

    var testDescription: String { "\(status): \(rule)" }
}

/// A valid request and the head and framing it must give.
struct AcceptedRow: Sendable, CustomTestStringConvertible {
    var rule: String
    var bytes: [UInt8]
    var method: HTTP.Method
    var target: String
    var path: String
    var version: Version
    var framing: BodyFraming

    init(_ rule: String, _ text: String, _ method: HTTP.Method, _ target: String, path: String? = nil,
         _ version: Version = .http1_1, _ framing: BodyFraming = .none) {
        self.init(rule, bytes: Array(text.utf8), method, target, path: path, version, framing)
    }

    init(_ rule: String, bytes: [UInt8], _ method: HTTP.Method, _ target: String, path: String? = nil,
         _ version: Version = .http1_1, _ framing: BodyFraming = .none) {
        self.rule = rule
        self.bytes = bytes
        self.method = method
        self.target = target
        self.path = path ?? target
        self.version = version
        self.framing = framing
    }

    var testDescription: String { rule }
}

func parseWhole(_ bytes: [UInt8], limits: Limits = Limits()) -> ParseResult {
    var parser = RequestParser(limits: limits)
    return bytes.withUnsafeBytes { parser.parse($0) }
}

/// Feeds `bytes` to one parser as a buffer that grows `step` bytes per call, as
/// a connection does; returns every result and the buffered length of each.
func parseGrowing(_ bytes: [UInt8], step: Int = 1, limits: Limits = Limits()) -> [(Int, ParseResult)] {
    var parser = RequestParser(limits: limits)
    var results: [(Int, ParseResult)] = []
    var end = 0
    while end < bytes.count {
        end = min(bytes.count, end + step)
        let result = bytes[0..<end].withUnsafeBytes { parser.parse($0) }
        results.append((end, result))
        if result != .incomplete { break }
    }
    return results
}

func status(of result: ParseResult) -> Int? {
    if case .failed(let error) = result { return error.status.code }
    return nil
}

let host = "Host: example.com\r\n"

@Suite struct RequestParserTests {
    // MARK: - Refusals: one row per rule

    static let refusals: [ParserRow] = [
        // RFC 9112 §2.2: line endings
        ParserRow("bare LF ends the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare LF at byte 14"),
        ParserRow("bare LF ends a header line", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "bare LF at byte 23"),
        ParserRow("bare LF ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "bare LF at byte 25"),
        ParserRow("bare LF as a leading empty line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bare LF at byte 0"),
        ParserRow("bare CR in the request-target", "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bare CR at byte 6"),
        ParserRow("bare CR after the version", "GET / HTTP/1.1\r\rHost: a\r\n\r\n", 400, "bare CR at byte 14"),
        ParserRow("bare CR in a header value", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400, "bare CR at byte 23"),
        ParserRow("bare CR in a header name", "GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n", 400, "bare CR at byte 18"),
        ParserRow("bare CR as the final line", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400, "bare CR at byte 25"),
        // RFC 9112 §5.1, §5.2, §2.2: field lines
        ParserRow("space between field name and colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "§5.1"),
        ParserRow("tab between field name and colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, "§5.1"),
        ParserRow("obs-fold continuation line", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400, "obs-fold"),
        ParserRow("obs-fold with a tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", 400, "obs-fold"),
        ParserRow("whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, "obs-fold"),
        ParserRow("NUL in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", 400, "control byte 0x00"),
        ParserRow("control byte 0x01 in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{1}b\r\n\r\n", 400, "control byte 0x01"),
        ParserRow("DEL in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}b\r\n\r\n", 400, "control byte 0x7F"),
        ParserRow("ESC in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: \u{1B}[31m\r\n\r\n", 400, "control byte 0x1B"),
        ParserRow("parenthesis in a field name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n", 400, "invalid byte 0x28"),
        ParserRow("quote in a field name", "GET / HTTP/1.1\r\nHost: a\r\n\"X\": b\r\n\r\n", 400, "invalid byte 0x22 at byte 25"),
        ParserRow("non-ASCII byte in a field name", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX".utf8) + [0xC3, 0xA9] + Array(": b\r\n\r\n".utf8), 400, "invalid byte 0xC3"),
        ParserRow("empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400, "empty name"),
        ParserRow("field line without a colon", "GET / HTTP/1.1\r\nHost: a\r\nX-Flag\r\n\r\n", 400, "without a colon"),
        // RFC 9112 §3, RFC 9110 §9.1: the request line
        ParserRow("invalid byte in the method", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid byte 0x40"),
        ParserRow("request line starting with a space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "must start with a method"),
        ParserRow("two spaces after the method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid byte 0x20"),
        ParserRow("two spaces before the version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid byte 0x20"),
        ParserRow("tab as a separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid byte 0x09"),
        ParserRow("trailing space after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "malformed request line"),
        ParserRow("no version", "GET /\r\nHost: a\r\n\r\n", 400, "malformed request line"),
        ParserRow("method alone", "GET\r\nHost: a\r\n\r\n", 400, "no request-target"),
        ParserRow("lowercase protocol name", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, "malformed request line"),
        ParserRow("two-digit minor version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400, "malformed request line"),
        ParserRow("version without a minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400, "malformed request line"),
        ParserRow("three parts but garbage version", "GET / HTTP-1.1\r\nHost: a\r\n\r\n", 400, "malformed request line"),
        // RFC 9112 §3.2, RFC 3986: the request-target
        ParserRow("relative request-target", "GET loss/ce HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http(s) absolute URI"),
        ParserRow("fragment in the request-target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid byte 0x23"),
        ParserRow("bad percent-escape", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, "%XX"),
        ParserRow("truncated percent-escape", "GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "%XX"),
        ParserRow("non-ASCII byte in the request-target", bytes: Array("GET /caf".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8), 400, "invalid byte 0xC3"),
        ParserRow("DEL in the request-target", "GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid byte 0x7F"),
        ParserRow("backslash in the request-target", "GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid byte 0x5C"),
        ParserRow("asterisk-form with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3.2.4"),
        ParserRow("asterisk followed by a path", "OPTIONS */x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3.2.4"),
        ParserRow("absolute-form with a non-http scheme", "GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http(s) absolute URI"),
        ParserRow("absolute-form with an empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "empty authority"),
        ParserRow("absolute-form with userinfo", "GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid byte 0x40"),
        ParserRow("CONNECT with a path", "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "CONNECT authority"),
        // RFC 9112 §3.2: Host
        ParserRow("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, "must have a Host"),
        ParserRow("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "more than one Host"),
        ParserRow("two Host fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400, "more than one Host"),
        ParserRow("Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "Host header field is not"),
        ParserRow("Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "Host header field is not"),
        // RFC 9112 §6.1, §6.3: framing
        ParserRow("Transfer-Encoding with Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, "both Transfer-Encoding and Content-Length"),
        ParserRow("Content-Length before Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both Transfer-Encoding and Content-Length"),
        ParserRow("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "HTTP/1.0"),
        ParserRow("chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, "must end with chunked"),
        ParserRow("chunked not last across lines", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "must end with chunked"),
        ParserRow("a known coding without chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "must end with chunked"),
        ParserRow("chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400, "must end with chunked"),
        ParserRow("empty Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", 400, "must end with chunked"),
        ParserRow("Transfer-Encoding that is not a token", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400, "malformed Transfer-Encoding"),
        ParserRow("chunked with a parameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400, "no parameters"),
        ParserRow("conflicting Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400, "conflicting"),
        ParserRow("conflicting Content-Length lines", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, "conflicting"),
        ParserRow("non-numeric Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400, "decimal number"),
        ParserRow("negative Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "decimal number"),
        ParserRow("signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400, "decimal number"),
        ParserRow("hex Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400, "decimal number"),
        ParserRow("Content-Length with inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n", 400, "decimal number"),
        ParserRow("empty Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400, "decimal number"),
        ParserRow("Content-Length list with an empty element", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", 400, "decimal number"),
        ParserRow("Content-Length list starting with a comma", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ,5\r\n\r\n", 400, "decimal number"),
        ParserRow("fractional Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5.0\r\n\r\n", 400, "decimal number"),
        // RFC 9110 §15.5.12
        ParserRow("POST without a length", "POST /loss/ce HTTP/1.1\r\nHost: a\r\n\r\n", 411, "a POST request needs Content-Length"),
        ParserRow("PUT without a length", "PUT /x HTTP/1.1\r\nHost: a\r\n\r\n", 411, "a PUT request"),
        ParserRow("PATCH without a length", "PATCH /x HTTP/1.1\r\nHost: a\r\n\r\n", 411, "a PATCH request"),
        ParserRow("HTTP/1.0 POST without a length", "POST / HTTP/1.0\r\n\r\n", 411, "a POST request"),
        // RFC 9110 §9.1: unknown (or wrongly cased) methods
        ParserRow("unknown method", "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501, "method 'BREW' is not implemented"),
        ParserRow("method in lowercase", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501, "method 'get'"),
        ParserRow("QUERY in lowercase", "query / HTTP/1.1\r\nHost: a\r\n\r\n", 501, "method 'query'"),
        ParserRow("WebDAV method", "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n", 501, "'PROPFIND'"),
        // RFC 9112 §6.1: transfer codings we do not understand or implement
        ParserRow("unknown transfer coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", 501, "unknown transfer coding 'foo'"),
        ParserRow("unknown coding before chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 501, "unknown transfer coding 'foo'"),
        ParserRow("gzip transfer coding before chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "'gzip' is not implemented"),
        // RFC 9112 §2.3: major versions other than 1
        ParserRow("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0 is not supported"),
        ParserRow("HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, "HTTP/0.9 is not supported"),
        ParserRow("HTTP/3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505, "HTTP/3.0 is not supported"),
    ]

    @Test("a malformed or unacceptable head is refused with the rule's status", arguments: refusals)
    func refusesWithStatus(_ row: ParserRow) {
        let result = parseWhole(row.bytes)
        #expect(status(of: result) == row.status, "got \(result)")
    }

    @Test("a refusal's detail names what is wrong, and where", arguments: refusals)
    func refusalHasDetail(_ row: ParserRow) {
        guard case .failed(let error) = parseWhole(row.bytes) else { Issue.record("not refused"); return }
        #expect(error.detail.contains(row.detail), "detail: \(error.detail)")
    }

    @Test("a refusal is the same when the head trickles in one byte at a time", arguments: refusals)
    func refusalTrickled(_ row: ParserRow) {
        let last = parseGrowing(row.bytes).last!.1
        #expect(last == parseWhole(row.bytes))
    }

    // MARK: - Accepted heads

    static let accepted: [AcceptedRow] = [
        AcceptedRow("simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", .get, "/"),
        AcceptedRow("origin-form with query: path without it", "GET /loss/ce?verbose=1&x=%20 HTTP/1.1\r\nHost: a\r\n\r\n", .get, "/loss/ce?verbose=1&x=%20", path: "/loss/ce"),
        AcceptedRow("pct-encoded and sub-delim bytes in the path", "GET /a%2Fb;c=d,e!$&'()*+:@~ HTTP/1.1\r\nHost: a\r\n\r\n", .get, "/a%2Fb;c=d,e!$&'()*+:@~"),
        AcceptedRow("absolute-form: its path", "GET http://example.com:8080/loss/ce?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", .get, "http://example.com:8080/loss/ce?x=1", path: "/loss/ce"),
        AcceptedRow("absolute-form without path is /", "GET HTTPS://example.com HTTP/1.1\r\nHost: a\r\n\r\n", .get, "HTTPS://example.com", path: "/"),
        AcceptedRow("absolute-form with only a query", "GET http://[::1]?x HTTP/1.1\r\nHost: a\r\n\r\n", .get, "http://[::1]?x", path: "/"),
        AcceptedRow("asterisk-form for OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", .options, "*"),
        AcceptedRow("authority-form for CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", .connect, "example.com:443"),
        AcceptedRow("leading empty lines skipped (RFC 9112 §2.2)", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .get, "/"),
        AcceptedRow("HTTP/1.0 may omit Host", "GET /livez HTTP/1.0\r\n\r\n", .get, "/livez", .http1_0),
        AcceptedRow("HTTP/1.2 is read as HTTP/1.1 (RFC 9110 §6.2)", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .get, "/", .http1_1),
        AcceptedRow("HTTP/1.9 is read as HTTP/1.1", "GET / HTTP/1.9\r\nHost: a\r\n\r\n", .get, "/", .http1_1),
        AcceptedRow("empty Host is valid", "GET / HTTP/1.1\r\nHost:\r\n\r\n", .get, "/"),
        AcceptedRow("IPv6 Host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", .get, "/"),
        AcceptedRow("Content-Length", "POST /loss/ce HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n", .post, "/loss/ce", .http1_1, .length(42)),
        AcceptedRow("Content-Length 0", "POST /loss/ce HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", .post, "/loss/ce", .http1_1, .length(0)),
        AcceptedRow("Content-Length list of equal values (RFC 9110 §8.6)", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", .post, "/", .http1_1, .length(5)),
        AcceptedRow("Content-Length repeated on two lines", "POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 5\r\nCONTENT-LENGTH: 5\r\n\r\n", .post, "/", .http1_1, .length(5)),
        AcceptedRow("Content-Length with leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n", .post, "/", .http1_1, .length(7)),
        AcceptedRow("Content-Length at the body limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 134217728\r\n\r\n", .post, "/", .http1_1, .length(134_217_728)),
        // The body limit is the connection's to enforce, with the head in hand (413 in ServerTests).
        AcceptedRow("Content-Length over the body limit is framed as it is", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 134217729\r\n\r\n", .post, "/", .http1_1, .length(134_217_729)),
        AcceptedRow("Content-Length past Int.max saturates, no overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999999999999\r\n\r\n", .post, "/", .http1_1, .length(.max)),
        AcceptedRow("Content-Length of exactly 2^64 does not wrap to 0", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", .post, "/", .http1_1, .length(.max)),
        AcceptedRow("chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", .post, "/", .http1_1, .chunked),
        AcceptedRow("chunked in any case", "POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: ChUnKeD\r\n\r\n", .post, "/", .http1_1, .chunked),
        AcceptedRow("empty list elements around chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked ,\r\n\r\n", .post, "/", .http1_1, .chunked),
        AcceptedRow("GET with a chunked body", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", .get, "/", .http1_1, .chunked),
        AcceptedRow("DELETE needs no length", "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", .delete, "/x"),
        AcceptedRow("every known method: HEAD", "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", .head, "/"),
        AcceptedRow("every known method: TRACE", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", .trace, "/"),
        AcceptedRow("every known method: PUT", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", .put, "/", .http1_1, .length(1)),
        AcceptedRow("every known method: PATCH", "PATCH / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", .patch, "/", .http1_1, .length(1)),
        AcceptedRow("every known method: QUERY", "QUERY / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", .query, "/", .http1_1, .length(1)),
        AcceptedRow("QUERY without a length has no body (RFC 9112 §6.3), so it can reach the 405", "QUERY /loss/ce HTTP/1.1\r\nHost: a\r\n\r\n", .query, "/loss/ce"),
        AcceptedRow("obs-text in a value is kept (RFC 9110 §5.5)", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf".utf8) + [0xC3, 0xA9, 0xFF] + Array("\r\n\r\n".utf8), .get, "/"),
        AcceptedRow("tab inside a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n", .get, "/"),
        AcceptedRow("empty value", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n", .get, "/"),
    ]

    @Test("a valid head gives its method, target, path, version and framing", arguments: accepted)
    func accepts(_ row: AcceptedRow) throws {
        let result = parseWhole(row.bytes)
        guard case .complete(let head, let framing, let headLength) = result else {
            Issue.record("got \(result)")
            return
        }
        #expect(head.method == row.method)
        #expect(head.target == row.target)
        #expect(head.path == row.path)
        #expect(head.version == row.version)
        #expect(framing == row.framing)
        #expect(headLength == row.bytes.count)
    }

    @Test func fieldsKeepOrderAndCaseWithOWSTrimmed() {
        let bytes = Array("GET / HTTP/1.1\r\nHost:  a.example \r\nX-Tab:\tv 1\t\r\nx-tab: second\r\nAccept:*/*\r\nuser-agent: t\r\nCONTENT-TYPE: x\r\n\r\n".utf8)
        guard case .complete(let head, _, _) = parseWhole(bytes) else { Issue.record("not complete"); return }
        let expected: Headers = ["Host": "a.example", "X-Tab": "v 1", "x-tab": "second", "Accept": "*/*", "user-agent": "t", "CONTENT-TYPE": "x"]
        #expect(head.headers == expected)
        #expect(head.headers.values("X-TAB") == ["v 1", "second"])
    }

    @Test func obsTextInAValueIsKeptAsReplacementCharacters() {
        let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nX: \u{E9}".utf8) + [0xFF] + Array("\r\n\r\n".utf8)
        guard case .complete(let head, _, _) = parseWhole(bytes) else { Issue.record("not complete"); return }
        #expect(head.headers["X"] == "\u{E9}\u{FFFD}")
    }

    // MARK: - Limits, at their exact edges

    /// A GET whose request line, CRLF included, is exactly `length` bytes.
    static func requestLine(length: Int) -> String {
        let fixed = "GET / HTTP/1.1\r\n".utf8.count
        return "GET /" + String(repeating: "a", count: length - fixed) + " HTTP/1.1\r\n"
    }

    @Test func requestLineOfExactlyTheLimitIsAccepted() {
        let bytes = Array((Self.requestLine(length: 8192) + host + "\r\n").utf8)
        guard case .complete(let head, _, _) = parseWhole(bytes) else { Issue.record("not complete"); return }
        #expect(head.target.utf8.count == 8192 - "GET  HTTP/1.1\r\n".utf8.count)
    }

    @Test func requestLineOneByteOverTheLimitIs414() {
        let bytes = Array((Self.requestLine(length: 8193) + host + "\r\n").utf8)
        #expect(status(of: parseWhole(bytes)) == 414)
    }

    @Test func leadingEmptyLinesCountTowardTheRequestLineLimit() {
        let bytes = Array(("\r\n" + Self.requestLine(length: 8191) + host + "\r\n").utf8)
        #expect(status(of: parseWhole(bytes)) == 414)
        let endless = Array(String(repeating: "\r\n", count: 10_000).utf8)
        #expect(status(of: parseWhole(endless)) == 414)
    }

    @Test func aHugeRequestLineIsRefusedOnceTheLimitIsBuffered() {
        // 1 MB of request line, arriving 1 KiB at a time: refused as soon as
        // 8 KiB are buffered without a line end, not when the line ends.
        let bytes = Array(("GET /" + String(repeating: "a", count: 1 << 20) + " HTTP/1.1\r\n" + host + "\r\n").utf8)
        let results = parseGrowing(bytes, step: 1024)
        #expect(results.count == 8)
        #expect(results.last!.0 == 8192)
        #expect(status(of: results.last!.1) == 414)
        #expect(results.dropLast().allSatisfy { $0.1 == .incomplete })
    }

    @Test func bytesThatCannotStartARequestAreRefusedBeforeTheLineEnds() {
        // A TLS ClientHello sent to the plain-HTTP port: refused at its first byte, not after the head timeout.
        #expect(status(of: parseWhole([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03])) == 400)
        let results = parseGrowing(Array("GE{T / HTTP/1.1\r\n".utf8))
        #expect(results.count == 3)
        #expect(status(of: results.last!.1) == 400)
        // A method still arriving, or one ending in CR, waits for more.
        #expect(parseWhole(Array("OPTIO".utf8)) == .incomplete)
        #expect(parseWhole(Array("\r".utf8)) == .incomplete)
        #expect(parseWhole(Array("\r\nGET\r".utf8)) == .incomplete)
    }

    @Test func aRequestLineOneShortOfTheLimitWaitsForItsEnd() {
        let bytes = Array(("GET /" + String(repeating: "a", count: 8186)).utf8)
        #expect(bytes.count == 8191)
        #expect(parseWhole(bytes) == .incomplete)
        #expect(status(of: parseWhole(bytes + [UInt8(ascii: "a")])) == 414)
    }

    /// A head whose header section (CRLFs and the final empty line included) is exactly `length` bytes.
    static func head(headerSection length: Int) -> [UInt8] {
        let filler = length - host.utf8.count - "X: \r\n".utf8.count - 2
        return Array(("GET / HTTP/1.1\r\n" + host + "X: " + String(repeating: "v", count: filler) + "\r\n\r\n").utf8)
    }

    @Test func headerSectionOfExactlyTheLimitIsAccepted() {
        let bytes = Self.head(headerSection: 32 << 10)
        guard case .complete(_, _, let headLength) = parseWhole(bytes) else { Issue.record("not complete"); return }
        #expect(headLength == "GET / HTTP/1.1\r\n".utf8.count + (32 << 10))
    }

    @Test func headerSectionOneByteOverTheLimitIs431() {
        #expect(status(of: parseWhole(Self.head(headerSection: (32 << 10) + 1))) == 431)
    }

    @Test func anEndlessHeaderLineIsRefusedOnceTheLimitIsBuffered() {
        let bytes = Array(("GET / HTTP/1.1\r\n" + host + "X: " + String(repeating: "v", count: 100_000)).utf8)
        let results = parseGrowing(bytes, step: 4096)
        #expect(status(of: results.last!.1) == 431)
        #expect(results.last!.0 < "GET / HTTP/1.1\r\n".utf8.count + (32 << 10) + 4096)
    }

    static func head(fields: Int) -> [UInt8] {
        var text = "GET / HTTP/1.1\r\n" + host
        for i in 1..<fields { text += "X-\(i): v\r\n" }
        return Array((text + "\r\n").utf8)
    }

    @Test func exactlyTheFieldLimitHostIncludedIsAccepted() {
        guard case .complete(let head, _, _) = parseWhole(Self.head(fields: 100)) else { Issue.record("not complete"); return }
        #expect(head.headers.count == 100)
    }

    @Test func oneFieldOverTheLimitIs431() {
        #expect(status(of: parseWhole(Self.head(fields: 101))) == 431)
    }

    @Test func configuredLimitsAreTheOnesEnforced() {
        var limits = Limits()
        limits.maxRequestLineBytes = 32
        limits.maxHeaderBytes = 64
        limits.maxHeaderCount = 2
        limits.maxBodyBytes = 10
        #expect(status(of: parseWhole(Array(Self.requestLine(length: 33).utf8), limits: limits)) == 414)
        #expect(parseWhole(Array(Self.requestLine(length: 32).utf8), limits: limits) == .incomplete)
        #expect(status(of: parseWhole(Self.head(headerSection: 65), limits: limits)) == 431)
        #expect(status(of: parseWhole(Self.head(fields: 3), limits: limits)) == 431)
        let post = Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n".utf8)
        guard case .complete(_, .length(11), _) = parseWhole(post, limits: limits) else {
            Issue.record("a Content-Length over the body limit is framed, and refused by the connection")
            return
        }
    }

    // MARK: - Incremental parsing

    static let validRequests: [String] = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "\r\nPOST /loss/ce?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: application/json\r\nContent-Length: 5, 5\r\nAccept-Encoding: gzip\r\n\r\n",
        "POST http://h/loss/bce HTTP/1.1\r\nhost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
        "OPTIONS * HTTP/1.0\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: [::1]\r\nX-Empty:\r\nX-Tabs:\t a \t\r\n\r\n",
    ]

    @Test("every proper prefix of a valid head is incomplete", arguments: validRequests)
    func everyTruncationIsIncomplete(_ text: String) {
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            let result = parseWhole(Array(bytes[0..<end]))
            #expect(result == .incomplete, "prefix of \(end) bytes gave \(result)")
        }
    }

    @Test("a head fed one byte at a time gives the same result as fed whole", arguments: validRequests)
    func trickledEqualsWhole(_ text: String) {
        let bytes = Array(text.utf8)
        let whole = parseWhole(bytes)
        guard case .complete = whole else { Issue.record("not complete: \(whole)"); return }
        for step in [1, 2, 3, 7] {
            let results = parseGrowing(bytes, step: step)
            #expect(results.dropLast().allSatisfy { $0.1 == .incomplete })
            #expect(results.last!.1 == whole)
            #expect(results.last!.0 == bytes.count)
        }
    }

    @Test func bytesAfterTheHeadAreNotPartOfIt() {
        let first = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"
        let bytes = Array((first + "abcGET /b HTTP/1.1\r\nHost: a\r\n\r\n").utf8)
        var parser = RequestParser(limits: Limits())
        let result = bytes.withUnsafeBytes { parser.parse($0) }
        guard case .complete(let head, .length(3), let headLength) = result else { Issue.record("got \(result)"); return }
        #expect(head.path == "/a")
        #expect(headLength == first.utf8.count)
        // The server drops the head and the body, then resets for the next (pipelined) request.
        parser.reset()
        let next = bytes[(headLength + 3)...].withUnsafeBytes { parser.parse($0) }
        guard case .complete(let second, .none, _) = next else { Issue.record("got \(next)"); return }
        #expect(second.path == "/b")
    }

    @Test func aFinalResultIsRepeatedUntilReset() {
        var parser = RequestParser(limits: Limits())
        let bad = Array("GET / HTTP/2.0\r\n".utf8)
        let first = bad.withUnsafeBytes { parser.parse($0) }
        let again = bad.withUnsafeBytes { parser.parse($0) }
        #expect(status(of: first) == 505)
        #expect(again == first)
        parser.reset()
        let good = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        guard case .complete = good.withUnsafeBytes({ parser.parse($0) }) else { Issue.record("reset did not forget"); return }
    }

    @Test func anEmptyBufferIsIncomplete() {
        #expect(parseWhole([]) == .incomplete)
    }

    // MARK: - Byte classes

    @Test func theWordAtATimeControlScanFindsEveryControlByteAtEveryPosition() {
        for length in [1, 7, 8, 9, 16, 23] {
            for position in 0..<length {
                for byte in UInt8.min...UInt8.max {
                    var bytes = [UInt8](repeating: UInt8(ascii: "v"), count: length)
                    bytes[position] = byte
                    let expected = ByteSet.fieldValue.contains(byte) ? nil : position
                    let found = bytes.withUnsafeBytes { ByteSet.firstControlByte(in: $0) }
                    if found != expected { Issue.record("byte \(byte) at \(position) of \(length): \(String(describing: found))") }
                }
            }
        }
        let mixed = Array("a\tb \u{80}\u{FF}xyz\tq\u{7F}".utf8)
        #expect(mixed.withUnsafeBytes { ByteSet.firstControlByte(in: $0) } == mixed.count - 1)
    }

    @Test func byteClassesMatchTheirGrammar() {
        let alnum = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let tchar = alnum.union("!#$%&'*+-.^_`|~".utf8)
        let unreservedSubDelims = alnum.union("-._~".utf8).union("!$&'()*+,;=".utf8)
        for b in UInt8.min...UInt8.max {
            #expect(ByteSet.token.contains(b) == tchar.contains(b), "token \(b)")
            #expect(ByteSet.requestTarget.contains(b) == unreservedSubDelims.union(":@/?%".utf8).contains(b), "target \(b)")
            #expect(ByteSet.host.contains(b) == unreservedSubDelims.union(":[]%".utf8).contains(b), "host \(b)")
            #expect(ByteSet.fieldValue.contains(b) == (b == 9 || (b >= 0x20 && b != 0x7F)), "value \(b)")
            #expect(ByteSet.hexDigit.contains(b) == Set("0123456789abcdefABCDEF".utf8).contains(b), "hex \(b)")
        }
    }
}
