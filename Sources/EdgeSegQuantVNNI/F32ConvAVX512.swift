// FP32 conv GEMM for x86 hosts with AVX-512 (the executor's 1×1 and im2col convs when F32Path is
// .avx512): C[m × n] = A[m × k] · B[k × n] for one block of output columns, with the conv
// epilogue (bias, residual, clamp) applied while the tile is in registers. A is the weight matrix
// packed once at load into 8-row panels ([⌈m/8⌉][k][8], zero rows past m: f32PackConvWeights);
// B is an im2col tile or, for a 1×1 conv, the input planes themselves (rows `ldb` apart), or for
// a stride-1 conv with an output width that is a multiple of 16 the input planes read at each tap
// (f32ConvDirectBlockAVX512: no im2col tile). B is copied per K block into 48-column strips (each kc × 48, 24 KiB: stays in L1 while every
// 8-row panel of A streams past): the 1×1 convs' rows are a power of two apart (H·W floats), and
// reading them in place would map all kc rows to the same L1 sets. K blocks outermost: a K block
// of A (m × kc) stays in L2 for all strips, and B is read row by row, sequentially.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Micro-tile: 8 rows × 48 columns = 24 zmm accumulators; per k, 3 B loads + 8 broadcasts feed 24 FMAs.
let f32TileRows = 8
let f32TileCols = 48

/// C[m × n] = A · B[k × n] for one column block, K in blocks of `kc`: each K block of B is copied
/// row by row (sequential reads, whatever ldb is) into `pack` as 48-column strips
/// ([⌈n/48⌉][kb][48], zero past n: kc · ⌈n/48⌉ · 48 floats), then every strip (in L1) meets every
/// 8-row panel of A's K block (in L2). out = clamp(A·B + bias[row] + residual[row, col], lo, hi);
/// lo/hi = ∓inf when the caller applies the activation. `residual` has the output's layout.
@_cdecl("edgeseg_f32_conv_block_avx512")
public func f32ConvBlockAVX512(a: UnsafePointer<Float>, m: Int, k: Int, kc: Int,
                               b: UnsafePointer<Float>, ldb: Int, n: Int, pack: UnsafeMutablePointer<Float>,
                               c: UnsafeMutablePointer<Float>, ldc: Int,
                               bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, lo: Float, hi: Float) {
  let full = n / f32TileCols, rest = n - full * f32TileCols
  let r0 = laneMask16(rest), r1 = laneMask16(rest - 16), r2 = laneMask16(rest - 32)
  f32ConvBlockBody(a: a, m: m, k: k, kc: kc, n: n, pack: pack, c: c, ldc: ldc, bias: bias, residual: residual, lo: lo, hi: hi) { pc, kb in
    for r in 0..<kb {
      let src = b + (pc + r) * ldb
      var dst = pack + r * f32TileCols
      for st in 0..<full {
        let q = src + st * f32TileCols
        _mm512_storeu_ps(dst, _mm512_loadu_ps(q))
        _mm512_storeu_ps(dst + 16, _mm512_loadu_ps(q + 16))
        _mm512_storeu_ps(dst + 32, _mm512_loadu_ps(q + 32))
        dst += kb * f32TileCols
      }
      if rest > 0 {
        // masked loads never touch memory past n; the padding columns are zero
        let q = src + full * f32TileCols
        _mm512_storeu_ps(dst, _mm512_maskz_loadu_ps(r0, q))
        _mm512_storeu_ps(dst + 16, _mm512_maskz_loadu_ps(r1, q + 16))
        _mm512_storeu_ps(dst + 32, _mm512_maskz_loadu_ps(r2, q + 32))
      }
    }
  }
}

/// Geometry slots of `f32ConvDirectBlockAVX512` (a flat Int array keeps the C signature short).
enum F32DirectGeo {
  static let inH = 0, inW = 1, outW = 2, kernelH = 3, kernelW = 4, padTop = 5, padLeft = 6, dilH = 7, dilW = 8
}

