/// An optional per-element operand (BCE's `weight` and `pos_weight`, MSE's
/// `weight`) expanded once to a short repeating pattern: the element for flat
/// position `i` of the predictions is `pattern[i % pattern.count]`.
///
/// NumPy broadcasting only repeats a tensor along its leading size-1
/// dimensions, so its expansion over the trailing dimensions, from the first
/// one the operand really has, repeats exactly. Every period is a product of
/// trailing dimensions, so of two operands' periods one divides the other.
struct BroadcastOperand {
    /// One period of the expanded operand; its length divides the predictions' element count.
    let pattern: [Double]

    /// The length below which patterns are tiled, so the loops over them stay long.
    static let minimumLength = 1024

    /// An operand that is 1 everywhere (an absent weight: multiplying by 1 is exact).
    static let ones = BroadcastOperand(pattern: [1])

    private init(pattern: [Double]) {
        self.pattern = pattern
    }

    /// The pattern length that every one of `operands` tiles exactly: at
    /// least `minimumLength` where `total` (the element count) allows.
    static func commonLength(_ operands: [BroadcastOperand], total: Int) -> Int {
        let period = operands.map(\.pattern.count).max() ?? 1
        return period * Swift.min(total / period, Swift.max(1, (minimumLength + period - 1) / period))
    }

    /// The pattern repeated to `length` elements (a multiple of its period).
    func tiled(to length: Int) -> [Double] {
        if length == pattern.count { return pattern }
        var tiled = [Double]()
        tiled.reserveCapacity(length)
        while tiled.count < length { tiled.append(contentsOf: pattern) }
        return tiled
    }

    /// `tensor` broadcast to `shape` by NumPy's rules; throws, naming `name`,
    /// when that is impossible or would grow the shape.
    init(_ tensor: Tensor, to shape: [Int], name: String) throws(LossError) {
        try requireNonEmpty(tensor, name: name)
        let rank = shape.count
        guard tensor.rank <= rank else {
            throw LossError("\(name) has shape \(tensor.shape), which does not broadcast to the predictions' shape \(shape)")
        }
        // The operand's shape aligned to the right, missing leading dimensions of size 1.
        let padded = [Int](repeating: 1, count: rank - tensor.rank) + tensor.shape
        for axis in 0..<rank where padded[axis] != shape[axis] && padded[axis] != 1 {
            throw LossError("\(name) has shape \(tensor.shape), which does not broadcast to the predictions' shape \(shape)")
        }
        let first = padded.firstIndex { $0 != 1 } ?? rank
        let period = shape[first...].reduce(1, *)
        // Nothing repeats inside the period (the common case: a weight of the predictions' shape,
        // or of its trailing dimensions): the operand's own elements are the pattern, uncopied.
        if padded[first...] == shape[first...] {
            pattern = tensor.data
            return
        }

        // Row-major strides of the operand, 0 along the dimensions it repeats.
        var strides = [Int](repeating: 0, count: rank)
        var stride = 1
        for axis in (0..<rank).reversed() {
            strides[axis] = padded[axis] == 1 ? 0 : stride
            stride *= padded[axis]
        }
        var expanded = [Double](repeating: 0, count: period)
        var index = [Int](repeating: 0, count: rank)
        var source = 0
        for position in 0..<period {
            expanded[position] = tensor.data[source]
            // Odometer over axes first..<rank, keeping `source` in step.
            var axis = rank - 1
            while axis >= first {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < shape[axis] { break }
                source -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        pattern = expanded
    }
}
