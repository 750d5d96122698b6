// Branch-free exp and log for the hot loops of the losses: the libm versions are calls
// the compiler cannot vectorise. Each is checked against libm in VectorMathTests.

/// e^x for x ≤ 0 (the exponentials of log-sum-exp after the maximum is
/// subtracted), within 1 ulp.
///
/// Hot path: glibc's `exp` is a call the compiler cannot vectorise; this is
/// fdlibm's algorithm (Cody–Waite reduction to |r| ≤ ln2/2, a degree-5
/// rational form, 2^k built in the exponent bits) made branch-free, so loops
/// over it run in SIMD lanes. Below -708.39 the true value is subnormal
/// (< 2.3e-308) and 0 is returned: next to the maximum's e^0 = 1 it is
/// invisible (`expNonPositiveGradual` keeps it, for BCE).
@inline(__always)
func expNonPositive(_ x: Double) -> Double {
    let (y, shifted) = expNonPositiveParts(x)
    // 2^k: k + 1023 in the exponent field (k ∈ [-1022, 0] here, so always a normal number).
    let scale = Double(bitPattern: (shifted.bitPattern &+ 1023) &<< 52)
    return x < -708.39 ? 0 : y * scale
}

/// `expNonPositive` with gradual underflow: e^x for x in [-745.14, -708.39] is
/// the subnormal it rounds to (within 1 ulp of the subnormals' spacing), not 0,
/// for BCE with logits, where e^-|x| can be the whole loss.
///
/// Hot path: the scale is always 2^(k+64) (normal for every k ≥ -1075 kept) and
/// the product is scaled by 2^-64 after: exact where e^x is normal, one rounding
/// where it is subnormal. One multiply more than `expNonPositive`, no select
/// more, so the loop over it still vectorises (a select between two integer
/// biases made it scalar and BCE 30 % slower).
@inline(__always)
func expNonPositiveGradual(_ x: Double) -> Double {
    let (y, shifted) = expNonPositiveParts(x)
    let scale = Double(bitPattern: (shifted.bitPattern &+ (1023 + 64)) &<< 52)
    // Below -745.1332, e^x < 2^-1075, half the least subnormal: 0 (also for -∞, where k is garbage).
    return x < -745.1332191019412 ? 0 : y * scale * 0x1p-64
}

/// fdlibm's e^x before its scaling: y = e^r with x = k·ln 2 + r, and `shifted`,
/// whose low bits hold k (so `(shifted.bitPattern &+ bias) &<< 52` is 2^(k + bias - 1023)).
@inline(__always)
private func expNonPositiveParts(_ x: Double) -> (y: Double, shifted: Double) {
    // Adding 1.5·2^52 rounds x·log2(e) to an integer k held in the low mantissa bits.
    let shifter = 6_755_399_441_055_744.0
    let shifted = x * 1.4426950408889634 + shifter
    let k = shifted - shifter
    // ln 2 split so that k·ln2Hi is exact (fdlibm's constants); r = hi - lo, |r| ≤ ln2/2.
    let hi = x - k * 6.93147180369123816490e-01
    let lo = k * 1.90821492927058770002e-10
    let r = hi - lo
    let t = r * r
    let c = r - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03
        + t * (6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06 + t * 4.13813679705723846039e-08))))
    return (1 - ((lo - (r * c) / (2 - c)) - hi), shifted)
}

/// log x for positive normal x, within 1 ulp; +∞ and NaN pass through.
/// Zero and subnormal x give about -709 (callers clamp at -100); negative x
/// gives garbage and is never passed.
///
/// Hot path: fdlibm's log (reduction to [√2/2, √2), a degree-14 polynomial
/// in s = f/(2+f)) done with integer and select operations only, so loops
/// over it vectorise where glibc's `log` is a call per element.
@inline(__always)
func logPositive(_ x: Double) -> Double {
    let bits = x.bitPattern
    // Rescale the mantissa into [√2/2, √2) and adjust the exponent k to match.
    var high = (bits &>> 32) &+ (0x3ff0_0000 &- 0x3fe6_a09e)
    let k = (high &>> 20) &- 0x3ff  // as a two's-complement Int64 in a UInt64
    high = (high & 0x000f_ffff) &+ 0x3fe6_a09e
    let f = Double(bitPattern: (high &<< 32) | (bits & 0xffff_ffff)) - 1
    // k as a double without an int-to-double instruction SSE2 lacks: 1.5·2^52 + k, minus 1.5·2^52.
    let dk = Double(bitPattern: 0x4338_0000_0000_0000 &+ k) - 6_755_399_441_055_744.0
    let halfSquare = 0.5 * f * f
    let s = f / (2 + f)
    let z = s * s
    let w = z * z
    let t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
    let t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
        + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
    let r = t2 + t1
    let log = s * (halfSquare + r) + dk * 1.90821492927058770002e-10 - halfSquare + f + dk * 6.93147180369123816490e-01
    return x < .infinity ? log : x + x
}

