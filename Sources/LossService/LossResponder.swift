import HTTP
import Losses
import TensorJSON

/// The lossd application: routes each request to a loss, a health answer,
/// the metrics scrape, the OpenAPI document or the page; answers 404/405/415 and CORS
/// preflights; adds CORS headers to every response (the server's own errors
/// included); and records every exchange in the metrics.
public struct LossResponder: Responder {
    public let router = Router()
    public let cors: CORSPolicy
    public let readiness: Readiness
    public let metrics: ServiceMetrics
    /// The most bytes one loss request's decoded tensors may take, 8 per
    /// number, all of its tensors together; the number that would pass it gets
    /// a 413 while the body streams. Default 128 MiB, the default body limit
    /// (`Limits.maxBodyBytes`); lossd's `--max-tensor-bytes` defaults to the
    /// configured body limit.
    public let maxTensorBytes: Int
    /// The memory budget that loss requests' decoded tensors reserve from
    /// (and wait for, then 503), Open Inference Protocol inferences and
    /// batches included, or nil for none.
    public let memoryBudget: MemoryBudget?
    /// A loss request whose identity-coded body declares at most this many
    /// bytes takes nothing from `memoryBudget`: the server runs it inline on
    /// an event loop (`ServerConfiguration.inlineBodyBytes`, whose value this
    /// must be), where it must not wait, and its tensors are small (at most 4
    /// × this, 8 bytes for a 2-byte `0,`) and short-lived, at most one per
    /// event loop at a time. So small requests are never starved by large
    /// ones. Default 64 KiB, the server's default.
    public let budgetExemptBytes: Int
    /// The arrays of large binary inference inputs, kept from one request
    /// for the next, at most `storagePoolBytes` of them.
    let storagePool: OIPStoragePool
    /// The most bytes of large tensors' arrays kept between requests for the
    /// next ones to write into (`OIPStoragePool`), outside the memory budget;
    /// 0 keeps none. Default: an eighth of the memory budget, at most 256 MiB
    /// (`defaultStoragePoolBytes(memoryBudget:)`); lossd's `--storage-pool-bytes`.
    public var storagePoolBytes: Int { storagePool.maxRetainedBytes }
    /// The default of `storagePoolBytes` for a memory budget of `memoryBudget`
    /// bytes: an eighth of it, at most 256 MiB.
    public static func defaultStoragePoolBytes(memoryBudget: Int) -> Int {
        OIPStoragePool.maxRetainedBytes(budgetLimit: memoryBudget)
    }
    /// Called after each exchange is recorded, with its route label (a route
    /// path or `unmatched`): the executable's access log.
    private let onCompleted: (@Sendable (Exchange, String) -> Void)?

    public init(cors: CORSPolicy = CORSPolicy(), readiness: Readiness = Readiness(),
                metrics: ServiceMetrics = ServiceMetrics(),
                maxTensorBytes: Int = Limits().maxBodyBytes,
                memoryBudget: MemoryBudget? = nil,
                budgetExemptBytes: Int = ServerConfiguration().inlineBodyBytes,
                storagePoolBytes: Int? = nil,
                onCompleted: (@Sendable (Exchange, String) -> Void)? = nil) {
        self.cors = cors
        self.readiness = readiness
        self.metrics = metrics
        self.maxTensorBytes = maxTensorBytes
        self.memoryBudget = memoryBudget
        self.budgetExemptBytes = budgetExemptBytes
        self.storagePool = OIPStoragePool(
            maxRetainedBytes: storagePoolBytes ?? OIPStoragePool.maxRetainedBytes(budget: memoryBudget))
        self.onCompleted = onCompleted
    }

    public func respond(to head: RequestHead) -> Reply {
        // Balanced in completed(_:), which the server calls for every routed request.
        metrics.inFlight.increment()
        switch router.match(head.method, path: head.path) {
        case .notFound:
            return .response(Problem(status: .notFound, detail: "no route for \(head.path); the routes are \(LossResponder.routeList)").response)
        case .oipNotFound(let why):
            return .response(OIPError(.notFound, why).response)
        case .methodNotAllowed(let route):
            var response = Problem(
                status: .methodNotAllowed,
                detail: "\(head.method.rawValue) is not allowed on \(route.path); allowed: \(route.allowHeader)"
            ).response
            response.headers.add("Allow", route.allowHeader)  // RFC 9110 §15.5.6
            return .response(response)
        case .options(let route):
            return .response(cors.optionsResponse(for: route, requestHeaders: head.headers))
        case .route(let route):
            return answer(route, head: head)
        }
    }

    private static let routeList: String = {
        var seen = Set<String>()
        return Route.allCases.map(\.path).filter { seen.insert($0).inserted }.joined(separator: ", ")
    }()

