// x86 AVX-512 VNNI tier of EdgeSegKernels (built with -mavx512f/bw/vl/vnni; empty elsewhere).
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// int8 GEMM tile, MR = 16 rows × NR = 16 channels, over one chunk of K, plus (on the last
/// chunk) the whole output stage of that block of `cols` ≤ 16 channels. vpdpbusd multiplies
/// u8 × s8 and sums 4 products into int32 without saturation; the panel holds x + 128 (u8) and
/// `correction` = −128·Σw per channel undoes the offset. The accumulators start from bias +
/// correction (first chunk) or from `partial` (later chunks), and leave either through the
/// integer steps of the scalar `int8Requantize` (last chunk, see `Requant16`; bit-exactness is
/// checked by the tests) or back into `partial` (16 rows × 64 bytes). Chunking K keeps the
/// band's panel chunk in L1 while the weight chunks stream: with the whole K of a 3×3 conv
/// (1 170…3 708 bytes a row) panel and weights missed L1 on every iteration's first broadcasts.
/// panel: rows of 4·kQuads (or more) u8 at `panelStride` bytes; weights: [kQuads][16 ch][4] s8.
/// bias, correction, multiplier, shift: `cols` Int32 each for this block (read with lane masks,
/// so a partial last block needs no padded copies); the output store is masked to `cols` bytes.
/// mode: bit 0 = start from `partial`, bit 1 = last chunk (requantize and store to `out`).
@_cdecl("edgeseg_int8_tile_vnni")
public func int8TileVNNI(panel: UnsafeRawPointer, panelStride: Int, weights: UnsafeRawPointer, kQuads: Int,
                         partial: UnsafeMutableRawPointer, mode: Int,
                         bias: UnsafeRawPointer, correction: UnsafeRawPointer,
                         multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                         zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                         out: UnsafeMutableRawPointer, ldc: Int, rows: Int, cols: Int) {
  let lanes = laneMask16(cols)
  // 16 rows share each 64-byte weight load (8 rows per load left the tile at half the vpdpbusd rate)
  var c0 = tileStart(mode, partial, lanes, bias, correction)
  var c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0
  var c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0
  if mode & 1 != 0 {
    @inline(__always) func p(_ r: Int) -> __m512i { partial.load(fromByteOffset: r * 64, as: __m512i.self) }
    c1 = p(1); c2 = p(2); c3 = p(3); c4 = p(4); c5 = p(5); c6 = p(6); c7 = p(7)
    c8 = p(8); c9 = p(9); c10 = p(10); c11 = p(11); c12 = p(12); c13 = p(13); c14 = p(14); c15 = p(15)
  }
  let stride = panelStride
  var w = weights, o = 0
  // (a nested function must not capture a `var`: unoptimised builds box it on the heap per call)
  @inline(__always) func x(_ r: Int, _ o: Int) -> __m512i {
    _mm512_set1_epi32(panel.loadUnaligned(fromByteOffset: r * stride + o, as: Int32.self))
  }
  for _ in 0..<kQuads {
    let wv = w.loadUnaligned(as: __m512i.self)
    c0 = _mm512_dpbusd_epi32(c0, x(0, o), wv); c1 = _mm512_dpbusd_epi32(c1, x(1, o), wv)
    c2 = _mm512_dpbusd_epi32(c2, x(2, o), wv); c3 = _mm512_dpbusd_epi32(c3, x(3, o), wv)
    c4 = _mm512_dpbusd_epi32(c4, x(4, o), wv); c5 = _mm512_dpbusd_epi32(c5, x(5, o), wv)
    c6 = _mm512_dpbusd_epi32(c6, x(6, o), wv); c7 = _mm512_dpbusd_epi32(c7, x(7, o), wv)
    c8 = _mm512_dpbusd_epi32(c8, x(8, o), wv); c9 = _mm512_dpbusd_epi32(c9, x(9, o), wv)
    c10 = _mm512_dpbusd_epi32(c10, x(10, o), wv); c11 = _mm512_dpbusd_epi32(c11, x(11, o), wv)
    c12 = _mm512_dpbusd_epi32(c12, x(12, o), wv); c13 = _mm512_dpbusd_epi32(c13, x(13, o), wv)
    c14 = _mm512_dpbusd_epi32(c14, x(14, o), wv); c15 = _mm512_dpbusd_epi32(c15, x(15, o), wv)
    o += 4; w += 64
  }
  if mode & 2 == 0 {
    @inline(__always) func keep(_ r: Int, _ c: __m512i) { partial.storeBytes(of: c, toByteOffset: r * 64, as: __m512i.self) }
    keep(0, c0); keep(1, c1); keep(2, c2); keep(3, c3); keep(4, c4); keep(5, c5); keep(6, c6); keep(7, c7)
    keep(8, c8); keep(9, c9); keep(10, c10); keep(11, c11); keep(12, c12); keep(13, c13); keep(14, c14); keep(15, c15)
    return
  }
  let rq = Requant16(lanes: lanes, multiplier: multiplier, shift: shift,
                     zeroPoint: zeroPoint, clampMin: clampMin, clampMax: clampMax)
  // rows < 16 only at the end of a band: the extra accumulators hold padding and are not stored
  @inline(__always) func put4(_ r: Int, _ a: __m512i, _ b: __m512i, _ c: __m512i, _ d: __m512i) {
    if r < rows { storeRows4(rq.apply4(a, b, c, d), out, ldc, r, rows, lanes) }
  }
  put4(0, c0, c1, c2, c3); put4(4, c4, c5, c6, c7); put4(8, c8, c9, c10, c11); put4(12, c12, c13, c14, c15)
}

