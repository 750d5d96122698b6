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

    @Test("the document is OpenAPI 3.1 and describes every route")
    func describesEveryRoute() {
        #expect(OpenAPIDocument.text.hasPrefix("openapi: 3.1"))
        for route in Route.allCases {
            #expect(OpenAPIDocument.text.contains("\n  \(route.path):\n"), "\(route.path) missing")
        }
    }
}
