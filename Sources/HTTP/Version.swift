/// The protocol version of a request: HTTP/1.0 or HTTP/1.1 (RFC 9112 §2.3).
/// Any other major version is answered with 505 before it reaches a responder.
public enum Version: Sendable, Hashable {
    case http1_0
    case http1_1

    /// The version as written on a status line.
    public var text: String {
        switch self {
        case .http1_0: return "HTTP/1.0"
        case .http1_1: return "HTTP/1.1"
        }
    }
}
