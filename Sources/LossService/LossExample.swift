/// One example request of a loss, for the OpenAPI document and the page:
/// its members as JSON texts, in order. The document's matching 200 example
/// is computed from it, so it is never out of date.
public struct LossExample: Sendable {
    /// The example's key, such as `indices`.
    public let name: String
    /// One line saying what it shows.
    public let summary: String
    /// Each member's value as JSON text (`"[0, 2]"`, `"\"none\""`), in order.
    public let members: [(name: String, json: String)]
    /// The summary of the 200 example, when it says more than `The "name" request`.
    public let resultSummary: String?

    public init(_ name: String, _ summary: String, resultSummary: String? = nil, _ members: KeyValuePairs<String, String>) {
        self.name = name
        self.summary = summary
        self.resultSummary = resultSummary
        self.members = members.map { (name: $0.key, json: $0.value) }
    }

    /// The request body: `{"predictions": [[2.0, -1.0]], "targets": [0]}`.
    public var body: String {
        "{" + members.map { "\"\($0.name)\": \($0.json)" }.joined(separator: ", ") + "}"
    }
}
