import Losses

/// A validated request to one loss: built from the decoded body's members
/// (a 422 `InvalidRequest` when they do not make a request), then scored.
protocol LossRequest: Sendable {
    /// The loss this request is for.
    static var loss: LossKind { get }
    /// Reads and checks the members; throws on unknown, missing or mistyped ones.
    init(members: [String: JSONMember]) throws(InvalidRequest)
    /// The prediction elements to score (for `lossd_loss_elements_total`).
    var elementCount: Int { get }
    /// Scores the request; the loss itself checks shapes and ranges.
    func score() throws(LossError) -> LossResult
}
