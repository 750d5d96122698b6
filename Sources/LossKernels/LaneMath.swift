// Branch-free exp and log on SIMD lanes, for the hot loops of the losses: the libm versions
// are calls the compiler cannot vectorise. The scalar versions (Losses' VectorMath.swift) say
// what each computes; these are checked against them and libm in VectorMathTests.
//
// (The scalar functions stay in Losses: inlined from another module their selects become
// branches around the polynomial, and the loops over them stop vectorising.)
//
// The same functions on SIMD lanes, for the loops the compiler cannot vectorise by itself (an
// inner loop over classes per pair of pixels, a range check fused into a loss loop). Generic
// over the lane width: SIMD2<Double> is one SSE2 register (the baseline build), SIMD4<Double>
// one AVX2 register (LossKernelsAVX2), so each operation is one instruction for all lanes;
// each lane computes exactly what the scalar version computes (VectorMathTests checks), with
// no fused multiply-add (Swift contracts none), so both builds agree bit for bit.
// Keep one polynomial per loop: exp then log in one body is a dependency chain longer than
// the core's reorder window covers, and the loop runs slower on fewer instructions.
// Every constant is spelt `V(repeating:)` because literal-typed SIMD expressions defeat
// the type checker's time limit.

/// Two doubles: one SSE2 register, the baseline kernels' lane width.
@usableFromInline package typealias Lanes = SIMD2<Double>

/// Doubles in SIMD lanes, with the unsigned integer lanes of the same width for their bits:
/// the lane width the kernels are generic over (SIMD2 for SSE2, SIMD4 for one AVX2 register).
@usableFromInline package protocol DoubleLanes: SIMD where Scalar == Double {
    associatedtype Bits: SIMD where Bits.Scalar == UInt64
    // The comparisons as requirements, so that generic kernels reach the standard library's concrete
    // SIMD2/SIMD4 versions (one compare instruction); SIMD's generic ones compare lane by lane, and
    // the compiler turned them into a scalar compare and branch per lane (BCE's kernel ran 2× slower).
    static func .== (a: Self, b: Self) -> SIMDMask<MaskStorage>
    static func .< (a: Self, b: Self) -> SIMDMask<MaskStorage>
    static func .<= (a: Self, b: Self) -> SIMDMask<MaskStorage>
    static func .> (a: Self, b: Self) -> SIMDMask<MaskStorage>
    static func .>= (a: Self, b: Self) -> SIMDMask<MaskStorage>
}
extension SIMD2: DoubleLanes where Scalar == Double { @usableFromInline package typealias Bits = SIMD2<UInt64> }
extension SIMD4: DoubleLanes where Scalar == Double { @usableFromInline package typealias Bits = SIMD4<UInt64> }
extension SIMD8: DoubleLanes where Scalar == Double { @usableFromInline package typealias Bits = SIMD8<UInt64> }

/// How the lane functions compute a·b + c: with two roundings (`SeparateMultiplyAdd`, every
/// build, and what the scalar functions do) or with one (`FusedMultiplyAdd`, one FMA instruction,
/// only in the AVX2 build: on a CPU without FMA it is a libm call per lane).
@usableFromInline package protocol MultiplyAdd {
    static func apply<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar == Double
    /// Whether `apply` rounds once: the exp then takes its division-free polynomial (`expPolynomialMinusOne`).
    static var isFused: Bool { get }
}

/// a·b + c rounded twice, as the scalar functions compute it.
@usableFromInline package enum SeparateMultiplyAdd: MultiplyAdd {
    @inlinable @inline(__always)
    package static func apply<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar == Double { a * b + c }
    @inlinable package static var isFused: Bool { false }
}

/// a·b + c rounded once: fewer instructions and a shorter dependency chain in the polynomials.
@usableFromInline package enum FusedMultiplyAdd: MultiplyAdd {
    @inlinable @inline(__always)
    package static func apply<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar == Double {
        c.addingProduct(a, b)
    }
    @inlinable package static var isFused: Bool { true }
}

