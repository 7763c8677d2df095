// Resize of the last two axes (NCHW), nearest or bilinear, with ONNX's coordinate transforms.

public enum F32CoordinateTransform: UInt8, Sendable { case halfPixel, alignCorners, asymmetric, pytorchHalfPixel }
public enum F32NearestRounding: UInt8, Sendable { case floor, ceil, roundPreferFloor, roundPreferCeil }

public struct F32ResizeShape: Sendable, Equatable {
    public var planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    public var linear: Bool
    public var transform: F32CoordinateTransform
    public var nearest: F32NearestRounding
    public init(planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int, linear: Bool,
                transform: F32CoordinateTransform, nearest: F32NearestRounding = .floor) {
        self.planes = planes; self.inHeight = inHeight; self.inWidth = inWidth
        self.outHeight = outHeight; self.outWidth = outWidth
        self.linear = linear; self.transform = transform; self.nearest = nearest
    }
}

/// Source coordinate of output index `o` (scale = outLen / inLen, as ONNX Runtime uses for `sizes`).
@inline(__always)
public func f32ResizeSource(_ o: Int, inLen: Int, outLen: Int, _ t: F32CoordinateTransform) -> Float {
    let scale = Float(outLen) / Float(inLen)
    switch t {
    case .halfPixel: return (Float(o) + 0.5) / scale - 0.5
    case .pytorchHalfPixel: return outLen > 1 ? (Float(o) + 0.5) / scale - 0.5 : 0
    case .alignCorners: return outLen == 1 ? 0 : Float(o) * Float(inLen - 1) / Float(outLen - 1)
    case .asymmetric: return Float(o) / scale
    }
}

@inline(__always)
private func nearestIndex(_ x: Float, _ len: Int, _ r: F32NearestRounding) -> Int {
    var i: Int
    switch r {
    case .floor: i = Int(x.rounded(.down))
    case .ceil: i = Int(x.rounded(.up))
    case .roundPreferFloor: i = (x - x.rounded(.down) == 0.5) ? Int(x.rounded(.down)) : Int(x.rounded(.toNearestOrAwayFromZero))
    case .roundPreferCeil: i = (x - x.rounded(.down) == 0.5) ? Int(x.rounded(.up)) : Int(x.rounded(.toNearestOrAwayFromZero))
    }
    return Swift.max(0, Swift.min(len - 1, i))
}

@inline(__always)
private func linearTap(_ o: Int, _ inLen: Int, _ outLen: Int, _ t: F32CoordinateTransform) -> (Int, Int, Float) {
    let (i0, f) = f32ResizeLinearTap(o, inLen: inLen, outLen: outLen, t)
    return (i0, Swift.min(i0 + 1, inLen - 1), f)
}

/// Linear resize tap of output index `o`: the lower source index (the upper one is
/// min(i0 + 1, inLen − 1)) and the upper one's weight.
@inline(__always)
public func f32ResizeLinearTap(_ o: Int, inLen: Int, outLen: Int, _ t: F32CoordinateTransform) -> (i0: Int, f: Float) {
    var x = f32ResizeSource(o, inLen: inLen, outLen: outLen, t)
    x = Swift.max(0, Swift.min(x, Float(inLen - 1)))
    let i0 = Swift.min(Int(x), inLen - 1)
    return (i0, x - Float(i0))
}

/// Per-thread scratch (floats) the table-driven `f32Resize` needs for an output `outWidth` wide:
/// two Int32 column-index tables, two column-weight tables and two horizontally resized rows.
public func f32ResizeScratchFloats(outWidth: Int) -> Int { 6 * outWidth }

/// Separable resize. Without `scratch` it runs the scalar walk (`f32ResizeReference`). With
/// `scratch` (`f32ResizeScratchFloats` floats, private to this part) the column taps are tabled once
/// per call and, for linear, each input row is resized horizontally once into a two-row cache, then
/// output rows are vertical blends of cached rows (eight lanes): a ×4 upsample does a quarter of
/// the horizontal work the per-pixel walk did, with no per-pixel coordinate arithmetic. Same
/// expressions in the same order as the reference, so the results are bit-identical.
public func f32Resize(_ s: F32ResizeShape, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                      part: Int = 0, parts: Int = 1, scratch: UnsafeMutablePointer<Float>? = nil) {
    guard let scratch else {
        f32ResizeReference(s, src, dst, part: part, parts: parts)
        return
    }
    let items = f32PartRange(s.planes * s.outHeight, part, parts)
    if items.isEmpty { return }
    let W = s.outWidth
    scratch.withMemoryRebound(to: Int32.self, capacity: 2 * W) { idx in
        if s.linear {
            resizeLinearRows(s, src, dst, items, x0: idx, x1: idx + W, floats: scratch + 2 * W)
        } else {
            resizeNearestRows(s, src, dst, items, idx)
        }
    }
}

private func resizeLinearRows(_ s: F32ResizeShape, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                              _ items: Range<Int>, x0: UnsafeMutablePointer<Int32>, x1: UnsafeMutablePointer<Int32>,
                              floats: UnsafeMutablePointer<Float>) {
    let W = s.outWidth, inW = s.inWidth, inH = s.inHeight, outH = s.outHeight
    let w0 = floats, w1 = floats + W
    let rowA = floats + 2 * W, rowB = floats + 3 * W
    for ox in 0..<W {
        let (a, b, fx) = linearTap(ox, inW, W, s.transform)
        x0[ox] = Int32(truncatingIfNeeded: a); x1[ox] = Int32(truncatingIfNeeded: b)
        w0[ox] = 1 - fx; w1[ox] = fx
    }
    @inline(__always)
    func fill(_ h: UnsafeMutablePointer<Float>, _ key: Int) {
        let r = src + key * inW     // key = plane * inH + y: planes are contiguous, so this is the row
        for ox in 0..<W { h[ox] = r[Int(x0[ox])] * w0[ox] + r[Int(x1[ox])] * w1[ox] }
    }
    var cache = F32RowPairCache(rowA, rowB)   // keyed by input row: plane * inH + y
    for item in items {
        let p = item / outH, oy = item % outH
        let (y0, y1, fy) = linearTap(oy, inH, outH, s.transform)
        let (r0, r1, missing) = cache.rows(p * inH + y0, p * inH + y1)
        if missing.0 { fill(r0, p * inH + y0) }
        if missing.1 { fill(r1, p * inH + y1) }
        f32BlendRows(r0, r1, 1 - fy, fy, dst + item * W, count: W)
    }
}

