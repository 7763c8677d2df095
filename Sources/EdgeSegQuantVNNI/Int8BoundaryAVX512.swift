// AVX-512 int8 island boundaries: float NCHW ↔ int8 NHWC for one block of pixels, 16 channels ×
// 16 pixels at a time: one vector per channel run, a 16×16 byte transpose in registers, masked
// loads and stores for the channel and pixel tails. Same arithmetic as the portable step in
// EdgeSegCore (Int8BoundaryStep): quantize = x / scale, NaN → −2^20, clamp ±2^20, round half to
// even (cvtps2dq under the default MXCSR), + zp, saturate; dequantize = Float(q − zp) · scale.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// m[i] = row i of a 16×16 byte matrix → m[j] = its column j: SSE2 unpacks in 4 stages (bytes,
/// words, dwords, qwords), each pairing rows that are 1, 2, 4, 8 apart.
@inline(__always)
func transpose16x16(_ m: UnsafeMutablePointer<__m128i>) {
  let b0 = _mm_unpacklo_epi8(m[0], m[1]), b1 = _mm_unpackhi_epi8(m[0], m[1])
  let b2 = _mm_unpacklo_epi8(m[2], m[3]), b3 = _mm_unpackhi_epi8(m[2], m[3])
  let b4 = _mm_unpacklo_epi8(m[4], m[5]), b5 = _mm_unpackhi_epi8(m[4], m[5])
  let b6 = _mm_unpacklo_epi8(m[6], m[7]), b7 = _mm_unpackhi_epi8(m[6], m[7])
  let b8 = _mm_unpacklo_epi8(m[8], m[9]), b9 = _mm_unpackhi_epi8(m[8], m[9])
  let b10 = _mm_unpacklo_epi8(m[10], m[11]), b11 = _mm_unpackhi_epi8(m[10], m[11])
  let b12 = _mm_unpacklo_epi8(m[12], m[13]), b13 = _mm_unpackhi_epi8(m[12], m[13])
  let b14 = _mm_unpacklo_epi8(m[14], m[15]), b15 = _mm_unpackhi_epi8(m[14], m[15])
  let c0 = _mm_unpacklo_epi16(b0, b2), c1 = _mm_unpackhi_epi16(b0, b2)
  let c2 = _mm_unpacklo_epi16(b1, b3), c3 = _mm_unpackhi_epi16(b1, b3)
  let c4 = _mm_unpacklo_epi16(b4, b6), c5 = _mm_unpackhi_epi16(b4, b6)
  let c6 = _mm_unpacklo_epi16(b5, b7), c7 = _mm_unpackhi_epi16(b5, b7)
  let c8 = _mm_unpacklo_epi16(b8, b10), c9 = _mm_unpackhi_epi16(b8, b10)
  let c10 = _mm_unpacklo_epi16(b9, b11), c11 = _mm_unpackhi_epi16(b9, b11)
  let c12 = _mm_unpacklo_epi16(b12, b14), c13 = _mm_unpackhi_epi16(b12, b14)
  let c14 = _mm_unpacklo_epi16(b13, b15), c15 = _mm_unpackhi_epi16(b13, b15)
  let d0 = _mm_unpacklo_epi32(c0, c4), d1 = _mm_unpackhi_epi32(c0, c4)
  let d2 = _mm_unpacklo_epi32(c1, c5), d3 = _mm_unpackhi_epi32(c1, c5)
  let d4 = _mm_unpacklo_epi32(c2, c6), d5 = _mm_unpackhi_epi32(c2, c6)
  let d6 = _mm_unpacklo_epi32(c3, c7), d7 = _mm_unpackhi_epi32(c3, c7)
  let d8 = _mm_unpacklo_epi32(c8, c12), d9 = _mm_unpackhi_epi32(c8, c12)
  let d10 = _mm_unpacklo_epi32(c9, c13), d11 = _mm_unpackhi_epi32(c9, c13)
  let d12 = _mm_unpacklo_epi32(c10, c14), d13 = _mm_unpackhi_epi32(c10, c14)
  let d14 = _mm_unpacklo_epi32(c11, c15), d15 = _mm_unpackhi_epi32(c11, c15)
  m[0] = _mm_unpacklo_epi64(d0, d8); m[1] = _mm_unpackhi_epi64(d0, d8)
  m[2] = _mm_unpacklo_epi64(d1, d9); m[3] = _mm_unpackhi_epi64(d1, d9)
  m[4] = _mm_unpacklo_epi64(d2, d10); m[5] = _mm_unpackhi_epi64(d2, d10)
  m[6] = _mm_unpacklo_epi64(d3, d11); m[7] = _mm_unpackhi_epi64(d3, d11)
  m[8] = _mm_unpacklo_epi64(d4, d12); m[9] = _mm_unpackhi_epi64(d4, d12)
  m[10] = _mm_unpacklo_epi64(d5, d13); m[11] = _mm_unpackhi_epi64(d5, d13)
  m[12] = _mm_unpacklo_epi64(d6, d14); m[13] = _mm_unpackhi_epi64(d6, d14)
  m[14] = _mm_unpacklo_epi64(d7, d15); m[15] = _mm_unpackhi_epi64(d7, d15)
}

