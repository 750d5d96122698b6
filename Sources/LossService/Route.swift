import HTTP

/// A path lossd answers, with the methods it allows there. The set is closed
/// (the operational routes and `LossRegistry.all`'s), so a route doubles as a
/// bounded metrics label.
public enum Route: Hashable, Sendable {
    /// `POST /loss/{name}`: one declared loss.
    case loss(LossDeclaration)
    /// `POST /loss`: a JSON array of loss requests, answered in order.
    case batch
    case livez
    case healthz
    case readyz
    case metrics
    case openAPI
    /// The page to try lossd in a browser, and its style sheet and script.
    case page
    case pageStyle
    case pageScript
    /// An Open Inference Protocol v2 endpoint (`/v2/...`).
    case oip(OIPRoute)

    /// Every route: the losses in `LossRegistry` order, the operational ones,
    /// then the Open Inference Protocol's (one model per loss).
    public static let allCases: [Route] = LossRegistry.all.map(Route.loss) + [.batch]
        + [.livez, .healthz, .readyz, .metrics, .openAPI, .page, .pageStyle, .pageScript]
        + OIPRoute.allCases.map(Route.oip)

    /// The route's path, which is also its metrics label; for an OIP route
    /// its template (`/v2/models/{name}/infer`).
    public var path: String {
        switch self {
        case .loss(let declaration): return declaration.path
        case .batch: return "/loss"
        case .oip(let route): return route.template
        case .livez: return "/livez"
        case .healthz: return "/healthz"
        case .readyz: return "/readyz"
        case .metrics: return "/metrics"
        case .openAPI: return "/openapi.yaml"
        case .page: return "/"
        case .pageStyle: return "/page.css"
        case .pageScript: return "/page.js"
        }
    }

    /// The methods the route answers, besides OPTIONS (CORS preflight), which every route answers.
    public var methods: [Method] {
        switch self {
        case .loss, .batch, .oip(.infer): return [.post]
        case .oip: return [.get, .head]
        case .livez, .healthz, .readyz, .metrics, .openAPI, .page, .pageStyle, .pageScript: return [.get, .head]
        }
    }

    /// The value of an `Allow` header for this route (RFC 9110 §10.2.1).
    public var allowHeader: String {
        switch self {
        case .loss, .batch, .oip(.infer): return "POST, OPTIONS"
        default: return "GET, HEAD, OPTIONS"
        }
    }
}
