/// The help and error texts of a command tree, laid out for an
/// 80-column terminal: option names from column 2, their help from column
/// 26 (under the name when the name is longer), paragraphs wrapped at
/// word boundaries.
struct HelpText {
    /// The widest line written, in characters: 80.
    static let width = 80
    /// Where an option's help text begins: 26.
    static let helpColumn = 26

    var root: CommandDeclaration

    /// The full help of the command at `path` (`[]`: the root).
    func help(for path: [String]) -> String {
        let command = self.command(at: path)
        var text = Self.wrap("OVERVIEW: " + command.abstract, indent: 0) + "\n"
        if !command.discussion.isEmpty {
            text += "\n" + Self.wrap(command.discussion, indent: 0) + "\n"
        }
        text += "\nUSAGE: " + usage(for: path) + "\n\nOPTIONS:\n"
        for option in command.options {
            text += Self.entry(option.synopsis, option.help)
        }
        text += Self.entry("--version", "Show the version.")
        text += Self.entry("-h, --help", "Show help information.")
        if !command.subcommands.isEmpty {
            text += "\nSUBCOMMANDS:\n"
            for subcommand in command.subcommands {
                text += Self.entry(subcommand.name, subcommand.abstract)
            }
            text += "\n  See '\(([root.name] + path).joined(separator: " ")) help <subcommand>' for detailed help.\n"
        }
        return text
    }

    /// `lossd [<options>] [<subcommand>]`, or each option spelled out when a command has three or fewer.
    func usage(for path: [String]) -> String {
        let command = self.command(at: path)
        var words = [root.name] + path
        if command.options.count > 3 {
            words.append("[<options>]")
        } else {
            words += command.options.map { "[\($0.synopsis)]" }
        }
        if !command.subcommands.isEmpty { words.append("[<subcommand>]") }
        return words.joined(separator: " ")
    }

    /// `Error: …`, the option's help on one line, the usage, and the command to ask for help.
    func error(_ error: UsageError) -> String {
        var text = "Error: \(error.message)\n"
        if let option = error.option {
            text += "Help:  \(option.synopsis)  \(option.help)\n"
        }
        text += "Usage: \(usage(for: error.path))\n"
        text += "  See '\(([root.name] + error.path).joined(separator: " ")) --help' for more information.\n"
        return text
    }

    /// The command at `path`; the deepest one found when a name is unknown.
    private func command(at path: [String]) -> CommandDeclaration {
        var command = root
        for name in path {
            guard let subcommand = command.subcommand(name) else { break }
            command = subcommand
        }
        return command
    }

    /// One option or subcommand: its label at column 2, its help from `helpColumn`.
    static func entry(_ label: String, _ help: String) -> String {
        let lead = "  " + label
        let body = wrap(help, indent: helpColumn)
        if lead.count < helpColumn {
            let padding = String(repeating: " ", count: helpColumn - lead.count)
            return lead + padding + body.dropFirst(helpColumn) + "\n"
        }
        return lead + "\n" + body + "\n"
    }

    /// `text` wrapped at word boundaries into lines of at most `width`
    /// characters, every line indented by `indent` spaces; a word longer
    /// than the room left stands alone on its line.
    static func wrap(_ text: String, indent: Int) -> String {
        let margin = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if line.isEmpty {
                line = margin + word
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = margin + word
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line.isEmpty ? margin : line) }
        return lines.joined(separator: "\n")
    }
}