/// int8 GEMM tile, MR = 12 rows × NR = 32 channels (two blocks of the [kQuads][16 ch][4] weight
/// layout, `blockStride` bytes apart), for long K: per k-quad 2 weight loads + 12 broadcasts feed
/// 24 vpdpbusd, where the 16 × 16 tile needs 17 loads for 16 (kernel alone, data in L1: ~1.5× the
/// 16 × 16 rate; the whole GEMM at K = 2 736: ~1.17×). A plain one-quad loop: unrolled by 4
/// quads (row offsets in the displacement), LLVM hoisted the 8 weight loads and spilled
/// accumulators in the package build. Partial sums, modes, output stage and masks as
/// `int8TileVNNI`, per half: `partial1` / `cols1` belong to the second block (cols1 ≤ 0 would
/// store nothing of it; the driver runs an odd last block on `int8TileVNNI12` instead).
@_cdecl("edgeseg_int8_tile_vnni_wide")
public func int8TileVNNIWide(panel: UnsafeRawPointer, panelStride: Int, weights: UnsafeRawPointer, blockStride: Int,
                             kQuads: Int, partial0: UnsafeMutableRawPointer, partial1: UnsafeMutableRawPointer, mode: Int,
                             bias: UnsafeRawPointer, correction: UnsafeRawPointer,
                             multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                             zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                             out: UnsafeMutableRawPointer, ldc: Int, rows: Int, cols0: Int, cols1: Int) {
  let lanes0 = laneMask16(cols0), lanes1 = laneMask16(cols1)
  var a0 = tileStart(mode, partial0, lanes0, bias, correction)
  var b0 = tileStart(mode, partial1, lanes1, bias + 64, correction + 64)
  var a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
  var b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0, b8 = b0, b9 = b0, b10 = b0, b11 = b0
  if mode & 1 != 0 {
    @inline(__always) func p(_ base: UnsafeMutableRawPointer, _ r: Int) -> __m512i {
      base.load(fromByteOffset: r * 64, as: __m512i.self)
    }
    a1 = p(partial0, 1); a2 = p(partial0, 2); a3 = p(partial0, 3); a4 = p(partial0, 4); a5 = p(partial0, 5)
    a6 = p(partial0, 6); a7 = p(partial0, 7); a8 = p(partial0, 8); a9 = p(partial0, 9); a10 = p(partial0, 10)
    a11 = p(partial0, 11)
    b1 = p(partial1, 1); b2 = p(partial1, 2); b3 = p(partial1, 3); b4 = p(partial1, 4); b5 = p(partial1, 5)
    b6 = p(partial1, 6); b7 = p(partial1, 7); b8 = p(partial1, 8); b9 = p(partial1, 9); b10 = p(partial1, 10)
    b11 = p(partial1, 11)
  }
  let s = panelStride
  var x0 = panel, w0 = weights, w1 = weights + blockStride
  // (written out, not a nested function: one that captures the accumulator `var`s makes
  // unoptimised builds box them on the heap per call)
  for _ in 0..<kQuads {
    let u = w0.loadUnaligned(as: __m512i.self), v = w1.loadUnaligned(as: __m512i.self)
    // the row addresses as a chain of adds from one pointer (12 row pointers would not fit the
    // integer registers next to the weight pointers)
    let r0 = x0, r1 = r0 + s, r2 = r1 + s, r3 = r2 + s, r4 = r3 + s, r5 = r4 + s
    let r6 = r5 + s, r7 = r6 + s, r8 = r7 + s, r9 = r8 + s, r10 = r9 + s, r11 = r10 + s
    var t = _mm512_set1_epi32(r0.loadUnaligned(as: Int32.self))
    a0 = _mm512_dpbusd_epi32(a0, t, u); b0 = _mm512_dpbusd_epi32(b0, t, v)
    t = _mm512_set1_epi32(r1.loadUnaligned(as: Int32.self))
    a1 = _mm512_dpbusd_epi32(a1, t, u); b1 = _mm512_dpbusd_epi32(b1, t, v)
    t = _mm512_set1_epi32(r2.loadUnaligned(as: Int32.self))
    a2 = _mm512_dpbusd_epi32(a2, t, u); b2 = _mm512_dpbusd_epi32(b2, t, v)
    t = _mm512_set1_epi32(r3.loadUnaligned(as: Int32.self))
    a3 = _mm512_dpbusd_epi32(a3, t, u); b3 = _mm512_dpbusd_epi32(b3, t, v)
    t = _mm512_set1_epi32(r4.loadUnaligned(as: Int32.self))
    a4 = _mm512_dpbusd_epi32(a4, t, u); b4 = _mm512_dpbusd_epi32(b4, t, v)
    t = _mm512_set1_epi32(r5.loadUnaligned(as: Int32.self))
    a5 = _mm512_dpbusd_epi32(a5, t, u); b5 = _mm512_dpbusd_epi32(b5, t, v)
    t = _mm512_set1_epi32(r6.loadUnaligned(as: Int32.self))
    a6 = _mm512_dpbusd_epi32(a6, t, u); b6 = _mm512_dpbusd_epi32(b6, t, v)
    t = _mm512_set1_epi32(r7.loadUnaligned(as: Int32.self))
    a7 = _mm512_dpbusd_epi32(a7, t, u); b7 = _mm512_dpbusd_epi32(b7, t, v)
    t = _mm512_set1_epi32(r8.loadUnaligned(as: Int32.self))
    a8 = _mm512_dpbusd_epi32(a8, t, u); b8 = _mm512_dpbusd_epi32(b8, t, v)
    t = _mm512_set1_epi32(r9.loadUnaligned(as: Int32.self))
    a9 = _mm512_dpbusd_epi32(a9, t, u); b9 = _mm512_dpbusd_epi32(b9, t, v)
    t = _mm512_set1_epi32(r10.loadUnaligned(as: Int32.self))
    a10 = _mm512_dpbusd_epi32(a10, t, u); b10 = _mm512_dpbusd_epi32(b10, t, v)
    t = _mm512_set1_epi32(r11.loadUnaligned(as: Int32.self))
    a11 = _mm512_dpbusd_epi32(a11, t, u); b11 = _mm512_dpbusd_epi32(b11, t, v)
    x0 += 4; w0 += 64; w1 += 64
  }
  if mode & 2 == 0 {
    @inline(__always) func keep(_ base: UnsafeMutableRawPointer, _ r: Int, _ c: __m512i) {
      base.storeBytes(of: c, toByteOffset: r * 64, as: __m512i.self)
    }
    keep(partial0, 0, a0); keep(partial0, 1, a1); keep(partial0, 2, a2); keep(partial0, 3, a3)
    keep(partial0, 4, a4); keep(partial0, 5, a5); keep(partial0, 6, a6); keep(partial0, 7, a7)
    keep(partial0, 8, a8); keep(partial0, 9, a9); keep(partial0, 10, a10); keep(partial0, 11, a11)
    keep(partial1, 0, b0); keep(partial1, 1, b1); keep(partial1, 2, b2); keep(partial1, 3, b3)
    keep(partial1, 4, b4); keep(partial1, 5, b5); keep(partial1, 6, b6); keep(partial1, 7, b7)
    keep(partial1, 8, b8); keep(partial1, 9, b9); keep(partial1, 10, b10); keep(partial1, 11, b11)
    return
  }
  // rows < 12 only at the end of a band: the extra accumulators hold padding and are not stored
  let rqa = Requant16(lanes: lanes0, multiplier: multiplier, shift: shift,
                      zeroPoint: zeroPoint, clampMin: clampMin, clampMax: clampMax)
  @inline(__always) func putA(_ r: Int, _ a: __m512i, _ b: __m512i, _ c: __m512i, _ d: __m512i) {
    if r < rows { storeRows4(rqa.apply4(a, b, c, d), out, ldc, r, rows, lanes0) }
  }
  putA(0, a0, a1, a2, a3); putA(4, a4, a5, a6, a7); putA(8, a8, a9, a10, a11)
  if lanes1 == 0 { return }
  let rqb = Requant16(lanes: lanes1, multiplier: multiplier + 64, shift: shift + 64,
                      zeroPoint: zeroPoint, clampMin: clampMin, clampMax: clampMax)
  let out1 = out + 16
  @inline(__always) func putB(_ r: Int, _ a: __m512i, _ b: __m512i, _ c: __m512i, _ d: __m512i) {
    if r < rows { storeRows4(rqb.apply4(a, b, c, d), out1, ldc, r, rows, lanes1) }
  }
  putB(0, b0, b1, b2, b3); putB(4, b4, b5, b6, b7); putB(8, b8, b9, b10, b11)
}

