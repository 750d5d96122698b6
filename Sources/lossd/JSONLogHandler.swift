import HTTP
import Logging

/// swift-log handler for `--log-format json`: one JSON object per line on
/// standard error (`time`, `level`, `logger`, `message`, then the metadata),
/// for log shippers that parse structured lines.
struct JSONLogHandler: LogHandler {
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
        LogTime.write(out)
    }
}
