/// A command line lossd cannot act on: an unknown option, a missing or
/// malformed value, a stray argument, or a setting its command refuses.
/// Printed as `Error: …` with the usage, and the process exits 64
/// (`EX_USAGE`, sysexits.h).
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The exit status of a usage error: 64, `EX_USAGE`.
    public static let exitStatus: Int32 = 64

    /// What is wrong, in one line: `Unknown option '--bogus'`.
    public var message: String
    /// The option the error is about, whose help line is printed under it.
    public var option: OptionDeclaration?
    /// The command the error is about: its usage is printed.
    public var path: [String]

    public init(_ message: String, option: OptionDeclaration? = nil, path: [String] = []) {
        self.message = message
        self.option = option
        self.path = path
    }

    public var description: String { message }
}
