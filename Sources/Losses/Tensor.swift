/// A tensor of doubles: a shape and its elements in contiguous row-major
/// order. A 0-d tensor (a scalar) has shape `[]` and one element.
public struct Tensor: Sendable, Equatable {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements, row-major; `data.count` is the product of `shape`.
    public private(set) var data: [Double]

    /// A tensor with this shape and these row-major elements.
    /// Throws when a dimension is negative or `data` does not fill `shape`.
    public init(shape: [Int], data: [Double]) throws(LossError) {
        var count = 1
        for (axis, size) in shape.enumerated() {
            guard size >= 0 else { throw LossError("shape \(shape) has a negative size at dimension \(axis)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw LossError("shape \(shape) has too many elements") }
            count = product
        }
        guard count == data.count else {
            throw LossError("shape \(shape) needs \(count) elements but data has \(data.count)")
        }
        self.shape = shape
        self.data = data
    }

    /// A tensor of class indices (the targets of a cross entropy), stored as doubles.
    /// Throws when `indices` does not fill `shape`.
    public init(shape: [Int], indices: [Int]) throws(LossError) {
        try self.init(shape: shape, data: indices.map(Double.init))
    }

    /// A tensor whose shape and element count the caller has already matched.
    init(checkedShape shape: [Int], data: [Double]) {
        assert(shape.reduce(1, *) == data.count)
        self.shape = shape
        self.data = data
    }

    /// A 0-d tensor holding one value.
    public init(_ scalar: Double) {
        self.shape = []
        self.data = [scalar]
    }

    /// The number of elements.
    public var count: Int { data.count }

    /// The number of dimensions.
    public var rank: Int { shape.count }
}
