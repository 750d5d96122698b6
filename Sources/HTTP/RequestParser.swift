#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a request's body is framed (RFC 9112 §6).
enum BodyFraming: Equatable, Sendable {
    /// No body.
    case none
    /// Exactly this many bytes follow the head. It may be over
    /// `Limits.maxBodyBytes` (`Int.max` when the value is larger still): the
    /// connection refuses that with 413 once it holds the head, so the
    /// refusal is logged and counted with its method and path.
    case length(Int)
    /// A chunked body follows: feed it to a `ChunkedDecoder`.
    case chunked
}

/// What `RequestParser.parse(_:)` made of the bytes so far.
enum ParseResult: Equatable {
    /// A whole, valid head of `headLength` bytes (leading empty lines included);
    /// the body, if any, starts right after it.
    case complete(RequestHead, BodyFraming, headLength: Int)
    /// Valid so far; call again with more bytes.
    case incomplete
    /// The request must be refused with this error, and the connection closed.
    case failed(HTTPError)
}

/// A pure, incremental request-head parser: bytes in, complete / incomplete /
/// error out. No I/O; the connection owns the buffer.
///
/// It enforces RFC 9112 strictly, refusing rather than repairing anything a
/// proxy in front of us might read differently (the request-smuggling
/// vectors): bare CR or LF, obs-fold, whitespace before a colon, conflicting
/// framing. Limits are checked while bytes arrive, so an over-long request
/// line is refused once `maxRequestLineBytes` bytes are in, not when its end
/// comes.
///
/// Hot path, written for speed on purpose: it scans the caller's bytes through
/// an `UnsafeRawBufferPointer` (`memchr` for line ends, bit-mask byte classes),
/// remembers only offsets between calls and allocates nothing per byte or per
/// line; the only allocations are the head's own strings (target, path, field
/// names and values; the method is an enum) and its field list. Measured with
/// callgrind, an 82-byte GET with 3 fields costs about 3,800 instructions and
/// a 206-byte POST with 8 fields about 7,200, half of them building those
/// strings and the field list.
struct RequestParser {
    private let limits: Limits

    // Progress, as offsets from the request's first byte: the buffer may move between calls.
    /// First byte of the line being scanned.
    private var lineStart = 0
    /// Bytes up to which the current line is known to hold no LF.
    private var scanned = 0
    /// First byte of the header section; nil while the request line is being read.
    private var headerStart: Int?
    /// Bytes of the request line's method already checked while it arrives;
    /// `methodChecked` once its end (SP) or a CR is reached.
    private var methodScanned = 0
    private var methodChecked = false
    /// The final answer, once there is one, so that a repeated call repeats it.
    private var finished: ParseResult?

    // The head so far.
    private var method = Method.get
    private var target = ""
    private var path = ""
    private var version = Version.http1_1
    private var headers = Headers()

    // What the framing fields said (RFC 9112 §6).
    private var hostCount = 0
    private var contentLength: Int?
    private var transferEncoding = TransferCodings()

    init(limits: Limits) {
        self.limits = limits
    }

    /// Parses as much of the head as `buffer` holds.
    ///
    /// `buffer` holds the unconsumed bytes of the connection starting at the
    /// request's first byte (it only grows between calls until `.complete`;
    /// then the server drops `headLength` bytes and calls `reset()`).
    /// Resumes scanning where it stopped, so a head trickled in one byte at a
    /// time costs O(n) overall.
    mutating func parse(_ buffer: UnsafeRawBufferPointer) -> ParseResult {
        if let finished { return finished }
        let result = scan(buffer)
        if case .incomplete = result {} else { finished = result }
        return result
    }

    /// Forgets the request parsed so far, ready for the next one on the connection.
    mutating func reset() {
        self = RequestParser(limits: limits)
    }

    // MARK: - Lines