/// The wide tile's one-block twin, MR = 12 rows × NR = 16 channels: an odd last block of a long-K
/// GEMM (N = 76 or 100 leaves one), on the same 12-row bands. Per k-quad 1 weight load + 12
/// broadcasts for 12 vpdpbusd; the wide tile on duplicated weights spent 24, the 16 × 16 tile 48
/// rows' worth for a band of 36. Same arguments as `int8TileVNNIWide`'s first half.
@_cdecl("edgeseg_int8_tile_vnni_12")
public func int8TileVNNI12(panel: UnsafeRawPointer, panelStride: Int, weights: UnsafeRawPointer, kQuads: Int,
                           partial: UnsafeMutableRawPointer, mode: Int,
                           bias: UnsafeRawPointer, correction: UnsafeRawPointer,
                           multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                           zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                           out: UnsafeMutableRawPointer, ldc: Int, rows: Int, cols: Int) {
  let lanes = laneMask16(cols)
  var a0 = tileStart(mode, partial, lanes, bias, correction)
  var a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
  if mode & 1 != 0 {
    @inline(__always) func p(_ r: Int) -> __m512i { partial.load(fromByteOffset: r * 64, as: __m512i.self) }
    a1 = p(1); a2 = p(2); a3 = p(3); a4 = p(4); a5 = p(5); a6 = p(6); a7 = p(7); a8 = p(8); a9 = p(9)
    a10 = p(10); a11 = p(11)
  }
  let s = panelStride
  var x0 = panel, w0 = weights
  for _ in 0..<kQuads {
    let u = w0.loadUnaligned(as: __m512i.self)
    let r0 = x0, r1 = r0 + s, r2 = r1 + s, r3 = r2 + s, r4 = r3 + s, r5 = r4 + s
    let r6 = r5 + s, r7 = r6 + s, r8 = r7 + s, r9 = r8 + s, r10 = r9 + s, r11 = r10 + s
    var t = _mm512_set1_epi32(r0.loadUnaligned(as: Int32.self)); a0 = _mm512_dpbusd_epi32(a0, t, u)
    t = _mm512_set1_epi32(r1.loadUnaligned(as: Int32.self)); a1 = _mm512_dpbusd_epi32(a1, t, u)
    t = _mm512_set1_epi32(r2.loadUnaligned(as: Int32.self)); a2 = _mm512_dpbusd_epi32(a2, t, u)
    t = _mm512_set1_epi32(r3.loadUnaligned(as: Int32.self)); a3 = _mm512_dpbusd_epi32(a3, t, u)
    t = _mm512_set1_epi32(r4.loadUnaligned(as: Int32.self)); a4 = _mm512_dpbusd_epi32(a4, t, u)
    t = _mm512_set1_epi32(r5.loadUnaligned(as: Int32.self)); a5 = _mm512_dpbusd_epi32(a5, t, u)
    t = _mm512_set1_epi32(r6.loadUnaligned(as: Int32.self)); a6 = _mm512_dpbusd_epi32(a6, t, u)
    t = _mm512_set1_epi32(r7.loadUnaligned(as: Int32.self)); a7 = _mm512_dpbusd_epi32(a7, t, u)
    t = _mm512_set1_epi32(r8.loadUnaligned(as: Int32.self)); a8 = _mm512_dpbusd_epi32(a8, t, u)
    t = _mm512_set1_epi32(r9.loadUnaligned(as: Int32.self)); a9 = _mm512_dpbusd_epi32(a9, t, u)
    t = _mm512_set1_epi32(r10.loadUnaligned(as: Int32.self)); a10 = _mm512_dpbusd_epi32(a10, t, u)
    t = _mm512_set1_epi32(r11.loadUnaligned(as: Int32.self)); a11 = _mm512_dpbusd_epi32(a11, t, u)
    x0 += 4; w0 += 64
  }
  if mode & 2 == 0 {
    @inline(__always) func keep(_ r: Int, _ c: __m512i) { partial.storeBytes(of: c, toByteOffset: r * 64, as: __m512i.self) }
    keep(0, a0); keep(1, a1); keep(2, a2); keep(3, a3); keep(4, a4); keep(5, a5)
    keep(6, a6); keep(7, a7); keep(8, a8); keep(9, a9); keep(10, a10); keep(11, a11)
    return
  }
  let rq = Requant16(lanes: lanes, multiplier: multiplier, shift: shift,
                     zeroPoint: zeroPoint, clampMin: clampMin, clampMax: clampMax)
  @inline(__always) func put4(_ r: Int, _ a: __m512i, _ b: __m512i, _ c: __m512i, _ d: __m512i) {
    if r < rows { storeRows4(rq.apply4(a, b, c, d), out, ldc, r, rows, lanes) }
  }
  put4(0, a0, a1, a2, a3); put4(4, a4, a5, a6, a7); put4(8, a8, a9, a10, a11)
}

