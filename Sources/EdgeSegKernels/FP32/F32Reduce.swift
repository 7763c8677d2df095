// Reductions and pooling.

public enum F32ReduceOp: UInt8, Sendable { case mean, max, min, sum }

/// Output element o walks `outer` (kept axes, reduced ones size 1) and accumulates over `inner`
/// (reduced axes, kept ones size 1). Strides address the input.
public struct F32Reduce: Sendable, Equatable {
    public var outer = F32Dims6()
    public var outerStrides = F32Dims6()
    public var inner = F32Dims6()
    public var innerStrides = F32Dims6()
    public init() {}
    public init(inShape: [Int], axes: [Int]) {
        let st = f32ContiguousStrides(inShape)
        var oDims: [Int] = [], oSt: [Int] = [], iDims: [Int] = [], iSt: [Int] = []
        for a in 0..<inShape.count {
            if axes.contains(a) { iDims.append(inShape[a]); iSt.append(st[a]) } else { oDims.append(inShape[a]); oSt.append(st[a]) }
        }
        let oc = f32Coalesce(dims: oDims, strides: [oSt])
        let ic = f32Coalesce(dims: iDims, strides: [iSt])
        outer = F32Dims6(oc.dims, fill: 1); outerStrides = F32Dims6(oc.strides[0], fill: 0)
        inner = F32Dims6(ic.dims, fill: 1); innerStrides = F32Dims6(ic.strides[0], fill: 0)
    }
}

public func f32ReduceRun(_ op: F32ReduceOp, _ d: F32Reduce, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                         part: Int = 0, parts: Int = 1) {
    // Coalesced kept and reduced axes each number at most five unless one set is empty, so axis 0
    // is 1 in both whenever both are non-trivial; the walks below rely on it (the scalar walk does not).
    guard d.outer.d0 == 1 && d.inner.d0 == 1 else {
        f32ReduceReference(op, d, src, dst, part: part, parts: parts)
        return
    }
    if d.outer.d5 > 1 && d.outerStrides.d5 < d.innerStrides.d5 {
        switch op {
        case .mean, .sum: f32ReduceAccumulate(F32AddOp.self, op, d, src, dst, part: part, parts: parts, 0)
        case .max: f32ReduceAccumulate(F32MaxOp.self, op, d, src, dst, part: part, parts: parts, -.infinity)
        case .min: f32ReduceAccumulate(F32MinOp.self, op, d, src, dst, part: part, parts: parts, .infinity)
        }
        return
    }
    switch op {
    case .mean, .sum: f32ReduceRows(F32AddOp.self, op, d, src, dst, part: part, parts: parts, 0)
    case .max: f32ReduceRows(F32MaxOp.self, op, d, src, dst, part: part, parts: parts, -.infinity)
    case .min: f32ReduceRows(F32MinOp.self, op, d, src, dst, part: part, parts: parts, .infinity)
    }
}

