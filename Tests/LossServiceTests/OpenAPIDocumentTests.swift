import Foundation
import Testing
@testable import LossService

@Suite struct OpenAPIDocumentTests {
    static let topLevelFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../openapi.yaml").standardized

    @Test("the embedded document equals the top-level openapi.yaml byte for byte (rerun scripts/embed-openapi.sh)")
    func embeddedEqualsFile() throws {
        let file = try Data(contentsOf: Self.topLevelFile)
        let embedded = Data(OpenAPIDocument.text.utf8)
        #expect(embedded.count == file.count, "embedded \(embedded.count) bytes, openapi.yaml \(file.count)")
        #expect(embedded == file)
    }

    @Test("the document is OpenAPI 3.1 and describes every route")
    func describesEveryRoute() {
        #expect(OpenAPIDocument.text.hasPrefix("openapi: 3.1"))
        for route in Route.allCases {
            #expect(OpenAPIDocument.text.contains("\n  \(route.path):\n"), "\(route.path) missing")
        }
    }
}