/// im2col panel rows (x + 128 == x ^ 0x80, VNNI's unsigned operand) for a dense conv whose kernel
/// row is a long run of taps (kW·C_in > 16 bytes): an interior pixel's kernel row is one
/// contiguous run of the NHWC input (dilation 1), copied 64 bytes at a time; border taps and
/// dilated ones go C_in bytes at a time, the zero point (flipped) where the tap is outside the
/// image. All of a band in one call: the per-kernel-row copy calls and their setup cost cat_conv.0
/// (3 runs of 390 bytes a pixel) ~150 cycles a pixel, a sixth of the conv.
/// geometry: inH, inW, inC, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW.
/// Writes `rows` panel rows of k4 bytes (K = kH·kW·inC, tail 0x80) for output pixels first….
@_cdecl("edgeseg_int8_im2col_long_vnni")
public func int8Im2colLongVNNI(input: UnsafePointer<Int8>, geometry g: UnsafePointer<Int>, zeroPoint: Int8,
                               first: Int, rows: Int, k4: Int, band: UnsafeMutableRawPointer) {
  let inH = g[0], inW = g[1], inC = g[2], outW = g[3], kH = g[4], kW = g[5]
  let strideH = g[6], strideW = g[7], padTop = g[8], padLeft = g[9], dilH = g[10], dilW = g[11]
  let run = kW * inC, k = kH * run
  let flip = _mm512_set1_epi8(-128), pad = _mm512_set1_epi8(zeroPoint ^ -128)
  var oy = first / outW, ox = first % outW
  for r in 0..<rows {
    let row = band + r * k4
    let ix0 = ox * strideW - padLeft
    let inside = dilW == 1 && ix0 >= 0 && ix0 + kW <= inW
    for ky in 0..<kH {
      let iy = oy * strideH - padTop + ky * dilH
      let dst = row + ky * run
      if iy < 0 || iy >= inH {
        int8FillVNNI(dst, run, pad)
      } else if inside {
        int8CopyFlippedVNNI(UnsafeRawPointer(input + (iy * inW + ix0) * inC), dst, run, flip)
      } else {
        for kx in 0..<kW {
          let ix = ix0 + kx * dilW
          if ix >= 0 && ix < inW {
            int8CopyFlippedVNNI(UnsafeRawPointer(input + (iy * inW + ix) * inC), dst + kx * inC, inC, flip)
          } else {
            int8FillVNNI(dst + kx * inC, inC, pad)
          }
        }
      }
    }
    for t in k..<k4 { row.storeBytes(of: 0x80, toByteOffset: t, as: UInt8.self) }   // ≤ 3 bytes
    ox += 1
    if ox == outW { ox = 0; oy += 1 }
  }
}