    private mutating func scan(_ buffer: UnsafeRawBufferPointer) -> ParseResult {
        guard let base = buffer.baseAddress else { return .incomplete }
        let count = buffer.count
        while true {
            let from = max(scanned, lineStart)
            guard from < count, let hit = memchr(base + from, 0x0A, count - from) else {
                scanned = count
                return checkLimitsOfUnfinishedLine(base, count)
            }
            let lf = base.distance(to: UnsafeRawPointer(hit))
            let lineEnd = lf + 1
            scanned = lineEnd
            if headerStart == nil, let error = checkMethodSoFar(base, upTo: lf) { return .failed(error) }
            if let headerStart {
                // RFC 9112 §5 with rule 13 of the contract: the header section,
                // its CRLFs and the final empty line included.
                if lineEnd - headerStart > limits.maxHeaderBytes { return .failed(headerSectionTooLarge()) }
            } else if lineEnd > limits.maxRequestLineBytes {
                return .failed(requestLineTooLong())
            }
            // RFC 9112 §2.2: every line ends with CRLF; a bare LF is refused
            // because a proxy may not see a line end there.
            guard lf > lineStart, base.load(fromByteOffset: lf - 1, as: UInt8.self) == .cr else {
                return .failed(HTTPError(.badRequest, "bare LF at byte \(lf) of the request head: lines must end with CRLF (RFC 9112 §2.2)"))
            }
            let line = UnsafeRawBufferPointer(start: base + lineStart, count: lf - 1 - lineStart)
            let lineOffset = lineStart
            lineStart = lineEnd
            if headerStart == nil {
                // RFC 9112 §2.2: empty lines before the request line are skipped
                // (they count toward maxRequestLineBytes, so they cannot grow the buffer without end).
                if line.isEmpty {
                    (methodScanned, methodChecked) = (lineEnd, false)
                    continue
                }
                if let error = parseRequestLine(line, at: lineOffset) { return .failed(error) }
                headerStart = lineEnd
            } else {
                if line.isEmpty { return finish(headLength: lineEnd) }
                if let error = parseFieldLine(line, at: lineOffset) { return .failed(error) }
            }
        }
    }

    /// Refuses a line that is already too long, or a request that cannot be
    /// HTTP, although the line's end has not come.
    private mutating func checkLimitsOfUnfinishedLine(_ base: UnsafeRawPointer, _ count: Int) -> ParseResult {
        if headerStart == nil, let error = checkMethodSoFar(base, upTo: count) { return .failed(error) }
        // The line needs at least one more byte (its LF), so `count` bytes
        // without one already put the line one past what is buffered.
        if let headerStart {
            if count - headerStart >= limits.maxHeaderBytes { return .failed(headerSectionTooLarge()) }
        } else if count >= limits.maxRequestLineBytes {
            return .failed(requestLineTooLong())
        }
        return .incomplete
    }

    /// Checks the method's bytes as they arrive, so that bytes that cannot
    /// start an HTTP request (a TLS handshake on the plain port, a stray
    /// binary protocol) are refused at once rather than after the head
    /// timeout. Only a byte that is neither tchar, SP nor CR counts, and only
    /// within `maxRequestLineBytes`, so the answer is the same however the
    /// bytes are split (RFC 9110 §9.1: method = token).
    private mutating func checkMethodSoFar(_ base: UnsafeRawPointer, upTo end: Int) -> HTTPError? {
        guard !methodChecked else { return nil }
        var i = max(methodScanned, lineStart)
        let stop = min(end, limits.maxRequestLineBytes)
        while i < stop {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if b == .space || b == .cr {
                methodChecked = true
                return nil
            }
            if !ByteSet.token.contains(b) {
                if i == lineStart { return HTTPError(.badRequest, "the request line must start with a method token (RFC 9112 §3)") }
                return HTTPError(.badRequest, "invalid byte 0x\(b.hexText) at byte \(i) in the method (RFC 9110 §9.1)")
            }
            i += 1
        }
        methodScanned = i
        return nil
    }

    private func requestLineTooLong() -> HTTPError {
        HTTPError(.uriTooLong, "the request line is longer than \(limits.maxRequestLineBytes) bytes (its CRLF included)")
    }

    private func headerSectionTooLarge() -> HTTPError {
        HTTPError(.requestHeaderFieldsTooLarge, "the header section is longer than \(limits.maxHeaderBytes) bytes (its CRLFs included)")
    }

    // MARK: - Request line

