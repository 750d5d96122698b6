/// Where a difference loss reads `predictions - targets`: from the two tensors
/// (`PredictionsMinusTargets`) or from the differences already taken (`TakenDifferences`),
/// the same double either way. The kernels are generic over it so that each loop is written
/// once; both conformers inline to a plain load (and subtract), so the loops still vectorise.
@usableFromInline package protocol DifferenceOperands {
    /// These operands from position `offset` on.
    func advanced(by offset: Int) -> Self
    /// `p - t` at position `i`.
    subscript(i: Int) -> Double { get }
}
