import HTTP
import TensorJSON

/// Every metric lossd exports (contract rule 16), and the one place that
/// records an exchange into them. Label values come only from closed sets
/// (`Route`, `unmatched`, five method labels, status codes the server
/// sends, `LossRegistry`'s names), so no client can grow the series count.
public final class ServiceMetrics: Sendable {
    /// The route label for unknown paths and requests rejected before routing.
    public static let unmatchedRoute = "unmatched"

    let requests: CounterFamily
    let duration: HistogramFamily
    let inFlight: Gauge
    let requestBodyBytes: CounterFamily
    let responseBodyBytes: CounterFamily
    let lossElements: CounterFamily
    let rejected: CounterFamily
    /// `lossd_oip_model_requests_total`: Open Inference Protocol requests by
    /// route template, model and status (models come from `LossRegistry`).
    let modelRequests: CounterFamily

    /// Why a request was refused with 503 before it was answered: the
    /// `reason` label of `lossd_rejected_requests_total`.
    public enum RejectionReason: String, CaseIterable, Sendable {
        /// The memory budget stayed exhausted for its wait (`MemoryBudget`).
        case memory
        /// The server was at its connection cap with no idle connection to close.
        case connections
    }

    private let families: [any MetricFamily]

    /// One route label's series, looked up once at start: recording an
    /// exchange (hot path, every request) then costs one dictionary lookup by
    /// route and atomics, not a lock and a `[String]`-keyed lookup per family.
    private final class RouteCells: Sendable {
        let duration: HistogramFamily.Cell
        let requestBodyBytes: CounterFamily.Cell
        let responseBodyBytes: CounterFamily.Cell
        /// `lossd_http_requests_total` cells by method label and status code
        /// (`ServiceMetrics.requestKey`), filled as they are first used.
        let requests = Locked<[Int: CounterFamily.Cell]>([:])

        init(route: String, duration: HistogramFamily, requestBodyBytes: CounterFamily,
             responseBodyBytes: CounterFamily) {
            self.duration = duration.cell([route])
            self.requestBodyBytes = requestBodyBytes.cell([route])
            self.responseBodyBytes = responseBodyBytes.cell([route])
        }
    }

    private let routeCells: [String: RouteCells]
    /// `lossd_loss_elements_total` by loss, looked up once at start.
    /// (by name: hashing a short name allocates nothing).
    private let lossCells: [String: CounterFamily.Cell]