    /// RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
    /// Exactly one SP between the parts: the lenient whitespace parsing §3
    /// allows is what smuggling exploits.
    private mutating func parseRequestLine(_ line: UnsafeRawBufferPointer, at offset: Int) -> HTTPError? {
        let n = line.count
        var i = 0
        while i < n, ByteSet.token.contains(line[i]) { i += 1 }
        guard i > 0, i < n, line[i] == .space else {
            if i < n, line[i] == .cr { return bareCR(at: offset + i) }
            if i == 0 { return HTTPError(.badRequest, "the request line must start with a method token (RFC 9112 §3)") }
            if i == n { return HTTPError(.badRequest, "the request line has no request-target (RFC 9112 §3)") }
            return HTTPError(.badRequest, "invalid byte 0x\(line[i].hexText) at byte \(offset + i) in the method (RFC 9110 §9.1)")
        }
        let methodBytes = UnsafeRawBufferPointer(rebasing: line[0..<i])

        // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive, after one SP.
        let targetStart = i + 1
        let versionStart = n - 8
        guard versionStart - 1 > targetStart, line[versionStart - 1] == .space,
              line[versionStart] == UInt8(ascii: "H"), line[versionStart + 1] == UInt8(ascii: "T"),
              line[versionStart + 2] == UInt8(ascii: "T"), line[versionStart + 3] == UInt8(ascii: "P"),
              line[versionStart + 4] == UInt8(ascii: "/"), line[versionStart + 6] == UInt8(ascii: "."),
              line[versionStart + 5] &- UInt8(ascii: "0") < 10, line[versionStart + 7] &- UInt8(ascii: "0") < 10
        else {
            if let cr = firstCR(in: line) { return bareCR(at: offset + cr) }
            return HTTPError(.badRequest, "malformed request line: expected 'METHOD SP request-target SP HTTP/1.1' (RFC 9112 §3)")
        }
        let major = line[versionStart + 5] - UInt8(ascii: "0")
        let minor = line[versionStart + 7] - UInt8(ascii: "0")
        guard major == 1 else {
            return HTTPError(.httpVersionNotSupported, "HTTP/\(major).\(minor) is not supported: send HTTP/1.1 or HTTP/1.0")
        }
        // RFC 9110 §6.2: a higher minor version of a major version we implement is
        // processed as the highest minor version we conform to, so HTTP/1.2 is HTTP/1.1.
        version = minor == 0 ? .http1_0 : .http1_1

        guard let known = RequestParser.method(methodBytes) else {
            return HTTPError(.notImplemented, "method \(RequestParser.quoted(methodBytes)) is not implemented (RFC 9110 §9.1)")
        }
        method = known
        return parseTarget(UnsafeRawBufferPointer(rebasing: line[targetStart..<(versionStart - 1)]), at: offset + targetStart)
    }

    /// The methods of RFC 9110 §9, RFC 5789 (PATCH) and QUERY; methods are
    /// case-sensitive (RFC 9110 §9.1).
    private static func method(_ bytes: UnsafeRawBufferPointer) -> Method? {
        switch bytes.count {
        case 3:
            if bytes.equalsASCII("GET") { return .get }
            if bytes.equalsASCII("PUT") { return .put }
        case 4:
            if bytes.equalsASCII("POST") { return .post }
            if bytes.equalsASCII("HEAD") { return .head }
        case 5:
            if bytes.equalsASCII("PATCH") { return .patch }
            if bytes.equalsASCII("TRACE") { return .trace }
            if bytes.equalsASCII("QUERY") { return .query }
        case 6:
            if bytes.equalsASCII("DELETE") { return .delete }
        case 7:
            if bytes.equalsASCII("OPTIONS") { return .options }
            if bytes.equalsASCII("CONNECT") { return .connect }
        default:
            break
        }
        return nil
    }

