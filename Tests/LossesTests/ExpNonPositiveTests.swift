#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Losses
import Testing

@Suite struct ExpNonPositiveTests {
    /// Distance in units in the last place between two positive doubles.
    static func ulps(_ a: Double, _ b: Double) -> UInt64 {
        let (x, y) = (a.bitPattern, b.bitPattern)
        return x > y ? x - y : y - x
    }

    @Test func agreesWithLibmWithinOneUlpOverTheWholeRange() {
        var generator = TestGenerator(seed: 1)
        var worst: UInt64 = 0
        for _ in 0..<200_000 {
            let x = -Double.random(in: 0...708.39, using: &generator)
            worst = max(worst, Self.ulps(expNonPositive(x), exp(x)))
        }
        for _ in 0..<100_000 {  // where the reduced argument is small and k changes
            let x = -Double.random(in: 0...2, using: &generator)
            worst = max(worst, Self.ulps(expNonPositive(x), exp(x)))
        }
        #expect(worst <= 1)
    }

    @Test func edgesAreExact() {
        #expect(expNonPositive(0) == 1)
        #expect(expNonPositive(-0.0) == 1)
        #expect(expNonPositive(-.ulpOfOne) == exp(-.ulpOfOne))
        #expect(expNonPositive(-708.3) == exp(-708.3))
        #expect(expNonPositive(-745.2) == 0)
        #expect(expNonPositive(-2000) == 0)
        #expect(expNonPositive(-.infinity) == 0)
        #expect(expNonPositive(.nan).isNaN)
    }
}
