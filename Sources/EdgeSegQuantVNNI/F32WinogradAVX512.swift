// Winograd F(2×2, 3×3) for the FP32 dense 3×3 stride-1 convs on the AVX-512 tier (F32Winograd.swift
// holds the plan, the weight transform and the driver). One call computes a chunk of 2×2 output
// tiles of one image: the input transform writes V[16][cin][ld] (V = Bᵀ·d·B of every tile's 4×4
// input patch, 16 tiles of one tile row per vector: even/odd input columns split by a permute),
// 16 GEMMs M[e] = U[e] · V[e] run the packed conv GEMM's 8 × 48 micro-tile (U packed at load in
// its 8-row panels, V read in place as 48-column strips ld apart), and the output transform
// Y = Aᵀ·M·A re-interleaves the two output columns of each tile and fuses bias, residual and clamp.
// 16 multiplies per tile and channel pair instead of 36: the GEMM work drops 2.25×.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Geometry slots of `f32WinogradChunkAVX512` (a flat Int array keeps the C signature short).
enum F32WinogradGeo {
  static let inH = 0, inW = 1, outH = 2, outW = 3, padTop = 4, padLeft = 5, tilesW = 6, cin = 7, cout = 8, kc = 9
}

/// Tiles `t0 ..< t0 + count` (row-major over the image's tilesH × tilesW tiles) of one image:
/// `input` [cin][inH][inW], `output` / `residual` [cout][outH][outW], `u` the transformed weights
/// ([16][⌈cout/8⌉][cin][8]); `v` 16 · cin · ld and `m` 16 · cout · ld floats of scratch,
/// ld ≥ count rounded up to 48. out = clamp(Y + bias + residual, lo, hi).
@_cdecl("edgeseg_f32_winograd_chunk_avx512")
public func f32WinogradChunkAVX512(u: UnsafePointer<Float>, input: UnsafePointer<Float>, geometry g: UnsafePointer<Int>,
                                   t0: Int, count: Int, ld: Int, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                                   bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, lo: Float, hi: Float,
                                   output: UnsafeMutablePointer<Float>) {
  if count <= 0 { return }
  f32WinogradInput(input: input, g: g, t0: t0, count: count, ld: ld, v: v)
  f32WinogradGemm(u: u, g: g, count: count, ld: ld, v: v, m: m)
  f32WinogradOutput(g: g, t0: t0, count: count, ld: ld, m: m, bias: bias, residual: residual, lo: lo, hi: hi, output: output)
}

/// Lane indices for the permutes: even / odd lanes of (a, b), and the interleave of (a, b).
@inline(__always) private func evenIdx() -> __m512i { _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0) }
@inline(__always) private func oddIdx() -> __m512i { _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1) }
@inline(__always) private func zipLoIdx() -> __m512i { _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0) }
@inline(__always) private func zipHiIdx() -> __m512i { _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8) }

