/// What a tensor member holds, which decides the datatypes it accepts over
/// the Open Inference Protocol v2 (a JSON body accepts any number for either).
public enum TensorRole: String, Sendable {
    /// Real values: predictions, weights (`FP*`).
    case values
    /// Targets, which may also be class indices or labels (`INT*`, `UINT*`, `BOOL` too).
    case targets
}
