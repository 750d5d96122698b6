/// `predictions - targets`, element by element, taken as the second of the two tensors
/// arrived (lossd folds it into the first's storage, so that a difference loss holds one
/// tensor, not two), with the shape each was sent in. The same doubles the losses compute
/// from the two tensors (`p - t`), so the scores agree bit for bit. The values mean
/// something only when the shapes are the same, which every difference loss checks first.
public struct Differences: Sendable {
    /// The predictions' shape: the result's.
    public let predictionsShape: [Int]
    public let targetsShape: [Int]
    /// `p - t`, row-major, when the shapes are the same (`data.count` is the shapes' product).
    public let data: [Double]

    public init(data: [Double], predictionsShape: [Int], targetsShape: [Int]) {
        self.data = data
        self.predictionsShape = predictionsShape
        self.targetsShape = targetsShape
    }

    /// Throws exactly what the losses throw for a predictions and a targets tensor of these shapes
    /// (`requireNonEmpty`, `requireNonEmptySameShape`).
    func requireNonEmptySameShapes() throws(LossError) {
        try requireNonEmpty(shape: predictionsShape, name: "predictions")
        try requireNonEmptySameShape(shape: targetsShape, name: "targets", as: predictionsShape)
        precondition(data.count == predictionsShape.reduce(1, *), "folded differences do not fill their shape")
    }
}

/// A loss of `predictions - targets` alone, never broadcast (MSE, L1, smooth L1, Huber):
/// scored from the two tensors or from their `Differences`, with the same result bit for bit.
public protocol DifferenceLoss: Sendable {
    func callAsFunction(predictions: Tensor, targets: Tensor) throws(LossError) -> LossResult
    func callAsFunction(differences: Differences) throws(LossError) -> LossResult
}
