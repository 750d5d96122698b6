import CommandLineOptions
import Testing

/// What `--help` and a usage error print: laid out for 80 columns, option
/// help from column 26, the error with the option's help and the usage.
@Suite struct HelpTextTests {
    func helpText(_ arguments: [String]) throws -> String {
        guard case .help(let text) = try parser.parse(arguments) else { throw UsageError("not help") }
        return text
    }

    @Test("the root's help: overview, discussion, usage, options with --version and --help, subcommands")
    func rootHelp() throws {
        #expect(try helpText(["--help"]) == """
            OVERVIEW: Does one thing well.

            Every option has a default.

            USAGE: tool [<options>] [<subcommand>]

            OPTIONS:
              --host <address>        Address to listen on.
              --port <port>           TCP port to listen on.
              --max-body-bytes <bytes>
                                      Largest body.
              --wait <seconds>        Seconds to wait.
              --version               Show the version.
              -h, --help              Show help information.

            SUBCOMMANDS:
              check                   Checks it.
              print                   Prints it.

              See 'tool help <subcommand>' for detailed help.

            """)
    }

    @Test("a subcommand with few options spells them out in its usage line")
    func subcommandHelp() throws {
        #expect(try helpText(["help", "check"]) == """
            OVERVIEW: Checks it.

            USAGE: tool check [--timeout <seconds>]

            OPTIONS:
              --timeout <seconds>     Seconds.
              --version               Show the version.
              -h, --help              Show help information.

            """)
    }

    @Test("long help wraps at word boundaries within 80 columns, continuing at column 26")
    func wrapping() throws {
        let words = (1...40).map { "word\($0)" }.joined(separator: " ")
        let long = CommandDeclaration(name: "tool", abstract: words,
                                      options: [OptionDeclaration("opt", valueName: "v", help: words)])
        guard case .help(let text) = try CommandLineParser(root: long).parse(["-h"]) else {
            Issue.record("not help")
            return
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(text)")
        let optionLines = lines.drop { !$0.hasPrefix("  --opt <v>") }.prefix { !$0.hasPrefix("  --version") }
        #expect(optionLines.count > 1)
        #expect(optionLines.dropFirst().allSatisfy { $0.prefix(26).allSatisfy { $0 == " " } && $0.dropFirst(26).first != " " })
        // Every word is still there, in order.
        let optionWords = optionLines.joined(separator: " ").split(separator: " ").dropFirst(2)
        #expect(optionWords.joined(separator: " ") == words)
        #expect(lines.first == "OVERVIEW: word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11")
    }

    @Test("a usage error prints the message, the option's help on one line, the usage and where to read more")
    func errorText() throws {
        let error = try #require(refusal(["--port", "abc"]))
        #expect(parser.errorText(error) == """
            Error: The value 'abc' is invalid for '--port <port>'
            Help:  --port <port>  TCP port to listen on.
            Usage: tool [<options>] [<subcommand>]
              See 'tool --help' for more information.

            """)
        let inSubcommand = try #require(refusal(["check", "stray"]))
        #expect(parser.errorText(inSubcommand) == """
            Error: Unexpected argument 'stray'
            Usage: tool check [--timeout <seconds>]
              See 'tool check --help' for more information.

            """)
    }

    @Test("a usage error exits 64, EX_USAGE")
    func exitStatus() {
        #expect(UsageError.exitStatus == 64)
    }
}
