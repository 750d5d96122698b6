import Losses

/// A `POST /loss/bce` body: `F.binary_cross_entropy` (probabilities) or
/// `F.binary_cross_entropy_with_logits` (`from_logits: true`).
struct BCERequest: LossRequest, Equatable {
    static let loss = LossKind.binaryCrossEntropy
    static let members = ["predictions", "targets", "reduction", "from_logits", "weight", "pos_weight"]

    var predictions: Tensor
    var targets: Tensor
    var reduction: Reduction = .mean
    /// False (default): predictions are probabilities; true: logits.
    var fromLogits: Bool = false
    /// Broadcastable to the predictions' shape.
    var weight: Tensor?
    /// Broadcastable to the predictions' shape; only with `fromLogits`.
    var posWeight: Tensor?

    init(predictions: Tensor, targets: Tensor) {
        self.predictions = predictions
        self.targets = targets
    }

    init(members: [String: JSONMember]) throws(InvalidRequest) {
        let m = try RequestMembers(members, allowed: BCERequest.members)
        predictions = try m.requiredTensor("predictions")
        targets = try m.requiredTensor("targets")
        reduction = try m.reduction()
        fromLogits = try m.bool("from_logits", default: false)
        weight = try m.tensor("weight")
        posWeight = try m.tensor("pos_weight")
    }

    var elementCount: Int { predictions.count }

    func score() throws(LossError) -> LossResult {
        let loss = BinaryCrossEntropy(weight: weight, posWeight: posWeight, fromLogits: fromLogits,
                                      reduction: reduction)
        return try loss(predictions: predictions, targets: targets)
    }
}
