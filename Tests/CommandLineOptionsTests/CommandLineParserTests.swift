import CommandLineOptions
import Testing

/// A small command tree shaped like lossd's: a root with options of each
/// kind and two subcommands, one with an option of its own.
let sample = CommandDeclaration(
    name: "tool",
    abstract: "Does one thing well.",
    discussion: "Every option has a default.",
    options: [
        OptionDeclaration("host", valueName: "address", help: "Address to listen on."),
        OptionDeclaration("port", valueName: "port", kind: .integer, help: "TCP port to listen on."),
        OptionDeclaration("max-body-bytes", valueName: "bytes", kind: .integer, help: "Largest body."),
        OptionDeclaration("wait", valueName: "seconds", kind: .number, help: "Seconds to wait."),
    ],
    subcommands: [
        CommandDeclaration(name: "check", abstract: "Checks it.",
                           options: [OptionDeclaration("timeout", valueName: "seconds", kind: .number, help: "Seconds.")]),
        CommandDeclaration(name: "print", abstract: "Prints it."),
    ])

let parser = CommandLineParser(root: sample)

/// The options a command line runs with, or nil when it asks for something else.
func run(_ arguments: [String]) throws -> (path: [String], options: [String: String])? {
    guard case .run(let path, let options) = try parser.parse(arguments) else { return nil }
    return (path, options.values)
}

/// The usage error a command line gets, or nil when it parses.
func refusal(_ arguments: [String]) -> UsageError? {
    do {
        _ = try parser.parse(arguments)
        return nil
    } catch {
        return error
    }
}

@Suite struct CommandLineParserTests {
    @Test("no arguments run the root command with no options given")
    func empty() throws {
        let parsed = try #require(try run([]))
        #expect(parsed.path == [])
        #expect(parsed.options == [:])
    }

    @Test("an option's value is the next argument, or what follows its =",
          arguments: [["--port", "9000"], ["--port=9000"]])
    func valueForms(arguments: [String]) throws {
        #expect(try run(arguments)?.options == ["port": "9000"])
    }

    @Test("a value may itself hold = and spaces")
    func valueWithEquals() throws {
        #expect(try run(["--host=a=b c"])?.options == ["host": "a=b c"])
        #expect(try run(["--host", "a=b c"])?.options == ["host": "a=b c"])
    }

    @Test("an option given twice keeps the last value")
    func lastWins() throws {
        #expect(try run(["--port", "1", "--port=2"])?.options == ["port": "2"])
    }

    @Test("a negative number after an option is its value, left to the option's own range check",
          arguments: [(["--max-body-bytes", "-1"], "max-body-bytes", "-1"),
                      (["--wait", "-0.5"], "wait", "-0.5"),
                      (["--wait", "-1e3"], "wait", "-1e3"),
                      (["--port", "-0"], "port", "-0")])
    func negativeValues(arguments: [String], name: String, value: String) throws {
        #expect(try run(arguments)?.options == [name: value])
    }

    @Test("the typed accessors read integer and number values; nil when the option was not given")
    func typedValues() throws {
        guard case .run(_, let options) = try parser.parse(["--port", "+80", "--wait", "2.5", "--host", "::1"]) else {
            Issue.record("not a run")
            return
        }
        #expect(options.integer("port") == 80)
        #expect(options.number("wait") == 2.5)
        #expect(options.text("host") == "::1")
        #expect(options.integer("max-body-bytes") == nil)
    }

    @Test("an option without its value is refused, naming the option with its value's name",
          arguments: [["--port"], ["--port="], ["--port", "--host", "x"], ["--port", "--"], ["--host", "-"]])
    func missingValue(arguments: [String]) throws {
        let error = try #require(refusal(arguments))
        let option = try #require(error.option)
        #expect(error.message == "Missing value for '\(option.synopsis)'")
        #expect(option.name == arguments[0].dropFirst(2).prefix { $0 != "=" }.description)
    }

    @Test("a value that does not read as the option's kind is refused, quoting it",
          arguments: [(["--port", "abc"], "The value 'abc' is invalid for '--port <port>'"),
                      (["--port", "1.5"], "The value '1.5' is invalid for '--port <port>'"),
                      (["--port", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--port <port>'"),
                      (["--wait=soon"], "The value 'soon' is invalid for '--wait <seconds>'")])
    func invalidValue(arguments: [String], message: String) throws {
        let error = try #require(refusal(arguments))
        #expect(error.message == message)
        #expect(error.option?.name == arguments[0].dropFirst(2).prefix { $0 != "=" }.description)
    }

    @Test("an option no command on the path declares is unknown, named without its value",
          arguments: [(["--bogus"], "Unknown option '--bogus'"), (["--bogus=3"], "Unknown option '--bogus'"),
                      (["-p", "5"], "Unknown option '-p'"), (["--timeout", "3"], "Unknown option '--timeout'"),
                      (["print", "--timeout", "3"], "Unknown option '--timeout'")])
    func unknownOption(arguments: [String], message: String) throws {
        #expect(refusal(arguments)?.message == message)
    }

    @Test("an argument that is neither an option, its value nor a subcommand is unexpected; so is all after --",
          arguments: [(["stray"], "Unexpected argument 'stray'"), (["-"], "Unexpected argument '-'"),
                      (["--", "--port", "1"], "Unexpected argument '--port'"),
                      (["check", "print"], "Unexpected argument 'print'"),
                      (["check", "stray"], "Unexpected argument 'stray'")])
    func unexpectedArgument(arguments: [String], message: String) throws {
        #expect(refusal(arguments)?.message == message)
    }

    @Test("the first error on the line is the one reported")
    func firstErrorWins() throws {
        #expect(refusal(["--bogus", "--port", "abc"])?.message == "Unknown option '--bogus'")
    }

    @Test("a subcommand's name runs it; it takes its own options and its parents', before or after its name")
    func subcommand() throws {
        let parsed = try #require(try run(["--port", "1", "check", "--timeout", "2", "--host", "h"]))
        #expect(parsed.path == ["check"])
        #expect(parsed.options == ["port": "1", "timeout": "2", "host": "h"])
        #expect(try run(["print"])?.path == ["print"])
    }

    @Test("an error within a subcommand carries its path, for its usage line")
    func errorPath() throws {
        #expect(refusal(["check", "--timeout"])?.path == ["check"])
        #expect(refusal(["--port"])?.path == [])
    }

    @Test("-h, --help and help [subcommand] ask for the help of the command they name, whatever else is wrong",
          arguments: [(["--help"], "tool"), (["-h"], "tool"), (["help"], "tool"), (["--help", "--bogus"], "tool"),
                      (["--port", "abc", "-h"], "tool"), (["--port", "-h"], "tool"), (["--version", "--help"], "tool"), (["help", "nope"], "tool"),
                      (["check", "--help"], "tool check"), (["help", "check"], "tool check"),
                      (["--port", "1", "check", "-h", "stray"], "tool check")])
    func help(arguments: [String], usagePrefix: String) throws {
        guard case .help(let text) = try parser.parse(arguments) else {
            Issue.record("\(arguments) did not ask for help")
            return
        }
        #expect(text.contains("\nUSAGE: \(usagePrefix) ["), "\(text)")
    }

    @Test("--version asks for the version, whatever else is wrong, anywhere before --",
          arguments: [["--version"], ["--version", "extra"], ["--port", "abc", "--version"], ["check", "--version"]])
    func version(arguments: [String]) throws {
        #expect(try parser.parse(arguments) == .version)
        #expect(refusal(["--", "--version"])?.message == "Unexpected argument '--version'")
    }
}
