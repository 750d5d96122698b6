/// Why a request body could not be decoded.
///
/// `.malformed` is a 400: the body is not JSON (RFC 8259), and `offset` is the
/// 0-based byte offset of the first offending byte (the body's length when it
/// ends too early). `.invalid` is a 422: the body is JSON but not a valid
/// request, and the message says where, in the request's own vocabulary.
/// `.tooLarge` is a 413: the decoded tensors would pass the request's limit.
/// `.overBudget` is a 503: the server's memory budget could not hold them.
public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not JSON; e.g. `malformed JSON at byte 17: expected ',' or '}'`.
    case malformed(offset: Int, reason: String)
    /// JSON, but not a valid request; e.g. `predictions[1] has 2 elements but predictions[0] has 3`.
    case invalid(String)
    /// The number starting at byte `offset` would take the request's tensors
    /// past `limit` bytes (8 per number, all tensors together).
    case tooLarge(offset: Int, limit: Int)
    /// The tensors from byte `offset` on could not be reserved in the
    /// server's memory budget of `budget` bytes: other requests held it for
    /// `wait` seconds, or (`needsMoreThanBudget`) this one alone needs more.
    case overBudget(offset: Int, budget: Int, wait: Double, needsMoreThanBudget: Bool)

    /// `2 s`, `0.5 s`.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    public var description: String {
        switch self {
        case .malformed(let offset, let reason): "malformed JSON at byte \(offset): \(reason)"
        case .invalid(let message): message
        case .tooLarge(let offset, let limit):
            "the number at byte \(offset) takes the request's tensors past the limit of \(limit) bytes (8 bytes per number, all tensors together); send the data in smaller requests"
        case .overBudget(let offset, let budget, _, true):
            "the tensors at byte \(offset) take this request past the server's whole memory budget of \(budget) bytes (8 bytes per number); send the data in smaller requests"
        case .overBudget(let offset, let budget, let wait, false):
            "the server's memory budget of \(budget) bytes is held by other requests: the tensors at byte \(offset) found no room within \(DecodeError.seconds(wait)); retry later"
        }
    }
}
