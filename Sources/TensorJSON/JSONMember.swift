import Losses

/// The value of one top-level member of a request body, as `TensorDecoder` reads it.
/// A bare number is a 0-d tensor; a nested array or a `{"shape": …, "data": …}`
/// object is a tensor of its shape.
public enum JSONMember: Equatable, Sendable {
    case tensor(Tensor)
    case string(String)
    case bool(Bool)
    case null
    /// A tensor of this shape whose numbers were folded into the other member of the
    /// decoder's `DifferenceFold` as they arrived (that member holds `minuend - subtrahend`
    /// where the shapes agree); they were never stored.
    case foldedTensor(shape: [Int])
}
