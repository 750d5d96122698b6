import Losses
import TensorJSON

/// One loss (or score) as lossd serves it, declared once: its route
/// (`/loss/{name}`), its metrics label, its request members with their types
/// and defaults, its OpenAPI path and schema, and the function in `Losses`
/// that computes it. `LossRegistry.all` lists every declaration; routing,
/// member checking, errors, the OpenAPI document, the metrics and the golden
/// tests all come from it.
public struct LossDeclaration: Sendable {
    /// Which route family a declaration is served under.
    public enum Kind: String, Sendable {
        /// `/loss/{name}`.
        case loss
        /// `/score/{name}`: a quality score rather than a loss (higher is better).
        case score
    }

    /// `ce`: the route's last segment, the OIP model name and the metrics label `loss="ce"`.
    public let name: String
    public let kind: Kind
    /// The route, `/loss/ce`, which is also its metrics `route` label.
    public let path: String
    /// One line, for OpenAPI and the page: `Cross entropy (F.cross_entropy)`.
    public let summary: String
    /// The PyTorch function it follows: `torch.nn.functional.cross_entropy`.
    public let reference: String
    /// The request's members, in the order they are checked and listed.
    public let members: [MemberDeclaration]
    /// How the OpenAPI document names and describes it.
    public let documentation: LossDocumentation
    /// Scores checked members; the loss checks shapes and ranges (`LossError`).
    /// `elements` feeds `lossd_loss_elements_total`.
    let score: @Sendable (MemberValues) throws(LossError) -> (result: LossResult, elements: Int)
    /// For a `DifferenceLoss`, `predictions - targets`: a loss body's decoder folds the
    /// second of the two into the first as it streams (one tensor held, not two). nil for others.
    let differenceFold: DifferenceFold?

    init(name: String, kind: Kind = .loss, summary: String, reference: String, members: [MemberDeclaration],
         documentation: LossDocumentation,
         differenceFold: DifferenceFold? = nil,
         score: @escaping @Sendable (MemberValues) throws(LossError) -> (result: LossResult, elements: Int)) {
        self.differenceFold = differenceFold
        self.name = name
        self.kind = kind
        path = "/\(kind.rawValue)/\(name)"
        self.summary = summary
        self.reference = reference
        self.members = members
        self.documentation = documentation
        self.score = score
    }

    /// A loss of `predictions` against `targets` that counts the predictions' elements.
    init(name: String, kind: Kind = .loss, summary: String, reference: String, members: [MemberDeclaration],
         documentation: LossDocumentation,
         compute: @escaping @Sendable (MemberValues) throws(LossError) -> LossResult) {
        self.init(name: name, kind: kind, summary: summary, reference: reference, members: members,
                  documentation: documentation) { values throws(LossError) in
            (try compute(values), values.predictions.count)
        }
    }

    /// A `DifferenceLoss` (`loss` makes it from the checked members) of `fold`'s two members,
    /// `predictions - targets` unless said otherwise: scored from the folded differences when
    /// the decoder folded them, else from the two tensors; it counts the minuend's elements.
    /// `fold` names the members once: the decoder, `MemberValues.foldedDifferences` and the
    /// unfolded path all read them from it.
    init<Loss: DifferenceLoss>(
        name: String, summary: String, reference: String, members: [MemberDeclaration],
        documentation: LossDocumentation,
        fold: DifferenceFold = DifferenceFold(minuend: "predictions", subtrahend: "targets"),
        differenceLoss: @escaping @Sendable (MemberValues) -> Loss
    ) {
        self.init(name: name, summary: summary, reference: reference, members: members, documentation: documentation,
                  differenceFold: fold) { values throws(LossError) in
            let loss = differenceLoss(values)
            if let differences = values.foldedDifferences {
                let result = try loss.callAsFunction(differences: differences)
                return (result, differences.data.count)
            }
            let minuend = values.requiredTensor(fold.minuend)
            let result = try loss.callAsFunction(predictions: minuend, targets: values.requiredTensor(fold.subtrahend))
            return (result, minuend.count)
        }
    }

    /// Whether `member` is one of the request's members.
    func declares(_ member: String) -> Bool {
        members.contains { $0.name == member }
    }

    /// Checks a decoded body's members and scores them: unknown, missing or
    /// mistyped members are `.invalidRequest`, what the loss refuses `.loss`
    /// (both a 422). `reduction` is the one the request asked for (its
    /// default when absent), which the answer names: KL's `batchmean` is a
    /// `mean` in `LossResult` but is answered as `batchmean`.
    func evaluate(_ members: [String: JSONMember]) throws(ScoringError)
        -> (result: LossResult, elements: Int, reduction: String) {
        let values: MemberValues
        do { values = try MemberValues(members, declaration: self) } catch { throw .invalidRequest(error) }
        let scored: (result: LossResult, elements: Int)
        do { scored = try score(values) } catch { throw .loss(error) }
        let reduction = declares("reduction") ? values.choice("reduction") : scored.result.reduction.rawValue
        return (scored.result, scored.elements, reduction)
    }
}

extension LossDeclaration: Hashable {
    /// Declarations are the same when their routes are: `LossRegistry` keeps paths unique.
    public static func == (a: LossDeclaration, b: LossDeclaration) -> Bool { a.path == b.path }
    public func hash(into hasher: inout Hasher) { hasher.combine(path) }
}
