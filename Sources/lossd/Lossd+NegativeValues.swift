/// Negative numbers as option values.
///
/// ArgumentParser reads `-1` in `--max-body-bytes -1` as a short flag, not
/// as the value, and says "Missing value for '--max-body-bytes <bytes>'",
/// which hides the real mistake. Every lossd option with a numeric value
/// must be positive (or, for the port, in 0...65535), so such a value is
/// joined to its option (`--max-body-bytes=-1`) before parsing: the option's
/// own validation then says what is allowed. lossd has no short flags made
/// of digits, so no meaning is lost.
extension Lossd {
    static func main() {
        main(commandLine)
    }

    /// The arguments as parsed. A static, not a local of `main()`: lossd's
    /// main thread ends in `dispatchMain()`, which exits that thread, so a
    /// buffer only its stack referred to would be reported as leaked by
    /// LeakSanitizer (scripts/sanitize.sh address).
    private static let commandLine = joiningNegativeValues(Array(CommandLine.arguments.dropFirst()))

    /// `arguments` with each `--option -N` (a long option without `=`
    /// followed by a negative number) written as `--option=-N`; arguments
    /// after `--` are left alone.
    static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var result: [String] = []
        result.reserveCapacity(arguments.count)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result += arguments[index...]
                break
            }
            if argument.hasPrefix("--"), !argument.contains("="), index + 1 < arguments.count,
               isNegativeNumber(arguments[index + 1]) {
                result.append("\(argument)=\(arguments[index + 1])")
                index += 2
                continue
            }
            result.append(argument)
            index += 1
        }
        return result
    }

    /// `-1`, `-0.5`, `-.5`, `-1e3`, `-inf`: a minus sign and what a Double reads.
    private static func isNegativeNumber(_ text: String) -> Bool {
        text.count > 1 && text.first == "-" && Double(text) != nil
    }
}
