import Losses

/// A `POST /loss/ce` body: `F.cross_entropy`'s arguments.
struct CERequest: LossRequest, Equatable {
    static let loss = LossKind.crossEntropy
    static let members = ["predictions", "targets", "reduction", "from_logits", "weight", "ignore_index",
                          "label_smoothing"]

    var predictions: Tensor
    var targets: Tensor
    var reduction: Reduction = .mean
    /// True: predictions are logits (PyTorch); false: probabilities.
    var fromLogits: Bool = true
    /// Per-class weights, shape `(C)`.
    var weight: Tensor?
    var ignoreIndex: Int = -100
    var labelSmoothing: Double = 0

    init(predictions: Tensor, targets: Tensor) {
        self.predictions = predictions
        self.targets = targets
    }

    init(members: [String: JSONMember]) throws(InvalidRequest) {
        let m = try RequestMembers(members, allowed: CERequest.members)
        predictions = try m.requiredTensor("predictions")
        targets = try m.requiredTensor("targets")
        reduction = try m.reduction()
        fromLogits = try m.bool("from_logits", default: true)
        weight = try m.tensor("weight")
        ignoreIndex = try m.integer("ignore_index", default: -100)
        labelSmoothing = try m.number("label_smoothing", default: 0)
    }

    var elementCount: Int { predictions.count }

    func score() throws(LossError) -> LossResult {
        let loss = CrossEntropy(weight: weight, ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing,
                                fromLogits: fromLogits, reduction: reduction)
        return try loss(predictions: predictions, targets: targets)
    }
}
