/// Reads a command line against a `CommandDeclaration`: long options with
/// their value after a space or an `=`, subcommands by name, `-h`/`--help`,
/// `--version`, and `help [subcommand]`. Pure: arguments in, a request or
/// the first `UsageError` out; printing and exiting are the caller's.
///
/// The rules, in the order they apply to each argument:
/// - after `--`, every argument is unexpected (no command takes positional arguments);
/// - `-h`, `--help` and `--version` win over any error elsewhere on the line
///   (help over version), so `lossd --help --bogus` still prints the help;
/// - `--name=value` or `--name value`: the next argument is the value unless
///   it begins with `-` and is not a negative number, so
///   `--max-body-bytes -1` reaches the option's own range check while
///   `--port --host` is a missing value; an option given twice keeps the
///   last value;
/// - a subcommand's name descends into it; it accepts its own options and
///   those of every command above it;
/// - anything else is an unknown option or an unexpected argument.
public struct CommandLineParser: Sendable {
    public var root: CommandDeclaration

    public init(root: CommandDeclaration) {
        self.root = root
    }

    public func parse(_ arguments: [String]) throws(UsageError) -> CommandLineRequest {
        var path: [String] = []
        var command = root
        var accepted = Self.byName(root.options)
        var values: [String: String] = [:]
        var firstError: UsageError?
        var wantsHelp = false
        var wantsVersion = false
        var optionsEnded = false
        var index = 0

        func record(_ error: UsageError) {
            if firstError == nil { firstError = error }
        }

        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded {
                record(UsageError("Unexpected argument '\(argument)'", path: path))
            } else if argument == "--" {
                optionsEnded = true
            } else if argument == "-h" || argument == "--help" {
                wantsHelp = true
            } else if argument == "--version" {
                wantsVersion = true
            } else if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let equals = body.firstIndex(of: "=")
                let name = String(body[..<(equals ?? body.endIndex)])
                guard let option = accepted[name] else {
                    record(UsageError("Unknown option '--\(name)'", path: path))
                    continue
                }
                var value: String?
                if let equals {
                    value = String(body[body.index(after: equals)...])
                } else if index < arguments.count, Self.isValue(arguments[index]) {
                    value = arguments[index]
                    index += 1
                }
                guard let value, !value.isEmpty else {
                    record(UsageError("Missing value for '\(option.synopsis)'", option: option, path: path))
                    continue
                }
                guard option.accepts(value) else {
                    record(UsageError("The value '\(value)' is invalid for '\(option.synopsis)'", option: option, path: path))
                    continue
                }
                values[name] = value
            } else if argument.count > 1, argument.hasPrefix("-") {
                record(UsageError("Unknown option '\(argument)'", path: path))
            } else if path.isEmpty, !wantsHelp, argument == "help" {
                // `lossd help [subcommand]`: the subcommands named after it choose the help shown.
                wantsHelp = true
            } else if let subcommand = command.subcommand(argument) {
                path.append(subcommand.name)
                command = subcommand
                accepted.merge(Self.byName(subcommand.options)) { _, own in own }
            } else {
                record(UsageError("Unexpected argument '\(argument)'", path: path))
            }
        }

        if wantsHelp { return .help(HelpText(root: root).help(for: path)) }
        if wantsVersion { return .version }
        if let firstError { throw firstError }
        return .run(path: path, options: ParsedOptions(values))
    }

    /// What to print on standard error for `error`: the message, the
    /// option's help line when it is about one, the usage, and where to read more.
    public func errorText(_ error: UsageError) -> String {
        HelpText(root: root).error(error)
    }

    /// Whether the argument after an option without `=` is its value: not
    /// another option, `--` or `-h`, but a negative number is a value.
    private static func isValue(_ argument: String) -> Bool {
        !argument.hasPrefix("-") || (argument.count > 1 && Double(argument) != nil)
    }

    private static func byName(_ options: [OptionDeclaration]) -> [String: OptionDeclaration] {
        Dictionary(options.map { ($0.name, $0) }) { _, last in last }
    }
}
