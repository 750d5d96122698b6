import Losses

/// A tensor for tests, from a shape and row-major values.
func tensor(_ shape: [Int], _ data: [Double]) -> Tensor {
    try! Tensor(shape: shape, data: data)
}

/// The message of the error `body` throws, or nil when it throws none.
func errorMessage(_ body: () throws(LossError) -> LossResult) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return error.message
    }
}
