import HTTP
import Testing
@testable import LossService

@Suite struct ContentTypeTests {
    @Test("application/json is accepted, case-insensitively, with parameters", arguments: [
        "application/json", "Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8",
        "application/json ; charset=\"utf-8\"", "application/json; foo=bar",
    ])
    func accepted(value: String) {
        #expect(LossResponder.refuseContentType(["Content-Type": value]) == nil)
    }

    @Test("anything else is refused (415)", arguments: [
        "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "application/json-patch+json",
        "multipart/form-data; boundary=x", "", "json", "application/json; charset=latin1",
    ])
    func refused(value: String) {
        #expect(LossResponder.refuseContentType(["Content-Type": value]) != nil)
    }

    @Test("a missing or repeated Content-Type is refused")
    func missingOrRepeated() {
        #expect(LossResponder.refuseContentType([:]) == "a loss request needs Content-Type: application/json")
        var headers = Headers()
        headers.add("Content-Type", "application/json")
        headers.add("Content-Type", "text/plain")
        #expect(LossResponder.refuseContentType(headers) != nil)
    }
}