    /// RFC 9112 §3.2: the four forms of request-target, each only where it belongs.
    private mutating func parseTarget(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> HTTPError? {
        let n = bytes.count
        if method == .connect {
            // RFC 9112 §3.2.3: CONNECT takes authority-form (host:port) and nothing else.
            if let error = validate(bytes, ByteSet.host, at: offset, what: "the CONNECT authority") { return error }
            target = string(bytes)
            path = target
            return nil
        }
        if bytes[0] == UInt8(ascii: "*") {
            // RFC 9112 §3.2.4: asterisk-form, only for a server-wide OPTIONS.
            guard n == 1, method == .options else {
                return HTTPError(.badRequest, "the request-target '*' is only allowed alone, with OPTIONS (RFC 9112 §3.2.4)")
            }
            target = "*"
            path = "*"
            return nil
        }
        if bytes[0] == UInt8(ascii: "/") {
            // RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ].
            if let error = validate(bytes, ByteSet.requestTarget, at: offset, what: "the request-target") { return error }
            target = string(bytes)
            if let q = bytes.firstIndex(of: UInt8(ascii: "?"), from: 0) {
                path = string(UnsafeRawBufferPointer(rebasing: bytes[0..<q]))
            } else {
                path = target  // the same storage: no second allocation
            }
            return nil
        }
        return parseAbsoluteForm(bytes, at: offset)
    }

    /// RFC 9112 §3.2.2: absolute-form, which a server must accept; the path
    /// (and query) are taken from it and the authority is only checked. Only
    /// the http and https schemes name a resource of ours (RFC 9110 §4.2).
    private mutating func parseAbsoluteForm(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> HTTPError? {
        let n = bytes.count
        var i = 0
        while i < n, bytes[i] != UInt8(ascii: ":") {
            // Name the first byte no URI may hold (say, a second SP), rather than the form.
            if !ByteSet.requestTarget.contains(bytes[i]) { return invalidByte(bytes[i], at: offset + i, in: "the request-target") }
            i += 1
        }
        let scheme = UnsafeRawBufferPointer(rebasing: bytes[0..<i])
        guard scheme.equalsASCIILowercase("http") || scheme.equalsASCIILowercase("https"),
              i + 2 < n, bytes[i + 1] == UInt8(ascii: "/"), bytes[i + 2] == UInt8(ascii: "/")
        else {
            return HTTPError(.badRequest, "the request-target must be a path such as /loss/ce or an http(s) absolute URI (RFC 9112 §3.2)")
        }
        let authorityStart = i + 3
        var pathStart = authorityStart
        while pathStart < n, bytes[pathStart] != UInt8(ascii: "/"), bytes[pathStart] != UInt8(ascii: "?") { pathStart += 1 }
        let authority = UnsafeRawBufferPointer(rebasing: bytes[authorityStart..<pathStart])
        // RFC 9110 §4.2.1: an http URI has a non-empty host; §4.2.4: no userinfo.
        guard !authority.isEmpty else {
            return HTTPError(.badRequest, "the absolute request-target has an empty authority (RFC 9110 §4.2.1)")
        }
        if let error = validate(authority, ByteSet.host, at: offset + authorityStart, what: "the request-target's authority") {
            return error
        }
        if pathStart < n, let error = validate(UnsafeRawBufferPointer(rebasing: bytes[pathStart...]), ByteSet.requestTarget,
                                               at: offset + pathStart, what: "the request-target's path") {
            return error
        }
        target = string(bytes)
        let pathEnd = bytes.firstIndex(of: UInt8(ascii: "?"), from: pathStart) ?? n
        // RFC 9110 §4.2.3: an empty path is "/".
        path = pathEnd == pathStart ? "/" : string(UnsafeRawBufferPointer(rebasing: bytes[pathStart..<pathEnd]))
        return nil
    }

    /// Checks every byte against `allowed`, and that each "%" starts a pct-encoding (RFC 3986 §2.1).
    private func validate(_ bytes: UnsafeRawBufferPointer, _ allowed: ByteSet, at offset: Int, what: String) -> HTTPError? {
        let n = bytes.count
        if n == 0 { return HTTPError(.badRequest, "\(what) is empty (RFC 9112 §3.2)") }
        var i = 0
        while i < n {
            let b = bytes[i]
            guard allowed.contains(b) else { return invalidByte(b, at: offset + i, in: what) }
            if b == UInt8(ascii: "%") {
                guard i + 2 < n, ByteSet.hexDigit.contains(bytes[i + 1]), ByteSet.hexDigit.contains(bytes[i + 2]) else {
                    return HTTPError(.badRequest, "'%' at byte \(offset + i) in \(what) does not start a %XX escape (RFC 3986 §2.1)")
                }
                i += 3
            } else {
                i += 1
            }
        }
        return nil
    }

    // MARK: - Header fields

    /// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS.
    private mutating func parseFieldLine(_ line: UnsafeRawBufferPointer, at offset: Int) -> HTTPError? {
        let n = line.count
        // RFC 9112 §5.2: obs-fold is refused, not unfolded (and RFC 9112 §2.2:
        // so is whitespace between the request line and the first field).
        if line[0] == .space || line[0] == .tab {
            return HTTPError(.badRequest, "a header line starting with whitespace (obs-fold) at byte \(offset) (RFC 9112 §5.2)")
        }
        guard headers.count < limits.maxHeaderCount else {
            return HTTPError(.requestHeaderFieldsTooLarge, "more than \(limits.maxHeaderCount) header fields")
        }
        var colon = 0
        while colon < n, ByteSet.token.contains(line[colon]) { colon += 1 }
        guard colon > 0, colon < n, line[colon] == UInt8(ascii: ":") else {
            if colon < n {
                let b = line[colon]
                if b == .cr { return bareCR(at: offset + colon) }
                if b == .space || b == .tab {
                    // RFC 9112 §5.1: no whitespace between a field name and its colon.
                    return HTTPError(.badRequest, "whitespace between a header field name and its colon at byte \(offset + colon) (RFC 9112 §5.1)")
                }
                if colon > 0 || b != UInt8(ascii: ":") {
                    return HTTPError(.badRequest, "invalid byte 0x\(b.hexText) at byte \(offset + colon) in a header field name (RFC 9110 §5.1)")
                }
            }
            if colon == 0 { return HTTPError(.badRequest, "a header field with an empty name at byte \(offset) (RFC 9110 §5.1)") }
            return HTTPError(.badRequest, "a header line without a colon at byte \(offset) (RFC 9112 §5)")
        }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])

        // RFC 9112 §5.1: OWS around the value is not part of it.
        var valueStart = colon + 1
        while valueStart < n, line[valueStart] == .space || line[valueStart] == .tab { valueStart += 1 }
        var valueEnd = n
        while valueEnd > valueStart, line[valueEnd - 1] == .space || line[valueEnd - 1] == .tab { valueEnd -= 1 }
        let value = UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd])
        // RFC 9110 §5.5: a field value holds no CTL (NUL, CR, LF, DEL, …) but HTAB.
        if let i = ByteSet.firstControlByte(in: value) {
            if value[i] == .cr { return bareCR(at: offset + valueStart + i) }
            return HTTPError(.badRequest, "control byte 0x\(value[i].hexText) at byte \(offset + valueStart + i) in a header field value (RFC 9110 §5.5)")
        }

        if let error = noteFramingField(name, value) { return error }
        if headers.count == 0 { headers.reserveCapacity(16) }
        headers.add(RequestParser.fieldName(name), string(value))
        return nil
    }

    /// Records Host, Content-Length and Transfer-Encoding, and refuses at once
    /// what no later field can make right.
    private mutating func noteFramingField(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> HTTPError? {
        switch name.count {
        case 4 where name.equalsASCIILowercase("host"):
            hostCount += 1
            // RFC 9112 §3.2: more than one Host, or an invalid one, is a 400.
            if hostCount > 1 { return HTTPError(.badRequest, "more than one Host header field (RFC 9112 §3.2)") }
            for i in 0..<value.count where !ByteSet.host.contains(value[i]) {
                return HTTPError(.badRequest, "the Host header field is not a valid host[:port] (RFC 9112 §3.2)")
            }
        case 14 where name.equalsASCIILowercase("content-length"):
            return noteContentLength(value)
        case 17 where name.equalsASCIILowercase("transfer-encoding"):
            transferEncoding.note(value)
        default:
            break
        }
        return nil
    }

    /// RFC 9110 §8.6: Content-Length = 1*DIGIT. A list of identical values
    /// (`5, 5`, or the same value on several lines) is that value; anything
    /// else is a 400 (RFC 9112 §6.3 item 5). Digits past `Int.max` saturate
    /// rather than overflow: such a length is over any body limit anyway.
    private mutating func noteContentLength(_ value: UnsafeRawBufferPointer) -> HTTPError? {
        let n = value.count
        var i = 0
        repeat {
            var length = 0
            let start = i
            while i < n, value[i] &- UInt8(ascii: "0") < 10 {
                let digit = Int(value[i] - UInt8(ascii: "0"))
                length = length > (Int.max - digit) / 10 ? Int.max : length * 10 + digit
                i += 1
            }
            guard i > start else {
                return HTTPError(.badRequest, "Content-Length must be a decimal number of bytes (RFC 9110 §8.6)")
            }
            if let contentLength, contentLength != length {
                return HTTPError(.badRequest, "conflicting Content-Length values (RFC 9112 §6.3)")
            }
            contentLength = length
            while i < n, value[i] == .space || value[i] == .tab { i += 1 }
            if i < n {
                guard value[i] == UInt8(ascii: ",") else {
                    return HTTPError(.badRequest, "Content-Length must be a decimal number of bytes (RFC 9110 §8.6)")
                }
                i += 1
                while i < n, value[i] == .space || value[i] == .tab { i += 1 }
                if i == n { return HTTPError(.badRequest, "Content-Length must be a decimal number of bytes (RFC 9110 §8.6)") }
            }
        } while i < n
        return nil
    }

    // MARK: - End of head

    private mutating func finish(headLength: Int) -> ParseResult {
        // RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host (more than one was refused as it came).
        if version == .http1_1, hostCount == 0 {
            return .failed(HTTPError(.badRequest, "an HTTP/1.1 request must have a Host header field (RFC 9112 §3.2)"))
        }
        let framing: BodyFraming
        switch bodyFraming() {
        case .success(let f): framing = f
        case .failure(let error): return .failed(error)
        }
        let head = RequestHead(method: method, target: target, path: path, version: version, headers: headers)
        // The head now owns the strings and the field list: drop the parser's
        // references so that, after reset(), the server's head is their only owner.
        (target, path, headers) = ("", "", Headers())
        return .complete(head, framing, headLength: headLength)
    }

    /// RFC 9112 §6.3: the message body length, decided once the head is whole.
    private func bodyFraming() -> Result<BodyFraming, HTTPError> {
        if transferEncoding.present {
            // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
            if version == .http1_0 {
                return .failure(HTTPError(.badRequest, "Transfer-Encoding is not allowed in an HTTP/1.0 request (RFC 9112 §6.1)"))
            }
            // RFC 9112 §6.1, §6.3 item 3: both framings at once is how requests are smuggled.
            if contentLength != nil {
                return .failure(HTTPError(.badRequest, "a request must not have both Transfer-Encoding and Content-Length (RFC 9112 §6.1)"))
            }
            if let error = transferEncoding.error { return .failure(error) }
            return .success(.chunked)
        }
        if let contentLength {
            return .success(.length(contentLength))
        }
        // RFC 9110 §15.5.12: a request whose method carries a body must say how long it is.
        switch method {
        case .post, .put, .patch:
            return .failure(HTTPError(.lengthRequired, "a \(method.rawValue) request needs Content-Length or Transfer-Encoding: chunked (RFC 9112 §6.3)"))
        default:
            return .success(.none)
        }
    }

    /// A field name as a String. The names nearly every request carries, spelt
    /// as their RFCs spell them, come from literals: cheaper than decoding the
    /// bytes (hot path). Any other spelling is kept as received.
    private static func fieldName(_ bytes: UnsafeRawBufferPointer) -> String {
        switch bytes.count {
        case 4 where bytes.equalsASCII("Host"): return "Host"
        case 6 where bytes.equalsASCII("Accept"): return "Accept"
        case 6 where bytes.equalsASCII("Expect"): return "Expect"
        case 6 where bytes.equalsASCII("Origin"): return "Origin"
        case 10 where bytes.equalsASCII("User-Agent"): return "User-Agent"
        case 10 where bytes.equalsASCII("Connection"): return "Connection"
        case 12 where bytes.equalsASCII("Content-Type"): return "Content-Type"
        case 14 where bytes.equalsASCII("Content-Length"): return "Content-Length"
        case 15 where bytes.equalsASCII("Accept-Encoding"): return "Accept-Encoding"
        case 15 where bytes.equalsASCII("Accept-Language"): return "Accept-Language"
        case 16 where bytes.equalsASCII("Content-Encoding"): return "Content-Encoding"
        case 17 where bytes.equalsASCII("Transfer-Encoding"): return "Transfer-Encoding"
        default: return String(decoding: bytes, as: UTF8.self)
        }
    }

    // MARK: - Helpers

    private func invalidByte(_ byte: UInt8, at offset: Int, in what: String) -> HTTPError {
        if byte == .cr { return bareCR(at: offset) }
        return HTTPError(.badRequest, "invalid byte 0x\(byte.hexText) at byte \(offset) in \(what) (RFC 3986 §3; encode it as %\(byte.hexText))")
    }

    private func bareCR(at offset: Int) -> HTTPError {
        HTTPError(.badRequest, "bare CR at byte \(offset) of the request head: CR is only allowed before LF (RFC 9112 §2.2)")
    }

    private func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    private func firstCR(in bytes: UnsafeRawBufferPointer) -> Int? {
        bytes.firstIndex(of: .cr, from: 0)
    }

    /// A token echoed in an error detail, cut short so a client cannot make the detail large.
    fileprivate static func quoted(_ bytes: UnsafeRawBufferPointer) -> String {
        let cut = UnsafeRawBufferPointer(rebasing: bytes[0..<min(bytes.count, 32)])
        return "'" + String(decoding: cut, as: UTF8.self) + (bytes.count > 32 ? "…'" : "'")
    }
}

