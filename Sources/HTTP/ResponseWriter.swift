/// Serialises response heads into one reusable buffer, adding the fields the
/// server owns (`Date`, `Content-Length`, `Connection`) and checking every
/// field the responder set, so that no response can be split (RFC 9112 §4,
/// RFC 9110 §5.5).
///
/// One per connection; `head` is overwritten by each `serialise` call, so a
/// steady keep-alive connection allocates nothing here after its first
/// response.
struct ResponseWriter {
    /// The serialised head of the last response.
    private(set) var head: [UInt8] = []
    private var date = HTTPDate()

    init() {
        head.reserveCapacity(512)
    }

    /// How the `Connection` field is written.
    enum Persistence {
        /// HTTP/1.1 keep-alive: the default, no field needed (RFC 9112 §9.3).
        case keepAlive
        /// HTTP/1.0 keep-alive: `Connection: keep-alive` (RFC 9112 §C.2.2).
        case keepAliveHTTP10
        /// `Connection: close`: the server closes after this response.
        case close
    }

    /// Writes the head of `response` into `head`. `contentLength` is the
    /// body's length on the wire (also for HEAD, where no body follows);
    /// nil leaves it out (204, 304 and 1xx, RFC 9110 §8.6).
    /// The responder's `Content-Length`, `Transfer-Encoding`, `Connection`,
    /// `Keep-Alive` and `Date` fields are dropped: the server owns them.
    mutating func serialise(_ response: Response, contentLength: Int?, persistence: Persistence,
                            gzipped: Bool, vary: Bool) {
        head.removeAll(keepingCapacity: true)
        append("HTTP/1.1 ")
        appendDecimal(response.status.code)
        head.append(0x20)
        append(response.status.reasonPhrase)
        append("\r\nDate: ")
        head += date.now()
        if let contentLength {
            append("\r\nContent-Length: ")
            appendDecimal(contentLength)
        }
        switch persistence {
        case .keepAlive: break
        case .keepAliveHTTP10: append("\r\nConnection: keep-alive")
        case .close: append("\r\nConnection: close")
        }
        if gzipped { append("\r\nContent-Encoding: gzip") }
        if vary { append("\r\nVary: Accept-Encoding") }
        for field in response.headers where !ResponseWriter.isServerOwned(field.name) {
            append("\r\n")
            append(field.name)
            append(": ")
            append(field.value)
        }
        append("\r\n\r\n")
    }

    /// Appends a literal's bytes straight from the binary: no String, no UTF-8 view.
    private mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { head.append(contentsOf: $0) }
    }

    /// Appends a string's UTF-8 bytes from its contiguous storage.
    private mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { head.append(contentsOf: $0) }
    }

    /// The interim `100 Continue` response (RFC 9110 §15.2.1).
    static let continueHead: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private mutating func appendDecimal(_ value: Int) {
        precondition(value >= 0)
        if value < 10 {
            head.append(UInt8(48 + value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value
        // A tuple on the stack: no allocation for the one number in every response.
        withUnsafeMutableBytes(of: &digits) { raw in
            while v > 0 {
                raw[count] = UInt8(48 + v % 10)
                v /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { head.append(raw[i]) }
        }
    }

    /// True for the fields the server writes itself.
    static func isServerOwned(_ name: String) -> Bool {
        Headers.equalsIgnoringCase(name, "Content-Length") || Headers.equalsIgnoringCase(name, "Transfer-Encoding")
            || Headers.equalsIgnoringCase(name, "Connection") || Headers.equalsIgnoringCase(name, "Keep-Alive")
            || Headers.equalsIgnoringCase(name, "Date")
    }

    /// Why `response` cannot be sent as it is, or nil when it can: a status
    /// outside 200...599, a reason phrase or field value with a control
    /// character (CR, LF and NUL included), or a field name that is not a
    /// token (RFC 9110 §5.1, §5.5, §15).
    static func problem(in response: Response) -> String? {
        guard (200...599).contains(response.status.code) else {
            return "status \(response.status.code) is not a final status"
        }
        guard isFieldValue(response.status.reasonPhrase) else {
            return "the reason phrase of status \(response.status.code) has a control character"
        }
        for field in response.headers {
            guard isToken(field.name) else { return "header name \(String(reflecting: field.name)) is not a token" }
            guard isFieldValue(field.value) else {
                return "the value of header \(field.name) has a control character"
            }
        }
        return nil
    }

    /// RFC 9110 §5.6.2: token = 1*tchar.
    static func isToken(_ s: String) -> Bool {
        var s = s
        // Runs for every response field: a table lookup per byte over the contiguous UTF-8.
        return s.withUTF8 { bytes in
            guard !bytes.isEmpty else { return false }
            for byte in bytes where !tchar[Int(byte)] { return false }
            return true
        }
    }

    /// tchar (RFC 9110 §5.6.2), by byte value.
    private static let tchar: [Bool] = (0..<256).map { b in
        switch UInt8(b) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// RFC 9110 §5.5: field-value bytes are VCHAR, obs-text, SP and HTAB; no
    /// other control character (CR, LF, NUL, DEL) may appear.
    static func isFieldValue(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { bytes in
            for byte in bytes where (byte < 0x20 && byte != 0x09) || byte == 0x7F { return false }
            return true
        }
    }

    /// Whether the client takes a gzip response (RFC 9110 §12.5.3): `gzip`
    /// (or `x-gzip`) listed with a non-zero weight, or else `*` with one.
    static func acceptsGzip(_ headers: Headers) -> Bool {
        var gzipWeight: Bool?
        var anyWeight: Bool?
        for value in headers.values("Accept-Encoding") {
            for member in value.split(separator: ",") {
                let parts = member.split(separator: ";")
                guard let first = parts.first else { continue }
                let coding = first.trimmingASCIISpaces().lowercased()
                var accepted = true
                for parameter in parts.dropFirst() {
                    let p = parameter.trimmingASCIISpaces()
                    if p.hasPrefix("q=") || p.hasPrefix("Q=") { accepted = !isZeroWeight(p.dropFirst(2)) }
                }
                if coding == "gzip" || coding == "x-gzip" {
                    gzipWeight = (gzipWeight ?? false) || accepted
                } else if coding == "*" {
                    anyWeight = accepted
                }
            }
        }
        return gzipWeight ?? anyWeight ?? false
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ): zero when
    /// it starts with 0 and has no other non-zero digit.
    private static func isZeroWeight(_ q: Substring) -> Bool {
        guard q.first == "0" else { return false }
        return q.allSatisfy { $0 == "0" || $0 == "." }
    }
}
