/// Every loss lossd serves, in the order the document and the page list
/// them. Adding a loss is one declaration here (and its file in
/// Declarations/); `LossRegistryTests` checks it then appears everywhere.
public enum LossRegistry {
    public static let all: [LossDeclaration] = [
        .crossEntropy, .binaryCrossEntropy, .meanSquaredError,
        .negativeLogLikelihood, .l1, .smoothL1, .huber, .klDivergence,
        .sigmoidFocal, .dice, .peakSignalNoiseRatio, .structuralSimilarity,
    ]

    /// By name: built once; a lookup is one dictionary hit.
    private static let byName: [String: LossDeclaration] = {
        var table: [String: LossDeclaration] = [:]
        for declaration in all {
            precondition(table[declaration.name] == nil, "two losses are named \(declaration.name)")
            table[declaration.name] = declaration
        }
        return table
    }()

    /// The declaration named `name` (`ce`), or nil.
    public static func named(_ name: String) -> LossDeclaration? { byName[name] }
}
