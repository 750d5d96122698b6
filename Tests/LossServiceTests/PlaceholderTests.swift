import Testing
@testable import LossService

@Test func moduleBuilds() {
    #expect(Bool(true))
}
