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

/// An element-wise pair operation in eight lanes and in one (the same expression, so lanes and
/// tails agree). Generic parameters, unlike closure arguments, are reliably specialised and inlined.
protocol F32PairOp {
    static func lanes(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float>
    static func scalar(_ x: Float, _ y: Float) -> Float
}
enum F32AddOp: F32PairOp {
    @inline(__always) static func lanes(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x + y }
    @inline(__always) static func scalar(_ x: Float, _ y: Float) -> Float { x + y }
}
enum F32SubOp: F32PairOp {
    @inline(__always) static func lanes(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x - y }
    @inline(__always) static func scalar(_ x: Float, _ y: Float) -> Float { x - y }
}
enum F32MulOp: F32PairOp {
    @inline(__always) static func lanes(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x * y }
    @inline(__always) static func scalar(_ x: Float, _ y: Float) -> Float { x * y }
}
enum F32DivOp: F32PairOp {
    @inline(__always) static func lanes(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x / y }
    @inline(__always) static func scalar(_ x: Float, _ y: Float) -> Float { x / y }
}
/// Swift.max(x, y) is `y >= x ? y : x` (a NaN y is skipped); the lanes keep that rule.
enum F32MaxOp: F32PairOp {
    @inline(__always) static func lanes(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: y, where: y .>= x) }
    @inline(__always) static func scalar(_ x: Float, _ y: Float) -> Float { y >= x ? y : x }
}
/// Swift.min(x, y) is `y < x ? y : x`.
enum F32MinOp: F32PairOp {
    @inline(__always) static func lanes(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: y, where: y .< x) }
    @inline(__always) static func scalar(_ x: Float, _ y: Float) -> Float { y < x ? y : x }
}

@inline(__always)
private func rowLoop<Op: F32PairOp>(_: Op.Type, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                                    _ o: UnsafeMutablePointer<Float>, _ n: Int) {
    // One loop per stride pattern; each chunk is loaded before it is stored, so o may be a or b.
    var i = 0
    switch (sa, sb) {
    case (1, 1):
        while i + 8 <= n { f32Store8(Op.lanes(f32Load8(a + i), f32Load8(b + i)), o + i); i += 8 }
        while i < n { o[i] = Op.scalar(a[i], b[i]); i += 1 }
    case (1, 0):
        let y = b[0], yv = SIMD8<Float>(repeating: y)
        while i + 8 <= n { f32Store8(Op.lanes(f32Load8(a + i), yv), o + i); i += 8 }
        while i < n { o[i] = Op.scalar(a[i], y); i += 1 }
    case (0, 1):
        let x = a[0], xv = SIMD8<Float>(repeating: x)
        while i + 8 <= n { f32Store8(Op.lanes(xv, f32Load8(b + i)), o + i); i += 8 }
        while i < n { o[i] = Op.scalar(x, b[i]); i += 1 }
    default:
        for i in 0..<n { o[i] = Op.scalar(a[i * sa], b[i * sb]) }
    }
}

@inline(__always)
private func innerRow(_ op: F32BinaryOp, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                      _ o: UnsafeMutablePointer<Float>, _ n: Int) {
    switch op {
    case .add: rowLoop(F32AddOp.self, a, sa, b, sb, o, n)
    case .sub: rowLoop(F32SubOp.self, a, sa, b, sb, o, n)
    case .mul: rowLoop(F32MulOp.self, a, sa, b, sb, o, n)
    case .div: rowLoop(F32DivOp.self, a, sa, b, sb, o, n)
    case .max: rowLoop(F32MaxOp.self, a, sa, b, sb, o, n)
    case .min: rowLoop(F32MinOp.self, a, sa, b, sb, o, n)
    case .pow: for i in 0..<n { o[i] = f32Pow(a[i * sa], b[i * sb]) }
    }
}

/// Rows (all axes but the last) are split across parts.
public func f32Binary(_ op: F32BinaryOp, _ d: F32Broadcast, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      _ out: UnsafeMutablePointer<Float>, part: Int = 0, parts: Int = 1) {
    let D = d.dims, A = d.aStrides, B = d.bStrides
    let rows = D.d0 * D.d1 * D.d2 * D.d3 * D.d4
    let n = D.d5
    if rows == 1 {
        // One run (fully coalesced): share out its elements instead.
        f32BinaryFlat(op, a, aStride: A.d5, b, bStride: B.d5, out, count: n, part: part, parts: parts)
        return
    }
    let r = f32PartRange(rows, part, parts)
    if r.isEmpty { return }
    var c = F32RowCursor(dims: D, a: A, b: B, row: r.lowerBound)
    for row in r {
        innerRow(op, a + c.offA, A.d5, b + c.offB, B.d5, out + row * n, n)
        c.next()
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
