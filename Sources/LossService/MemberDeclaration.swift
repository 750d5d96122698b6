/// One top-level member of a loss request, declared once: its name, JSON
/// type, default and one line of documentation. `MemberValues` checks a
/// request against it; the OpenAPI schema and the 422 messages come from it.
public struct MemberDeclaration: Sendable, Equatable {
    /// The JSON member name, such as `predictions` or `label_smoothing`.
    public let name: String
    public let type: MemberType
    /// What the member means, for the OpenAPI schema (Markdown).
    public let summary: String

    public init(_ name: String, _ type: MemberType, _ summary: String) {
        self.name = name
        self.type = type
        self.summary = summary
    }

    /// The required `predictions` tensor.
    public static func predictions(_ summary: String) -> MemberDeclaration {
        MemberDeclaration("predictions", .tensor(required: true, role: .values), summary)
    }

    /// The required `targets` tensor.
    public static func targets(_ summary: String) -> MemberDeclaration {
        MemberDeclaration("targets", .tensor(required: true, role: .targets), summary)
    }

    /// An optional `weight` tensor.
    public static func weight(_ summary: String) -> MemberDeclaration {
        MemberDeclaration("weight", .tensor(required: false, role: .values), summary)
    }

    /// PyTorch's reductions, `mean` by default.
    public static let reductions = ["mean", "sum", "none"]

    /// `reduction`: `mean` (default), `sum` or `none`.
    public static let reduction = MemberDeclaration(
        "reduction", .choice(reductions, default: "mean"), "As in PyTorch. `null` is the same as absent (`mean`).")
}