/// dst[i] = src[i] ^ 0x80 for n bytes, 64 at a time; the tail as the last 64 bytes again
/// (overlapping: a masked load stalled here) or, under 64, masked.
@inline(__always)
func int8CopyFlippedVNNI(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ n: Int, _ flip: __m512i) {
  var j = 0
  while j + 64 <= n {
    dst.storeBytes(of: _mm512_xor_si512(src.loadUnaligned(fromByteOffset: j, as: __m512i.self), flip),
                   toByteOffset: j, as: __m512i.self)
    j += 64
  }
  if j == n { return }
  if n >= 64 {
    dst.storeBytes(of: _mm512_xor_si512(src.loadUnaligned(fromByteOffset: n - 64, as: __m512i.self), flip),
                   toByteOffset: n - 64, as: __m512i.self)
  } else {
    let tail: __mmask64 = (1 << UInt64(n)) - 1
    _mm512_mask_storeu_epi8(dst, tail, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, src), flip))
  }
}

/// n bytes of `v`.
@inline(__always)
func int8FillVNNI(_ dst: UnsafeMutableRawPointer, _ n: Int, _ v: __m512i) {
  var j = 0
  while j + 64 <= n { dst.storeBytes(of: v, toByteOffset: j, as: __m512i.self); j += 64 }
  if j < n { _mm512_mask_storeu_epi8(dst + j, (1 << UInt64(n - j)) - 1, v) }
}