/// V[e][ci][t − t0] = (Bᵀ·d·B)[e] of tile t, channel ci; columns count ..< ld zeroed (the GEMM
/// reads whole strips). Channel by channel, so each input plane is walked in order.
@inline(__always)
func f32WinogradInput(input: UnsafePointer<Float>, g: UnsafePointer<Int>, t0: Int, count: Int, ld: Int,
                      v: UnsafeMutablePointer<Float>) {
  let inH = g[F32WinogradGeo.inH], inW = g[F32WinogradGeo.inW], tilesW = g[F32WinogradGeo.tilesW]
  let padTop = g[F32WinogradGeo.padTop], padLeft = g[F32WinogradGeo.padLeft], cin = g[F32WinogradGeo.cin]
  let ev = evenIdx(), od = oddIdx(), zero = _mm512_setzero_ps()
  let e = cin * ld
  for ci in 0..<cin {
    let plane = input + ci * inH * inW
    var t = t0
    while t < t0 + count {
      let ty = t / tilesW, tx = t % tilesW
      let n = min(16, t0 + count - t, tilesW - tx)          // tiles of this vector: one tile row
      let iy0 = 2 * ty - padTop, ix0 = 2 * tx - padLeft
      // the 16 input columns from x on that lie inside the row (the others are not read: zero),
      // for the four loads of every row of these tiles
      @inline(__always) func inside(_ x: Int) -> __mmask16 {
        let l0 = max(0, -x), l1 = min(16, inW - x)
        return l1 <= l0 ? 0 : laneMask16(l1) & ~laneMask16(l0)
      }
      let ma = inside(ix0), mb = inside(ix0 + 16), ma2 = inside(ix0 + 2), mb2 = inside(ix0 + 18)
      // one input row of the 16 tiles, then ·B: (c0 − c2, c1 + c2, c2 − c1, c1 − c3), c_j the
      // tiles' column j (input columns ix0 + 2i + j)
      @inline(__always) func rowB(_ r: Int) -> (__m512, __m512, __m512, __m512) {
        let iy = iy0 + r
        if iy < 0 || iy >= inH { return (zero, zero, zero, zero) }
        let row = plane + iy * inW + ix0
        let a = _mm512_maskz_loadu_ps(ma, row), b = _mm512_maskz_loadu_ps(mb, row + 16)
        let a2 = _mm512_maskz_loadu_ps(ma2, row + 2), b2 = _mm512_maskz_loadu_ps(mb2, row + 18)
        let c0 = _mm512_permutex2var_ps(a, ev, b), c1 = _mm512_permutex2var_ps(a, od, b)
        let c2 = _mm512_permutex2var_ps(a2, ev, b2), c3 = _mm512_permutex2var_ps(a2, od, b2)
        return (_mm512_sub_ps(c0, c2), _mm512_add_ps(c1, c2), _mm512_sub_ps(c2, c1), _mm512_sub_ps(c1, c3))
      }
      let r0 = rowB(0), r1 = rowB(1), r2 = rowB(2), r3 = rowB(3)
      let base = v + ci * ld + (t - t0), mask = laneMask16(n)
      @inline(__always) func put(_ k: Int, _ x: __m512) { _mm512_mask_storeu_ps(base + k * e, mask, x) }
      // Bᵀ across the rows: (r0 − r2, r1 + r2, r2 − r1, r1 − r3)
      put(0, _mm512_sub_ps(r0.0, r2.0)); put(1, _mm512_sub_ps(r0.1, r2.1))
      put(2, _mm512_sub_ps(r0.2, r2.2)); put(3, _mm512_sub_ps(r0.3, r2.3))
      put(4, _mm512_add_ps(r1.0, r2.0)); put(5, _mm512_add_ps(r1.1, r2.1))
      put(6, _mm512_add_ps(r1.2, r2.2)); put(7, _mm512_add_ps(r1.3, r2.3))
      put(8, _mm512_sub_ps(r2.0, r1.0)); put(9, _mm512_sub_ps(r2.1, r1.1))
      put(10, _mm512_sub_ps(r2.2, r1.2)); put(11, _mm512_sub_ps(r2.3, r1.3))
      put(12, _mm512_sub_ps(r1.0, r3.0)); put(13, _mm512_sub_ps(r1.1, r3.1))
      put(14, _mm512_sub_ps(r1.2, r3.2)); put(15, _mm512_sub_ps(r1.3, r3.3))
      t += n
    }
    if count < ld {
      // the last strip's padding columns: finite (zero), whatever the scratch held before
      for k in 0..<16 {
        var c = count
        while c < ld { _mm512_mask_storeu_ps(v + k * e + ci * ld + c, laneMask16(ld - c), zero); c += 16 }
      }
    }
  }
}

/// M[e] = U[e] · V[e] for the 16 e: the packed conv GEMM's blocking (K blocks of kc outermost, so
/// a K block of U[e] stays in L2 for every strip; each strip of V, kb × 48, stays in L1 while
/// U's 8-row panels stream past), B read in place (rows ld apart).
@inline(__always)
func f32WinogradGemm(u: UnsafePointer<Float>, g: UnsafePointer<Int>, count: Int, ld: Int,
                     v: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>) {
  let cin = g[F32WinogradGeo.cin], cout = g[F32WinogradGeo.cout], kc = g[F32WinogradGeo.kc]
  let panels = (cout + f32TileRows - 1) / f32TileRows
  let strips = (count + f32TileCols - 1) / f32TileCols
  let full = count / f32TileCols, rest = count - full * f32TileCols
  let r0 = laneMask16(rest), r1 = laneMask16(rest - 16), r2 = laneMask16(rest - 32)
  let inf = _mm512_set1_ps(.infinity)
  for e in 0..<16 {
    let ue = u + e * panels * f32TileRows * cin, ve = v + e * cin * ld, me = m + e * cout * ld
    var pc = 0
    while pc < cin {
      let kb = min(kc, cin - pc)
      for st in 0..<strips {
        let tail = st == full
        let m0: __mmask16 = tail ? r0 : 0xFFFF, m1: __mmask16 = tail ? r1 : 0xFFFF, m2: __mmask16 = tail ? r2 : 0xFFFF
        for p in 0..<panels {
          let row = p * f32TileRows
          f32Tile8x48(a: ue + row * cin + pc * f32TileRows, b: ve + pc * ld + st * f32TileCols, ldb: ld, kb: kb,
                      c: me + row * ld + st * f32TileCols, ldc: ld, rows: min(f32TileRows, cout - row),
                      m0: m0, m1: m1, m2: m2, first: pc == 0, last: pc + kb >= cin,
                      bias: nil, residual: nil, clamp: false, lo: inf, hi: inf)
        }
      }
      pc += kb
    }
  }
}

