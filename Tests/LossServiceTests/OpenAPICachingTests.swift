import Foundation
import HTTP
import Testing
@testable import LossService

/// `GET /openapi.yaml` carries a strong validator and a freshness lifetime,
/// and a client that already holds the document gets a 304.
@Suite struct OpenAPICachingTests {
    let harness = ResponderHarness()

    @Test("the document has a strong ETag of its bytes and Cache-Control: public, max-age=300")
    func validatorAndFreshness() throws {
        let response = harness.call(.get, "/openapi.yaml")
        #expect(response.status == .ok)
        #expect(response.body == Array(OpenAPIDocument.text.utf8))
        let etag = try #require(response.headers["ETag"])
        #expect(etag == "\"\(OpenAPIRepresentation.fnv1a64Hex(Array(OpenAPIDocument.text.utf8)))\"")
        #expect(etag.count == 18 && !etag.hasPrefix("W/"))
        #expect(response.headers["Cache-Control"] == "public, max-age=300")
        #expect(response.headers["Content-Encoding"] == nil)
    }

    @Test("If-None-Match naming the current tag (or *, or W/ the tag, in a list) is a 304 without a body",
          arguments: ["{tag}", "*", "W/{tag}", "\"0000000000000000\", {tag}", " {tag} "])
    func notModified(condition: String) throws {
        let etag = try #require(harness.call(.get, "/openapi.yaml").headers["ETag"])
        let value = condition.replacingOccurrences(of: "{tag}", with: etag)
        let response = harness.call(.get, "/openapi.yaml", headers: ["If-None-Match": value])
        #expect(response.status == .notModified)
        #expect(response.body.isEmpty)
        #expect(response.headers["ETag"] == etag)
        #expect(response.headers["Cache-Control"] == "public, max-age=300")
        #expect(response.headers["Vary"] == "Accept-Encoding")
    }

    @Test("an If-None-Match naming another tag gets the whole document",
          arguments: ["\"0000000000000000\"", "0000000000000000", ""])
    func modified(condition: String) {
        let response = harness.call(.get, "/openapi.yaml", headers: ["If-None-Match": condition])
        #expect(response.status == .ok)
        #expect(response.body.count == OpenAPIDocument.text.utf8.count)
    }

    @Test("a client that accepts gzip gets the gzip bytes with their own strong tag, which revalidates only them")
    func gzipRepresentation() throws {
        let identityTag = try #require(harness.call(.get, "/openapi.yaml").headers["ETag"])
        let response = harness.call(.get, "/openapi.yaml", headers: ["Accept-Encoding": "gzip"])
        #expect(response.status == .ok)
        #expect(response.headers["Content-Encoding"] == "gzip")
        #expect(response.headers["Vary"] == "Accept-Encoding")
        #expect(Array(response.body.prefix(2)) == [0x1F, 0x8B])
        #expect(response.body.count < OpenAPIDocument.text.utf8.count / 2)
        let gzipTag = try #require(response.headers["ETag"])
        #expect(gzipTag != identityTag)
        #expect(gzipTag == "\"\(OpenAPIRepresentation.fnv1a64Hex(response.body))\"")
        let revalidated = harness.call(.get, "/openapi.yaml", headers: ["Accept-Encoding": "gzip", "If-None-Match": gzipTag])
        #expect(revalidated.status == .notModified)
        let other = harness.call(.get, "/openapi.yaml", headers: ["Accept-Encoding": "gzip", "If-None-Match": identityTag])
        #expect(other.status == .ok)
    }
}

@Suite struct OpenAPICachingOverTheWireTests {
    @Test("a 304 over the wire has no body and the connection carries on")
    func notModifiedOnAKeptAliveConnection() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let first = try client.get("/openapi.yaml")
        #expect(first.status == 200)
        let etag = try #require(first.header("ETag"))
        let second = try client.get("/openapi.yaml", headers: [("If-None-Match", etag)])
        #expect(second.status == 304)
        #expect(second.body.isEmpty)
        #expect(second.header("ETag") == etag)
        #expect(try client.get("/livez").status == 200)
    }
}
