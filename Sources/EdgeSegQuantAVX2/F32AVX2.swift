// FP32 depthwise 3x3 and small GEMM for x86 hosts with AVX2 + FMA: the vector bodies of
// EdgeSegKernels/FP32/F32FastKernels.swift, copied verbatim except `f32MulAdd` (here a fused
// multiply-add), compiled in this module so that SIMD8<Float> is one ymm register and the
// multiply-adds are vfmadd (EdgeSegKernels is baseline x86-64: SSE2, no FMA). Keep the two in step.
// Results differ from the portable path only by FMA rounding (tests: FP32FastKernelTests).
#if arch(x86_64)

@_cdecl("edgeseg_f32_dw3x3_plane_avx2")
public func f32DwPlaneAVX2(input: UnsafePointer<Float>, geometry: UnsafePointer<Int>, weights: UnsafePointer<Float>,
                           bias: Float, residual: UnsafePointer<Float>?, lo: Float, hi: Float,
                           pad: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
    f32DwPlaneBody(SIMD8<Float>.self, input: input, g: geometry, w: weights, bias: bias, residual: residual,
                   lo: lo, hi: hi, pad: pad, out: output)
}

@_cdecl("edgeseg_f32_gemm_avx2")
public func f32GemmAVX2(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int) {
    f32GemmBody(SIMD8<Float>.self, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
}

/// out[i] = r0[i]·g + r1[i]·f: two products and a sum, never fused (Swift contracts nothing), so
/// the bits are the portable loop's; 16 floats per step in two ymm.
@_cdecl("edgeseg_f32_blend_rows_avx2")
public func f32BlendRowsAVX2(r0: UnsafePointer<Float>, r1: UnsafePointer<Float>, g: Float, f: Float,
                             out: UnsafeMutablePointer<Float>, count: Int) {
    let gv = SIMD8<Float>(repeating: g), fv = SIMD8<Float>(repeating: f)
    @inline(__always) func at(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }
    var i = 0
    while i + 16 <= count {
        let a = at(r0, i) * gv + at(r1, i) * fv, b = at(r0, i + 8) * gv + at(r1, i + 8) * fv
        UnsafeMutableRawPointer(out + i).storeBytes(of: a, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(out + i + 8).storeBytes(of: b, as: SIMD8<Float>.self)
        i += 16
    }
    while i < count { out[i] = r0[i] * g + r1[i] * f; i += 1 }
}

// ---- copied from EdgeSegKernels/FP32/F32FastKernels.swift ----

@inline(__always)
func f32MulAdd<V: SIMD>(_ acc: V, _ x: V, _ w: V) -> V where V.Scalar == Float {
    acc.addingProduct(x, w)   // vfmadd231ps: this module is built with -mfma
}

@inline(__always)
func f32LoadV<V: SIMD>(_ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
func f32StoreV<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// min(max(v, lo), hi) per lane. Forced inline: the standard library's generic pointwiseMin /
/// pointwiseMax stayed out-of-line calls with a scalar loop inside (a third of the kernel's time).
@inline(__always)
func f32Clamp<V: SIMD>(_ v: V, _ lo: V, _ hi: V) -> V where V.Scalar == Float {
    var r = v
    for i in 0..<V.scalarCount {
        let x = v[i] > lo[i] ? v[i] : lo[i]
        r[i] = x < hi[i] ? x : hi[i]
    }
    return r
}

// MARK: depthwise 3x3, one plane

/// Geometry slots of `f32DwPlaneBody` (a flat Int array so the tier's C signature stays short).
enum F32DwGeo {
    static let inH = 0, inW = 1, outH = 2, outW = 3, strideH = 4, strideW = 5, padTop = 6, padLeft = 7
    static let dilH = 8, dilW = 9, phaseLen = 10, rowLen = 11, rows = 12
    static let count = 13
}

/// One (image, channel) plane: copies the input into `pad` (zero borders, columns split into
/// strideW phases: padded column c lands in phase c % sw at index c / sw), then computes every
/// output row from it with unmasked vector loads only. The copy replaces all border code, and
/// the phase split turns a stride-2 tap into a contiguous load (no even-lane shuffle per tap).
/// Where two output rows share two of their three input rows (dilationH a multiple of strideH)
/// they are computed in one pass: 12 loads feed 18 multiply-adds instead of 9 feeding 9.
/// out = clamp(bias + Σ taps + residual, lo, hi); `lo`/`hi` = ∓inf when the caller applies the activation.
@inline(__always)
func f32DwPlaneBody<V: SIMD>(_: V.Type, input: UnsafePointer<Float>, g: UnsafePointer<Int>, w: UnsafePointer<Float>,
                             bias: Float, residual: UnsafePointer<Float>?, lo: Float, hi: Float,
                             pad: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    let H = g[F32DwGeo.inH], W = g[F32DwGeo.inW], Ho = g[F32DwGeo.outH], Wo = g[F32DwGeo.outW]
    let sh = g[F32DwGeo.strideH], sw = g[F32DwGeo.strideW], padTop = g[F32DwGeo.padTop], padLeft = g[F32DwGeo.padLeft]
    let dh = g[F32DwGeo.dilH], dw = g[F32DwGeo.dilW]
    let phaseLen = g[F32DwGeo.phaseLen], rowLen = g[F32DwGeo.rowLen], rows = g[F32DwGeo.rows]
    let L = V.scalarCount

    // 1. Padded, phase-split copy.
    for r in 0..<rows {
        let iy = r - padTop
        let dst = pad + r * rowLen
        if iy < 0 || iy >= H {
            dst.update(repeating: 0, count: rowLen)
            continue
        }
        let src = input + iy * W
        if sw == 1 {
            let lead = Swift.min(padLeft, phaseLen)
            let body = Swift.max(0, Swift.min(W, phaseLen - lead))
            if lead > 0 { dst.update(repeating: 0, count: lead) }
            if body > 0 { (dst + lead).update(from: src, count: body) }
            if phaseLen > lead + body { (dst + lead + body).update(repeating: 0, count: phaseLen - lead - body) }
        } else {
            var j = 0
            if sw == 2 {
                // Index j reads columns 2j - padLeft and 2j + 1 - padLeft: scalar until both are
                // in the row, then 8 of each per step (one even/odd split of 16 floats).
                let e = dst, o = dst + phaseLen
                while j < phaseLen && 2 * j - padLeft < 0 {
                    let ix = 2 * j - padLeft
                    e[j] = ix >= 0 && ix < W ? src[ix] : 0
                    o[j] = ix + 1 >= 0 && ix + 1 < W ? src[ix + 1] : 0
                    j += 1
                }
                if j + 8 <= phaseLen && 2 * j - padLeft + 16 <= W {
                    // The last step is shifted back to end at the row's last full pair (rewrites
                    // the same values), so only the zero columns past the row are left to scalar code.
                    let jLast = Swift.min(phaseLen - 8, (W + padLeft - 16) / 2)
                    while true {
                        let jj = Swift.min(j, jLast)
                        let v = UnsafeRawPointer(src + 2 * jj - padLeft).loadUnaligned(as: SIMD16<Float>.self)
                        f32StoreV(v.evenHalf, e + jj)
                        f32StoreV(v.oddHalf, o + jj)
                        j = jj + 8
                        if jj == jLast { break }
                    }
                }
            }
            for q in 0..<sw {
                let d = dst + q * phaseLen
                for jj in j..<phaseLen {
                    let ix = jj * sw + q - padLeft
                    d[jj] = ix >= 0 && ix < W ? src[ix] : 0
                }
            }
        }
    }

    // 2. Output rows.
    let t0 = 0
    let t1 = (dw % sw) * phaseLen + dw / sw
    let t2 = ((2 * dw) % sw) * phaseLen + (2 * dw) / sw
    let w0 = V(repeating: w[0]), w1 = V(repeating: w[1]), w2 = V(repeating: w[2])
    let w3 = V(repeating: w[3]), w4 = V(repeating: w[4]), w5 = V(repeating: w[5])
    let w6 = V(repeating: w[6]), w7 = V(repeating: w[7]), w8 = V(repeating: w[8])
    let bv = V(repeating: bias), lov = V(repeating: lo), hiv = V(repeating: hi)
    let rowStep = dh * rowLen

    @inline(__always) func tapRow(_ acc: V, _ p: UnsafePointer<Float>, _ a: V, _ b: V, _ c: V) -> V {
        f32MulAdd(f32MulAdd(f32MulAdd(acc, f32LoadV(p + t0), a), f32LoadV(p + t1), b), f32LoadV(p + t2), c)
    }
    @inline(__always) func store(_ acc: V, _ o: UnsafeMutablePointer<Float>, _ res: UnsafePointer<Float>?, _ ox: Int) {
        var v = acc
        if let res { v += f32LoadV(res + ox) as V }
        f32StoreV(f32Clamp(v, lov, hiv), o + ox)
    }
    // Row tail: the vector was computed from zero padding beyond Wo; store its first Wo - ox lanes.
    @inline(never) func storeTail(_ v: V, _ o: UnsafeMutablePointer<Float>, _ res: UnsafePointer<Float>?, _ ox: Int) {
        for l in 0..<(Wo - ox) {
            var x = v[l]
            if let res { x += res[ox + l] }
            o[ox + l] = Swift.min(Swift.max(x, lo), hi)
        }
    }

    // Output rows oy and oy + pair read padded rows oy·sh + {0, 1, 2}·dh and oy·sh + {1, 2, 3}·dh
    // when pair·sh == dh (stride == dilation: pair 1; stride 1, dilation 2: pair 2), so such
    // pairs are computed together, in blocks of 2·pair rows.
    let pair = dh % sh == 0 ? dh / sh : 0
    var block = 0
    while block < Ho {
        for oy in block..<Swift.min(Ho, block + Swift.max(pair, 1)) {
            let q0 = UnsafePointer(pad + oy * sh * rowLen)
            let o0 = out + oy * Wo
            let r0 = residual.map { $0 + oy * Wo }
            if pair > 0 && oy + pair < Ho {
                let q1 = q0 + rowStep, q2 = q1 + rowStep, q3 = q2 + rowStep
                let o1 = o0 + pair * Wo
                let r1 = r0.map { $0 + pair * Wo }
                @inline(__always) func two(_ ox: Int) -> (V, V) {
                    var a0 = tapRow(bv, q0 + ox, w0, w1, w2)
                    var a1 = tapRow(bv, q1 + ox, w0, w1, w2)
                    a0 = tapRow(a0, q1 + ox, w3, w4, w5)
                    a1 = tapRow(a1, q2 + ox, w3, w4, w5)
                    a0 = tapRow(a0, q2 + ox, w6, w7, w8)
                    a1 = tapRow(a1, q3 + ox, w6, w7, w8)
                    return (a0, a1)
                }
                var ox = 0
                while ox + L <= Wo {
                    let (a0, a1) = two(ox)
                    store(a0, o0, r0, ox)
                    store(a1, o1, r1, ox)
                    ox += L
                }
                if ox < Wo {
                    let (a0, a1) = two(ox)
                    storeTail(a0, o0, r0, ox)
                    storeTail(a1, o1, r1, ox)
                }
            } else {
                let q1 = q0 + rowStep, q2 = q1 + rowStep
                @inline(__always) func one(_ ox: Int) -> V {
                    tapRow(tapRow(tapRow(bv, q0 + ox, w0, w1, w2), q1 + ox, w3, w4, w5), q2 + ox, w6, w7, w8)
                }
                var ox = 0
                while ox + L <= Wo {
                    store(one(ox), o0, r0, ox)
                    ox += L
                }
                if ox < Wo { storeTail(one(ox), o0, r0, ox) }
            }
        }
        block += pair > 0 ? 2 * pair : 1
    }
}

// MARK: small GEMM

/// c[m×n] = a[m×k] · b[k×n], row-major, no transposes, no allocation, no packing (the operands of
/// the products that reach it are small enough to stay in L1/L2). Tiles of 4 rows × 2 vectors
/// of columns; the last row / column block is shifted back to overlap the previous one (every
/// element is computed by the same sequence of operations wherever its tile starts, so the
/// overlap rewrites identical values), and m < 4 repeats the last row. Columns narrower than one
/// vector use SIMD4, then scalar code.
@inline(__always)
func f32GemmBody<V: SIMD>(_: V.Type, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                          b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) where V.Scalar == Float {
    if m <= 0 || n <= 0 { return }
    if k <= 0 {
        for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
        return
    }
    let L = V.scalarCount
    var i0 = 0
    while i0 < m {
        let i = Swift.max(0, Swift.min(i0, m - 4))
        let a0 = a + i * lda, a1 = a + Swift.min(i + 1, m - 1) * lda
        let a2 = a + Swift.min(i + 2, m - 1) * lda, a3 = a + Swift.min(i + 3, m - 1) * lda
        let c0 = c + i * ldc, c1 = c + Swift.min(i + 1, m - 1) * ldc
        let c2 = c + Swift.min(i + 2, m - 1) * ldc, c3 = c + Swift.min(i + 3, m - 1) * ldc
        if n >= 2 * L {
            var j0 = 0
            while j0 < n {
                let j = Swift.min(j0, n - 2 * L)
                var s00 = V(), s01 = V(), s10 = V(), s11 = V(), s20 = V(), s21 = V(), s30 = V(), s31 = V()
                var bp = b + j
                for p in 0..<k {
                    let b0: V = f32LoadV(bp), b1: V = f32LoadV(bp + L)
                    bp += ldb
                    let x0 = V(repeating: a0[p]), x1 = V(repeating: a1[p])
                    s00 = f32MulAdd(s00, x0, b0); s01 = f32MulAdd(s01, x0, b1)
                    s10 = f32MulAdd(s10, x1, b0); s11 = f32MulAdd(s11, x1, b1)
                    let x2 = V(repeating: a2[p]), x3 = V(repeating: a3[p])
                    s20 = f32MulAdd(s20, x2, b0); s21 = f32MulAdd(s21, x2, b1)
                    s30 = f32MulAdd(s30, x3, b0); s31 = f32MulAdd(s31, x3, b1)
                }
                f32StoreV(s00, c0 + j); f32StoreV(s01, c0 + j + L)
                f32StoreV(s10, c1 + j); f32StoreV(s11, c1 + j + L)
                f32StoreV(s20, c2 + j); f32StoreV(s21, c2 + j + L)
                f32StoreV(s30, c3 + j); f32StoreV(s31, c3 + j + L)
                j0 += 2 * L
            }
        } else if n >= 4 {
            f32GemmRows4x4(n: n, k: k, a0, a1, a2, a3, b: b, ldb: ldb, c0, c1, c2, c3)
        } else {
            for j in 0..<n {
                var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
                for p in 0..<k {
                    let bv = b[p * ldb + j]
                    s0 += a0[p] * bv; s1 += a1[p] * bv; s2 += a2[p] * bv; s3 += a3[p] * bv
                }
                c0[j] = s0; c1[j] = s1; c2[j] = s2; c3[j] = s3
            }
        }
        i0 += 4
    }
}

/// Narrow columns (4 <= n < 2 vectors): 4 rows × SIMD4 blocks, last block overlapped.
@inline(__always)
func f32GemmRows4x4(n: Int, k: Int, _ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>,
                    _ a2: UnsafePointer<Float>, _ a3: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                    _ c0: UnsafeMutablePointer<Float>, _ c1: UnsafeMutablePointer<Float>,
                    _ c2: UnsafeMutablePointer<Float>, _ c3: UnsafeMutablePointer<Float>) {
    typealias V4 = SIMD4<Float>
    var j0 = 0
    while j0 < n {
        let j = Swift.min(j0, n - 4)
        var s0 = V4(), s1 = V4(), s2 = V4(), s3 = V4()
        var bp = b + j
        for p in 0..<k {
            let bv: V4 = f32LoadV(bp)
            bp += ldb
            s0 = f32MulAdd(s0, V4(repeating: a0[p]), bv); s1 = f32MulAdd(s1, V4(repeating: a1[p]), bv)
            s2 = f32MulAdd(s2, V4(repeating: a2[p]), bv); s3 = f32MulAdd(s3, V4(repeating: a3[p]), bv)
        }
        f32StoreV(s0, c0 + j); f32StoreV(s1, c1 + j); f32StoreV(s2, c2 + j); f32StoreV(s3, c3 + j)
        j0 += 4
    }
}

#endif