/// Reduction whose reduced axes are innermost (a mean over W, a global max): every output folds
/// its runs into eight-lane accumulators (contiguous runs) and then across the lanes. `f` is
/// Swift.max/min's own comparison, so NaN inputs are skipped exactly as the scalar walk skips them.
@inline(__always)
private func f32ReduceRows<Op: F32PairOp>(_: Op.Type, _ op: F32ReduceOp, _ d: F32Reduce, _ src: UnsafePointer<Float>,
                                          _ dst: UnsafeMutablePointer<Float>, part: Int, parts: Int, _ initial: Float) {
    let I = d.inner, IS = d.innerStrides
    let count = I.product
    let innerRows = I.d1 * I.d2 * I.d3 * I.d4
    let n = I.d5, s5 = IS.d5
    let r = f32PartRange(d.outer.product, part, parts)
    if r.isEmpty { return }
    var oc = F32RowCursor(dims: d.outer.shiftedOut, a: d.outerStrides.shiftedOut, b: F32Dims6(), row: r.lowerBound)
    let inv = 1 / Float(count)
    var o = r.lowerBound
    // One contiguous run per output (a mean / max over W of NCHW): eight outputs at a time, their
    // cross-lane folds done together by three even/odd merges, which apply the scalar tree below
    // in the same order (lane 2k op lane 2k+1 at every level), so results are bit-identical.
    if innerRows == 1 && s5 == 1 {
        while o + 8 <= r.upperBound {
            var lanes = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                         SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var tails = SIMD8<Float>(repeating: initial)
            withUnsafeMutableBytes(of: &lanes) { lb in
                let lp = lb.baseAddress!.assumingMemoryBound(to: SIMD8<Float>.self)
                for k in 0..<8 {
                    let p = src + oc.offA
                    var v0 = SIMD8<Float>(repeating: initial), v1 = v0
                    var i = 0
                    while i + 16 <= n { v0 = Op.lanes(v0, f32Load8(p + i)); v1 = Op.lanes(v1, f32Load8(p + i + 8)); i += 16 }
                    if i + 8 <= n { v0 = Op.lanes(v0, f32Load8(p + i)); i += 8 }
                    var acc = initial
                    while i < n { acc = Op.scalar(acc, p[i]); i += 1 }
                    tails[k] = acc
                    lp[k] = Op.lanes(v0, v1)
                    oc.next()
                }
            }
            @inline(__always) func merge(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
                let ab = SIMD16<Float>(lowHalf: a, highHalf: b)
                return Op.lanes(ab.evenHalf, ab.oddHalf)
            }
            let h = merge(merge(merge(lanes.0, lanes.1), merge(lanes.2, lanes.3)),
                          merge(merge(lanes.4, lanes.5), merge(lanes.6, lanes.7)))
            let res = Op.lanes(tails, h)
            f32Store8(op == .mean ? res * inv : res, dst + o)
            o += 8
        }
    }
    while o < r.upperBound {
        let base = src + oc.offA
        var v0 = SIMD8<Float>(repeating: initial), v1 = v0
        var acc = initial
        var ic = F32RowCursor(dims: I, a: IS, b: F32Dims6())
        for _ in 0..<innerRows {
            let p = base + ic.offA
            if s5 == 1 {
                var i = 0
                while i + 16 <= n { v0 = Op.lanes(v0, f32Load8(p + i)); v1 = Op.lanes(v1, f32Load8(p + i + 8)); i += 16 }
                if i + 8 <= n { v0 = Op.lanes(v0, f32Load8(p + i)); i += 8 }
                while i < n { acc = Op.scalar(acc, p[i]); i += 1 }
            } else {
                for i in 0..<n { acc = Op.scalar(acc, p[i * s5]) }
            }
            ic.next()
        }
        v0 = Op.lanes(v0, v1)
        let h = Op.scalar(Op.scalar(Op.scalar(v0[0], v0[1]), Op.scalar(v0[2], v0[3])), Op.scalar(Op.scalar(v0[4], v0[5]), Op.scalar(v0[6], v0[7])))
        acc = Op.scalar(acc, h)
        dst[o] = op == .mean ? acc * inv : acc
        oc.next()
        o += 1
    }
}