/// One 16-pixel × 16-channel tile of a boundary block and the masks of its pixel / channel tails.
struct BoundaryTile16 {
  var p: Int, pixels: Int, pixMask: __mmask16
  var c0: Int, channels: Int, chMask: __mmask16
}

/// Walks `pixels` × `channels` in tiles of 16 × 16 with a 16-register scratch matrix for the
/// transpose (both boundary directions share it): per span of 256 pixels, channel block by
/// channel block, so the float side moves through 16 planes 1 KB at a time. Channel-inner order
/// touched every plane per 16 pixels, and planes of 32×32 or 128×128 floats lie a multiple of
/// 4 KB apart: all in one L1 set (the demo's 320-channel dequantize ran at 4 cycles a value).
@inline(__always)
func forEachBoundaryTile16(pixels: Int, channels: Int, _ body: (UnsafeMutablePointer<__m128i>, BoundaryTile16) -> Void) {
  withUnsafeTemporaryAllocation(of: __m128i.self, capacity: 16) { buf in
    var span = 0
    while span < pixels {
      let end = min(span + 256, pixels)
      var c0 = 0
      while c0 < channels {
        let nc = min(16, channels - c0)
        var p = span
        while p < end {
          let np = min(16, end - p)
          body(buf.baseAddress!, BoundaryTile16(p: p, pixels: np, pixMask: laneMask16(np),
                                                c0: c0, channels: nc, chMask: laneMask16(nc)))
          p += 16
        }
        c0 += 16
      }
      span = end
    }
  }
}

/// Float NCHW (channel planes `planeStride` floats apart, starting at this block's first pixel)
/// → int8 NHWC rows of `channels` bytes, `dstStride` bytes apart, `pixels` of them.
@_cdecl("edgeseg_int8_quantize_block_avx512")
public func int8QuantizeBlockAVX512(src: UnsafePointer<Float>, planeStride: Int, channels: Int, pixels: Int,
                                    dst: UnsafeMutablePointer<Int8>, dstStride: Int, scale: Float, zeroPoint: Int32) {
  let q16 = Quantize16(scale: scale, zeroPoint: zeroPoint)
  if channels == 3 && dstStride == 3 {
    // The RGB input: three planes' 16 bytes interleaved by byte shuffles into 48 (the 16×16
    // transpose and 16 masked 3-byte stores cost 3× the divides).
    var p = 0
    while p < pixels {
      let n = min(16, pixels - p), mask = laneMask16(n)
      let r = q16(_mm512_maskz_loadu_ps(mask, src + p)), g = q16(_mm512_maskz_loadu_ps(mask, src + planeStride + p))
      let b = q16(_mm512_maskz_loadu_ps(mask, src + 2 * planeStride + p))
      let out = dst + 3 * p
      for k in 0..<3 {
        let v = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(r, rgbInterleave[3 * k]), _mm_shuffle_epi8(g, rgbInterleave[3 * k + 1])),
                             _mm_shuffle_epi8(b, rgbInterleave[3 * k + 2]))
        let bytes = min(16, 3 * n - 16 * k)
        if bytes <= 0 { break }
        _mm_mask_storeu_epi8(out + 16 * k, laneMask16(bytes), v)
      }
      p += 16
    }
    return
  }
  forEachBoundaryTile16(pixels: pixels, channels: channels) { m, t in
    for c in 0..<16 {
      guard c < t.channels else { m[c] = _mm_setzero_si128(); continue }
      m[c] = q16(_mm512_maskz_loadu_ps(t.pixMask, src + (t.c0 + c) * planeStride + t.p))
    }
    transpose16x16(m)
    for j in 0..<t.pixels { _mm_mask_storeu_epi8(dst + (t.p + j) * dstStride + t.c0, t.chMask, m[j]) }
  }
}

