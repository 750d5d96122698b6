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
