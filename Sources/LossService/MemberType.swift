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
    /// A single number in `range` with no default (`data_range`: absent means
    /// something else, or it is required); with `interval`, also an array
    /// `[low, high]` of two numbers (the loss checks `low < high`).
    case scalar(required: Bool, range: NumberRange, interval: Bool)
    /// An integer or an array of at least one integer (`dim`), each within
    /// ±2^31; optional ones default to absent.
    case integers(required: Bool)

    /// Whether a request must send the member.
    public var isRequired: Bool {
        switch self {
        case .tensor(let required, _), .scalar(let required, _, _), .integers(let required): return required
        case .bool, .number, .integer, .choice: return false
        }
    }

    /// The datatypes a member takes as an Open Inference Protocol input, or nil
    /// for one that is only a parameter. Scalars and integer lists are inputs
    /// (`data_range` `[0, 255]`, `dim` `[1, 2, 3]`) and, when a single number,
    /// parameters too.
    public var inputRole: TensorRole? {
        switch self {
        case .tensor(_, let role): return role
        case .scalar: return .values
        case .integers: return .targets
        case .bool, .number, .integer, .choice: return nil
        }
    }
}
