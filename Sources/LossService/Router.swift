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
    }

    private let routes: [String: Route]

    public init() {
        var routes: [String: Route] = [:]
        for route in Route.allCases { routes[route.path] = route }
        self.routes = routes
    }

    /// The route at `path`, whatever the method.
    public func route(forPath path: String) -> Route? { routes[path] }

    /// What answers `method` on `path`.
    public func match(_ method: Method, path: String) -> Match {
        guard let route = routes[path] else { return .notFound }
        if method == .options { return .options(route) }
        return route.methods.contains(method) ? .route(route) : .methodNotAllowed(route)
    }
}