/// `expNonPositive` in each lane (two lanes for one SSE2 register, four for two independent chains).
@inlinable @inline(__always)
package func expNonPositive<V: SIMD>(_ x: V) -> V where V.Scalar == Double {
    expNonPositive(x, SeparateMultiplyAdd.self)
}

/// `expNonPositive` in each lane, its products and sums as `F` computes them (within 1 ulp either way).
@inlinable @inline(__always)
package func expNonPositive<V: SIMD, F: MultiplyAdd>(_ x: V, _: F.Type) -> V where V.Scalar == Double {
    let (y, shifted) = expNonPositiveParts(x, F.self, minusOne: F.isFused)
    // Wrapping integer arithmetic on the bits: no overflow trap in the loop (k + 1023 ≥ 1 where kept).
    let bits = unsafeBitCast(shifted, to: V.MaskStorage.self)
    let scale = unsafeBitCast((bits &+ 1023) &<< 52, to: V.self)
    // Fused: y is e^r - 1, and scale·y + scale is scale times 1 + y rounded once (scale is a power of 2):
    // the same bits as (1 + y)·scale in the normal range, one add shorter on the chain the CE loop waits for.
    let e = F.isFused ? F.apply(y, scale, scale) : y * scale
    return e.replacing(with: 0, where: x .< V(repeating: -708.39))
}

/// `expNonPositiveGradual` in each lane (subnormal results kept, for BCE), its products and sums as `F`
/// computes them: 2^(k+64) as the scale, then 2^-64, as the scalar function does.
@inlinable @inline(__always)
package func expNonPositiveGradual<V: SIMD, F: MultiplyAdd>(_ x: V, _: F.Type) -> V where V.Scalar == Double {
    let (y, shifted) = expNonPositiveParts(x, F.self)
    let bits = unsafeBitCast(shifted, to: V.MaskStorage.self)
    let scale = unsafeBitCast((bits &+ (1023 + 64)) &<< 52, to: V.self)
    return (y * scale * V(repeating: 0x1p-64)).replacing(with: 0, where: x .< V(repeating: -745.1332191019412))
}

/// e^r with x = k·ln 2 + r, and `shifted`, whose low bits hold k. With separate multiply-adds, the
/// scalar `expNonPositiveParts` in each lane (fdlibm's rational form, bit for bit); fused, the
/// division-free `expPolynomialMinusOne` (plus 1, or without it where `minusOne`, for the caller to fold in).
@inlinable @inline(__always)
func expNonPositiveParts<V: SIMD, F: MultiplyAdd>(
    _ x: V, _: F.Type, minusOne: Bool = false
) -> (y: V, shifted: V) where V.Scalar == Double {
    let shifter = V(repeating: 6_755_399_441_055_744.0)
    let shifted = F.apply(x, V(repeating: 1.4426950408889634), shifter)
    let k = shifted - shifter
    let hi = F.apply(k, V(repeating: -6.93147180369123816490e-01), x)  // exact either way: k·ln2Hi is exact
    if F.isFused {  // a constant once specialised: one branch is compiled
        // r = hi - k·ln2Lo rounded once; the polynomial needs no separate low part.
        let r = F.apply(k, V(repeating: -1.90821492927058770002e-10), hi)
        return (minusOne ? expPolynomialMinusOne(r) : V(repeating: 1) + expPolynomialMinusOne(r), shifted)
    }
    let lo = k * V(repeating: 1.90821492927058770002e-10)
    let r = hi - lo
    let t = r * r
    var p = F.apply(t, V(repeating: 4.13813679705723846039e-08), V(repeating: -1.65339022054652515390e-06))
    p = F.apply(t, p, V(repeating: 6.61375632143793436117e-05))
    p = F.apply(t, p, V(repeating: -2.77777777770155933842e-03))
    p = F.apply(t, p, V(repeating: 1.66666666666666019037e-01))
    let c = F.apply(-t, p, r)
    return (V(repeating: 1) - ((lo - (r * c) / (V(repeating: 2) - c)) - hi), shifted)
}