    private func answer(_ route: Route, head: RequestHead) -> Reply {
        switch route {
        case .livez, .healthz:
            return .response(LossResponder.status(.ok, #"{"status":"ok"}"#))
        case .readyz:
            return .response(readiness.isDraining
                ? LossResponder.status(.serviceUnavailable, #"{"status":"draining"}"#)
                : LossResponder.status(.ok, #"{"status":"ready"}"#))
        case .metrics:
            var response = Response(status: .ok, body: Array(metrics.render(ready: !readiness.isDraining).utf8))
            response.headers.add("Content-Type", PrometheusText.contentType)
            response.headers.add("Cache-Control", "no-store")
            return .response(response)
        case .openAPI:
            return .response(OpenAPIRepresentation.response(to: head))
        case .page, .pageStyle, .pageScript:
            return .response(PageResponse.response(for: route))
        case .oip(let route):
            return oipReply(route, head: head)
        case .batch:
            let body = BodyPlan(head: head)
            return lossReply(head, BatchBodyHandler(metrics: metrics, maxTensorBytes: maxTensorBytes,
                                                    budget: budget(for: body), bodyLength: body?.identityLength))
        case .loss(let declaration):
            let body = BodyPlan(head: head)
            return lossReply(head, LossBodyHandler(
                declaration: declaration, metrics: metrics, bodyLength: body?.identityLength,
                maxTensorBytes: maxTensorBytes, budget: budget(for: body), storagePool: storagePool))
        }
    }

    /// An Open Inference Protocol answer. An inference request takes any
    /// `Content-Type` (tritonclient sends none with binary tensors); its
    /// `Inference-Header-Content-Length` must be a whole number within the
    /// body when the body's length is known.
    private func oipReply(_ route: OIPRoute, head: RequestHead) -> Reply {
        let ready = !readiness.isDraining
        switch route {
        case .server: return .response(OIPResponses.server())
        case .live: return .response(OIPResponses.health("live", true))
        case .ready: return .response(OIPResponses.health("ready", ready))
        case .model(let declaration): return .response(OIPResponses.model(declaration))
        case .modelReady(let declaration): return .response(OIPResponses.health("ready", ready, model: declaration.name))
        case .infer(let declaration):
            let body = BodyPlan(head: head)
            var headerLength: Int? = nil
            if let field = head.headers["Inference-Header-Content-Length"] {
                guard let length = Int(field), length >= 0, field.allSatisfy(\.isASCII) else {
                    return .response(OIPError("Inference-Header-Content-Length must be a whole number of bytes, got '\(field)'").response)
                }
                if let bodyLength = body?.identityLength, length > bodyLength {
                    return .response(OIPError("Inference-Header-Content-Length \(length) is past the end of the \(bodyLength)-byte body").response)
                }
                headerLength = length
            }
            return .body(OIPBodyHandler(declaration: declaration, metrics: metrics, headerLength: headerLength,
                                        maxTensorBytes: maxTensorBytes, budget: budget(for: body),
                                        bodyLength: body?.identityLength, storagePool: storagePool))
        }
    }

    /// The budget a loss request reserves from: none when it is small enough
    /// to run inline: the server's own rule, `BodyPlan.runsInline` (identity-coded,
    /// `Content-Length` at most `budgetExemptBytes`).
    private func budget(for body: BodyPlan?) -> MemoryBudget? {
        guard let memoryBudget else { return nil }
        return body?.runsInline(inlineBodyBytes: budgetExemptBytes) == true ? nil : memoryBudget
    }

    /// Reads the body into `handler` once the content type is JSON (rule 11);
    /// else 415 before a byte of the body is read.
    private func lossReply(_ head: RequestHead, _ handler: any BodyHandler) -> Reply {
        if let refusal = LossResponder.refuseContentType(head.headers) {
            return .response(Problem(status: .unsupportedMediaType, detail: refusal).response)
        }
        return .body(handler)
    }

    /// Why a loss POST's `Content-Type` is refused, or nil when it is
    /// `application/json` (RFC 9110 §8.3.1: type and subtype are
    /// case-insensitive; parameters follow `;`). A `charset` other than UTF-8
    /// is refused too: JSON is UTF-8 (RFC 8259 §8.1).
    static func refuseContentType(_ headers: Headers) -> String? {
        // One scan, no array: this runs on every loss POST.
        var found: String?
        for field in headers where Headers.equalsIgnoringCase(field.name, "Content-Type") {
            guard found == nil else { return "a loss request needs exactly one Content-Type, application/json" }
            found = field.value
        }
        guard let value = found else { return "a loss request needs Content-Type: application/json" }
        // What nearly every client sends, checked without splitting or lowercasing (a measurable share of a small request).
        if value == "application/json" { return nil }
        var parts = value.split(separator: ";", omittingEmptySubsequences: false).makeIterator()
        let mediaType = parts.next()?.trimming(" \t").lowercased() ?? ""
        guard mediaType == "application/json" else {
            return "a loss request needs Content-Type: application/json, got '\(value)'"
        }
        while let parameter = parts.next() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimming(" \t").lowercased() == "charset" else { continue }
            var charset = pair[1].trimming(" \t")
            if charset.count >= 2, charset.first == "\"", charset.last == "\"" {
                charset = charset.dropFirst().dropLast()
            }
            if charset.lowercased() != "utf-8" {
                return "JSON must be UTF-8 (RFC 8259 §8.1), got charset '\(charset)'"
            }
        }
        return nil
    }

    /// A `{"status":…}` answer.
    private static func status(_ status: Status, _ json: String) -> Response {
        var response = Response(status: status, body: Array(json.utf8))
        response.headers.add("Content-Type", "application/json")
        response.headers.add("Cache-Control", "no-store")
        return response
    }

    public func prepare(_ response: inout Response, for head: RequestHead?) {
        cors.apply(to: &response, requestHeaders: head?.headers)
    }

    public func completed(_ exchange: Exchange) {
        var route = ServiceMetrics.unmatchedRoute
        if exchange.wasRouted {
            metrics.inFlight.decrement()
        } else if exchange.status.code == 503 {
            metrics.recordRejected(.connections)  // the server's only own 503: the connection cap
        }
        // A request refused on its head alone (a 413 before the body, a 417,
        // a 503 at the connection cap) still names its route; only an unknown
        // path or a head that could not be read is `unmatched`.
        var model: String? = nil
        if let head = exchange.head, let known = router.route(forPath: head.path) {
            route = known.path
            if case .oip(let oip) = known { model = oip.model?.name }
        }
        metrics.record(exchange, route: route)
        if let model { metrics.recordModel(exchange, route: route, model: model) }
        onCompleted?(exchange, route)
    }
}
