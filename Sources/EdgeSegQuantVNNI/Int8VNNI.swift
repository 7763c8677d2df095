// x86 AVX-512 VNNI tier of EdgeSegKernels (built with -mavx512f/bw/vl/vnni; empty elsewhere).
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// int8 GEMM tile, MR = 16 rows × NR = 16 channels, plus the whole output stage of that block of
/// 16 channels. vpdpbusd multiplies u8 × s8 and sums 4 products into int32 without saturation;
/// the panel holds x + 128 (u8) and `biasTotal` includes −128·Σw per channel to undo the offset.
/// The accumulators stay in registers and are requantized 16 lanes at a time with the integer
/// steps of the scalar `int8Requantize` (see `Requant16`); bit-exactness is checked by the tests.
/// panel: [16 rows][4·kQuads] u8, row-major (packing is a plain copy); weights: [kQuads][16 ch][4] s8.
/// biasTotal, multiplier, shift: 16 Int32 each for this block.
@_cdecl("edgeseg_int8_tile_vnni_requant")
public func int8TileVNNIRequant(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kQuads: Int,
                                biasTotal: UnsafeRawPointer, multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                                zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                                out: UnsafeMutableRawPointer, ldc: Int, rows: Int) {
  // 16 rows share each 64-byte weight load: at the decoder's K (2 736) the weight block streams
  // from L2, and 8 rows per load left the tile at half the vpdpbusd rate
  var c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0
  var c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0
  let stride = 4 * kQuads
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
  let rq = Requant16(biasTotal: biasTotal, multiplier: multiplier, shift: shift,
                     zeroPoint: zeroPoint, clampMin: clampMin, clampMax: clampMax)
  // rows < 16 only at the end of a band: the extra accumulators hold padding and are not stored
  @inline(__always) func put(_ r: Int, _ c: __m512i) {
    if r < rows { (out + r * ldc).storeBytes(of: rq.apply(c), as: __m128i.self) }
  }
  put(0, c0); put(1, c1); put(2, c2); put(3, c3); put(4, c4); put(5, c5); put(6, c6); put(7, c7)
  put(8, c8); put(9, c9); put(10, c10); put(11, c11); put(12, c12); put(13, c13); put(14, c14); put(15, c15)
}

/// The GEMM tile's output stage for one block of 16 channels: constants derived once from the
/// stage's shifts, then (acc + bias) through `int8RequantizeLanes16`, narrowed to bytes. Written
/// with AVX-512 intrinsics so nothing leaves the registers (Swift's generic SIMD16<Int64>
/// conversions and `clamped` compiled to lane extracts and stdlib calls).
/// `SaturatingRoundingDoublingHighMul`'s nudge-then-truncate is exactly the floor used there for
/// every multiplier but INT32_MIN, which the output stage rejects.
struct Requant16 {
  let bias, mult, multOdd, left, right, mask, half, zp, lo, hi: __m512i

  @inline(__always)
  init(biasTotal: UnsafeRawPointer, multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
       zeroPoint: Int32, clampMin: Int32, clampMax: Int32) {
    let zero = _mm512_setzero_si512()
    let sh = shift.loadUnaligned(as: __m512i.self)
    bias = biasTotal.loadUnaligned(as: __m512i.self)
    mult = multiplier.loadUnaligned(as: __m512i.self)
    multOdd = _mm512_srli_epi64(mult, 32)
    left = _mm512_max_epi32(sh, zero)
    right = _mm512_max_epi32(_mm512_sub_epi32(zero, sh), zero)
    mask = _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right), _mm512_set1_epi32(1))
    half = _mm512_srli_epi32(mask, 1)
    zp = _mm512_set1_epi32(zeroPoint)
    lo = _mm512_set1_epi32(clampMin)
    hi = _mm512_set1_epi32(clampMax)
  }

  @inline(__always)
  func apply(_ acc: __m512i) -> __m128i {
    _mm512_cvtepi32_epi8(int8RequantizeLanes16(_mm512_add_epi32(acc, bias), multiplier: mult, multiplierOdd: multOdd,
                                               left: left, right: right, mask: mask, half: half, zeroPoint: zp, lo: lo, hi: hi))
  }
}

/// The integer steps of `int8Requantize` on 16 int32 lanes (the GEMM tile's and the depthwise
/// kernel's output stages): x << left; floor((x·m + 2^30) / 2^31) by `vpmuldq` on even and odd
/// lanes (bits 31…62 of each 64-bit sum: even lanes shifted down, odd ones up into the high half);
/// RoundingDivideByPOT with the comparison read from a sign bit; + zp; clamp. `multiplierOdd` is
/// `multiplier >> 32` per 64-bit lane, `mask` = 2^right − 1, `half` = mask / 2.
@inline(__always)
func int8RequantizeLanes16(_ acc: __m512i, multiplier: __m512i, multiplierOdd: __m512i, left: __m512i, right: __m512i,
                           mask: __m512i, half: __m512i, zeroPoint: __m512i, lo: __m512i, hi: __m512i) -> __m512i {
  let x = _mm512_sllv_epi32(acc, left)
  let nudge = _mm512_set1_epi64(1 << 30)
  let even = _mm512_add_epi64(_mm512_mul_epi32(x, multiplier), nudge)
  let odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), multiplierOdd), nudge)
  let h = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1))
  let threshold = _mm512_add_epi32(half, _mm512_srli_epi32(h, 31))
  // remainder > threshold ⇔ threshold − remainder < 0 (both in 0…2^31): its sign bit is the carry
  let up = _mm512_srli_epi32(_mm512_sub_epi32(threshold, _mm512_and_si512(h, mask)), 31)
  let r = _mm512_add_epi32(_mm512_add_epi32(_mm512_srav_epi32(h, right), up), zeroPoint)
  return _mm512_min_epi32(_mm512_max_epi32(r, lo), hi)
}
#endif