/// What the Transfer-Encoding field lines of a request said, read as a list
/// across all of them (RFC 9110 §5.3).
private struct TransferCodings {
    var present = false
    private var codings = 0
    private var chunkedCount = 0
    private var lastIsChunked = false
    private var malformed: HTTPError?
    private var unknown: String?
    private var unimplemented: String?

    /// The refusal this list earns, if any.
    var error: HTTPError? {
        if let malformed { return malformed }
        // RFC 9112 §6.1: a transfer coding the server does not understand is a 501.
        if let unknown {
            return HTTPError(.notImplemented, "unknown transfer coding \(unknown) (RFC 9112 §6.1)")
        }
        // RFC 9112 §6.3 item 4: chunked must be the final coding, else the length
        // cannot be told; §7: and it is applied only once.
        if codings == 0 || !lastIsChunked || chunkedCount > 1 {
            return HTTPError(.badRequest, "Transfer-Encoding must end with chunked, once (RFC 9112 §6.3, §7)")
        }
        if let unimplemented {
            return HTTPError(.notImplemented, "transfer coding \(unimplemented) is not implemented; send Content-Encoding: gzip instead (RFC 9112 §6.1)")
        }
        return nil
    }

    /// Reads one field line's value: `#transfer-coding` (RFC 9112 §6.1, RFC 9110 §5.6.1),
    /// where empty list elements are ignored.
    mutating func note(_ value: UnsafeRawBufferPointer) {
        present = true
        let n = value.count
        var i = 0
        while i < n {
            var end = i
            while end < n, value[end] != UInt8(ascii: ",") { end += 1 }
            noteElement(UnsafeRawBufferPointer(rebasing: value[i..<end]))
            i = end + 1
        }
    }

