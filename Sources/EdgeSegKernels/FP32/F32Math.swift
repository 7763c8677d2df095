// Transcendental functions for the FP32 kernels. EdgeSegKernels may use only the
// Swift standard library (it also builds as Embedded Swift), so exp/log/erf come
// from the Cephes single-precision polynomials instead of libm.

/// Round-to-nearest-even by adding 1.5·2^23: the sum's low mantissa bits hold the integer (|v| < 2^22).
/// `.rounded(.toNearestOrEven)` is `roundss` only from SSE4.1; on baseline x86-64 it is a libm call per element.
let f32RoundMagic: Float = 12_582_912
let f32RoundMagicBits: Int32 = 0x4B40_0000

@inline(__always)
public func f32Exp(_ x: Float) -> Float {
    if x != x { return x }
    if x > 88.72283 { return .infinity }
    if x < -87.33654 { return 0 }
    let t = x * 1.44269504088896341 + f32RoundMagic
    let n = t - f32RoundMagic
    var r = x - n * 0.693359375
    r = r + n * 2.12194440e-4
    let z = r * r
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let y = p * z + r + 1
    // n is in [-126, 128]; split the scaling so 2^n never leaves the normal range.
    let ni = Int32(bitPattern: t.bitPattern) &- f32RoundMagicBits
    if ni > 127 { return y * 2 * Float(bitPattern: UInt32(bitPattern: (ni - 1 + 127) << 23)) }
    return y * Float(bitPattern: UInt32(bitPattern: (ni + 127) << 23))
}

/// Eight lanes of `f32Exp`, bit-identical with it (same reduction, polynomial and rounding; no FMA
/// contraction in Swift). Out-of-range lanes are fixed up with selects instead of branches; 2^n is
/// applied as two halves so n = 128 and n = -126 both stay normal.
@inline(__always)
public func f32ExpLanes(_ xIn: SIMD8<Float>) -> SIMD8<Float> {
    let hi: Float = 88.72283, lo: Float = -87.33654
    // NaN lanes compare false and stay NaN through the polynomial.
    var x = xIn.replacing(with: hi, where: xIn .> hi)
    x.replace(with: lo, where: x .< lo)
    let t = x * 1.44269504088896341 + f32RoundMagic
    let n = t - f32RoundMagic
    var r = x - n * 0.693359375
    r = r + n * 2.12194440e-4
    let z = r * r
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    var y = p * z + r + 1
    let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- f32RoundMagicBits
    let n1 = ni &>> 1, n2 = ni &- n1
    let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: SIMD8<Float>.self)
    let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: SIMD8<Float>.self)
    y = y * s1 * s2
    y.replace(with: .infinity, where: xIn .> hi)
    y.replace(with: 0, where: xIn .< lo)
    return y
}

/// Eight lanes of `f32Sigmoid` (bit-identical).
@inline(__always)
public func f32SigmoidLanes(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + f32ExpLanes(-x)) }

@inline(__always)
public func f32Log(_ xIn: Float) -> Float {
    if xIn != xIn { return xIn }
    if xIn < 0 { return .nan }
    if xIn == 0 { return -.infinity }
    if xIn == .infinity { return xIn }
    var x = xIn
    var e: Int32 = 0
    if x < Float.leastNormalMagnitude { x *= 8388608; e = -23 }
    let bits = x.bitPattern
    e += Int32((bits >> 23) & 0xff) - 126
    x = Float(bitPattern: (bits & 0x807f_ffff) | 0x3f00_0000)   // mantissa in [0.5, 1)
    if x < 0.707106781186547524 { e -= 1; x = x + x - 1 } else { x = x - 1 }
    let z = x * x
    var y: Float = 7.0376836292e-2
    y = y * x - 1.1514610310e-1
    y = y * x + 1.1676998740e-1
    y = y * x - 1.2420140846e-1
    y = y * x + 1.4249322787e-1
    y = y * x - 1.6668057665e-1
    y = y * x + 2.0000714765e-1
    y = y * x - 2.4999993993e-1
    y = y * x + 3.3333331174e-1
    y = y * x * z
    let fe = Float(e)
    y += -2.12194440e-4 * fe
    y += -0.5 * z
    return x + y + 0.693359375 * fe
}

@inline(__always)
public func f32Sigmoid(_ x: Float) -> Float { 1 / (1 + f32Exp(-x)) }

@inline(__always)
public func f32Tanh(_ x: Float) -> Float {
    let a = x < 0 ? -x : x
    if a < 0.0625 {
        // Taylor series keeps relative accuracy near zero, where 1 - 2/(e^2x + 1) cancels.
        let z = x * x
        return x * (1 - z * (1.0 / 3 - z * (2.0 / 15)))
    }
    let t = 1 - 2 / (f32Exp(2 * a) + 1)
    return x < 0 ? -t : t
}

/// erf from the Numerical Recipes erfc fit (fractional error < 1.2e-7), evaluated in Double.
@inline(__always)
public func f32Erf(_ x: Float) -> Float {
    let z = Double(x < 0 ? -x : x)
    let t = 1 / (1 + 0.5 * z)
    var p = 0.17087277
    p = p * t - 0.82215223
    p = p * t + 1.48851587
    p = p * t - 1.13520398
    p = p * t + 0.27886807
    p = p * t - 0.18628806
    p = p * t + 0.09678418
    p = p * t + 0.37409196
    p = p * t + 1.00002368
    p = p * t - 1.26551223
    let arg = -z * z + p
    let erfc = arg < -87 ? 0 : t * Double(f32Exp(Float(arg)))
    let r = Float(1 - erfc)
    return x < 0 ? -r : r
}

@inline(__always)
public func f32Pow(_ x: Float, _ e: Float) -> Float {
    if e == 2 { return x * x }
    if e == 1 { return x }
    if e == 0 { return 1 }
    if e == 0.5 { return x < 0 ? .nan : x.squareRoot() }
    if e == 3 { return x * x * x }
    if e == -1 { return 1 / x }
    if x == 0 { return e > 0 ? 0 : .infinity }
    if x > 0 { return f32Exp(e * f32Log(x)) }
    // Negative base: defined only for integral exponents.
    if e.rounded(.towardZero) != e { return .nan }
    let m = f32Exp(e * f32Log(-x))
    // Every float of magnitude ≥ 2^24 is an even integer (and Int64(e) would trap on huge or infinite e: a fuzz finding).
    let odd = e.magnitude < 16_777_216 && Int64(e) & 1 == 1
    return odd ? -m : m
}
