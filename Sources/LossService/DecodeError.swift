/// Why a request body could not be decoded.
///
/// `.malformed` is a 400: the body is not JSON (RFC 8259), and `offset` is the
/// 0-based byte offset of the first offending byte (the body's length when it
/// ends too early). `.invalid` is a 422: the body is JSON but not a valid
/// request, and the message says where, in the request's own vocabulary.
/// `.tooLarge` is a 413: the decoded tensors would pass the request's limit.
enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not JSON; e.g. `malformed JSON at byte 17: expected ',' or '}'`.
    case malformed(offset: Int, reason: String)
    /// JSON, but not a valid request; e.g. `predictions[1] has 2 elements but predictions[0] has 3`.
    case invalid(String)
    /// The number starting at byte `offset` would take the request's tensors
    /// past `limit` bytes (8 per number, all tensors together).
    case tooLarge(offset: Int, limit: Int)

    var description: String {
        switch self {
        case .malformed(let offset, let reason): "malformed JSON at byte \(offset): \(reason)"
        case .invalid(let message): message
        case .tooLarge(let offset, let limit):
            "the number at byte \(offset) takes the request's tensors past the limit of \(limit) bytes (8 bytes per number, all tensors together); send the data in smaller requests"
        }
    }
}
