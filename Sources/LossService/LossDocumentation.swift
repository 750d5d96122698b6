/// What the OpenAPI document says about one loss beyond its members: the
/// names of its operation and schemas, its description and its examples.
public struct LossDocumentation: Sendable {
    /// `CrossEntropy`: the operation is `crossEntropy`, the request schema
    /// `CrossEntropyRequest`, the 200 response `CrossEntropyResult`.
    public let typeName: String
    /// `Cross entropy`: the request schema's title is `Cross entropy request`.
    public let title: String
    /// The operation's description (Markdown): shapes, semantics, what differs from PyTorch.
    public let description: String
    /// Request bodies to try, each also answered in the document's 200 examples.
    public let examples: [LossExample]

    public init(typeName: String, title: String, description: String, examples: [LossExample]) {
        self.typeName = typeName
        self.title = title
        self.description = description
        self.examples = examples
    }

    /// `crossEntropy`.
    public var operationId: String { typeName.prefix(1).lowercased() + typeName.dropFirst() }
}
