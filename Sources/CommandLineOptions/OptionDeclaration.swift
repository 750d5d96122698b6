/// One `--name <value>` option of a command: its name, what its value is
/// called in the help, what the value must parse as, and its help text.
public struct OptionDeclaration: Sendable, Equatable {
    /// What an option's value must parse as; anything else is a usage error
    /// ("The value 'abc' is invalid for '--port <port>'").
    public enum Kind: Sendable, Equatable {
        /// Any text, the empty string excepted.
        case text
        /// A whole number, as `Int.init(_: String)` reads it (`-1`, `+5`).
        case integer
        /// A number, as `Double.init(_: String)` reads it (`0.5`, `-1e3`, `inf`, `nan`).
        case number
    }

    /// The name without its dashes: `max-body-bytes` for `--max-body-bytes`.
    public var name: String
    /// The value's name in the help and in errors: `bytes` in `--max-body-bytes <bytes>`.
    public var valueName: String
    public var kind: Kind
    /// One paragraph; the help text wraps it.
    public var help: String

    public init(_ name: String, valueName: String, kind: Kind = .text, help: String) {
        self.name = name
        self.valueName = valueName
        self.kind = kind
        self.help = help
    }

    /// `--name <valueName>`, as the help and the errors print it.
    public var synopsis: String { "--\(name) <\(valueName)>" }

    /// Whether `value` is one this option accepts.
    func accepts(_ value: String) -> Bool {
        switch kind {
        case .text: !value.isEmpty
        case .integer: Int(value) != nil
        case .number: Double(value) != nil
        }
    }
}
