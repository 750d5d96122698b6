import Logging

/// swift-log handler for `--log-format text`: one line per event on standard
/// error, `time level label: message key=value …`, keys sorted, values quoted
/// when they hold spaces, quotes or control characters.
struct TextLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, logLevel: Logger.Level) {
        self.label = label
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        if let error = event.error { all["error"] = "\(error)" }
        var out = "\(LogTime.now()) \(level) \(label): \(TextLogHandler.sanitise(message.description))"
        for key in all.keys.sorted() {
            out += " \(key)=\(TextLogHandler.quoteIfNeeded(all[key]!.description))"
        }
        out += "\n"
        LogTime.write(out)
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