/// The same block for a stride-1 conv whose output width is a multiple of 16, without an im2col
/// tile: each K block of B is gathered straight from the input planes (one group's, `input`) into
/// the strips: every 16 output columns of a row (col0 and n multiples of 16) read one row of one
/// input plane at one tap, a masked load zeroing the columns that fall into the padding.
@_cdecl("edgeseg_f32_conv_direct_block_avx512")
public func f32ConvDirectBlockAVX512(a: UnsafePointer<Float>, m: Int, k: Int, kc: Int,
                                     input: UnsafePointer<Float>, geometry g: UnsafePointer<Int>, col0: Int, n: Int,
                                     pack: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                                     bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, lo: Float, hi: Float) {
  let inH = g[F32DirectGeo.inH], inW = g[F32DirectGeo.inW], outW = g[F32DirectGeo.outW]
  let kh = g[F32DirectGeo.kernelH], kw = g[F32DirectGeo.kernelW]
  let padTop = g[F32DirectGeo.padTop], padLeft = g[F32DirectGeo.padLeft]
  let dilH = g[F32DirectGeo.dilH], dilW = g[F32DirectGeo.dilW]
  let vectors = n / 16, strips = (n + f32TileCols - 1) / f32TileCols
  let zero = _mm512_setzero_ps()
  f32ConvBlockBody(a: a, m: m, k: k, kc: kc, n: n, pack: pack, c: c, ldc: ldc, bias: bias, residual: residual, lo: lo, hi: hi) { pc, kb in
    var ci = pc / (kh * kw), ky = pc % (kh * kw) / kw, kx = pc % kw
    let stripStep = kb * f32TileCols
    for r in 0..<kb {
      let plane = input + ci * inH * inW
      let dy = ky * dilH - padTop, dx = kx * dilW - padLeft
      // vector i of the block goes to strip i / 3, lanes 16 · (i % 3): a running pointer
      var dst = pack + r * f32TileCols, q = 0
      @inline(__always) func put(_ x: __m512) {
        _mm512_storeu_ps(dst, x)
        q += 1
        if q == 3 { q = 0; dst += stripStep - 32 } else { dst += 16 }
      }
      var v = 0, oy = col0 / outW, ox = col0 % outW
      while v < vectors {
        let run = min(vectors - v, (outW - ox) / 16)      // vectors left in this output row
        let iy = oy + dy
        if iy < 0 || iy >= inH {
          for _ in 0..<run { put(zero) }
        } else {
          let src = plane + iy * inW + dx
          var x = ox + dx
          for t in 0..<run {
            if x >= 0 && x + 16 <= inW {
              put(_mm512_loadu_ps(src + ox + 16 * t))
            } else {
              // lanes whose column is inside the row; the others are not read (masked)
              let l0 = max(0, -x), l1 = min(16, inW - x)
              let mask: __mmask16 = l1 <= l0 ? 0 : laneMask16(l1) & ~laneMask16(l0)
              put(_mm512_maskz_loadu_ps(mask, src + ox + 16 * t))
            }
            x += 16
          }
        }
        v += run; ox = 0; oy += 1
      }
      for _ in vectors..<(strips * 3) { put(zero) }
      kx += 1
      if kx == kw { kx = 0; ky += 1; if ky == kh { ky = 0; ci += 1 } }
    }
  }
}

/// C[m × n] = A · B for one column block: for each K block, `packK(pc, kb)` writes rows
/// pc..<pc+kb of B into `pack` as strips ([⌈n/48⌉][kb][48], zero past n), then every strip meets
/// every 8-row panel of A; the epilogue runs on the last K block (k = 0: on zero).
@inline(__always)
func f32ConvBlockBody(a: UnsafePointer<Float>, m: Int, k: Int, kc: Int, n: Int, pack: UnsafeMutablePointer<Float>,
                      c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                      lo: Float, hi: Float, packK: (_ pc: Int, _ kb: Int) -> Void) {
  if m <= 0 || n <= 0 { return }
  let lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi)
  let clamp = lo > -.infinity || hi < .infinity   // max_ps(NaN, −inf) is −inf: unbounded keeps NaN
  let panels = (m + f32TileRows - 1) / f32TileRows
  let strips = (n + f32TileCols - 1) / f32TileCols
  let full = n / f32TileCols, rest = n - full * f32TileCols
  let r0 = laneMask16(rest), r1 = laneMask16(rest - 16), r2 = laneMask16(rest - 32)
  @inline(__always) func strip(_ pc: Int, _ kb: Int, _ st: Int) {
    let j = st * f32TileCols
    let tail = st == full
    let m0: __mmask16 = tail ? r0 : 0xFFFF, m1: __mmask16 = tail ? r1 : 0xFFFF, m2: __mmask16 = tail ? r2 : 0xFFFF
    let bp = pack + st * kb * f32TileCols
    for p in 0..<panels {
      let row = p * f32TileRows
      f32Tile8x48(a: a + row * k + pc * f32TileRows, b: bp, ldb: f32TileCols, kb: kb, c: c + row * ldc + j, ldc: ldc,
                  rows: min(f32TileRows, m - row), m0: m0, m1: m1, m2: m2, first: pc == 0, last: pc + kb >= k,
                  bias: bias.map { $0 + row }, residual: residual.map { $0 + row * ldc + j },
                  clamp: clamp, lo: lov, hi: hiv)
    }
  }
  if k <= 0 {
    for st in 0..<strips { strip(0, 0, st) }
    return
  }
  var pc = 0
  while pc < k {
    let kb = min(kc, k - pc)
    packK(pc, kb)
    for st in 0..<strips { strip(pc, kb, st) }
    pc += kb
  }
}

