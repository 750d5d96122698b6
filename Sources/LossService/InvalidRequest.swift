/// Valid JSON that is not a valid loss request: a missing, unknown or
/// mistyped member. Answered with 422 and `message` as the problem's detail.
struct InvalidRequest: Error, Equatable, CustomStringConvertible {
    /// What is wrong, naming the member and what was expected.
    var message: String

    init(_ message: String) { self.message = message }

    var description: String { message }
}
