import HTTP

/// One Open Inference Protocol v2 endpoint (KServe's REST API, which Triton
/// also serves): the server's metadata and health, and one model per loss in
/// `LossRegistry`. Its `template` is the metrics `route` label, so a label
/// never carries a raw path; the `/versions/{version}/` forms share their
/// plain form's template.
public enum OIPRoute: Hashable, Sendable {
    /// `GET /v2`: server metadata.
    case server
    /// `GET /v2/health/live`.
    case live
    /// `GET /v2/health/ready`: follows draining, like `/readyz`.
    case ready
    /// `GET /v2/models/{name}`: the model's inputs, outputs and parameters.
    case model(LossDeclaration)
    /// `GET /v2/models/{name}/ready`.
    case modelReady(LossDeclaration)
    /// `POST /v2/models/{name}/infer`.
    case infer(LossDeclaration)

    /// The only model version lossd serves: a loss has one definition.
    public static let version = "1"

    /// Every route, one model per loss, in `LossRegistry` order.
    public static var allCases: [OIPRoute] {
        [.server, .live, .ready] + LossRegistry.all.flatMap { [OIPRoute.model($0), .modelReady($0), .infer($0)] }
    }

    /// The path template, which is also the metrics `route` label.
    public var template: String {
        switch self {
        case .server: return "/v2"
        case .live: return "/v2/health/live"
        case .ready: return "/v2/health/ready"
        case .model: return "/v2/models/{name}"
        case .modelReady: return "/v2/models/{name}/ready"
        case .infer: return "/v2/models/{name}/infer"
        }
    }

    /// A path that reaches the route: its template with the model's name in it.
    public var examplePath: String {
        guard let model else { return template }
        return "/v2/models/" + model.name + template.dropFirst("/v2/models/{name}".count)
    }

    /// The model a route is about, if any: the metrics `model` label.
    public var model: LossDeclaration? {
        switch self {
        case .server, .live, .ready: return nil
        case .model(let declaration), .modelReady(let declaration), .infer(let declaration): return declaration
        }
    }

    /// Whether `path` is in the protocol's namespace (`/v2` or under `/v2/`),
    /// so that its 404s use the protocol's `{"error": …}` form.
    public static func owns(_ path: String) -> Bool {
        path == "/v2" || path.hasPrefix("/v2/")
    }

    /// What a path in the protocol's namespace names.
    public enum Lookup: Equatable, Sendable {
        case route(OIPRoute)
        /// No such endpoint, model or version: 404, with why.
        case notFound(String)
    }

    /// Parses `/v2`, `/v2/health/{live,ready}` and
    /// `/v2/models/{name}[/versions/{version}][/ready|/infer]`.
    public static func lookup(_ path: String) -> Lookup {
        lookup(path, models: LossRegistry.all, named: LossRegistry.named)
    }

    /// `lookup(_:)` among `models` (`named` finds one of them by name): what
    /// the OpenAPI renderer answers its own declarations' 404 examples with.
    static func lookup(_ path: String, models: [LossDeclaration], named: (String) -> LossDeclaration?) -> Lookup {
        switch path {
        case "/v2": return .route(.server)
        case "/v2/health/live": return .route(.live)
        case "/v2/health/ready": return .route(.ready)
        default: break
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()  // "" before the first "/"
        var parts = Array(segments)
        guard parts.count >= 3, parts[0] == "v2", parts[1] == "models", !parts[2].isEmpty else {
            return .notFound("no endpoint \(path)")
        }
        let name = String(parts[2])
        guard let declaration = named(name) else {
            let names = models.map(\.name).joined(separator: ", ")
            return .notFound("unknown model '\(name)' (models: \(names))")
        }
        parts.removeFirst(3)
        if parts.count >= 2, parts[0] == "versions" {
            guard parts[1] == Substring(version) else {
                return .notFound("model '\(name)' has no version '\(parts[1])' (versions: \(version))")
            }
            parts.removeFirst(2)
        }
        switch parts {
        case []: return .route(.model(declaration))
        case ["ready"]: return .route(.modelReady(declaration))
        case ["infer"]: return .route(.infer(declaration))
        default: return .notFound("no endpoint \(path)")
        }
    }
}