/// Output tiles t0 ..< t0 + count from M: Y = Aᵀ·M·A (rows then columns: s0 = m0 + m1 + m2,
/// s1 = m1 − m2 − m3), + bias, + residual, clamp; the tiles' two columns interleaved into the rows.
@inline(__always)
func f32WinogradOutput(g: UnsafePointer<Int>, t0: Int, count: Int, ld: Int, m: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, lo: Float, hi: Float,
                       output: UnsafeMutablePointer<Float>) {
  let outH = g[F32WinogradGeo.outH], outW = g[F32WinogradGeo.outW], tilesW = g[F32WinogradGeo.tilesW]
  let cout = g[F32WinogradGeo.cout]
  let zipLo = zipLoIdx(), zipHi = zipHiIdx()
  let lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi)
  let clamp = lo > -.infinity || hi < .infinity   // max_ps(NaN, −inf) is −inf: unbounded keeps NaN
  let e = cout * ld
  for co in 0..<cout {
    let bv = _mm512_set1_ps(bias?[co] ?? 0)
    let plane = co * outH * outW
    var t = t0
    while t < t0 + count {
      let ty = t / tilesW, tx = t % tilesW
      let n = min(16, t0 + count - t, tilesW - tx)
      let base = m + co * ld + (t - t0), mask = laneMask16(n)
      @inline(__always) func at(_ k: Int) -> __m512 { _mm512_maskz_loadu_ps(mask, base + k * e) }
      // Aᵀ across the rows of M (4 columns each)
      let m4 = at(4), m5 = at(5), m6 = at(6), m7 = at(7), m8 = at(8), m9 = at(9), m10 = at(10), m11 = at(11)
      let s00 = _mm512_add_ps(_mm512_add_ps(at(0), m4), m8), s01 = _mm512_add_ps(_mm512_add_ps(at(1), m5), m9)
      let s02 = _mm512_add_ps(_mm512_add_ps(at(2), m6), m10), s03 = _mm512_add_ps(_mm512_add_ps(at(3), m7), m11)
      let s10 = _mm512_sub_ps(_mm512_sub_ps(m4, m8), at(12)), s11 = _mm512_sub_ps(_mm512_sub_ps(m5, m9), at(13))
      let s12 = _mm512_sub_ps(_mm512_sub_ps(m6, m10), at(14)), s13 = _mm512_sub_ps(_mm512_sub_ps(m7, m11), at(15))
      // then A on the columns: y0 = s0 + s1 + s2, y1 = s1 − s2 − s3; one output row each
      @inline(__always) func emit(_ sa: __m512, _ sb: __m512, _ sc: __m512, _ sd: __m512, _ oy: Int) {
        if oy >= outH { return }
        let y0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(sa, sb), sc), bv)
        let y1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(sb, sc), sd), bv)
        var lo16 = _mm512_permutex2var_ps(y0, zipLo, y1), hi16 = _mm512_permutex2var_ps(y0, zipHi, y1)
        let width = min(2 * n, outW - 2 * tx)
        let mlo = laneMask16(width), mhi = laneMask16(width - 16)
        let off = plane + oy * outW + 2 * tx
        if let residual {
          lo16 = _mm512_add_ps(lo16, _mm512_maskz_loadu_ps(mlo, residual + off))
          hi16 = _mm512_add_ps(hi16, _mm512_maskz_loadu_ps(mhi, residual + off + 16))
        }
        if clamp {
          lo16 = _mm512_min_ps(_mm512_max_ps(lo16, lov), hiv)
          hi16 = _mm512_min_ps(_mm512_max_ps(hi16, lov), hiv)
        }
        _mm512_mask_storeu_ps(output + off, mlo, lo16)
        _mm512_mask_storeu_ps(output + off + 16, mhi, hi16)
      }
      emit(s00, s01, s02, s03, 2 * ty)
      emit(s10, s11, s12, s13, 2 * ty + 1)
      t += n
    }
  }
}
#endif