    private mutating func noteElement(_ element: UnsafeRawBufferPointer) {
        var start = 0
        var end = element.count
        while start < end, element[start] == .space || element[start] == .tab { start += 1 }
        while end > start, element[end - 1] == .space || element[end - 1] == .tab { end -= 1 }
        if start == end { return }  // RFC 9110 §5.6.1: empty element
        var nameEnd = start
        while nameEnd < end, ByteSet.token.contains(element[nameEnd]) { nameEnd += 1 }
        let name = UnsafeRawBufferPointer(rebasing: element[start..<nameEnd])
        var rest = nameEnd
        while rest < end, element[rest] == .space || element[rest] == .tab { rest += 1 }
        let hasParameters = rest < end && element[rest] == UInt8(ascii: ";")
        guard !name.isEmpty, rest == end || hasParameters else {
            if malformed == nil {
                malformed = HTTPError(.badRequest, "malformed Transfer-Encoding: a coding must be a token (RFC 9112 §6.1)")
            }
            return
        }
        codings += 1
        if name.equalsASCIILowercase("chunked") {
            chunkedCount += 1
            lastIsChunked = true
            if hasParameters, malformed == nil {
                malformed = HTTPError(.badRequest, "the chunked transfer coding takes no parameters (RFC 9112 §7)")
            }
            return
        }
        lastIsChunked = false
        // The registered codings (RFC 9110 §8.4.1; x-gzip and x-compress per RFC 9112 §7.2).
        if name.equalsASCIILowercase("gzip") || name.equalsASCIILowercase("x-gzip") || name.equalsASCIILowercase("deflate")
            || name.equalsASCIILowercase("compress") || name.equalsASCIILowercase("x-compress") {
            if unimplemented == nil { unimplemented = RequestParser.quoted(name) }
        } else if unknown == nil {
            unknown = RequestParser.quoted(name)
        }
    }
}
