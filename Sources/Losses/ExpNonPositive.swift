/// e^x for x ≤ 0 (the exponentials of log-sum-exp after the maximum is
/// subtracted, and of -|x| in BCE with logits), within 1 ulp.
///
/// Hot path: glibc's `exp` is a call the compiler cannot vectorise; this is
/// fdlibm's algorithm (Cody–Waite reduction to |r| ≤ ln2/2, a degree-5
/// rational form, 2^k built in the exponent bits) made branch-free, so loops
/// over it run in SIMD lanes. Below -708.39 the true value is subnormal
/// (< 2.3e-308) and 0 is returned: next to the maximum's e^0 = 1, or added to
/// a log1p, it is invisible.
@inline(__always)
func expNonPositive(_ x: Double) -> Double {
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
    let y = 1 - ((lo - (r * c) / (2 - c)) - hi)
    // 2^k: k + 1023 in the exponent field (k ∈ [-1022, 0] here, so always a normal number).
    let scale = Double(bitPattern: (shifted.bitPattern &+ 1023) &<< 52)
    return x < -708.39 ? 0 : y * scale
}
