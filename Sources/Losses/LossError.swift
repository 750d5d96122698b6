/// An input a loss cannot score. The message says what is wrong and where, in
/// the request's own vocabulary, e.g. `targets[3] = 7 is out of range for 5 classes`.
public struct LossError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and where.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
