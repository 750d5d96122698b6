import Testing
@testable import HTTP

@Test func moduleBuilds() {
    #expect(Bool(true))
}
