import HTTP
import Logging

/// One log line per request, written when its response has gone out:
/// method, path (never the query, which may hold data), status, response
/// body bytes and duration.
///
/// The line is the one `LineLogHandler` would write for
/// the `lossd.access` logger's `info` event `request` (same keys, order and
/// quoting), but formatted straight into bytes and handed to the `LogWriter`
/// (which writes in batches, off the request path): going through swift-log's metadata dictionary and
/// string interpolation was about a quarter of lossd's CPU on a small request.
struct AccessLog: Sendable {
    static let label = "lossd.access"
    /// The fixed middle of every line, built once rather than interpolated per request.
    private static let textMessage = Array(" info \(label): request".utf8)
    private static let jsonMessage = Array(#"","level":"info","logger":"\#(label)","message":"request""#.utf8)
    let format: Configuration.LogFormat
    /// False when the log level is above `info`: nothing is formatted.
    let isEnabled: Bool
    /// Where the lines wait for their write.
    let writer: LogWriter

    init(format: Configuration.LogFormat, level: Logger.Level, writer: LogWriter) {
        self.format = format
        isEnabled = level <= .info
        self.writer = writer
    }

    func record(_ exchange: Exchange, route: String) {
        guard isEnabled else { return }
        let line = line(for: exchange, route: route)
        line.withUnsafeBytes { writer.append($0) }
    }

    /// The whole line, newline included.
    func line(for exchange: Exchange, route: String) -> [UInt8] {
        var method = exchange.head?.method.rawValue ?? "-"
        var path = exchange.head?.path ?? "-"
        var route = route
        // Double.description of a small value is a small string: no allocation.
        var milliseconds = ((exchange.duration * 1e6).rounded() / 1e3).description
        var out: [UInt8] = []
        out.reserveCapacity(192 + path.utf8.count)
        switch format {
        case .text:
            // `time level label: message key=value …`, keys sorted, as LineLogHandler's text lines.
            LogTime.appendNow(to: &out)
            out.append(contentsOf: AccessLog.textMessage)
            Self.textField(" bytes=", exchange.responseBodyBytes, &out)
            Self.textField(" duration_ms=", &milliseconds, &out)
            Self.textField(" method=", &method, &out)
            Self.textField(" path=", &path, &out)
            Self.textField(" request_bytes=", exchange.requestBodyBytes, &out)
            Self.textField(" route=", &route, &out)
            Self.textField(" status=", exchange.status.code, &out)
        case .json:
            // As LineLogHandler's JSON lines: numbers stay numbers, keys sorted after the fixed four.
            out.append(contentsOf: #"{"time":""#.utf8)
            LogTime.appendNow(to: &out)
            out.append(contentsOf: AccessLog.jsonMessage)
            Self.jsonField("bytes", exchange.responseBodyBytes, &out)
            Self.jsonKey("duration_ms", &out)
            if exchange.duration.isFinite {
                milliseconds.withUTF8 { out.append(contentsOf: $0) }
            } else {
                Self.appendJSONString(&milliseconds, &out)
            }
            Self.jsonKey("method", &out)
            Self.appendJSONString(&method, &out)
            Self.jsonKey("path", &out)
            Self.appendJSONString(&path, &out)
            Self.jsonField("request_bytes", exchange.requestBodyBytes, &out)
            Self.jsonKey("route", &out)
            Self.appendJSONString(&route, &out)
            Self.jsonField("status", exchange.status.code, &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    // MARK: Text format

    /// `key` is written whole, its space and `=` included: one append, not three.
    private static func textField(_ key: StaticString, _ value: Int, _ out: inout [UInt8]) {
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        appendDecimal(value, &out)
    }

    private static func textField(_ key: StaticString, _ value: inout String, _ out: inout [UInt8]) {
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        value.withUTF8 { appendQuotedIfNeeded($0, &out) }
    }

    /// As `LineLogHandler.quoteIfNeeded`: quoted (with control characters and
    /// quotes escaped) when empty or holding a space, quote, `=` or control character.
    static func appendQuotedIfNeeded(_ value: UnsafeBufferPointer<UInt8>, _ out: inout [UInt8]) {
        let needsQuotes = value.isEmpty || value.contains { $0 == 0x20 || $0 == 0x22 || $0 == 0x3D || $0 < 0x20 || $0 == 0x7F }
        guard needsQuotes else { return out.append(contentsOf: value) }
        out.append(UInt8(ascii: "\""))
        for byte in value {
            switch byte {
            case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case _ where byte < 0x20 || byte == 0x7F:
                out.append(contentsOf: "\\u{\(String(byte, radix: 16))}".utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: JSON format

    private static func jsonField(_ key: StaticString, _ value: Int, _ out: inout [UInt8]) {
        jsonKey(key, &out)
        appendDecimal(value, &out)
    }

    private static func jsonKey(_ key: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: #",""#.utf8)
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: #"":"#.utf8)
    }

    /// As `Problem.appendJSONString` (RFC 8259 §7), on bytes.
    static func appendJSONString(_ value: inout String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        value.withUTF8 { bytes in
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
                case _ where byte < 0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: #"\u00"#.utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xF)])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `value` in decimal, without going through a String.
    static func appendDecimal(_ value: Int, _ out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            if value == .min { return out.append(contentsOf: "9223372036854775808".utf8) }
        }
        var rest = value.magnitude
        var divisor: UInt = 1
        while divisor <= rest / 10 { divisor *= 10 }
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        } while divisor > 0
    }
}
