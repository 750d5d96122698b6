import Losses

extension MemberValues {
    /// A tensor member that must hold one number (`data_range`), or nil when absent.
    func scalar(_ name: String) throws(LossError) -> Double? {
        guard let tensor = tensor(name) else { return nil }
        guard tensor.rank == 0 else { throw LossError("'\(name)' must be a single number, not a tensor of shape \(tensor.shape)") }
        return tensor.data[0]
    }

    /// A tensor member that holds one dimension or a list of them (`dim`: `1` or `[1, 2, 3]`), or nil when absent.
    func dimensions(_ name: String) throws(LossError) -> [Int]? {
        guard let tensor = tensor(name) else { return nil }
        guard tensor.rank <= 1 else {
            throw LossError("'\(name)' must be an integer or an array of integers, not a tensor of shape \(tensor.shape)")
        }
        var dimensions: [Int] = []
        for (index, value) in tensor.data.enumerated() {
            let element = tensor.rank == 0 ? name : "\(name)[\(index)]"
            // Any dimension of a real tensor is far below 2^31; beyond, the value names none.
            guard value == value.rounded(.towardZero), abs(value) < 2_147_483_648 else {
                throw LossError("\(element) = \(formatNumber(value)) is not a dimension (an integer)")
            }
            dimensions.append(Int(value))
        }
        return dimensions
    }
}