/// log(1 + z) for z > -1 (and z = -1 within a caller's clamp), within 2 ulp,
/// vectorisable: the log of u = 1 + z, corrected by the rounding error of u.
@inline(__always)
func logOnePlus(_ z: Double) -> Double {
    let u = 1 + z
    return logPositive(u) + (z - (u - 1)) / u
}

/// max(log p, -100) for p in [0, 1], as `binary_cross_entropy` clamps (log 0 = -∞ becomes -100).
/// For 0 and subnormal p, `logPositive` gives about -709, which the clamp absorbs; a select of
/// two ready values, not a branch around the log, so the loop stays vectorisable.
@inline(__always)
func clampedLog(_ p: Double) -> Double {
    let log = logPositive(p)
    return log >= -100 ? log : -100
}

/// max(log1p(z), -100) for z in [-1, 0], as `binary_cross_entropy` clamps log(1 - p).
/// At z = -1 the correction term is 0/0 = NaN, which the comparison also maps to -100.
@inline(__always)
func clampedLogOnePlus(_ z: Double) -> Double {
    let log = logOnePlus(z)
    return log >= -100 ? log : -100
}

// The same functions on two lanes at once, for the loops the compiler cannot vectorise by
// itself (an inner loop over classes per pair of pixels, a range check fused into a loss
// loop). SIMD2<Double> is one SSE2 register, so each operation is one instruction for both
// lanes; each lane computes exactly what the scalar version computes (VectorMathTests checks).
// Keep one polynomial per loop: exp then log in one body is a dependency chain longer than
// the core's reorder window covers, and the loop runs slower on fewer instructions.
// Every constant is spelt `Lanes(repeating:)` because literal-typed SIMD expressions defeat
// the type checker's time limit.

typealias Lanes = SIMD2<Double>
typealias LaneBits = SIMD2<UInt64>

/// `expNonPositive` in each lane (two lanes for one SSE2 register, four for two independent chains).
@inline(__always)
func expNonPositive<V: SIMD>(_ x: V) -> V where V.Scalar == Double {
    let shifter = V(repeating: 6_755_399_441_055_744.0)
    let shifted = x * V(repeating: 1.4426950408889634) + shifter
    let k = shifted - shifter
    let hi = x - k * V(repeating: 6.93147180369123816490e-01)
    let lo = k * V(repeating: 1.90821492927058770002e-10)
    let r = hi - lo
    let t = r * r
    var p = t * V(repeating: 4.13813679705723846039e-08) + V(repeating: -1.65339022054652515390e-06)
    p = t * p + V(repeating: 6.61375632143793436117e-05)
    p = t * p + V(repeating: -2.77777777770155933842e-03)
    p = t * p + V(repeating: 1.66666666666666019037e-01)
    let c = r - t * p
    let y = V(repeating: 1) - ((lo - (r * c) / (V(repeating: 2) - c)) - hi)
    // Wrapping integer arithmetic on the bits: no overflow trap in the loop (k + 1023 ≥ 1 where kept).
    let bits = unsafeBitCast(shifted, to: V.MaskStorage.self)
    let scale = unsafeBitCast((bits &+ 1023) &<< 52, to: V.self)
    return (y * scale).replacing(with: 0, where: x .< V(repeating: -708.39))
}

/// fdlibm's log of 1 + f for f in [√2/2 - 1, √2 - 1], plus k·ln 2 given as `kLn2High` (k times
/// ln 2's leading bits, exact) and `kLn2Low` (k times the rest, plus any correction below the
/// result's last place).
@inline(__always)
private func logKernel(f: Lanes, kLn2High: Lanes, kLn2Low: Lanes) -> Lanes {
    let halfSquare = Lanes(repeating: 0.5) * f * f
    let s = f / (Lanes(repeating: 2) + f)
    let z = s * s
    let w = z * z
    var t1 = w * Lanes(repeating: 1.531383769920937332e-01) + Lanes(repeating: 2.222219843214978396e-01)
    t1 = w * (w * t1 + Lanes(repeating: 3.999999999940941908e-01))
    var t2 = w * Lanes(repeating: 1.479819860511658591e-01) + Lanes(repeating: 1.818357216161805012e-01)
    t2 = w * t2 + Lanes(repeating: 2.857142874366239149e-01)
    t2 = z * (w * t2 + Lanes(repeating: 6.666666666666735130e-01))
    let r = t2 + t1
    return s * (halfSquare + r) + kLn2Low - halfSquare + f + kLn2High
}

