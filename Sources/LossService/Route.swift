import HTTP

/// A path lossd answers, with the methods it allows there. The set is closed,
/// so a route doubles as a bounded metrics label.
public enum Route: String, CaseIterable, Sendable {
    case crossEntropy = "/loss/ce"
    case binaryCrossEntropy = "/loss/bce"
    case meanSquaredError = "/loss/mse"
    case livez = "/livez"
    case healthz = "/healthz"
    case readyz = "/readyz"
    case metrics = "/metrics"
    case openAPI = "/openapi.yaml"
    /// The page to try lossd in a browser, and its style sheet and script.
    case page = "/"
    case pageStyle = "/page.css"
    case pageScript = "/page.js"

    /// The route's path, which is also its metrics label.
    public var path: String { rawValue }

    /// The methods the route answers, besides OPTIONS (CORS preflight), which every route answers.
    public var methods: [Method] {
        switch self {
        case .crossEntropy, .binaryCrossEntropy, .meanSquaredError: return [.post]
        case .livez, .healthz, .readyz, .metrics, .openAPI, .page, .pageStyle, .pageScript: return [.get, .head]
        }
    }

    /// The value of an `Allow` header for this route (RFC 9110 §10.2.1).
    public var allowHeader: String {
        (methods + [.options]).map(\.rawValue).joined(separator: ", ")
    }
}

/// The three losses, with their metrics label (`lossd_loss_elements_total{loss}`).
public enum LossKind: String, CaseIterable, Sendable {
    case crossEntropy = "ce"
    case binaryCrossEntropy = "bce"
    case meanSquaredError = "mse"

    /// The `loss` label value.
    public var label: String { rawValue }
}
