import Testing
@testable import LossService

@Suite struct OIPRouteTests {
    @Test("every loss in the registry is a model, at its plain and /versions/1/ paths")
    func everyLossIsAModel() {
        for declaration in LossRegistry.all {
            let name = declaration.name
            #expect(OIPRoute.lookup("/v2/models/\(name)") == .route(.model(declaration)))
            #expect(OIPRoute.lookup("/v2/models/\(name)/ready") == .route(.modelReady(declaration)))
            #expect(OIPRoute.lookup("/v2/models/\(name)/infer") == .route(.infer(declaration)))
            #expect(OIPRoute.lookup("/v2/models/\(name)/versions/1") == .route(.model(declaration)))
            #expect(OIPRoute.lookup("/v2/models/\(name)/versions/1/ready") == .route(.modelReady(declaration)))
            #expect(OIPRoute.lookup("/v2/models/\(name)/versions/1/infer") == .route(.infer(declaration)))
        }
    }

    @Test("the server endpoints")
    func serverEndpoints() {
        #expect(OIPRoute.lookup("/v2") == .route(.server))
        #expect(OIPRoute.lookup("/v2/health/live") == .route(.live))
        #expect(OIPRoute.lookup("/v2/health/ready") == .route(.ready))
    }

    @Test("an unknown model, version or endpoint is not found, and says which")
    func notFound() {
        #expect(OIPRoute.lookup("/v2/models/resnet/infer") == .notFound("unknown model 'resnet' (models: \(LossRegistry.all.map(\.name).joined(separator: ", ")))"))
        #expect(OIPRoute.lookup("/v2/models/mse/versions/2/infer") == .notFound("model 'mse' has no version '2' (versions: 1)"))
        #expect(OIPRoute.lookup("/v2/models/mse/explain") == .notFound("no endpoint /v2/models/mse/explain"))
        #expect(OIPRoute.lookup("/v2/models/") == .notFound("no endpoint /v2/models/"))
        #expect(OIPRoute.lookup("/v2/repository/index") == .notFound("no endpoint /v2/repository/index"))
    }

    @Test("metrics label a model route by its template, never by its raw path")
    func templates() {
        #expect(OIPRoute.infer(.meanSquaredError).template == "/v2/models/{name}/infer")
        #expect(Route.oip(.model(.crossEntropy)).path == "/v2/models/{name}")
        #expect(OIPRoute.owns("/v2") && OIPRoute.owns("/v2/x") && !OIPRoute.owns("/v20"))
    }

    @Test("the router answers infer to POST only and the rest to GET and HEAD")
    func methods() {
        let router = Router()
        #expect(router.match(.post, path: "/v2/models/ce/infer") == .route(.oip(.infer(.crossEntropy))))
        #expect(router.match(.get, path: "/v2/models/ce/infer") == .methodNotAllowed(.oip(.infer(.crossEntropy))))
        #expect(router.match(.get, path: "/v2/health/ready") == .route(.oip(.ready)))
        #expect(router.match(.post, path: "/v2/models/xx/infer") == .oipNotFound("unknown model 'xx' (models: \(LossRegistry.all.map(\.name).joined(separator: ", ")))"))
        #expect(router.match(.get, path: "/v3") == .notFound)
    }
}
