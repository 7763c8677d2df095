// Data movement: transpose, slice, pad, concat and split all lower to one strided copy.

public struct F32StridedCopy: Sendable, Equatable {
    public var dims = F32Dims6()
    public var srcStrides = F32Dims6()
    public var dstStrides = F32Dims6()
    public var srcOffset = 0
    public var dstOffset = 0
    public init() {}
    public init(dims: [Int], srcStrides: [Int], dstStrides: [Int], srcOffset: Int, dstOffset: Int) {
        let c = f32Coalesce(dims: dims, strides: [srcStrides, dstStrides])
        self.dims = F32Dims6(c.dims, fill: 1)
        self.srcStrides = F32Dims6(c.strides[0], fill: 0)
        self.dstStrides = F32Dims6(c.strides[1], fill: 0)
        self.srcOffset = srcOffset; self.dstOffset = dstOffset
    }
}

public func f32Copy(_ d: F32StridedCopy, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                    part: Int = 0, parts: Int = 1) {
    let D = d.dims, S = d.srcStrides, T = d.dstStrides
    let rows = D.d0 * D.d1 * D.d2 * D.d3 * D.d4
    let n = D.d5
    let s0 = src + d.srcOffset, t0 = dst + d.dstOffset
    let ss = S.d5, ts = T.d5
    if rows == 1 {
        // One run (a concat along the outermost axis, a plain copy): share out its elements.
        let r = f32PartRange(n, part, parts)
        copyRun(s0 + r.lowerBound * ss, ss, t0 + r.lowerBound * ts, ts, r.count)
        return
    }
    let r = f32PartRange(rows, part, parts)
    if r.isEmpty { return }
    var c = F32RowCursor(dims: D, a: S, b: T, row: r.lowerBound)
    for _ in r {
        copyRun(s0 + c.offA, ss, t0 + c.offB, ts, n)
        c.next()
    }
}

@inline(__always)
private func copyRun(_ s: UnsafePointer<Float>, _ ss: Int, _ t: UnsafeMutablePointer<Float>, _ ts: Int, _ n: Int) {
    if ss == 1 && ts == 1 {
        if n <= 16 {
            // Short runs (concats of pooled columns): a call to memmove costs more than the copy.
            for i in 0..<n { t[i] = s[i] }
        } else {
            t.update(from: s, count: n)
        }
    } else if ts == 1 {
        for i in 0..<n { t[i] = s[i * ss] }
    } else {
        for i in 0..<n { t[i * ts] = s[i * ss] }
    }
}

public func f32Fill(_ dst: UnsafeMutablePointer<Float>, count: Int, value: Float, part: Int = 0, parts: Int = 1) {
    let r = f32PartRange(count, part, parts)
    (dst + r.lowerBound).update(repeating: value, count: r.count)
}

/// Walk for a transpose: out[i] = in[perm-mapped index].
public func f32TransposeCopy(inShape: [Int], perm: [Int]) -> F32StridedCopy {
    let inStrides = f32ContiguousStrides(inShape)
    let outShape = perm.map { inShape[$0] }
    return F32StridedCopy(dims: outShape, srcStrides: perm.map { inStrides[$0] },
                          dstStrides: f32ContiguousStrides(outShape), srcOffset: 0, dstOffset: 0)
}

/// Walk for a slice whose per-axis start/step are already clamped (full rank).
public func f32SliceCopy(inShape: [Int], outShape: [Int], starts: [Int], steps: [Int]) -> F32StridedCopy {
    let inStrides = f32ContiguousStrides(inShape)
    var offset = 0
    for i in 0..<inShape.count { offset += starts[i] * inStrides[i] }
    return F32StridedCopy(dims: outShape, srcStrides: (0..<inShape.count).map { inStrides[$0] * steps[$0] },
                          dstStrides: f32ContiguousStrides(outShape), srcOffset: offset, dstOffset: 0)
}

/// Walk placing a whole input inside a larger output at per-axis `origin` (pad, concat).
public func f32PlaceCopy(inShape: [Int], outShape: [Int], origin: [Int]) -> F32StridedCopy {
    let outStrides = f32ContiguousStrides(outShape)
    var offset = 0
    for i in 0..<outShape.count { offset += origin[i] * outStrides[i] }
    return F32StridedCopy(dims: inShape, srcStrides: f32ContiguousStrides(inShape),
                          dstStrides: outStrides, srcOffset: 0, dstOffset: offset)
}