/// The quantize step's arithmetic on 16 floats: x / scale, NaN → −2^20 (max_ps returns its second
/// operand when the first is NaN, like the portable step), clamp ±2^20, round half to even
/// (cvtps2dq under the default MXCSR), + zp, saturate to bytes.
struct Quantize16 {
  let sc: __m512, big: __m512, negBig: __m512
  let zp: __m512i, lo: __m512i, hi: __m512i

  @inline(__always)
  init(scale: Float, zeroPoint: Int32) {
    sc = _mm512_set1_ps(scale); big = _mm512_set1_ps(1_048_576); negBig = _mm512_set1_ps(-1_048_576)
    zp = _mm512_set1_epi32(zeroPoint); lo = _mm512_set1_epi32(-128); hi = _mm512_set1_epi32(127)
  }

  @inline(__always)
  func callAsFunction(_ x: __m512) -> __m128i {
    let v = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(x, sc), negBig), big)
    let q = _mm512_add_epi32(_mm512_cvtps_epi32(v), zp)
    return _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi))
  }
}

/// The dequantize step's arithmetic on 16 bytes: Float(q − zp) · scale.
@inline(__always)
func dequantize16(_ q: __m128i, _ zp: __m512i, _ sc: __m512) -> __m512 {
  _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepi8_epi32(q), zp)), sc)
}

// Pixel-major (NHWC) runs for the int8 concat / resize steps: the same per-value arithmetic as the
// boundary blocks, with no transposes (their data is NHWC on both sides).

/// `count` int8 values → floats: Float(q − zp) · scale.
@_cdecl("edgeseg_int8_dequantize_run_avx512")
public func int8DequantizeRunAVX512(src: UnsafePointer<Int8>, count: Int, dst: UnsafeMutablePointer<Float>,
                                    scale: Float, zeroPoint: Int32) {
  let sc = _mm512_set1_ps(scale), zp = _mm512_set1_epi32(zeroPoint)
  var i = 0
  while i < count {
    let m = laneMask16(min(16, count - i))
    _mm512_mask_storeu_ps(dst + i, m, dequantize16(_mm_maskz_loadu_epi8(m, src + i), zp, sc))
    i += 16
  }
}

/// `pixels` runs of `channels` floats (contiguous) → int8 rows `dstStride` bytes apart (the
/// quantize step's bytes).
@_cdecl("edgeseg_int8_quantize_pixels_avx512")
public func int8QuantizePixelsAVX512(src: UnsafePointer<Float>, channels: Int, pixels: Int,
                                     dst: UnsafeMutablePointer<Int8>, dstStride: Int, scale: Float, zeroPoint: Int32) {
  let q16 = Quantize16(scale: scale, zeroPoint: zeroPoint)
  storePixelRuns(channels: channels, pixels: pixels, dst: dst, dstStride: dstStride) { p, c, m in
    q16(_mm512_maskz_loadu_ps(m, src + p * channels + c))
  }
}

/// `pixels` runs of `channels` int8 values (contiguous) requantized into rows `dstStride` bytes
/// apart: the dequantize step's value, then the quantize step's rounding (what the concat's
/// 256-entry table holds, without the scalar lookups).
@_cdecl("edgeseg_int8_requantize_pixels_avx512")
public func int8RequantizePixelsAVX512(src: UnsafePointer<Int8>, channels: Int, pixels: Int,
                                       dst: UnsafeMutablePointer<Int8>, dstStride: Int,
                                       inScale: Float, inZeroPoint: Int32, outScale: Float, outZeroPoint: Int32) {
  let sc = _mm512_set1_ps(inScale), zp = _mm512_set1_epi32(inZeroPoint)
  let q16 = Quantize16(scale: outScale, zeroPoint: outZeroPoint)
  storePixelRuns(channels: channels, pixels: pixels, dst: dst, dstStride: dstStride) { p, c, m in
    q16(dequantize16(_mm_maskz_loadu_epi8(m, src + p * channels + c), zp, sc))
  }
}