/// im2col panel rows for a conv whose kernel row is a short run of taps (kW·C_in ≤ 16 bytes: the
/// RGB stem's 3 × 3 channels): per output pixel, each kernel row is one masked 16-byte load (the
/// columns in the image; the rest merge the zero point), an XOR and a masked store, where the
/// generic walk spent ~80 cycles a pixel in loop bookkeeping. Masked-off lanes are never read, so
/// a run hanging over the left or right edge needs no bounds care.
/// geometry: inH, inW, inC, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH.
/// Writes `rows` panel rows of k4 bytes (K = kH·kW·inC, tail 0x80) for output pixels first….
@_cdecl("edgeseg_int8_im2col_short_vnni")
public func int8Im2colShortVNNI(input: UnsafePointer<Int8>, geometry g: UnsafePointer<Int>, zeroPoint: Int8,
                                first: Int, rows: Int, k4: Int, band: UnsafeMutableRawPointer) {
  let inH = g[0], inW = g[1], inC = g[2], outW = g[3], kH = g[4], kW = g[5]
  let strideH = g[6], strideW = g[7], padTop = g[8], padLeft = g[9], dilH = g[10]
  let run = kW * inC, k = kH * run
  let runMask = laneMask16(run)
  let flip = _mm_set1_epi8(-128), zp = _mm_set1_epi8(zeroPoint)
  var oy = first / outW, ox = first % outW
  for r in 0..<rows {
    let row = band + r * k4
    let ix0 = ox * strideW - padLeft
    var cols = runMask
    if ix0 < 0 || ix0 + kW > inW {
      cols = 0
      for kx in 0..<kW where ix0 + kx >= 0 && ix0 + kx < inW {
        cols |= laneMask16(inC) << (kx * inC)
      }
    }
    for ky in 0..<kH {
      let iy = oy * strideH - padTop + ky * dilH
      let rowCols: __mmask16 = iy >= 0 && iy < inH ? cols : 0
      let src = input + (iy * inW + ix0) * inC   // only the lanes in rowCols are read
      _mm_mask_storeu_epi8(row + ky * run, runMask, _mm_xor_si128(_mm_mask_loadu_epi8(zp, rowCols, src), flip))
    }
    for t in k..<k4 { row.storeBytes(of: 0x80, toByteOffset: t, as: UInt8.self) }
    ox += 1
    if ox == outW { ox = 0; oy += 1 }
  }
}

/// A tile's first accumulator row: its partial sums (mode bit 0: a later K chunk) or bias +
/// correction for `lanes` (the first chunk); the other rows start from it or from their partials.
@inline(__always)
func tileStart(_ mode: Int, _ partial: UnsafeMutableRawPointer, _ lanes: __mmask16,
               _ bias: UnsafeRawPointer, _ correction: UnsafeRawPointer) -> __m512i {
  mode & 1 != 0 ? partial.load(as: __m512i.self)
                : _mm512_add_epi32(_mm512_maskz_loadu_epi32(lanes, bias), _mm512_maskz_loadu_epi32(lanes, correction))
}

/// Pack `rows` rows of A (row stride lda, k bytes each) into `panelRows` panel rows of k4 bytes
/// holding x + 128 == x ^ 0x80 (VNNI's unsigned operand); the K tail and the missing rows are
/// 0 + 128. 64 bytes at a time with masked tails: the portable per-row copy cost more than the
/// GEMM itself at the 1×1 convs' K of 16…56.
@_cdecl("edgeseg_int8_pack_vnni")
public func int8PackVNNI(a: UnsafeRawPointer, lda: Int, rows: Int, k: Int, k4: Int,
                         into dst: UnsafeMutableRawPointer, panelRows: Int) {
  let flip = _mm512_set1_epi8(-128)
  let full = k & ~63
  let tailLoad: __mmask64 = k == full ? 0 : (1 << UInt64(k - full)) - 1
  let tailStore: __mmask64 = k4 - full >= 64 ? ~0 : (1 << UInt64(k4 - full)) - 1
  for r in 0..<panelRows {
    let d = dst + r * k4
    var j = 0
    if r < rows {
      let s = a + r * lda
      while j < full {
        d.storeBytes(of: _mm512_xor_si512(s.loadUnaligned(fromByteOffset: j, as: __m512i.self), flip),
                     toByteOffset: j, as: __m512i.self)
        j += 64
      }
      if tailStore != 0 { _mm512_mask_storeu_epi8(d + j, tailStore, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tailLoad, s + j), flip)) }
    } else {
      while j < full { d.storeBytes(of: flip, toByteOffset: j, as: __m512i.self); j += 64 }
      if tailStore != 0 { _mm512_mask_storeu_epi8(d + j, tailStore, flip) }
    }
  }
}

