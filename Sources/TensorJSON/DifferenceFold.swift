/// The two members of a difference loss (MSE, L1, smooth L1, Huber), which it reads only as
/// `minuend - subtrahend`, never broadcast: `TensorDecoder` folds the second of them to arrive
/// into the first one's storage, number by number, instead of storing it (a request then holds
/// one tensor, not two). Whichever comes first, the first member holds `minuend - subtrahend`
/// afterwards, and the second is a `JSONMember.foldedTensor` of its shape.
public struct DifferenceFold: Sendable, Equatable {
    /// `predictions`.
    public let minuend: String
    /// `targets`.
    public let subtrahend: String

    public init(minuend: String, subtrahend: String) {
        self.minuend = minuend
        self.subtrahend = subtrahend
    }
}