/// Two slots of horizontally resized input rows, from which the linear resizes blend each output
/// row: `rows(k0, k1)` returns the slots for rows k0 and k1 and which of them the caller must
/// fill now (a missing row goes to the slot the other does not use), so upsampling resizes each
/// input row once. (No fill closure: unoptimised builds would box its captures per call.)
public struct F32RowPairCache {
    private let rowA: UnsafeMutablePointer<Float>, rowB: UnsafeMutablePointer<Float>
    private var tagA = -1, tagB = -1
    public init(_ rowA: UnsafeMutablePointer<Float>, _ rowB: UnsafeMutablePointer<Float>) { self.rowA = rowA; self.rowB = rowB }

    @inline(__always)
    public mutating func rows(_ k0: Int, _ k1: Int)
        -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, missing: (Bool, Bool)) {
        let r0: UnsafeMutablePointer<Float>, r1: UnsafeMutablePointer<Float>
        var missing = (false, false)
        if tagA == k0 { r0 = rowA } else if tagB == k0 { r0 = rowB }
        else if tagA == k1 { tagB = k0; r0 = rowB; missing.0 = true }
        else { tagA = k0; r0 = rowA; missing.0 = true }
        if tagA == k1 { r1 = rowA } else if tagB == k1 { r1 = rowB }
        else if r0 == rowA { tagB = k1; r1 = rowB; missing.1 = true }
        else { tagA = k1; r1 = rowA; missing.1 = true }
        return (r0, r1, missing)
    }
}

/// out[i] = r0[i]·g + r1[i]·f (the vertical pass of the linear resizes): the same two products
/// and sum on every path (AVX2 twin on x86, SIMD8 here), so the results are bit-identical.
public func f32BlendRows(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ g: Float, _ f: Float,
                         _ out: UnsafeMutablePointer<Float>, count: Int, path: F32Path = .preferred) {
    #if arch(x86_64)
    if path.usesAVX2Twins {
        f32BlendRowsAVX2(r0: r0, r1: r1, g: g, f: f, out: out, count: count)
        return
    }
    #endif
    let gv = SIMD8<Float>(repeating: g), fv = SIMD8<Float>(repeating: f)
    var i = 0
    while i + 8 <= count { f32Store8(f32Load8(r0 + i) * gv + f32Load8(r1 + i) * fv, out + i); i += 8 }
    while i < count { out[i] = r0[i] * g + r1[i] * f; i += 1 }
}

private func resizeNearestRows(_ s: F32ResizeShape, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                               _ items: Range<Int>, _ xi: UnsafeMutablePointer<Int32>) {
    let W = s.outWidth, inW = s.inWidth, inH = s.inHeight, outH = s.outHeight
    for ox in 0..<W {
        xi[ox] = Int32(truncatingIfNeeded: nearestIndex(f32ResizeSource(ox, inLen: inW, outLen: W, s.transform), inW, s.nearest))
    }
    var lastKey = -1
    for item in items {
        let p = item / outH, oy = item % outH
        let key = p * inH + nearestIndex(f32ResizeSource(oy, inLen: inH, outLen: outH, s.transform), inH, s.nearest)
        let out = dst + item * W
        if key == lastKey {
            // Same source row as the previous output row (upsampling): copy that row.
            out.update(from: out - W, count: W)
        } else {
            let r = src + key * inW
            for ox in 0..<W { out[ox] = r[Int(xi[ox])] }
        }
        lastKey = key
    }
}

/// The per-pixel walk (the oracle in tests; the path when no scratch is given).
public func f32ResizeReference(_ s: F32ResizeShape, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                      part: Int = 0, parts: Int = 1) {
    // Work items are output rows of all planes, so a single plane still splits across threads.
    for item in f32PartRange(s.planes * s.outHeight, part, parts) {
        let p = item / s.outHeight, oy = item % s.outHeight
        let plane = src + p * s.inHeight * s.inWidth
        let out = dst + item * s.outWidth
        if s.linear {
            let (y0, y1, fy) = linearTap(oy, s.inHeight, s.outHeight, s.transform)
            let r0 = plane + y0 * s.inWidth, r1 = plane + y1 * s.inWidth
            for ox in 0..<s.outWidth {
                let (x0, x1, fx) = linearTap(ox, s.inWidth, s.outWidth, s.transform)
                let top = r0[x0] * (1 - fx) + r0[x1] * fx
                let bot = r1[x0] * (1 - fx) + r1[x1] * fx
                out[ox] = top * (1 - fy) + bot * fy
            }
        } else {
            let y = nearestIndex(f32ResizeSource(oy, inLen: s.inHeight, outLen: s.outHeight, s.transform), s.inHeight, s.nearest)
            let r = plane + y * s.inWidth
            for ox in 0..<s.outWidth {
                out[ox] = r[nearestIndex(f32ResizeSource(ox, inLen: s.inWidth, outLen: s.outWidth, s.transform), s.inWidth, s.nearest)]
            }
        }
    }
}
