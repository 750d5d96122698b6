/// `predictions[i] - targets[i]`, from the two tensors' buffers.
@frozen @usableFromInline package struct PredictionsMinusTargets: DifferenceOperands {
    @usableFromInline let predictions: UnsafePointer<Double>
    @usableFromInline let targets: UnsafePointer<Double>

    @inlinable @inline(__always)
    package init(predictions: UnsafePointer<Double>, targets: UnsafePointer<Double>) {
        self.predictions = predictions
        self.targets = targets
    }

    @inlinable @inline(__always)
    package func advanced(by offset: Int) -> Self {
        Self(predictions: predictions + offset, targets: targets + offset)
    }

    @inlinable @inline(__always)
    package subscript(i: Int) -> Double { predictions[i] - targets[i] }
}
