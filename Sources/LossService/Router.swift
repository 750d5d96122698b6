import HTTP

/// Maps a request's method and path to what should answer it: a route, a
/// CORS preflight, 404 or 405. Paths match exactly (no trailing-slash or
/// case folding): a client that gets one wrong hears so rather than being
/// silently redirected.
public struct Router: Sendable {
    /// The outcome of matching a request head.
    public enum Match: Equatable, Sendable {
        /// The route answers this method.
        case route(Route)
        /// `OPTIONS` on a known route: a CORS preflight when the request carries
        /// `Origin` and `Access-Control-Request-Method`, else a plain `Allow` answer.
        case options(Route)
        /// A known path, a method it does not answer: 405 with `Allow`.
        case methodNotAllowed(Route)
        /// No such path: 404.
        case notFound
        /// A path in the Open Inference Protocol's namespace that names no
        /// endpoint, model or version: 404 in the protocol's form, with why.
        case oipNotFound(String)
    }

    private let routes: [String: Route]

    public init() {
        var routes: [String: Route] = [:]
        // OIP routes are matched by `OIPRoute.lookup` (their paths carry a model name).
        for route in Route.allCases {
            if case .oip = route { continue }
            routes[route.path] = route
        }
        self.routes = routes
    }

    /// The route at `path`, whatever the method.
    public func route(forPath path: String) -> Route? {
        if let route = routes[path] { return route }
        guard OIPRoute.owns(path), case .route(let route) = OIPRoute.lookup(path) else { return nil }
        return .oip(route)
    }

    /// What answers `method` on `path`.
    public func match(_ method: Method, path: String) -> Match {
        var found = routes[path]
        if found == nil, OIPRoute.owns(path) {
            switch OIPRoute.lookup(path) {
            case .route(let route): found = .oip(route)
            case .notFound(let why): return .oipNotFound(why)
            }
        }
        guard let route = found else { return .notFound }
        if method == .options { return .options(route) }
        return route.methods.contains(method) ? .route(route) : .methodNotAllowed(route)
    }
}
