import Foundation
import Testing
@testable import LossService

@Suite struct OpenAPIDocumentTests {
    static let topLevelFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../openapi.yaml").standardized

    @Test("the embedded document equals the top-level openapi.yaml byte for byte (Plugins/EmbedPlugin embeds the file at build time)")
    func embeddedEqualsFile() throws {
        let file = try Data(contentsOf: Self.topLevelFile)
        let embedded = Data(OpenAPIDocument.text.utf8)
        #expect(embedded.count == file.count, "embedded \(embedded.count) bytes, openapi.yaml \(file.count)")
        #expect(embedded == file)
    }

    @Test("GET /openapi.yaml serves the bytes of the top-level openapi.yaml")
    func servedBytesAreTheFile() throws {
        let response = ResponderHarness().call(.get, "/openapi.yaml")
        #expect(response.status == .ok)
        #expect(Data(response.body) == (try Data(contentsOf: Self.topLevelFile)))
    }

    @Test("the committed openapi.yaml equals its rendering from LossRegistry (rerun lossd print-openapi --output openapi.yaml)")
    func generatedPartsAreCurrent() throws {
        let file = String(decoding: try Data(contentsOf: Self.topLevelFile), as: UTF8.self)
        let rendered = try OpenAPIRenderer().render(into: file)
        #expect(rendered == file)
        for part in OpenAPIRenderer().parts {
            #expect(file.contains(OpenAPIRenderer.beginMarker(part.name) + "\n"), "\(part.name)")
            #expect(file.contains(OpenAPIRenderer.endMarker(part.name) + "\n"), "\(part.name)")
        }
    }

    @Test("rendering replaces only what lies between the markers")
    func renderKeepsHandWrittenParts() throws {
        let renderer = OpenAPIRenderer()
        var template = "openapi: 3.1.0\nhand: written\n"
        for part in renderer.parts {
            template += OpenAPIRenderer.beginMarker(part.name) + "\nstale \(part.name)\n"
                + OpenAPIRenderer.endMarker(part.name) + "\nkept after \(part.name)\n"
        }
        let rendered = try renderer.render(into: template)
        #expect(!rendered.contains("stale"))
        #expect(rendered.hasPrefix("openapi: 3.1.0\nhand: written\n"))
        for part in renderer.parts {
            #expect(rendered.contains(part.text + OpenAPIRenderer.endMarker(part.name) + "\nkept after \(part.name)\n"))
        }
        #expect(throws: OpenAPIRenderer.SpliceError.self) { try renderer.render(into: "openapi: 3.1.0\n") }
    }

    @Test("numbers are written so YAML 1.1 reads them as numbers too: an exponent has a dot and a sign",
          arguments: [(1e-5, "1.0e-05"), (1.5e300, "1.5e+300"), (0.25, "0.25"), (-100, "-100"), (1, "1")])
    func yamlNumbers(value: Double, text: String) {
        #expect(OpenAPIRenderer.yamlNumber(value) == text)
    }

    @Test("POST /loss is generated with every declared loss's name and its example answered by the batch handler")
    func batchRendered() throws {
        let renderer = OpenAPIRenderer()
        #expect(renderer.paths.contains("\n  /loss:\n    post:\n      tags: [batch]\n      operationId: lossBatch\n"))
        let names = LossRegistry.all.map(\.name).joined(separator: ", ")
        #expect(renderer.requestSchemas.contains("examples: [\(names)]"))
        for declaration in LossRegistry.all { #expect(renderer.batchExample.contains(#"{"loss": "\#(declaration.name)", "#)) }
        let answer = OpenAPIRenderer.batchAnswer(renderer.batchExample)
        #expect(renderer.resultResponses.contains("value: \(answer)\n"))
        #expect(answer.contains(#"request [\#(LossRegistry.all.count)]: unknown member 'reduce'"#))
    }

    @Test("every model route's /versions/{version}/ form is described beside it, with the one version the router accepts")
    func describesVersionedRoutes() {
        let document = OpenAPIDocument.text
        for route in OIPRoute.allCases {
            guard let model = route.model, model == LossRegistry.all[0] else { continue }
            let suffix = route.template.dropFirst("/v2/models/{name}".count)
            let versioned = "/v2/models/{name}/versions/{version}" + suffix
            #expect(document.contains("\n  \(versioned):\n    parameters: [{$ref: '#/components/parameters/OIPModelName'}, {$ref: '#/components/parameters/OIPModelVersion'}]\n"),
                    "\(versioned) missing")
            // What the document says the route answers, the router does.
            #expect(OIPRoute.lookup("/v2/models/\(model.name)/versions/\(OIPRoute.version)\(suffix)") == .route(route))
        }
        #expect(document.contains("\n    OIPModelVersion:\n      name: version\n      in: path\n"))
        #expect(document.contains("      schema: {type: string, enum: ['\(OIPRoute.version)']}\n"))
    }

    @Test("the protocol's 404 examples are the router's own answers: an unknown model lists every declared model, an unknown version the one version")
    func oipNotFoundExamples() throws {
        let part = OpenAPIRenderer().oipResponses
        guard case .notFound(let unknownModel) = OIPRoute.lookup("/v2/models/resnet50"),
              case .notFound(let unknownVersion) = OIPRoute.lookup("/v2/models/ce/versions/2/infer") else {
            Issue.record("the lookups are no 404s")
            return
        }
        for name in LossRegistry.all.map(\.name) { #expect(unknownModel.contains(name)) }
        #expect(part.contains("error: \(OpenAPIRenderer.scalar(unknownModel))\n"), "\(part)")
        #expect(part.contains("error: \(OpenAPIRenderer.scalar(unknownVersion))\n"), "\(part)")
        // Rendered for other declarations, it names theirs.
        let two = OpenAPIRenderer(declarations: [.meanSquaredError, .crossEntropy]).oipResponses
        #expect(two.contains("(models: mse, ce)'\n"), "\(two)")
        #expect(two.contains("error: 'model ''mse'' has no version ''2'' (versions: 1)'\n"), "\(two)")
    }

    @Test("the document is OpenAPI 3.1 and describes every route")
    func describesEveryRoute() {
        #expect(OpenAPIDocument.text.hasPrefix("openapi: 3.1"))
        for route in Route.allCases {
            #expect(OpenAPIDocument.text.contains("\n  \(route.path):\n"), "\(route.path) missing")
        }
    }
}
