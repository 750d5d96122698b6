/// Valid JSON that is not a valid loss request: a missing, unknown or
/// mistyped member. Answered with 422 and `message` as the problem's detail.
public struct InvalidRequest: Error, Equatable, CustomStringConvertible {
    /// What is wrong, naming the member and what was expected.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
