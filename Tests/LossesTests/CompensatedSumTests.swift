@testable import Losses
import Testing

@Suite struct CompensatedSumTests {
    static func sum(_ values: [Double]) -> Double {
        values.withUnsafeBufferPointer { $0.compensatedSum }
    }

    @Test(arguments: [
        ([1e16, 1, -1e16], 1.0),  // a plain sum gives 0
        ([1, 1e100, 1, -1e100], 2.0),
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, -2.8], 1.3877787807814457e-16),  // the doubles' exact residue (Python Fraction)
        ([], 0.0),
    ])
    func cancellationKeepsTheSmallTerms(values: [Double], exact: Double) {
        #expect(Self.sum(values) == exact)
    }

    @Test func everyLaneAndTheTailAreCounted() {
        for count in 0..<13 {
            let values = (0..<count).map { Double($0 + 1) }
            #expect(Self.sum(values) == Double(count * (count + 1) / 2))
        }
    }

    @Test func nonFiniteSumsFollowIEEE() {
        #expect(Self.sum([.infinity, 1, 2, 3, 4]) == .infinity)
        #expect(Self.sum([1e308, 1e308, 1e308, 1e308, 1e308]) == .infinity)
        #expect(Self.sum([.infinity, -.infinity]).isNaN)
        #expect(Self.sum([1, .nan, 3]).isNaN)
    }
}
