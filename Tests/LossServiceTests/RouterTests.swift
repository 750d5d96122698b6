import HTTP
import Testing
@testable import LossService

@Suite struct RouterTests {
    let router = Router()

    @Test("each route answers its own methods", arguments: [
        (Method.post, "/loss/ce", Route.loss(.crossEntropy)),
        (.post, "/loss/bce", .loss(.binaryCrossEntropy)),
        (.post, "/loss/mse", .loss(.meanSquaredError)),
        (.get, "/livez", .livez), (.head, "/livez", .livez),
        (.get, "/healthz", .healthz), (.get, "/readyz", .readyz), (.head, "/readyz", .readyz),
        (.get, "/metrics", .metrics), (.get, "/openapi.yaml", .openAPI),
    ])
    func routes(method: Method, path: String, route: Route) {
        #expect(router.match(method, path: path) == .route(route))
    }

    @Test("a known path with a method it does not answer is 405", arguments: [
        (Method.get, "/loss/ce", Route.loss(.crossEntropy)), (.head, "/loss/mse", .loss(.meanSquaredError)),
        (.put, "/loss/bce", .loss(.binaryCrossEntropy)), (.post, "/livez", .livez), (.delete, "/metrics", .metrics),
        (.patch, "/openapi.yaml", .openAPI), (.query, "/loss/ce", .loss(.crossEntropy)), (.query, "/metrics", .metrics),
    ])
    func methodNotAllowed(method: Method, path: String, route: Route) {
        #expect(router.match(method, path: path) == .methodNotAllowed(route))
    }

    @Test("paths match exactly: no trailing slash, case or prefix folding",
          arguments: ["/index.html", "//", "/page.js/", "/losses", "/loss/", "/loss/ce/", "/LOSS/CE", "/loss/ce2", "/loss/hinge", "//loss/ce",
                      "/livez/", "/metrics.txt", "*", ""])
    func unknownPaths(path: String) {
        #expect(router.match(.get, path: path) == .notFound)
        #expect(router.match(.post, path: path) == .notFound)
        #expect(router.match(.options, path: path) == .notFound)
        #expect(router.match(.query, path: path) == .notFound)
    }

    @Test("OPTIONS on any known route is answered by the CORS policy")
    func options() {
        for route in Route.allCases {
            var path = route.path
            if case .oip(let oip) = route { path = oip.examplePath }
            #expect(router.match(.options, path: path) == .options(route))
        }
    }

    @Test("Allow lists the route's methods and OPTIONS")
    func allowHeader() {
        #expect(Route.loss(.crossEntropy).allowHeader == "POST, OPTIONS")
        #expect(Route.readyz.allowHeader == "GET, HEAD, OPTIONS")
    }
}