/// Row p of `dst` (`dstStride` bytes apart) gets `bytes(p, c, mask)` for every run of ≤ 16 of its
/// `channels`, masked stores for the tail.
@inline(__always)
func storePixelRuns(channels: Int, pixels: Int, dst: UnsafeMutablePointer<Int8>, dstStride: Int,
                    _ bytes: (_ p: Int, _ c: Int, _ mask: __mmask16) -> __m128i) {
  for p in 0..<pixels {
    let d = dst + p * dstStride
    var c = 0
    while c < channels {
      let m = laneMask16(min(16, channels - c))
      _mm_mask_storeu_epi8(d + c, m, bytes(p, c, m))
      c += 16
    }
  }
}

/// One row of a linear resize along x, pixel-major: out[ox][c] = row[i0][c]·w0[ox] +
/// row[min(i0 + 1, inWidth − 1)][c]·w1[ox], i0 = x0[ox] (the float kernel's expression: two
/// products and a sum, no FMA).
@_cdecl("edgeseg_f32_lerp_pixels_avx512")
public func f32LerpPixelsAVX512(row: UnsafePointer<Float>, channels: Int, inWidth: Int, x0: UnsafePointer<Int32>,
                                w0: UnsafePointer<Float>, w1: UnsafePointer<Float>, outWidth: Int,
                                dst: UnsafeMutablePointer<Float>) {
  for ox in 0..<outWidth {
    let i0 = Int(x0[ox]), i1 = min(i0 + 1, inWidth - 1)
    let a = row + i0 * channels, b = row + i1 * channels, d = dst + ox * channels
    let f0 = _mm512_set1_ps(w0[ox]), f1 = _mm512_set1_ps(w1[ox])
    var c = 0
    while c < channels {
      let m = laneMask16(min(16, channels - c))
      _mm512_mask_storeu_ps(d + c, m, _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + c), f0),
                                                     _mm512_mul_ps(_mm512_maskz_loadu_ps(m, b + c), f1)))
      c += 16
    }
  }
}

/// pshufb indices that interleave three 16-byte channel vectors into 48 bytes: [3k + c] picks
/// channel c's bytes for output bytes 16k…16k+15 (byte j = 3·pixel + channel; 0x80 → 0).
let rgbInterleave: [__m128i] = (0..<9).map { i in
  let k = i / 3, c = i % 3
  var idx = [Int8](repeating: -128, count: 16)
  for j in 0..<16 where (16 * k + j) % 3 == c { idx[j] = Int8((16 * k + j) / 3) }
  return idx.withUnsafeBytes { $0.loadUnaligned(as: __m128i.self) }
}

/// int8 NHWC rows → float NCHW planes: the inverse walk of `int8QuantizeBlockAVX512`.
@_cdecl("edgeseg_int8_dequantize_block_avx512")
public func int8DequantizeBlockAVX512(src: UnsafePointer<Int8>, channels: Int, pixels: Int,
                                      dst: UnsafeMutablePointer<Float>, planeStride: Int, scale: Float, zeroPoint: Int32) {
  let sc = _mm512_set1_ps(scale), zp = _mm512_set1_epi32(zeroPoint)
  forEachBoundaryTile16(pixels: pixels, channels: channels) { m, t in
    for j in 0..<16 {
      m[j] = j < t.pixels ? _mm_maskz_loadu_epi8(t.chMask, src + (t.p + j) * channels + t.c0) : _mm_setzero_si128()
    }
    transpose16x16(m)
    for c in 0..<t.channels {
      _mm512_mask_storeu_ps(dst + (t.c0 + c) * planeStride + t.p, t.pixMask, dequantize16(m[c], zp, sc))
    }
  }
}
#endif