/// The int8 output stage on 16 int32 lanes that already hold the bias (the GEMM tile's and the
/// depthwise kernel's): x = acc << left (wrapping, as the scalar one), then the two roundings of
/// `int8MultiplyByQuantizedMultiplier` as one 64-bit arithmetic shift of the product per lane:
/// SaturatingRoundingDoublingHighMul is h = ⌊(x·m + 2^30) / 2^31⌋ (its nudge-then-truncate for
/// every multiplier but INT32_MIN, which the output stage rejects), and RoundingDivideByPOT by
/// 2^e (half away from zero) is ⌊(h + 2^(e−1) − [h < 0]) / 2^e⌋ for e > 0; nested floors of
/// divisions by powers of two fold into
/// ⌊(x·m + 2^30 + 2^(30+e) − [x·m + 2^30 < 0]·2^31) / 2^(31+e)⌋ (|x·m| ≤ 2^62: no overflow;
/// e = 0 is h itself, no rounding term). The constants fold into one add per half: p = x·m + K
/// with K = 2^30 + [e > 0]·2^(30+e) + z; the sign test may read x·m for x·m + 2^30: they differ
/// only for x·m in [−2^30, 0), where h = 0 and the floor is 0 either way (e > 0). Where every
/// lane's e ≤ 23, z = zp·2^(31+e) adds the zero point inside the floor (|p| < 2^63 still), which
/// equals the scalar's wrapping `&+ zp` on the low 32 bits; otherwise it is added after. Then a
/// saturating narrow to bytes and the clamp on bytes (the 32-bit clamp's result for bounds
/// inside −128…127). The left shift and the clamp are skipped (a branch taken the same way for
/// the whole layer) where every left shift is 0 / the clamp is the narrow's own −128…127: 14 zmm
/// uops a row, 12 in `apply4` (two packs and a vpermd narrow four rows where four vpmovsdb take
/// 8), against the gemmlowp steps' 22 on 32-bit lanes. That matters at the 1×1 convs' K of
/// 16…56 and in the depthwise kernel, both bound by this stage. Lanes outside `lanes` read 0 (a
/// partial block is never stored there).
struct Requant16 {
  let mult, multOdd, left, addEven, addOdd, negEven, negOdd, shiftEven, shiftOdd, zp: __m512i
  let lo, hi: __m512i
  let shifts: Bool, clamps: Bool, foldsZeroPoint: Bool

  @inline(__always)
  init(lanes: __mmask16, multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
       zeroPoint: Int32, clampMin: Int32, clampMax: Int32) {
    let zero = _mm512_setzero_si512()
    let sh = _mm512_maskz_loadu_epi32(lanes, shift)
    self.init(multiplier: _mm512_maskz_loadu_epi32(lanes, multiplier), left: _mm512_max_epi32(sh, zero),
              right: _mm512_max_epi32(_mm512_sub_epi32(zero, sh), zero),
              zeroPoint: zeroPoint, clampMin: clampMin, clampMax: clampMax)
  }

  /// From the multiplier and the left (0…30) / right (0…31) shifts of each lane.
  @inline(__always)
  init(multiplier: __m512i, left: __m512i, right e: __m512i, zeroPoint: Int32, clampMin: Int32, clampMax: Int32) {
    mult = multiplier
    // the odd lanes' multipliers moved down by a permute, not a shift: from a shift LLVM knows the
    // high halves and drops vpmuldq's sign extension, then lowers the product as a full 64-bit
    // multiply (three vpmuludq and four more uops)
    multOdd = _mm512_permutexvar_epi32(_mm512_set_epi32(15, 15, 13, 13, 11, 11, 9, 9, 7, 7, 5, 5, 3, 3, 1, 1), mult)
    self.left = left
    // e ≥ 24 ⇔ bit 5 of e + 8 (e ≤ 31)
    let folds = _mm512_test_epi32_mask(_mm512_add_epi32(e, _mm512_set1_epi32(8)), _mm512_set1_epi32(32)) == 0
    // per 64-bit lane: K, (e > 0 ? 2^31 : 0), 31 + e
    @inline(__always) func derive(_ e64: __m512i) -> (add: __m512i, neg: __m512i, shift: __m512i) {
      let rounds = _mm512_test_epi64_mask(e64, e64)
      let shift = _mm512_add_epi64(e64, _mm512_set1_epi64(31))
      let z = folds ? _mm512_sllv_epi64(_mm512_set1_epi64(Int64(zeroPoint)), shift) : _mm512_setzero_si512()
      let half = _mm512_maskz_mov_epi64(rounds, _mm512_sllv_epi64(_mm512_set1_epi64(1 << 30), e64))
      return (_mm512_add_epi64(_mm512_add_epi64(half, z), _mm512_set1_epi64(1 << 30)),
              _mm512_maskz_mov_epi64(rounds, _mm512_set1_epi64(1 << 31)), shift)
    }
    (addEven, negEven, shiftEven) = derive(_mm512_and_si512(e, _mm512_set1_epi64(0xFFFF_FFFF)))
    (addOdd, negOdd, shiftOdd) = derive(_mm512_srli_epi64(e, 32))
    zp = _mm512_set1_epi32(zeroPoint)
    lo = _mm512_set1_epi8(Int8(truncatingIfNeeded: clampMin))
    hi = _mm512_set1_epi8(Int8(truncatingIfNeeded: clampMax))
    shifts = _mm512_test_epi32_mask(left, left) != 0
    clamps = clampMin > -128 || clampMax < 127
    foldsZeroPoint = folds
  }