    /// - Parameters:
    ///   - includeProcessMetrics: false only in tests that compare exact
    ///     text: leaves out the process metrics and `lossd_build_info`, whose
    ///     values depend on the machine and the commit.
    ///   - logLinesDropped: the log lines the executable has dropped so far
    ///     (its log writer's count), read at each scrape; 0 where nothing logs.
    ///   - memoryBudget: the loss requests' memory budget, whose size and
    ///     reserved bytes are exported as gauges; nil for none.
    public init(includeProcessMetrics: Bool = true, logLinesDropped: @escaping @Sendable () -> Int = { 0 },
                memoryBudget: MemoryBudget? = nil) {
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
        (self.requests, self.duration, self.inFlight) = (requests, duration, inFlight)
        (self.requestBodyBytes, self.responseBodyBytes, self.lossElements) = (requestBodyBytes, responseBodyBytes, lossElements)
        let rejected = CounterFamily(
            name: "lossd_rejected_requests_total",
            help: "Requests refused with 503 because the server was out of a resource, by reason (memory, connections).",
            labelNames: ["reason"])
        for reason in RejectionReason.allCases { rejected.initialise([reason.rawValue]) }
        self.rejected = rejected
        let modelRequests = CounterFamily(
            name: "lossd_oip_model_requests_total",
            help: "Open Inference Protocol model requests answered, by route template, model and status.",
            labelNames: ["route", "model", "status"])
        self.modelRequests = modelRequests
        let logLinesDropped = SampledCounter(
            name: "lossd_log_lines_dropped_total",
            help: "Log lines not written: standard error was read too slowly and the log buffer was full, or the write failed.",
            read: logLinesDropped)
        var families: [any MetricFamily] = [requests, duration, inFlight, requestBodyBytes, responseBodyBytes,
                                            lossElements, rejected, modelRequests, logLinesDropped]
        if let memoryBudget {
            families.append(SampledGauge(name: "lossd_memory_budget_bytes",
                                         help: "The bytes loss requests' decoded tensors may hold together (--memory-budget).",
                                         read: { memoryBudget.limit }))
            families.append(SampledGauge(name: "lossd_memory_reserved_bytes",
                                         help: "Bytes of the memory budget loss requests hold now.",
                                         read: { memoryBudget.reservedBytes }))
        }
        if includeProcessMetrics { families += [ProcessMetrics(), BuildInfoMetric()] }
        self.families = families
        var cells: [String: RouteCells] = [:]
        for route in Route.allCases.map(\.path) + [ServiceMetrics.unmatchedRoute] {
            cells[route] = RouteCells(route: route, duration: duration, requestBodyBytes: requestBodyBytes,
                                      responseBodyBytes: responseBodyBytes)
        }
        routeCells = cells
        var losses: [String: CounterFamily.Cell] = [:]
        for loss in LossRegistry.all { losses[loss.name] = lossElements.cell([loss.name]) }
        lossCells = losses
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
        let method = { ServiceMetrics.methodLabel(exchange.head?.method) }
        guard let cells = routeCells[route] else {
            // A label outside the known set (no caller passes one): the slow, general path.
            requests.increment([method(), route, String(exchange.status.code)])
            duration.observe(exchange.duration, [route])
            requestBodyBytes.increment([route], by: Double(exchange.requestBodyBytes))
            responseBodyBytes.increment([route], by: Double(exchange.responseBodyBytes))
            return
        }
        let key = ServiceMetrics.requestKey(exchange.head?.method, exchange.status.code)
        let counter = cells.requests.withLock { $0[key] } ?? cells.requests.withLock { table in
            let cell = requests.cell([method(), route, String(exchange.status.code)])
            table[key] = cell
            return cell
        }
        counter.add(1)
        cells.duration.observe(exchange.duration)
        if exchange.requestBodyBytes >= 0 { cells.requestBodyBytes.add(Double(exchange.requestBodyBytes)) }
        if exchange.responseBodyBytes >= 0 { cells.responseBodyBytes.add(Double(exchange.responseBodyBytes)) }
    }

    /// A key for one method label and status code within a route.
    private static func requestKey(_ method: Method?, _ code: Int) -> Int {
        let m: Int
        switch method {
        case .get?: m = 1
        case .head?: m = 2
        case .post?: m = 3
        case .options?: m = 4
        default: m = 0
        }
        return code &* 8 &+ m
    }

    /// Records an exchange on an Open Inference Protocol model route under its
    /// template and model (both from closed sets).
    public func recordModel(_ exchange: Exchange, route: String, model: String) {
        modelRequests.increment([route, model, String(exchange.status.code)])
    }

    /// Counts prediction elements scored by a loss.
    func recordScored(_ loss: LossDeclaration, elements: Int) {
        guard elements >= 0, let cell = lossCells[loss.name] else { return }
        cell.add(Double(elements))
    }

    /// Counts a request refused with 503 for `reason`.
    public func recordRejected(_ reason: RejectionReason) {
        rejected.increment([reason.rawValue])
    }

    /// The scrape answer's body, text format 0.0.4; with `ready`, `lossd_ready` last.
    public func render(ready: Bool? = nil) -> String {
        var out = ""
        out.reserveCapacity(8192)
        for family in families { family.render(into: &out) }
        if let ready {
            PrometheusText.appendHeader(name: ServiceMetrics.readyName, help: ServiceMetrics.readyHelp, type: "gauge", to: &out)
            PrometheusText.appendSample(name: ServiceMetrics.readyName, labelNames: [], labelValues: [],
                                        value: ready ? 1 : 0, to: &out)
        }
        return out
    }

    /// `lossd_ready`: what `/readyz` says, 1 ready, 0 draining, rendered when
    /// the caller passes `ready` (the responder, which holds the `Readiness`),
    /// so an alert can tell a stuck drain from a process that is down.
    static let readyName = "lossd_ready"
    static let readyHelp = "1 while /readyz answers ready, 0 once a drain has begun."
}
