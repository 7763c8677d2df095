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
    case .sigmoid:
        for i in 0..<count { dst[i] = f32Sigmoid(src[i]) }
    case .silu:
        for i in 0..<count { let x = src[i]; dst[i] = x * f32Sigmoid(x) }
    default:
        for i in 0..<count { dst[i] = f32Activate(a, src[i]) }
    }
}

@inline(__always)
public func f32ApplyActivation(_ a: F32Activation, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if a == .none { return }
    f32Unary(a, UnsafePointer(p), p, count)
}

/// The slice of `total` items that worker `part` of `parts` handles (contiguous, balanced).
@inline(__always)
public func f32PartRange(_ total: Int, _ part: Int, _ parts: Int) -> Range<Int> {
    let lo = total * part / parts
    let hi = total * (part + 1) / parts
    return lo..<hi
}
