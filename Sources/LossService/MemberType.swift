/// The JSON a request member takes, with its default: what `MemberValues`
/// checks, what the OpenAPI schema says and what the errors name.
public enum MemberType: Sendable, Equatable {
    /// A tensor (a number, a nested array or a `{"shape", "data"}` object) with at
    /// least one element; optional ones default to absent.
    case tensor(required: Bool, role: TensorRole)
    /// `true` or `false`.
    case bool(default: Bool)
    /// A single number in `range` (the loss enforces the range).
    case number(default: Double, range: NumberRange)
    /// An integral number (`2`, `2.0`, `2e0`) within ±2^53.
    case integer(default: Int)
    /// One of a few strings, such as `reduction`'s.
    case choice([String], default: String)

    /// Whether a request must send the member.
    public var isRequired: Bool {
        if case .tensor(required: true, _) = self { return true }
        return false
    }
}