/// e^r - 1 for |r| ≤ ln2/2 as r + r²·Q(r) (e^r is 1 plus that), Q of degree 9 fitted for relative error (2^-56 after
/// rounding, scripts/make_exp_polynomial.py), in fused multiply-adds: no division, and Estrin's
/// scheme (pairs, then r², r⁴, r⁸) makes its dependency chain about half fdlibm's rational form's,
/// which bounded the segmentation cross entropy's class loop.
@inlinable @inline(__always)
func expPolynomialMinusOne<V: SIMD>(_ r: V) -> V where V.Scalar == Double {
    typealias F = FusedMultiplyAdd
    let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
    let q01 = F.apply(r, V(repeating: 0.16666666666666413), V(repeating: 0.5000000000000011))
    let q23 = F.apply(r, V(repeating: 0.008333333333494335), V(repeating: 0.041666666666530267))
    let q45 = F.apply(r, V(repeating: 0.00019841269506777653), V(repeating: 0.0013888888943598013))
    let q67 = F.apply(r, V(repeating: 2.7557586267482642e-06), V(repeating: 2.48014931358244e-05))
    let q89 = F.apply(r, V(repeating: 2.500007218526422e-08), V(repeating: 2.7630234059594197e-07))
    let q03 = F.apply(r2, q23, q01), q47 = F.apply(r2, q67, q45)
    let q = F.apply(r8, q89, F.apply(r4, q47, q03))
    return F.apply(r2, q, r)
}

/// fdlibm's log of 1 + f for f in [√2/2 - 1, √2 - 1], plus k·ln 2 given as `kLn2High` (k times
/// ln 2's leading bits, exact) and `kLn2Low` (k times the rest, plus any correction below the
/// result's last place).
@inlinable @inline(__always)
func logKernel<V: DoubleLanes, F: MultiplyAdd>(f: V, kLn2High: V, kLn2Low: V, _: F.Type = SeparateMultiplyAdd.self) -> V {
    let halfSquare = V(repeating: 0.5) * f * f
    let s = f / (V(repeating: 2) + f)
    let z = s * s
    let w = z * z
    var t1 = F.apply(w, V(repeating: 1.531383769920937332e-01), V(repeating: 2.222219843214978396e-01))
    t1 = w * F.apply(w, t1, V(repeating: 3.999999999940941908e-01))
    var t2 = F.apply(w, V(repeating: 1.479819860511658591e-01), V(repeating: 1.818357216161805012e-01))
    t2 = F.apply(w, t2, V(repeating: 2.857142874366239149e-01))
    t2 = z * F.apply(w, t2, V(repeating: 6.666666666666735130e-01))
    let r = t2 + t1
    return F.apply(s, halfSquare + r, kLn2Low) - halfSquare + f + kLn2High
}

/// ln 2 split as fdlibm does, so that k·ln2High is exact for any exponent k.
/// (Computed, not stored: a stored global read from another module is a lazy-initialiser call per use.)
@inlinable var ln2High: Double { 6.93147180369123816490e-01 }
@inlinable var ln2Low: Double { 1.90821492927058770002e-10 }

/// `logPositive` in each lane.
@inlinable @inline(__always)
package func logPositive<V: DoubleLanes, F: MultiplyAdd>(_ x: V, _: F.Type = SeparateMultiplyAdd.self) -> V {
    let bits = unsafeBitCast(x, to: V.Bits.self)
    // Wrapping arithmetic throughout: the bit fields never overflow, and no trap enters the loop.
    var high = (bits &>> 32) &+ (0x3ff0_0000 &- 0x3fe6_a09e)
    let k = (high &>> 20) &- 0x3ff
    high = (high & 0x000f_ffff) &+ 0x3fe6_a09e
    let f = unsafeBitCast((high &<< 32) | (bits & 0xffff_ffff), to: V.self) - V(repeating: 1)
    let dk = unsafeBitCast(0x4338_0000_0000_0000 &+ k, to: V.self) - V(repeating: 6_755_399_441_055_744.0)
    let log = logKernel(f: f, kLn2High: dk * V(repeating: ln2High), kLn2Low: dk * V(repeating: ln2Low), F.self)
    return log.replacing(with: x + x, where: .!(x .< V(repeating: .infinity)))
}

