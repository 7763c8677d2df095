// Element-wise functions (also the activations fused into conv/gemm).
// The switch sits outside the loops so each case is a tight, vectorisable loop.

public enum F32Activation: Sendable, Equatable {
    case none
    case relu
    case clip(min: Float, max: Float)
    case sigmoid
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish
    case silu
    case gelu
    case erf, sqrt, exp, tanh, neg, abs, reciprocal
    case pow(Float)
}

@inline(__always)
public func f32Activate(_ a: F32Activation, _ x: Float) -> Float {
    switch a {
    case .none: return x
    case .relu: return x > 0 ? x : 0
    case .clip(let lo, let hi): return x < lo ? lo : (x > hi ? hi : x)
    case .sigmoid: return f32Sigmoid(x)
    case .hardSigmoid(let alpha, let beta): return Swift.max(0, Swift.min(1, alpha * x + beta))
    case .hardSwish: return x * Swift.max(0, Swift.min(1, x / 6 + 0.5))
    case .silu: return x * f32Sigmoid(x)
    case .gelu: return 0.5 * x * (1 + f32Erf(x * 0.70710678118654752))
    case .erf: return f32Erf(x)
    case .sqrt: return x.squareRoot()
    case .exp: return f32Exp(x)
    case .tanh: return f32Tanh(x)
    case .neg: return -x
    case .abs: return x < 0 ? -x : x
    case .reciprocal: return 1 / x
    case .pow(let e): return f32Pow(x, e)
    }
}

/// dst[i] = f(src[i]); src may equal dst (in place).
public func f32Unary(_ a: F32Activation, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    switch a {
    case .none:
        if UnsafePointer(dst) != src { dst.update(from: src, count: count) }
    case .relu:
        for i in 0..<count { let x = src[i]; dst[i] = x > 0 ? x : 0 }
    case .clip(let lo, let hi):
        for i in 0..<count { let x = src[i]; dst[i] = x < lo ? lo : (x > hi ? hi : x) }
    case .neg:
        for i in 0..<count { dst[i] = -src[i] }
    case .sigmoid, .silu:
        #if arch(x86_64)
        if F32Path.preferred == .avx512 {
            f32SigmoidAVX512(src: src, dst: dst, count: count, silu: a == .silu)
            return
        }
        #endif
        if a == .silu {
            f32Lanes8(src, dst, count, { $0 * f32SigmoidLanes($0) }, { $0 * f32Sigmoid($0) })
        } else {
            f32Lanes8(src, dst, count, { f32SigmoidLanes($0) }, { f32Sigmoid($0) })
        }
    case .exp:
        f32Lanes8(src, dst, count, { f32ExpLanes($0) }, { f32Exp($0) })
    case .hardSigmoid(let alpha, let beta):
        for i in 0..<count { let v = alpha * src[i] + beta; dst[i] = v < 0 ? 0 : (v > 1 ? 1 : v) }
    case .hardSwish:
        for i in 0..<count { let x = src[i], v = x / 6 + 0.5; dst[i] = x * (v < 0 ? 0 : (v > 1 ? 1 : v)) }
    default:
        for i in 0..<count { dst[i] = f32Activate(a, src[i]) }
    }
}

/// dst[i] = f(src[i]) eight lanes at a time, the tail with the scalar twin (bit-identical with
/// the lanes, so results do not depend on where a tail starts). src may equal dst.
@inline(__always)
func f32Lanes8(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int,
               _ lanes: (SIMD8<Float>) -> SIMD8<Float>, _ scalar: (Float) -> Float) {
    var i = 0
    while i + 8 <= count {
        f32Store8(lanes(f32Load8(src + i)), dst + i)
        i += 8
    }
    while i < count { dst[i] = scalar(src[i]); i += 1 }
}

@inline(__always)
func f32Load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
func f32Store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

@inline(__always)
public func f32ApplyActivation(_ a: F32Activation, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    // Single-pointer loops for the common fused activations: no aliasing question, so they vectorise.
    switch a {
    case .none: return
    case .relu: for i in 0..<count { let x = p[i]; p[i] = x > 0 ? x : 0 }
    case .clip(let lo, let hi): for i in 0..<count { let x = p[i]; p[i] = x < lo ? lo : (x > hi ? hi : x) }
    default: f32Unary(a, UnsafePointer(p), p, count)
    }
}

/// The slice of `total` items that worker `part` of `parts` handles (contiguous, balanced).
@inline(__always)
public func f32PartRange(_ total: Int, _ part: Int, _ parts: Int) -> Range<Int> {
    let lo = total * part / parts
    let hi = total * (part + 1) / parts
    return lo..<hi
}
