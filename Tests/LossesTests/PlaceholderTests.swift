import Testing
@testable import Losses

@Test func moduleBuilds() {
    #expect(Bool(true))
}