/// rows (≤ 8) × 48 columns of C: += (or = when `first`) A panel [kb][8] · B [kb][48] (rows `ldb` apart); on the
/// `last` K block the epilogue is applied before the store. Rows past `rows` come from A's zero
/// padding and are neither loaded nor stored.
@inline(__always)
func f32Tile8x48(a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, kb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                 rows: Int, m0: __mmask16, m1: __mmask16, m2: __mmask16, first: Bool, last: Bool,
                 bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, clamp: Bool, lo: __m512, hi: __m512) {
  var c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00
  var c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00
  var c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00
  var c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00
  var ap = a, bp = b
  for _ in 0..<kb {
    let b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16), b2 = _mm512_loadu_ps(bp + 32)
    var x = _mm512_set1_ps(ap[0])
    c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01); c02 = _mm512_fmadd_ps(x, b2, c02)
    x = _mm512_set1_ps(ap[1])
    c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11); c12 = _mm512_fmadd_ps(x, b2, c12)
    x = _mm512_set1_ps(ap[2])
    c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21); c22 = _mm512_fmadd_ps(x, b2, c22)
    x = _mm512_set1_ps(ap[3])
    c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31); c32 = _mm512_fmadd_ps(x, b2, c32)
    x = _mm512_set1_ps(ap[4])
    c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41); c42 = _mm512_fmadd_ps(x, b2, c42)
    x = _mm512_set1_ps(ap[5])
    c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51); c52 = _mm512_fmadd_ps(x, b2, c52)
    x = _mm512_set1_ps(ap[6])
    c60 = _mm512_fmadd_ps(x, b0, c60); c61 = _mm512_fmadd_ps(x, b1, c61); c62 = _mm512_fmadd_ps(x, b2, c62)
    x = _mm512_set1_ps(ap[7])
    c70 = _mm512_fmadd_ps(x, b0, c70); c71 = _mm512_fmadd_ps(x, b1, c71); c72 = _mm512_fmadd_ps(x, b2, c72)
    ap += f32TileRows; bp += ldb
  }
  @inline(__always) func put(_ r: Int, _ v0: __m512, _ v1: __m512, _ v2: __m512) {
    if r >= rows { return }
    let o = c + r * ldc
    var s0 = v0, s1 = v1, s2 = v2
    if !first {
      s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m0, o))
      s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(m1, o + 16))
      s2 = _mm512_add_ps(s2, _mm512_maskz_loadu_ps(m2, o + 32))
    }
    if last {
      if let bias {
        let bv = _mm512_set1_ps(bias[r])
        s0 = _mm512_add_ps(s0, bv); s1 = _mm512_add_ps(s1, bv); s2 = _mm512_add_ps(s2, bv)
      }
      if let residual {
        let q = residual + r * ldc
        s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m0, q))
        s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(m1, q + 16))
        s2 = _mm512_add_ps(s2, _mm512_maskz_loadu_ps(m2, q + 32))
      }
      if clamp {
        s0 = _mm512_min_ps(_mm512_max_ps(s0, lo), hi)
        s1 = _mm512_min_ps(_mm512_max_ps(s1, lo), hi)
        s2 = _mm512_min_ps(_mm512_max_ps(s2, lo), hi)
      }
    }
    _mm512_mask_storeu_ps(o, m0, s0)
    _mm512_mask_storeu_ps(o + 16, m1, s1)
    _mm512_mask_storeu_ps(o + 32, m2, s2)
  }
  put(0, c00, c01, c02); put(1, c10, c11, c12); put(2, c20, c21, c22); put(3, c30, c31, c32)
  put(4, c40, c41, c42); put(5, c50, c51, c52); put(6, c60, c61, c62); put(7, c70, c71, c72)
}
#endif