/// ln 2 split as fdlibm does, so that k·ln2High is exact for any exponent k.
private let ln2High = 6.93147180369123816490e-01, ln2Low = 1.90821492927058770002e-10

/// `logPositive` in each lane.
@inline(__always)
func logPositive(_ x: Lanes) -> Lanes {
    let bits = unsafeBitCast(x, to: LaneBits.self)
    // Wrapping arithmetic throughout: the bit fields never overflow, and no trap enters the loop.
    var high = (bits &>> 32) &+ (0x3ff0_0000 &- 0x3fe6_a09e)
    let k = (high &>> 20) &- 0x3ff
    high = (high & 0x000f_ffff) &+ 0x3fe6_a09e
    let f = unsafeBitCast((high &<< 32) | (bits & 0xffff_ffff), to: Lanes.self) - Lanes(repeating: 1)
    let dk = unsafeBitCast(0x4338_0000_0000_0000 &+ k, to: Lanes.self) - Lanes(repeating: 6_755_399_441_055_744.0)
    let log = logKernel(f: f, kLn2High: dk * Lanes(repeating: ln2High), kLn2Low: dk * Lanes(repeating: ln2Low))
    return log.replacing(with: x + x, where: .!(x .< Lanes(repeating: .infinity)))
}

/// `logOnePlus` in each lane.
@inline(__always)
func logOnePlus(_ z: Lanes) -> Lanes {
    let u = Lanes(repeating: 1) + z
    return logPositive(u) + (z - (u - Lanes(repeating: 1))) / u
}

/// Replaces each of the `count` doubles at `values` by its `logOnePlus`.
///
/// Hot path: two at a time in lanes, because the compiler leaves the plain
/// loop over the scalar function unvectorised.
func formLogOnePlus(_ values: UnsafeMutablePointer<Double>, count: Int) {
    var i = 0
    while i &+ 2 <= count {  // wrapping: i + 2 ≤ count cannot overflow
        logOnePlus(Lanes.load(values + i)).store(to: values + i)
        i &+= 2
    }
    if i < count { values[i] = logOnePlus(values[i]) }
}

/// log(1 + z) for z in [0, 1] (BCE's log1p(e^-|x|)), within 1 ulp; NaN passes through.
///
/// Hot path: 1 + z lies in [1, 2], so the exponent and mantissa that `logPositive` extracts
/// from the bits are known up to one choice: f = z below √2 - 1, else f = (1 + z)/2 - 1 with
/// k = 1. The first is exact; the second, z - 1, is exact from z = 0.5 on (Sterbenz) and
/// otherwise off by the error Fast2Sum recovers. No rounded 1 + z, so no division to correct it.
@inline(__always)
func logOnePlusUnit(_ z: Lanes) -> Lanes {
    let upper = z .>= Lanes(repeating: 0.41421356237309503)  // the double nearest √2 - 1
    let d = z - Lanes(repeating: 1)
    let error = z - (d + Lanes(repeating: 1))  // Fast2Sum, |-1| ≥ |z|: z - 1 = d + error exactly
    let f = z.replacing(with: d * Lanes(repeating: 0.5), where: upper)
    // log(1 + f + error/2) - log(1 + f) ≈ error/(1 + z); error ≠ 0 only for 1 + z in [√2, 1.5),
    // where 1/(1 + z) is 0.6866 within 3 %: far below the result's last place.
    let low = error * Lanes(repeating: 0.6866) + Lanes(repeating: ln2Low)
    // k is 0 or 1: k·ln 2 is ln 2's parts masked, not multiplied.
    return logKernel(f: f, kLn2High: Lanes(repeating: ln2High).masked(by: upper), kLn2Low: low.masked(by: upper))
}

extension SIMD where Scalar == Double {
    /// The doubles at `pointer`, one per lane (no alignment needed).
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Double>) -> Self {
        UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }

    /// Each lane where `mask` is set, +0 elsewhere: one AND instruction, where a select takes three.
    @inline(__always)
    func masked(by mask: SIMDMask<MaskStorage>) -> Self {
        unsafeBitCast(unsafeBitCast(self, to: MaskStorage.self) & unsafeBitCast(mask, to: MaskStorage.self), to: Self.self)
    }

    /// ORs the bits of `other` into each lane (to merge values masked by disjoint masks).
    @inline(__always)
    mutating func formBitwiseUnion(_ other: Self) {
        self = unsafeBitCast(unsafeBitCast(self, to: MaskStorage.self) | unsafeBitCast(other, to: MaskStorage.self), to: Self.self)
    }

    /// Writes every lane to `pointer` (no alignment needed).
    @inline(__always)
    func store(to pointer: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}
