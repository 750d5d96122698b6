import HTTP
import Logging

/// swift-log handler for lossd's log lines on standard error, one event a
/// line, in the `--log-format` chosen: `text` is `time level label: message
/// key=value …`, keys sorted, values quoted when they hold spaces, quotes or
/// control characters; `json` is one object a line (`time`, `level`,
/// `logger`, `message`, then the metadata), for log shippers. Lines go
/// through the `LogWriter`, as the access lines do, so that a warning logged
/// on a serving path never waits for the reader of standard error, and the
/// two kinds of line keep their order.
struct LineLogHandler: LogHandler {
    let label: String
    let format: Configuration.LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let writer: LogWriter

    init(label: String, format: Configuration.LogFormat, logLevel: Logger.Level, writer: LogWriter) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
        self.writer = writer
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        if let error = event.error { all["error"] = "\(error)" }
        switch format {
        case .text: writer.append(textLine(level: event.level, message: event.message, metadata: all))
        case .json: writer.append(jsonLine(level: event.level, message: event.message, metadata: all))
        }
    }

    private func textLine(level: Logger.Level, message: Logger.Message, metadata all: Logger.Metadata) -> String {
        var out = "\(LogTime.now()) \(level) \(label): \(LineLogHandler.sanitise(message.description))"
        for key in all.keys.sorted() {
            out += " \(key)=\(LineLogHandler.quoteIfNeeded(all[key]!.description))"
        }
        out += "\n"
        return out
    }

    private func jsonLine(level: Logger.Level, message: Logger.Message, metadata all: Logger.Metadata) -> String {
        var out = "{\"time\":\"\(LogTime.now())\",\"level\":\"\(level)\",\"logger\":"
        Problem.appendJSONString(label, to: &out)
        out += ",\"message\":"
        Problem.appendJSONString(message.description, to: &out)
        for key in all.keys.sorted() where !["time", "level", "logger", "message"].contains(key) {
            out += ","
            Problem.appendJSONString(key, to: &out)
            out += ":"
            switch all[key]! {
            // Numbers stay numbers, so that a log query can compare them.
            case .stringConvertible(let number as Int): out += String(number)
            case .stringConvertible(let number as Double) where number.isFinite: out += number.description
            case let value: Problem.appendJSONString(value.description, to: &out)
            }
        }
        out += "}\n"
        return out
    }

    /// Control characters escaped so that no value can forge a log line.
    static func sanitise(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func quoteIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 || $0.value == 0x7F }
        guard needsQuotes else { return value }
        return "\"" + sanitise(value).replacingQuotes() + "\""
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for c in unicodeScalars {
            if c == "\"" { out += "\\\"" } else { out.unicodeScalars.append(c) }
        }
        return out
    }
}
