/// A command as its help describes it: a name, a one-line abstract, a
/// discussion, its options and its subcommands. A subcommand also accepts
/// every option of the commands above it (`lossd healthcheck --port 9000`).
public struct CommandDeclaration: Sendable, Equatable {
    public var name: String
    /// One sentence, the help's OVERVIEW and the parent's SUBCOMMANDS line.
    public var abstract: String
    /// A paragraph under the overview; empty for none.
    public var discussion: String
    public var options: [OptionDeclaration]
    public var subcommands: [CommandDeclaration]

    public init(name: String, abstract: String, discussion: String = "", options: [OptionDeclaration] = [],
                subcommands: [CommandDeclaration] = []) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.subcommands = subcommands
    }

    /// The subcommand named `name`, if any.
    func subcommand(_ name: String) -> CommandDeclaration? {
        subcommands.first { $0.name == name }
    }
}
