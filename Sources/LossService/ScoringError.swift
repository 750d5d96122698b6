import Losses

/// Why a loss request was not scored: its members do not make a request
/// (`MemberValues`), or the loss refused them (shapes, ranges). Both are a 422
/// whose detail is `message`.
public enum ScoringError: Error, Equatable, CustomStringConvertible {
    case invalidRequest(InvalidRequest)
    case loss(LossError)

    /// What is wrong, naming the member or the position.
    public var message: String {
        switch self {
        case .invalidRequest(let error): return error.message
        case .loss(let error): return error.message
        }
    }

    public var description: String { message }
}
