import Foundation
import Testing

/// `lossd print-openapi`: the document with its loss parts rendered from the
/// declarations, to standard output or into a file whose hand-written parts it keeps.
@Suite struct LossdPrintOpenAPITests {
    static let committed = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../openapi.yaml").standardized

    @Test("print-openapi prints the committed openapi.yaml byte for byte",
          .enabled(if: LossdExecutableTests.binary != nil, "lossd is not built beside the tests"))
    func printsCommittedDocument() throws {
        let (status, output) = try LossdExecutableTests.run(["print-openapi"])
        #expect(status == 0)
        #expect(output == String(decoding: try Data(contentsOf: Self.committed), as: UTF8.self))
    }

    @Test("print-openapi --output rewrites only the generated parts of an existing file",
          .enabled(if: LossdExecutableTests.binary != nil, "lossd is not built beside the tests"))
    func outputKeepsHandWrittenParts() throws {
        let committed = String(decoding: try Data(contentsOf: Self.committed), as: UTF8.self)
        // A stale file: one generated part emptied, a hand-written line added outside the markers.
        var lines = committed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let begin = try #require(lines.firstIndex(of: "# BEGIN GENERATED request-schemas"))
        let end = try #require(lines.firstIndex(of: "# END GENERATED request-schemas"))
        lines.replaceSubrange((begin + 1)..<end, with: ["    Stale: {}"])
        lines.insert("# a hand-written comment", at: 1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lossd-openapi-\(getpid()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(lines.joined(separator: "\n").utf8).write(to: file)

        let (status, output) = try LossdExecutableTests.run(["print-openapi", "--output", file.path])
        #expect(status == 0, "\(output)")
        var expected = committed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        expected.insert("# a hand-written comment", at: 1)
        #expect(String(decoding: try Data(contentsOf: file), as: UTF8.self) == expected.joined(separator: "\n"))
    }

    @Test("print-openapi --output refuses a file without the markers, leaving it as it was",
          .enabled(if: LossdExecutableTests.binary != nil, "lossd is not built beside the tests"))
    func refusesFileWithoutMarkers() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lossd-openapi-bare-\(getpid()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("openapi: 3.1.0\n".utf8).write(to: file)
        let (status, output) = try LossdExecutableTests.run(["print-openapi", "--output", file.path])
        #expect(status != 0)
        #expect(output.contains("# BEGIN GENERATED"), "\(output)")
        #expect(String(decoding: try Data(contentsOf: file), as: UTF8.self) == "openapi: 3.1.0\n")
    }
}
