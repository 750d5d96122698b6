/// What a command line asks for, once parsed.
public enum CommandLineRequest: Sendable, Equatable {
    /// Run the command at `path` (subcommand names below the root, `[]` for
    /// the root itself) with these option values.
    case run(path: [String], options: ParsedOptions)
    /// Print this help text on standard output and exit 0.
    case help(String)
    /// Print the version on standard output and exit 0.
    case version
}

/// The option values given on a command line, by option name (without the
/// dashes), each already checked against its declaration's kind. An option
/// given twice keeps the last value.
public struct ParsedOptions: Sendable, Equatable {
    public var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// The option's value as given, or nil when it was not given.
    public func text(_ name: String) -> String? {
        values[name]
    }

    /// A `.integer` option's value, or nil when it was not given.
    public func integer(_ name: String) -> Int? {
        values[name].flatMap { Int($0) }
    }

    /// A `.number` option's value, or nil when it was not given.
    public func number(_ name: String) -> Double? {
        values[name].flatMap { Double($0) }
    }
}
