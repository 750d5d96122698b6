/// An HTTP status code with its reason phrase (RFC 9110 §15).
public struct Status: Sendable, Hashable, CustomStringConvertible {
    /// The three-digit code.
    public var code: Int
    /// The reason phrase written on the status line.
    public var reasonPhrase: String

    public init(code: Int, reasonPhrase: String) {
        self.code = code
        self.reasonPhrase = reasonPhrase
    }

    public var description: String { "\(code) \(reasonPhrase)" }

    public static let `continue` = Status(code: 100, reasonPhrase: "Continue")
    public static let ok = Status(code: 200, reasonPhrase: "OK")
    public static let noContent = Status(code: 204, reasonPhrase: "No Content")
    public static let notModified = Status(code: 304, reasonPhrase: "Not Modified")
    public static let badRequest = Status(code: 400, reasonPhrase: "Bad Request")
    public static let notFound = Status(code: 404, reasonPhrase: "Not Found")
    public static let methodNotAllowed = Status(code: 405, reasonPhrase: "Method Not Allowed")
    public static let requestTimeout = Status(code: 408, reasonPhrase: "Request Timeout")
    public static let lengthRequired = Status(code: 411, reasonPhrase: "Length Required")
    public static let contentTooLarge = Status(code: 413, reasonPhrase: "Content Too Large")
    public static let uriTooLong = Status(code: 414, reasonPhrase: "URI Too Long")
    public static let unsupportedMediaType = Status(code: 415, reasonPhrase: "Unsupported Media Type")
    public static let expectationFailed = Status(code: 417, reasonPhrase: "Expectation Failed")
    public static let unprocessableContent = Status(code: 422, reasonPhrase: "Unprocessable Content")
    public static let requestHeaderFieldsTooLarge = Status(code: 431, reasonPhrase: "Request Header Fields Too Large")
    public static let internalServerError = Status(code: 500, reasonPhrase: "Internal Server Error")
    public static let notImplemented = Status(code: 501, reasonPhrase: "Not Implemented")
    public static let serviceUnavailable = Status(code: 503, reasonPhrase: "Service Unavailable")
    public static let httpVersionNotSupported = Status(code: 505, reasonPhrase: "HTTP Version Not Supported")
}
