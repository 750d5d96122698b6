import Losses

/// A `POST /loss/mse` body: `F.mse_loss`, with an optional per-element weight.
struct MSERequest: LossRequest, Equatable {
    static let loss = LossKind.meanSquaredError
    static let members = ["predictions", "targets", "reduction", "weight"]

    var predictions: Tensor
    var targets: Tensor
    var reduction: Reduction = .mean
    /// Exactly the predictions' shape.
    var weight: Tensor?

    init(predictions: Tensor, targets: Tensor) {
        self.predictions = predictions
        self.targets = targets
    }

    init(members: [String: JSONMember]) throws(InvalidRequest) {
        let m = try RequestMembers(members, allowed: MSERequest.members)
        predictions = try m.requiredTensor("predictions")
        targets = try m.requiredTensor("targets")
        reduction = try m.reduction()
        weight = try m.tensor("weight")
    }

    var elementCount: Int { predictions.count }

    func score() throws(LossError) -> LossResult {
        try MeanSquaredError(weight: weight, reduction: reduction)(predictions: predictions, targets: targets)
    }
}