/// Reduction whose kept innermost axis is denser than every reduced axis (e.g. a channel mean of
/// NCHW, a max over H): walk the reduced indices outside and accumulate whole output runs, so reads stream.
@inline(__always)
private func f32ReduceAccumulate<Op: F32PairOp>(_: Op.Type, _ op: F32ReduceOp, _ d: F32Reduce, _ src: UnsafePointer<Float>,
                                                _ dst: UnsafeMutablePointer<Float>, part: Int, parts: Int, _ initial: Float) {
    let O = d.outer, OS = d.outerStrides
    let n = O.d5, s5 = OS.d5
    let r = f32PartRange(O.product, part, parts)
    let count = d.inner.product
    let inner = d.inner.shiftedOut, innerStrides = d.innerStrides.shiftedOut
    var o = r.lowerBound
    while o < r.upperBound {
        var row = o / n
        let j0 = o % n
        // Blocks of at most 2048 outputs stay in L1 across the reduced walk (a channel max of a
        // 128×128 map re-read and re-wrote 64 KB per channel otherwise).
        let len = Swift.min(n - j0, r.upperBound - o, 2048)
        let j4 = row % O.d4; row /= O.d4
        let j3 = row % O.d3; row /= O.d3
        let j2 = row % O.d2; row /= O.d2
        let j1 = row % O.d1
        let base = src + j1 * OS.d1 + j2 * OS.d2 + j3 * OS.d3 + j4 * OS.d4 + j0 * s5
        let out = dst + o
        if s5 == 1 && len <= 64 {
            // Short output runs (a max over H of a 32-wide map): hold up to 32 outputs in registers
            // across the reduced walk instead of re-loading and re-storing them per reduced index.
            // Each output still folds its inputs in the same order from `initial`: bit-identical.
            var k = 0
            while k < len {
                let m = Swift.min(32, len - k)
                let iv = SIMD8<Float>(repeating: initial)
                var a0 = iv, a1 = iv, a2 = iv, a3 = iv
                var ic = F32RowCursor(dims: inner, a: innerStrides, b: F32Dims6())
                if m == 32 {
                    for _ in 0..<count {
                        let p = base + ic.offA + k
                        a0 = Op.lanes(a0, f32Load8(p)); a1 = Op.lanes(a1, f32Load8(p + 8))
                        a2 = Op.lanes(a2, f32Load8(p + 16)); a3 = Op.lanes(a3, f32Load8(p + 24))
                        ic.next()
                    }
                    if op == .mean {
                        let inv = SIMD8<Float>(repeating: 1 / Float(count))
                        a0 *= inv; a1 *= inv; a2 *= inv; a3 *= inv
                    }
                    f32Store8(a0, out + k); f32Store8(a1, out + k + 8)
                    f32Store8(a2, out + k + 16); f32Store8(a3, out + k + 24)
                } else if m >= 8 {
                    // 8…31 outputs: the first m & ~7 in registers, the rest scalar.
                    let nv = m / 8
                    for _ in 0..<count {
                        let p = base + ic.offA + k
                        a0 = Op.lanes(a0, f32Load8(p))
                        if nv > 1 { a1 = Op.lanes(a1, f32Load8(p + 8)) }
                        if nv > 2 { a2 = Op.lanes(a2, f32Load8(p + 16)) }
                        ic.next()
                    }
                    if op == .mean {
                        let inv = SIMD8<Float>(repeating: 1 / Float(count))
                        a0 *= inv; a1 *= inv; a2 *= inv
                    }
                    f32Store8(a0, out + k)
                    if nv > 1 { f32Store8(a1, out + k + 8) }
                    if nv > 2 { f32Store8(a2, out + k + 16) }
                    k += nv * 8
                    continue
                } else {
                    for j in k..<(k + m) {
                        var acc = initial
                        var jc = F32RowCursor(dims: inner, a: innerStrides, b: F32Dims6())
                        for _ in 0..<count { acc = Op.scalar(acc, base[jc.offA + j]); jc.next() }
                        out[j] = op == .mean ? acc * (1 / Float(count)) : acc
                    }
                }
                k += m
            }
            o += len
            continue
        }
        out.update(repeating: initial, count: len)
        var ic = F32RowCursor(dims: inner, a: innerStrides, b: F32Dims6())
        for _ in 0..<count {
            let p = base + ic.offA
            if s5 == 1 {
                var k = 0
                while k + 8 <= len { f32Store8(Op.lanes(f32Load8(out + k), f32Load8(p + k)), out + k); k += 8 }
                while k < len { out[k] = Op.scalar(out[k], p[k]); k += 1 }
            } else {
                for k in 0..<len { out[k] = Op.scalar(out[k], p[k * s5]) }
            }
            ic.next()
        }
        if op == .mean {
            let inv = 1 / Float(count)
            for k in 0..<len { out[k] *= inv }
        }
        o += len
    }
}

/// The scalar walk (the oracle in tests, and the fallback for walks the fast paths do not take).
public func f32ReduceReference(_ op: F32ReduceOp, _ d: F32Reduce, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                               part: Int = 0, parts: Int = 1) {
    let O = d.outer, OS = d.outerStrides, I = d.inner, IS = d.innerStrides
    let count = I.product
    for o in f32PartRange(O.product, part, parts) {
        var r = o
        let j5 = r % O.d5; r /= O.d5
        let j4 = r % O.d4; r /= O.d4
        let j3 = r % O.d3; r /= O.d3
        let j2 = r % O.d2; r /= O.d2
        let j1 = r % O.d1; r /= O.d1
        let base = src + r * OS.d0 + j1 * OS.d1 + j2 * OS.d2 + j3 * OS.d3 + j4 * OS.d4 + j5 * OS.d5
        var acc: Float
        switch op {
        case .max: acc = -.infinity
        case .min: acc = .infinity
        default: acc = 0
        }
        for q0 in 0..<count {
            var q = q0
            let i5 = q % I.d5; q /= I.d5
            let i4 = q % I.d4; q /= I.d4
            let i3 = q % I.d3; q /= I.d3
            let i2 = q % I.d2; q /= I.d2
            let i1 = q % I.d1; q /= I.d1
            let x = base[q * IS.d0 + i1 * IS.d1 + i2 * IS.d2 + i3 * IS.d3 + i4 * IS.d4 + i5 * IS.d5]
            switch op {
            case .mean, .sum: acc += x
            case .max: acc = Swift.max(acc, x)
            case .min: acc = Swift.min(acc, x)
            }
        }
        dst[o] = op == .mean ? acc / Float(count) : acc
    }
}

