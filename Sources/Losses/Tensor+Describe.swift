// Helpers that make LossError messages name the exact element, e.g. `targets[1][3] = 7`.

extension Tensor {
    /// `true` when some dimension has size 0: there is nothing to score.
    var isEmpty: Bool { data.isEmpty }

    /// The full multi-index of the element at row-major `flatIndex`, as a
    /// client would write it: `[1][3]`, or `""` for a 0-d tensor.
    func indexDescription(_ flatIndex: Int) -> String {
        var remainder = flatIndex
        var parts = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() {
            parts[axis] = remainder % shape[axis]
            remainder /= shape[axis]
        }
        return parts.map { "[\($0)]" }.joined()
    }

    /// `name[i][j] = value`, the way messages quote one element.
    func describeElement(_ flatIndex: Int, name: String) -> String {
        "\(name)\(indexDescription(flatIndex)) = \(formatNumber(data[flatIndex]))"
    }
}

/// A number as messages show it, the one formatter every target's messages use:
/// integral values below 1e15 without a fraction (`7` rather than `7.0`), others
/// in Swift's shortest round-trip form (`1.3`, `1e-05`, `nan`, `inf`).
public func formatNumber(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
        return String(Int64(value))
    }
    return "\(value)"
}

/// Throws unless `tensor` has at least one element.
func requireNonEmpty(_ tensor: Tensor, name: String) throws(LossError) {
    try requireNonEmpty(shape: tensor.shape, name: name)
}

/// Throws unless a tensor of `shape` has at least one element.
func requireNonEmpty(shape: [Int], name: String) throws(LossError) {
    if shape.contains(0) {
        throw LossError("\(name) has shape \(shape), which is empty: there is nothing to score")
    }
}

/// Throws unless `tensor` is non-empty and has exactly the predictions' shape:
/// the elementwise losses never broadcast.
func requireNonEmptySameShape(_ tensor: Tensor, name: String, as predictions: Tensor) throws(LossError) {
    try requireNonEmptySameShape(shape: tensor.shape, name: name, as: predictions.shape)
}

/// Throws unless a tensor of `shape` is non-empty and of exactly the predictions' shape.
func requireNonEmptySameShape(shape: [Int], name: String, as predictionsShape: [Int]) throws(LossError) {
    try requireNonEmpty(shape: shape, name: name)
    guard shape == predictionsShape else {
        let verb = name.hasSuffix("s") ? "have" : "has"  // "targets have", "weight has"
        throw LossError("\(name) \(verb) shape \(shape) but predictions have shape \(predictionsShape); they must be the same")
    }
}

/// Throws, naming the first offender, unless every element lies in [0, 1] (NaN does not).
func requireUnitInterval(_ tensor: Tensor, name: String) throws(LossError) {
    // Hot path: a branch-free count over the whole buffer vectorises; the slow search runs only on failure.
    let outside = tensor.data.withUnsafeBufferPointer { buffer in
        var outside = 0
        for value in buffer { outside &+= 1 &- ((value >= 0 ? 1 : 0) & (value <= 1 ? 1 : 0)) }  // NaN is outside
        return outside
    }
    guard outside > 0 else { return }
    let index = tensor.data.firstIndex { !($0 >= 0 && $0 <= 1) }!
    throw LossError("\(tensor.describeElement(index, name: name)) is outside [0, 1]")
}

/// Throws, naming the first offender, unless every target is an integer in [0, classes) or `ignoreIndex`.
func requireClassIndices(_ targets: Tensor, classes: Int, ignoreIndex: Int) throws(LossError) {
    let ignored = Double(ignoreIndex)
    let limit = Double(classes)
    for (index, value) in targets.data.enumerated() where value != ignored {
        guard value.rounded(.towardZero) == value else {
            throw LossError("\(targets.describeElement(index, name: "targets")) is not a class index (an integer)")
        }
        guard value >= 0 && value < limit else {
            throw LossError("\(targets.describeElement(index, name: "targets")) is out of range for \(classes) classes")
        }
    }
}
