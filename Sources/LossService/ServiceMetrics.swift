import HTTP

/// Every metric lossd exports (contract rule 16), and the one place that
/// records an exchange into them. Label values come only from closed sets
/// (`Route`, `unmatched`, five method labels, status codes the server
/// sends, `LossKind`), so no client can grow the series count.
public final class ServiceMetrics: Sendable {
    /// The route label for unknown paths and requests rejected before routing.
    public static let unmatchedRoute = "unmatched"

    let requests = CounterFamily(
        name: "lossd_http_requests_total", help: "HTTP requests answered, by method, route and status.",
        labelNames: ["method", "route", "status"])
    let duration = HistogramFamily(
        name: "lossd_http_request_duration_seconds",
        help: "Seconds from a request's first byte to its response's last byte, by route.",
        labelNames: ["route"], bounds: HistogramFamily.latencyBounds)
    let inFlight = Gauge(name: "lossd_http_requests_in_flight", help: "HTTP requests being handled now.")
    let requestBodyBytes = CounterFamily(
        name: "lossd_http_request_body_bytes_total",
        help: "Request body bytes as they crossed the wire (compressed where gzip was used), by route.",
        labelNames: ["route"])
    let responseBodyBytes = CounterFamily(
        name: "lossd_http_response_body_bytes_total",
        help: "Response body bytes as they crossed the wire (compressed where gzip was used), by route.",
        labelNames: ["route"])
    let lossElements = CounterFamily(
        name: "lossd_loss_elements_total", help: "Prediction elements scored, by loss.", labelNames: ["loss"])

    private let families: [any MetricFamily]

    /// - Parameter includeProcessMetrics: false only in tests that compare exact text.
    public init(includeProcessMetrics: Bool = true) {
        var families: [any MetricFamily] = [requests, duration, inFlight, requestBodyBytes, responseBodyBytes,
                                            lossElements]
        if includeProcessMetrics { families.append(ProcessMetrics()) }
        self.families = families
        for route in Route.allCases.map(\.path) + [ServiceMetrics.unmatchedRoute] {
            duration.initialise([route])
            requestBodyBytes.initialise([route])
            responseBodyBytes.initialise([route])
        }
        for loss in LossKind.allCases { lossElements.initialise([loss.label]) }
    }

    /// The `method` label: the five methods the contract names, anything else `OTHER`.
    public static func methodLabel(_ method: Method?) -> String {
        switch method {
        case .get?, .head?, .post?, .options?: return method!.rawValue
        default: return "OTHER"
        }
    }

    /// Records a finished exchange under `route` (a route path or `unmatched`).
    public func record(_ exchange: Exchange, route: String) {
        let method = ServiceMetrics.methodLabel(exchange.head?.method)
        requests.increment([method, route, String(exchange.status.code)])
        duration.observe(exchange.duration, [route])
        requestBodyBytes.increment([route], by: Double(exchange.requestBodyBytes))
        responseBodyBytes.increment([route], by: Double(exchange.responseBodyBytes))
    }

    /// Counts prediction elements scored by a loss.
    func recordScored(_ loss: LossKind, elements: Int) {
        lossElements.increment([loss.label], by: Double(elements))
    }

    /// The scrape answer's body, text format 0.0.4.
    public func render() -> String {
        var out = ""
        out.reserveCapacity(8192)
        for family in families { family.render(into: &out) }
        return out
    }
}
