import Foundation
import HTTP
import Testing
@testable import LossService

/// The page at `/` (issue #13): served from the binary, equal to page/, under
/// a strict Content-Security-Policy, counted under its own route label.
@Suite struct PageTests {
    static let pageFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../page").standardized

    let harness = ResponderHarness()

    @Test("the embedded page, style sheet and script equal the files in page/ byte for byte (Plugins/EmbedPlugin embeds the files at build time)",
          arguments: [("index.html", PageAssets.html), ("page.css", PageAssets.css), ("page.js", PageAssets.javascript)])
    func embeddedEqualsFiles(name: String, embedded: String) throws {
        let file = try Data(contentsOf: Self.pageFolder.appendingPathComponent(name))
        #expect(Data(embedded.utf8).count == file.count, "\(name): embedded \(embedded.utf8.count) bytes, file \(file.count)")
        #expect(Data(embedded.utf8) == file, "\(name)")
    }

    @Test("GET /, /page.css and /page.js serve the bytes of page/index.html, page.css and page.js",
          arguments: [("/", "index.html"), ("/page.css", "page.css"), ("/page.js", "page.js")])
    func servedBytesAreTheFiles(path: String, name: String) throws {
        let file = try Data(contentsOf: Self.pageFolder.appendingPathComponent(name))
        #expect(Data(harness.call(.get, path).body) == file, "\(path)")
    }

    @Test("GET / is the HTML page under a Content-Security-Policy that allows nothing inline and nothing from elsewhere")
    func pageWithPolicy() throws {
        let response = harness.call(.get, "/")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(response.text == PageAssets.html)
        let policy = try #require(response.headers["Content-Security-Policy"])
        #expect(policy.contains("default-src 'none'"))
        #expect(policy.contains("script-src 'self'") && policy.contains("style-src 'self'") && policy.contains("connect-src 'self'"))
        #expect(!policy.contains("unsafe") && !policy.contains("http"), "\(policy)")
        #expect(response.headers["X-Content-Type-Options"] == "nosniff")
    }

    @Test("the page loads only its own two assets, with no inline script or style")
    func pageIsSelfContained() {
        let html = PageAssets.html
        #expect(html.contains(#"<script src="/page.js" defer></script>"#))
        #expect(html.contains(#"<link rel="stylesheet" href="/page.css">"#))
        #expect(html.components(separatedBy: "<script").count == 2)  // just the one, with src
        #expect(!html.contains("<style") && !html.contains(" style="))
        #expect(html.range(of: #" on[a-z]+="#, options: .regularExpression) == nil, "no inline event handler")
        #expect(!(html + PageAssets.javascript + PageAssets.css).contains("://"), "no other origin is named")
    }

    @Test("/page.css and /page.js are served with their types", arguments: [
        ("/page.css", "text/css; charset=utf-8", PageAssets.css),
        ("/page.js", "text/javascript; charset=utf-8", PageAssets.javascript),
    ])
    func assets(path: String, type: String, text: String) {
        let response = harness.call(.get, path)
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == type)
        #expect(response.text == text)
    }

    @Test("POST / is a 405 that allows GET and HEAD")
    func pageIsReadOnly() {
        let response = harness.call(.post, "/")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, HEAD, OPTIONS")
    }

    @Test("GET / and its assets count under their own route labels, not unmatched")
    func ownRouteLabels() {
        let metrics = ServiceMetrics(includeProcessMetrics: false)
        let harness = ResponderHarness(LossResponder(metrics: metrics))
        _ = harness.call(.get, "/")
        _ = harness.call(.get, "/page.js")
        _ = harness.call(.get, "/page.css")
        #expect(metrics.requests.value(["GET", "/", "200"]) == 1)
        #expect(metrics.requests.value(["GET", "/page.js", "200"]) == 1)
        #expect(metrics.requests.value(["GET", "/page.css", "200"]) == 1)
        #expect(metrics.requests.value(["GET", "unmatched", "200"]) == 0)
    }
}
