// Numpy-broadcasting binary ops over a coalesced rank-6 walk.

public enum F32BinaryOp: UInt8, Sendable { case add, sub, mul, div, max, min, pow }

/// out[i] = a[ia] op b[ib]; out is contiguous, a/b strides may be 0 (broadcast).
public struct F32Broadcast: Sendable, Equatable {
    public var dims = F32Dims6()
    public var aStrides = F32Dims6()
    public var bStrides = F32Dims6()
    public init() {}

    /// Builds the walk for output shape `out` from input shapes `a`, `b` (numpy rules, already validated).
    public init(out: [Int], a: [Int], b: [Int]) {
        let r = out.count
        func padded(_ s: [Int]) -> [Int] { [Int](repeating: 1, count: r - s.count) + s }
        let pa = padded(a), pb = padded(b)
        let ca = f32ContiguousStrides(pa), cb = f32ContiguousStrides(pb)
        let sa = (0..<r).map { pa[$0] == 1 ? 0 : ca[$0] }
        let sb = (0..<r).map { pb[$0] == 1 ? 0 : cb[$0] }
        let so = f32ContiguousStrides(out)
        let c = f32Coalesce(dims: out, strides: [so, sa, sb])
        dims = F32Dims6(c.dims, fill: 1)
        aStrides = F32Dims6(c.strides[1], fill: 0)
        bStrides = F32Dims6(c.strides[2], fill: 0)
    }
}

@inline(__always)
private func apply(_ op: F32BinaryOp, _ x: Float, _ y: Float) -> Float {
    switch op {
    case .add: return x + y
    case .sub: return x - y
    case .mul: return x * y
    case .div: return x / y
    case .max: return Swift.max(x, y)
    case .min: return Swift.min(x, y)
    case .pow: return f32Pow(x, y)
    }
}

@inline(__always)
private func innerRow(_ op: F32BinaryOp, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                      _ o: UnsafeMutablePointer<Float>, _ n: Int) {
    // Specialise the common stride patterns so the loops vectorise.
    switch (op, sa, sb) {
    case (.add, 1, 1): for i in 0..<n { o[i] = a[i] + b[i] }
    case (.add, 1, 0): let y = b[0]; for i in 0..<n { o[i] = a[i] + y }
    case (.add, 0, 1): let x = a[0]; for i in 0..<n { o[i] = x + b[i] }
    case (.mul, 1, 1): for i in 0..<n { o[i] = a[i] * b[i] }
    case (.mul, 1, 0): let y = b[0]; for i in 0..<n { o[i] = a[i] * y }
    case (.mul, 0, 1): let x = a[0]; for i in 0..<n { o[i] = x * b[i] }
    case (.sub, 1, 1): for i in 0..<n { o[i] = a[i] - b[i] }
    case (.sub, 1, 0): let y = b[0]; for i in 0..<n { o[i] = a[i] - y }
    case (.div, 1, 1): for i in 0..<n { o[i] = a[i] / b[i] }
    case (.div, 1, 0): let y = b[0]; for i in 0..<n { o[i] = a[i] / y }
    default:
        for i in 0..<n { o[i] = apply(op, a[i * sa], b[i * sb]) }
    }
}

/// Rows (all axes but the last) are split across parts.
public func f32Binary(_ op: F32BinaryOp, _ d: F32Broadcast, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      _ out: UnsafeMutablePointer<Float>, part: Int = 0, parts: Int = 1) {
    let D = d.dims, A = d.aStrides, B = d.bStrides
    let rows = D.d0 * D.d1 * D.d2 * D.d3 * D.d4
    let n = D.d5
    for row in f32PartRange(rows, part, parts) {
        var r = row
        let i4 = r % D.d4; r /= D.d4
        let i3 = r % D.d3; r /= D.d3
        let i2 = r % D.d2; r /= D.d2
        let i1 = r % D.d1; r /= D.d1
        let i0 = r
        let oa = i0 * A.d0 + i1 * A.d1 + i2 * A.d2 + i3 * A.d3 + i4 * A.d4
        let ob = i0 * B.d0 + i1 * B.d1 + i2 * B.d2 + i3 * B.d3 + i4 * B.d4
        innerRow(op, a + oa, A.d5, b + ob, B.d5, out + row * n, n)
    }
}

/// Element-wise function over a contiguous range; `parts` split the elements.
public func f32UnaryPart(_ act: F32Activation, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                         count: Int, part: Int = 0, parts: Int = 1) {
    let r = f32PartRange(count, part, parts)
    f32Unary(act, src + r.lowerBound, dst + r.lowerBound, r.count)
}

/// One flat run of a binary op (strides 0 or 1), split into parts: for fully coalesced walks
/// where there is only one row to share out.
public func f32BinaryFlat(_ op: F32BinaryOp, _ a: UnsafePointer<Float>, aStride: Int, _ b: UnsafePointer<Float>, bStride: Int,
                          _ out: UnsafeMutablePointer<Float>, count: Int, part: Int = 0, parts: Int = 1) {
    let r = f32PartRange(count, part, parts)
    innerRow(op, a + r.lowerBound * aStride, aStride, b + r.lowerBound * bStride, bStride, out + r.lowerBound, r.count)
}
