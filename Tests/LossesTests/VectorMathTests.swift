#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Losses
import LossKernels
import Testing
import TestSupport

@Suite struct VectorMathTests {
    /// Distance in units in the last place between two positive doubles.
    static func ulps(_ a: Double, _ b: Double) -> UInt64 {
        let (x, y) = (a.bitPattern, b.bitPattern)
        return x > y ? x - y : y - x
    }

    @Test func agreesWithLibmWithinOneUlpOverTheWholeRange() {
        var generator = SplitMix64(seed: 1)
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

    @Test func gradualExpKeepsSubnormalsWithinOneUlpOfLibm() {
        var generator = SplitMix64(seed: 7)
        var worst: UInt64 = 0
        for _ in 0..<200_000 {  // the subnormal range and just above it
            let x = -Double.random(in: 700...745.2, using: &generator)
            worst = max(worst, Self.ulps(expNonPositiveGradual(x), exp(x)))
        }
        #expect(worst <= 1)
        for _ in 0..<100_000 {  // elsewhere exactly expNonPositive
            let x = -Double.random(in: 0...708, using: &generator)
            #expect(expNonPositiveGradual(x) == expNonPositive(x))
        }
        #expect(expNonPositiveGradual(-720) > 0)
        #expect(expNonPositiveGradual(-745) == .leastNonzeroMagnitude)
        #expect(expNonPositiveGradual(-745.2) == 0)
        #expect(expNonPositiveGradual(-.infinity) == 0)
        #expect(expNonPositiveGradual(.nan).isNaN)
        #expect(expNonPositiveGradual(0) == 1)
    }

    @Test func logAgreesWithLibmWithinOneUlp() {
        var generator = SplitMix64(seed: 2)
        var worst: UInt64 = 0
        for _ in 0..<200_000 {
            let x = Double.random(in: 0.5...2, using: &generator)  // around 1, where cancellation would show
            worst = max(worst, Self.ulps(logPositive(x), log(x)))
        }
        for _ in 0..<200_000 {
            let x = exp(Double.random(in: -700...700, using: &generator))
            worst = max(worst, Self.ulps(logPositive(x), log(x)))
        }
        #expect(worst <= 1)
        #expect(logPositive(1) == 0)
        #expect(logPositive(.leastNormalMagnitude) == log(.leastNormalMagnitude))
        #expect(logPositive(.greatestFiniteMagnitude) == log(.greatestFiniteMagnitude))
        #expect(logPositive(.infinity) == .infinity)
        #expect(logPositive(.nan).isNaN)
    }

    @Test func logOnePlusAgreesWithLibmWithinTwoUlp() {
        var generator = SplitMix64(seed: 3)
        var worst: UInt64 = 0
        for _ in 0..<200_000 {
            let z = Double.random(in: -1...1, using: &generator) * exp(Double.random(in: -60...0, using: &generator))
            guard z > -1 else { continue }
            let (ours, libm) = (logOnePlus(z), log1p(z))
            // Compare magnitudes: both share the sign of z.
            worst = max(worst, Self.ulps(abs(ours), abs(libm)))
        }
        #expect(worst <= 2)
        #expect(logOnePlus(0) == 0)
        #expect(logOnePlus(1e-300) == 1e-300)
        #expect(logOnePlus(-1e-300) == -1e-300)
        #expect(logOnePlus(.nan).isNaN)
    }

    @Test func clampedLogsFollowBinaryCrossEntropysClampAtMinus100() {
        #expect(clampedLog(0) == -100)
        #expect(clampedLog(.leastNonzeroMagnitude) == -100)  // subnormal
        #expect(clampedLog(2.2250738585072014e-308) == -100)
        #expect(clampedLog(1e-43) == log(1e-43))  // just above e^-100
        #expect(clampedLog(1) == 0)
        #expect(clampedLogOnePlus(-1) == -100)
        #expect(clampedLogOnePlus(-0.5) == log1p(-0.5))
        #expect(clampedLogOnePlus(0) == 0)
    }

    /// The AVX2 build's lane functions round a·b + c once (FusedMultiplyAdd); they keep the scalar
    /// functions' bounds against libm over the whole range. (Off an FMA CPU `addingProduct` is
    /// libm's correctly rounded fma, so this runs, slower, everywhere.)
    @Test func fusedLanesKeepTheirBoundsAgainstLibmOverTheWholeRange() {
        typealias Fused = FusedMultiplyAdd
        var generator = SplitMix64(seed: 11)
        var worst = (exp: UInt64(0), log: UInt64(0), logOnePlus: UInt64(0))
        for _ in 0..<100_000 {
            let a = -Double.random(in: 0...708.39, using: &generator), b = -Double.random(in: 0...2, using: &generator)
            let exps = expNonPositive(Lanes(a, b), Fused.self)
            worst.exp = max(worst.exp, Self.ulps(exps[0], exp(a)), Self.ulps(exps[1], exp(b)))
            let u = exp(Double.random(in: -700...700, using: &generator)), v = Double.random(in: 0.5...2, using: &generator)
            let logs = logPositive(Lanes(u, v), Fused.self)
            worst.log = max(worst.log, Self.ulps(logs[0], log(u)), Self.ulps(logs[1], log(v)))
            let z = Double.random(in: 0...1e3, using: &generator) * exp(Double.random(in: -60...0, using: &generator))
            let logOnes = logOnePlus(Lanes(z, -z / 1e3), Fused.self)
            worst.logOnePlus = max(worst.logOnePlus, Self.ulps(logOnes[0], log1p(z)))
            #expect(abs(logOnes[1] - log1p(-z / 1e3)) <= 2 * abs(log1p(-z / 1e3)).ulp)
        }
        #expect(worst.exp <= 1 && worst.log <= 1 && worst.logOnePlus <= 2, "\(worst)")
        #expect(expNonPositive(Lanes(0, -.infinity), Fused.self) == Lanes(1, 0))
        #expect(expNonPositive(Lanes(-745.2, .nan), Fused.self)[0] == 0)
        #expect(expNonPositive(Lanes(-745.2, .nan), Fused.self)[1].isNaN)
        #expect(logPositive(Lanes(1, .infinity), Fused.self) == Lanes(0, .infinity))
    }

    @Test func lanesComputeExactlyWhatTheScalarFunctionsCompute() {
        var generator = SplitMix64(seed: 4)
        for _ in 0..<100_000 {
            let a = -Double.random(in: 0...750, using: &generator), b = -Double.random(in: 0...2, using: &generator)
            let exps = expNonPositive(Lanes(a, b))
            #expect(exps[0].bitPattern == expNonPositive(a).bitPattern && exps[1].bitPattern == expNonPositive(b).bitPattern)
            let u = exp(Double.random(in: -700...700, using: &generator)), v = Double.random(in: 0.5...2, using: &generator)
            let logs = logPositive(Lanes(u, v))
            #expect(logs[0].bitPattern == logPositive(u).bitPattern && logs[1].bitPattern == logPositive(v).bitPattern)
            let z = Double.random(in: 0...1e3, using: &generator) * exp(Double.random(in: -60...0, using: &generator))
            let logOnes = logOnePlus(Lanes(z, -z / 1e3))
            #expect(logOnes[0].bitPattern == logOnePlus(z).bitPattern)
            #expect(logOnes[1].bitPattern == logOnePlus(-z / 1e3).bitPattern)
        }
        let edges = [0, -0.0, -708.39, -745.2, -.infinity, .nan]
        for x in edges {
            let lanes = expNonPositive(Lanes(repeating: x))
            #expect(lanes[0].bitPattern == expNonPositive(x).bitPattern)
        }
        for x in [1, .leastNormalMagnitude, .greatestFiniteMagnitude, .infinity, .nan] {
            #expect(logPositive(Lanes(repeating: x))[0].bitPattern == logPositive(x).bitPattern)
        }
    }

    @Test func logOnePlusUnitAgreesWithLibmWithinOneUlp() {
        var generator = SplitMix64(seed: 5)
        var worst: UInt64 = 0
        func check(_ z: Double, _ w: Double) {
            let ours = logOnePlusUnit(Lanes(z, w))
            worst = max(worst, Self.ulps(ours[0], log1p(z)), Self.ulps(ours[1], log1p(w)))
        }
        for _ in 0..<200_000 {
            check(Double.random(in: 0...1, using: &generator), exp(-Double.random(in: 0...750, using: &generator)))
            // Where 1 + z crosses √2 and z - 1 is not exact.
            check(Double.random(in: 0.40...0.5, using: &generator), Double.random(in: 0.4142...0.4143, using: &generator))
        }
        #expect(worst <= 1)
        let threshold = 0.41421356237309503
        for z in [0, 1, 0.5, threshold.nextDown, threshold, threshold.nextUp, 1e-300, .leastNonzeroMagnitude] {
            #expect(Self.ulps(logOnePlusUnit(Lanes(repeating: z))[0], log1p(z)) <= 1)
        }
        #expect(logOnePlusUnit(Lanes(repeating: 0))[0] == 0)
        #expect(logOnePlusUnit(Lanes(repeating: 1e-300))[0] == 1e-300)
        #expect(logOnePlusUnit(Lanes(repeating: .nan))[0].isNaN)
    }

    /// BCE with logits' lanes (LogitsBinaryCrossEntropy): the gradual exp computes exactly the scalar
    /// function's bits with separate multiply-adds, keeps 1 ulp against libm with fused ones (down into
    /// the subnormals), and the fused log1p of [0, 1] keeps 1 ulp too.
    @Test func bceLanesAgreeWithTheScalarFunctionsAndLibm() {
        typealias Fused = FusedMultiplyAdd
        var generator = SplitMix64(seed: 12)
        var worst = (exp: UInt64(0), logOnePlus: UInt64(0))
        for _ in 0..<100_000 {
            let a = -Double.random(in: 0...746, using: &generator), b = -Double.random(in: 0...2, using: &generator)
            let separate = expNonPositiveGradual(Lanes(a, b), SeparateMultiplyAdd.self)
            #expect(separate[0].bitPattern == expNonPositiveGradual(a).bitPattern)
            #expect(separate[1].bitPattern == expNonPositiveGradual(b).bitPattern)
            let fused = expNonPositiveGradual(Lanes(a, b), Fused.self)
            worst.exp = max(worst.exp, Self.ulps(fused[0], exp(a)), Self.ulps(fused[1], exp(b)))
            let z = Double.random(in: 0...1, using: &generator), w = exp(-Double.random(in: 0...750, using: &generator))
            let logs = logOnePlusUnit(Lanes(z, w), Fused.self)
            worst.logOnePlus = max(worst.logOnePlus, Self.ulps(logs[0], log1p(z)), Self.ulps(logs[1], log1p(w)))
        }
        #expect(worst.exp <= 1 && worst.logOnePlus <= 1, "\(worst)")
        for x: Double in [0, -0.0, -708.39, -745, -745.2, -.infinity] {
            #expect(expNonPositiveGradual(Lanes(repeating: x), Fused.self)[0] == exp(x))
        }
        #expect(expNonPositiveGradual(Lanes(repeating: .nan), Fused.self)[0].isNaN)
    }
}
