/// An RFC 9457 problem document: the body of every error response, the
/// server's own (400, 408, 413, …) and the application's alike.
public struct Problem: Sendable, Hashable {
    public var status: Status
    /// A human-readable explanation a client can act on: what is wrong and where.
    public var detail: String

    public init(status: Status, detail: String) {
        self.status = status
        self.detail = detail
    }

    /// The response carrying this problem as `application/problem+json`.
    public var response: Response {
        var headers = Headers()
        headers.add("Content-Type", "application/problem+json")
        var json = #"{"type":"about:blank","title":"#
        Problem.appendJSONString(status.reasonPhrase, to: &json)
        json += #","status":\#(status.code),"detail":"#
        Problem.appendJSONString(detail, to: &json)
        json += "}"
        return Response(status: status, headers: headers, body: Array(json.utf8))
    }

    /// Appends `s` as a JSON string literal (RFC 8259 §7).
    public static func appendJSONString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
