/// `differences[i]`: `predictions - targets` already taken (lossd's folded tensor).
@frozen @usableFromInline package struct TakenDifferences: DifferenceOperands {
    @usableFromInline let differences: UnsafePointer<Double>

    @inlinable @inline(__always)
    package init(_ differences: UnsafePointer<Double>) {
        self.differences = differences
    }

    @inlinable @inline(__always)
    package func advanced(by offset: Int) -> Self { Self(differences + offset) }

    @inlinable @inline(__always)
    package subscript(i: Int) -> Double { differences[i] }
}