/// Global average / max over each of `planes` contiguous planes of `planeSize`.
public func f32GlobalPool(isMax: Bool, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                          planes: Int, planeSize: Int, part: Int = 0, parts: Int = 1) {
    for p in f32PartRange(planes, part, parts) {
        let s = src + p * planeSize
        if isMax {
            dst[p] = f32FoldRun(F32MaxOp.self, s, planeSize, -.infinity)
        } else {
            dst[p] = f32FoldRun(F32AddOp.self, s, planeSize, 0) / Float(planeSize)
        }
    }
}

/// Folds a contiguous run with two eight-lane accumulators, then across the lanes.
@inline(__always)
private func f32FoldRun<Op: F32PairOp>(_: Op.Type, _ p: UnsafePointer<Float>, _ n: Int, _ initial: Float) -> Float {
    var v0 = SIMD8<Float>(repeating: initial), v1 = v0
    var i = 0
    while i + 16 <= n { v0 = Op.lanes(v0, f32Load8(p + i)); v1 = Op.lanes(v1, f32Load8(p + i + 8)); i += 16 }
    if i + 8 <= n { v0 = Op.lanes(v0, f32Load8(p + i)); i += 8 }
    var acc = initial
    while i < n { acc = Op.scalar(acc, p[i]); i += 1 }
    v0 = Op.lanes(v0, v1)
    let h = Op.scalar(Op.scalar(Op.scalar(v0[0], v0[1]), Op.scalar(v0[2], v0[3])), Op.scalar(Op.scalar(v0[4], v0[5]), Op.scalar(v0[6], v0[7])))
    return Op.scalar(acc, h)
}

public struct F32PoolShape: Sendable, Equatable {
    public var planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    public var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    public var isMax: Bool, countIncludePad: Bool
    public init(planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int,
                kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                padTop: Int, padLeft: Int, padBottom: Int, padRight: Int, isMax: Bool, countIncludePad: Bool) {
        self.planes = planes; self.inHeight = inHeight; self.inWidth = inWidth
        self.outHeight = outHeight; self.outWidth = outWidth
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.isMax = isMax; self.countIncludePad = countIncludePad
    }
}

/// Max / average pooling with ONNX Runtime's window rules: windows are clipped to the
/// padded extent for count_include_pad and to the real input for the sum.
public func f32Pool(_ s: F32PoolShape, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                    part: Int = 0, parts: Int = 1) {
    for p in f32PartRange(s.planes, part, parts) {
        let plane = src + p * s.inHeight * s.inWidth
        let out = dst + p * s.outHeight * s.outWidth
        for oy in 0..<s.outHeight {
            var y0 = oy * s.strideH - s.padTop
            var y1 = Swift.min(y0 + s.kernelH, s.inHeight + s.padBottom)
            let padH = y1 - y0
            y0 = Swift.max(y0, 0); y1 = Swift.min(y1, s.inHeight)
            for ox in 0..<s.outWidth {
                var x0 = ox * s.strideW - s.padLeft
                var x1 = Swift.min(x0 + s.kernelW, s.inWidth + s.padRight)
                let padW = x1 - x0
                x0 = Swift.max(x0, 0); x1 = Swift.min(x1, s.inWidth)
                if s.isMax {
                    var m = -Float.infinity
                    if y0 < y1 && x0 < x1 {
                        for y in y0..<y1 { for x in x0..<x1 { m = Swift.max(m, plane[y * s.inWidth + x]) } }
                    }
                    out[oy * s.outWidth + ox] = m
                } else {
                    var acc: Float = 0
                    if y0 < y1 && x0 < x1 {
                        for y in y0..<y1 { for x in x0..<x1 { acc += plane[y * s.inWidth + x] } }
                    }
                    let n = s.countIncludePad ? padH * padW : Swift.max(0, y1 - y0) * Swift.max(0, x1 - x0)
                    out[oy * s.outWidth + ox] = n > 0 ? acc / Float(n) : 0
                }
            }
        }
    }
}
