import Foundation
import Testing
@testable import LossService

/// One version for the binary, its metrics and its OpenAPI document, and a
/// revision that names the commit built.
@Suite struct BuildInfoTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized

    @Test("openapi.yaml's info.version is lossd's version")
    func openAPIVersionIsTheVersion() throws {
        let text = try String(contentsOf: Self.packageRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let info = try #require(text.range(of: "\ninfo:\n"))
        let version = try #require(text[info.upperBound...].split(separator: "\n")
            .prefix { $0.hasPrefix("  ") }
            .first { $0.hasPrefix("  version: ") })
        #expect(version == "  version: \(BuildInfo.version)")
    }

    @Test("the scrape has lossd_build_info{version, revision} 1")
    func buildInfoMetric() {
        let text = ServiceMetrics().render()
        #expect(text.contains("# TYPE lossd_build_info gauge\n"))
        #expect(text.contains("lossd_build_info{version=\"\(BuildInfo.version)\",revision=\"\(BuildInfo.revision)\"} 1\n"), "\(text)")
    }

    @Test("the revision is the short commit of the checkout built (when built from one)")
    func revisionIsHead() throws {
        #expect(!BuildInfo.revision.isEmpty)
        guard ProcessInfo.processInfo.environment["LOSSD_REVISION"] == nil,
              FileManager.default.fileExists(atPath: Self.packageRoot.appendingPathComponent(".git").path) else { return }
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", Self.packageRoot.path, "rev-parse", "--short", "HEAD"]
        let output = Pipe()
        git.standardOutput = output
        git.standardError = FileHandle.nullDevice
        try git.run()
        let head = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        git.waitUntilExit()
        guard git.terminationStatus == 0 else { return }
        #expect(BuildInfo.revision == head)
    }
}
