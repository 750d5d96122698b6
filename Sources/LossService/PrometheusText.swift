/// Writing the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/).
enum PrometheusText {
    /// The `Content-Type` of a scrape answer.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Appends the `# HELP` and `# TYPE` lines of a family.
    static func appendHeader(name: String, help: String, type: String, to out: inout String) {
        out += "# HELP \(name) "
        // In HELP text only backslash and line feed are escaped.
        for c in help.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        out += "\n# TYPE \(name) \(type)\n"
    }

    /// Appends one sample line: `name{a="x",b="y"} value`.
    static func appendSample(name: String, labelNames: [String], labelValues: [String],
                             extraLabel: (String, String)? = nil, value: Double, to out: inout String) {
        out += name
        if !labelNames.isEmpty || extraLabel != nil {
            out += "{"
            var first = true
            for (labelName, labelValue) in zip(labelNames, labelValues) {
                if !first { out += "," }
                first = false
                appendLabel(labelName, labelValue, to: &out)
            }
            if let (labelName, labelValue) = extraLabel {
                if !first { out += "," }
                appendLabel(labelName, labelValue, to: &out)
            }
            out += "}"
        }
        out += " "
        out += format(value)
        out += "\n"
    }

    private static func appendLabel(_ name: String, _ value: String, to out: inout String) {
        out += name
        out += "=\""
        // In label values backslash, double quote and line feed are escaped.
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        out += "\""
    }

    /// A sample value or `le` bound as Prometheus writes it: integers without a
    /// fraction (`3`, not `3.0`), others in Swift's shortest round-trip form,
    /// `+Inf`, `-Inf`, `NaN`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return value.description
    }
}