  /// The requantized values as int32 lanes, zero point added (before the narrow).
  @inline(__always)
  func scaled(_ acc: __m512i) -> __m512i {
    let x = shifts ? _mm512_sllv_epi32(acc, left) : acc
    @inline(__always) func half(_ product: __m512i, _ add: __m512i, _ neg: __m512i, _ shift: __m512i) -> __m512i {
      let p = _mm512_add_epi64(product, add)
      let negative = _mm512_test_epi64_mask(product, _mm512_set1_epi64(Int64.min))
      return _mm512_srav_epi64(_mm512_mask_sub_epi64(p, negative, p, neg), shift)
    }
    let even = half(_mm512_mul_epi32(x, mult), addEven, negEven, shiftEven)
    let odd = half(_mm512_mul_epi32(_mm512_srai_epi64(x, 32), multOdd), addOdd, negOdd, shiftOdd)
    // odd lanes take the low half of `odd`'s 64-bit lanes: one vpermd in place of a shift + blend
    let merged = _mm512_mask_permutexvar_epi32(even, 0xAAAA, Requant16.oddLanesDown, odd)
    return foldsZeroPoint ? merged : _mm512_add_epi32(merged, zp)
  }

  /// One row: 16 output bytes.
  @inline(__always)
  func apply(_ acc: __m512i) -> __m128i {
    let r = _mm512_cvtsepi32_epi8(scaled(acc))
    return clamps ? _mm_min_epi8(_mm_max_epi8(r, _mm512_castsi512_si128(lo)), _mm512_castsi512_si128(hi)) : r
  }

  /// Four rows: row j's 16 bytes in 128-bit lane j (int32 → int16 → int8 saturating packs equal
  /// the one saturating narrow; the packs interleave the rows by dword, the vpermd sorts them).
  @inline(__always)
  func apply4(_ a: __m512i, _ b: __m512i, _ c: __m512i, _ d: __m512i) -> __m512i {
    let ab = _mm512_packs_epi32(scaled(a), scaled(b)), cd = _mm512_packs_epi32(scaled(c), scaled(d))
    let v = _mm512_permutexvar_epi32(_mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0),
                                     _mm512_packs_epi16(ab, cd))
    return clamps ? _mm512_min_epi8(_mm512_max_epi8(v, lo), hi) : v
  }

  /// vpermd indices: lane 2i + 1 ← lane 2i.
  static var oddLanesDown: __m512i { _mm512_set_epi32(14, 14, 12, 12, 10, 10, 8, 8, 6, 6, 4, 4, 2, 2, 0, 0) }
}

/// Stores `apply4`'s rows r…r + 3 (those below `rows`) at out + row·ldc, `lanes` bytes each: a
/// masked store of the whole vector, addressed so that lane j lands on its row (masked-off bytes
/// are never touched), where extracting lanes 1…3 would cost a uop each.
@inline(__always)
func storeRows4(_ v: __m512i, _ out: UnsafeMutableRawPointer, _ ldc: Int, _ r: Int, _ rows: Int, _ lanes: __mmask16) {
  let m = __mmask64(lanes)
  if r < rows { _mm512_mask_storeu_epi8(out + r * ldc, m, v) }
  if r + 1 < rows { _mm512_mask_storeu_epi8(out + (r + 1) * ldc - 16, m << 16, v) }
  if r + 2 < rows { _mm512_mask_storeu_epi8(out + (r + 2) * ldc - 32, m << 32, v) }
  if r + 3 < rows { _mm512_mask_storeu_epi8(out + (r + 3) * ldc - 48, m << 48, v) }
}
#endif