/// `logOnePlus` in each lane.
@inlinable @inline(__always)
package func logOnePlus<V: DoubleLanes, F: MultiplyAdd>(_ z: V, _: F.Type = SeparateMultiplyAdd.self) -> V {
    let u = V(repeating: 1) + z
    return logPositive(u, F.self) + (z - (u - V(repeating: 1))) / u
}

/// Replaces each of the `count` doubles at `values` by its `logOnePlus`.
///
/// Hot path: two at a time in lanes, because the compiler leaves the plain
/// loop over the scalar function unvectorised.
@inlinable
package func formLogOnePlus(_ values: UnsafeMutablePointer<Double>, count: Int) {
    var i = 0
    while i &+ 2 <= count {  // wrapping: i + 2 ≤ count cannot overflow
        logOnePlus(Lanes.load(values + i)).store(to: values + i)
        i &+= 2
    }
    if i < count { values[i] = logOnePlus(Lanes(values[i], 0))[0] }  // each lane as the scalar function
}

/// log(1 + z) for z in [0, 1] (BCE's log1p(e^-|x|)), within 1 ulp; NaN passes through.
///
/// Hot path: 1 + z lies in [1, 2], so the exponent and mantissa that `logPositive` extracts
/// from the bits are known up to one choice: f = z below √2 - 1, else f = (1 + z)/2 - 1 with
/// k = 1. The first is exact; the second, z - 1, is exact from z = 0.5 on (Sterbenz) and
/// otherwise off by the error Fast2Sum recovers. No rounded 1 + z, so no division to correct it.
@inlinable @inline(__always)
package func logOnePlusUnit<V: DoubleLanes, F: MultiplyAdd>(_ z: V, _: F.Type = SeparateMultiplyAdd.self) -> V {
    let upper = z .>= V(repeating: 0.41421356237309503)  // the double nearest √2 - 1
    let d = z - V(repeating: 1)
    let error = z - (d + V(repeating: 1))  // Fast2Sum, |-1| ≥ |z|: z - 1 = d + error exactly
    let f = z.replacing(with: d * V(repeating: 0.5), where: upper)
    // log(1 + f + error/2) - log(1 + f) ≈ error/(1 + z); error ≠ 0 only for 1 + z in [√2, 1.5),
    // where 1/(1 + z) is 0.6866 within 3 %: far below the result's last place.
    let low = error * V(repeating: 0.6866) + V(repeating: ln2Low)
    // k is 0 or 1: k·ln 2 is ln 2's parts masked, not multiplied.
    return logKernel(f: f, kLn2High: V(repeating: ln2High).masked(by: upper), kLn2Low: low.masked(by: upper), F.self)
}

extension SIMD where Scalar == Double {
    /// The doubles at `pointer`, one per lane (no alignment needed).
    @inlinable @inline(__always)
    package static func load(_ pointer: UnsafePointer<Double>) -> Self {
        UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }

    /// Each lane where `mask` is set, +0 elsewhere: one AND instruction, where a select takes three.
    @inlinable @inline(__always)
    package func masked(by mask: SIMDMask<MaskStorage>) -> Self {
        unsafeBitCast(unsafeBitCast(self, to: MaskStorage.self) & unsafeBitCast(mask, to: MaskStorage.self), to: Self.self)
    }

    /// ORs the bits of `other` into each lane (to merge values masked by disjoint masks).
    @inlinable @inline(__always)
    package mutating func formBitwiseUnion(_ other: Self) {
        self = unsafeBitCast(unsafeBitCast(self, to: MaskStorage.self) | unsafeBitCast(other, to: MaskStorage.self), to: Self.self)
    }

    /// Writes every lane to `pointer` (no alignment needed).
    @inlinable @inline(__always)
    package func store(to pointer: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}
