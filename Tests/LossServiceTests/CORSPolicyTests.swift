import HTTP
import Testing
@testable import LossService

@Suite struct CORSPolicyTests {
    @Test("the default allows any origin with *, without Vary")
    func defaultAllowsAny() {
        var response = Response(status: .ok)
        CORSPolicy().apply(to: &response, requestHeaders: ["Origin": "https://a.example"])
        #expect(response.headers["Access-Control-Allow-Origin"] == "*")
        #expect(response.headers["Vary"] == nil)
    }

    @Test("the default also marks responses to requests without Origin, and server errors without a head")
    func defaultWithoutOrigin() {
        var response = Problem(status: .badRequest, detail: "x").response
        CORSPolicy().apply(to: &response, requestHeaders: nil)
        #expect(response.headers["Access-Control-Allow-Origin"] == "*")
    }

    @Test("the setting parses * and comma-separated lists", arguments: [
        ("*", CORSPolicy.Origins.any),
        ("", .any),
        ("https://a.example", .list(["https://a.example"])),
        (" https://a.example , http://localhost:3000 ,", .list(["https://a.example", "http://localhost:3000"])),
        ("https://a.example,*", .any),
        ("https://a.example/", .list(["https://a.example"])),
    ])
    func setting(text: String, origins: CORSPolicy.Origins) {
        #expect(CORSPolicy(setting: text).origins == origins)
    }

    @Test("a setting of * and origins as browsers send them is valid", arguments: [
        "*", "", "https://a.example", "http://localhost:3000", "https://a.example/", "http://[::1]:8080",
        " https://a.example , http://127.0.0.1:3000 ,", "chrome-extension://abcdef", "https://a.example,*",
    ])
    func validSetting(text: String) {
        #expect(CORSPolicy.problem(inSetting: text) == nil)
    }

    @Test("a setting entry that is not * or scheme://host[:port] is refused, saying why", arguments: [
        ("foo", "no scheme://"), ("dash.example", "no scheme://"), ("https://:8080", "the host is empty"),
        ("https://a.example/app", "no path"), ("https://a.example?x", "no path"), ("https://user@a.example", "credentials"),
        ("https://a.example:0", "port"), ("https://a.example:99999", "port"), ("https://a.example:", "port"),
        ("HTTPS://a.example", "scheme"), ("https://A.example", "lowercase"), ("1http://a.example", "scheme"),
        ("https://a.example,foo", "'foo'"),
    ])
    func invalidSetting(text: String, reason: String) throws {
        let problem = try #require(CORSPolicy.problem(inSetting: text))
        #expect(problem.contains(reason), "\(problem)")
    }

    @Test("an allow-list echoes a matching origin with Vary: Origin")
    func allowListEchoes() {
        let policy = CORSPolicy(setting: "https://a.example,https://b.example")
        var response = Response(status: .ok)
        policy.apply(to: &response, requestHeaders: ["Origin": "https://b.example"])
        #expect(response.headers["Access-Control-Allow-Origin"] == "https://b.example")
        #expect(response.headers.values("Vary") == ["Origin"])
    }

    @Test("an allow-list gives no Allow-Origin to another origin, but still Vary: Origin",
          arguments: ["https://evil.example", "https://a.example.evil", "HTTPS://A.EXAMPLE", "null"])
    func allowListRefuses(origin: String) {
        let policy = CORSPolicy(setting: "https://a.example")
        var response = Response(status: .ok)
        policy.apply(to: &response, requestHeaders: ["Origin": origin])
        #expect(response.headers["Access-Control-Allow-Origin"] == nil)
        #expect(response.headers.values("Vary") == ["Origin"])
    }

    @Test("Vary: Origin is not repeated when already present")
    func varyNotRepeated() {
        var response = Response(status: .ok, headers: ["Vary": "Accept-Encoding, Origin"])
        CORSPolicy(setting: "https://a.example").apply(to: &response, requestHeaders: ["Origin": "https://a.example"])
        #expect(response.headers.values("Vary") == ["Accept-Encoding, Origin"])
    }

    @Test("a preflight on a known route gets 204 with methods, headers and max age")
    func preflight() {
        let headers: Headers = ["Origin": "https://a.example", "Access-Control-Request-Method": "POST",
                                "Access-Control-Request-Headers": "content-type"]
        let response = CORSPolicy().optionsResponse(for: .loss(.crossEntropy), requestHeaders: headers)
        #expect(response.status == .noContent)
        #expect(response.body.isEmpty)
        #expect(response.headers["Allow"] == "POST, OPTIONS")
        #expect(response.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS")
        let allowed = response.headers["Access-Control-Allow-Headers"]?.lowercased() ?? ""
        #expect(allowed.contains("content-type") && allowed.contains("content-encoding"))
        #expect(response.headers["Access-Control-Max-Age"] == "7200")
    }

    @Test("OPTIONS without preflight headers is a plain Allow answer")
    func plainOptions() {
        let response = CORSPolicy().optionsResponse(for: .metrics, requestHeaders: ["Origin": "https://a.example"])
        #expect(response.status == .noContent)
        #expect(response.headers["Allow"] == "GET, HEAD, OPTIONS")
        #expect(response.headers["Access-Control-Allow-Methods"] == nil)
    }

    @Test("a preflight from an origin off the allow-list gets no Allow-* headers")
    func preflightRefused() {
        let headers: Headers = ["Origin": "https://evil.example", "Access-Control-Request-Method": "POST"]
        let response = CORSPolicy(setting: "https://a.example").optionsResponse(for: .loss(.crossEntropy), requestHeaders: headers)
        #expect(response.headers["Access-Control-Allow-Methods"] == nil)
        #expect(response.headers["Access-Control-Max-Age"] == nil)
    }
}
