// x86 AVX-512 VNNI tier of EdgeSegKernels (built with -mavx512f/bw/vl/vnni; empty elsewhere).
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// int8 GEMM tile, MR = 8 rows × NR = 16 channels, acc[8][16]. vpdpbusd multiplies u8 × s8 and
/// sums 4 products into int32 without saturation; the panel holds x + 128 (u8) and the caller
/// adds −128·Σw per channel to undo the offset.
/// panel: [kQuads][8 rows][4] u8; weights: [kQuads][16 ch][4] s8.
@_cdecl("edgeseg_int8_tile_vnni")
public func int8TileVNNI(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kQuads: Int,
                         acc: UnsafeMutablePointer<Int32>) {
  tileVNNI(panel: panel, weights: weights, kQuads: kQuads, acc: acc)
}

@inline(__always)
func tileVNNI(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kQuads: Int,
                         acc: UnsafeMutablePointer<Int32>) {
  var c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0
  var p = panel, w = weights
  for _ in 0..<kQuads {
    let wv = w.loadUnaligned(as: __m512i.self)
    c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(p.loadUnaligned(as: Int32.self)), wv)
    c1 = _mm512_dpbusd_epi32(c1, _mm512_set1_epi32((p + 4).loadUnaligned(as: Int32.self)), wv)
    c2 = _mm512_dpbusd_epi32(c2, _mm512_set1_epi32((p + 8).loadUnaligned(as: Int32.self)), wv)
    c3 = _mm512_dpbusd_epi32(c3, _mm512_set1_epi32((p + 12).loadUnaligned(as: Int32.self)), wv)
    c4 = _mm512_dpbusd_epi32(c4, _mm512_set1_epi32((p + 16).loadUnaligned(as: Int32.self)), wv)
    c5 = _mm512_dpbusd_epi32(c5, _mm512_set1_epi32((p + 20).loadUnaligned(as: Int32.self)), wv)
    c6 = _mm512_dpbusd_epi32(c6, _mm512_set1_epi32((p + 24).loadUnaligned(as: Int32.self)), wv)
    c7 = _mm512_dpbusd_epi32(c7, _mm512_set1_epi32((p + 28).loadUnaligned(as: Int32.self)), wv)
    p += 32; w += 64
  }
  let o = UnsafeMutableRawPointer(acc)
  o.storeBytes(of: c0, toByteOffset: 0, as: __m512i.self); o.storeBytes(of: c1, toByteOffset: 64, as: __m512i.self)
  o.storeBytes(of: c2, toByteOffset: 128, as: __m512i.self); o.storeBytes(of: c3, toByteOffset: 192, as: __m512i.self)
  o.storeBytes(of: c4, toByteOffset: 256, as: __m512i.self); o.storeBytes(of: c5, toByteOffset: 320, as: __m512i.self)
  o.storeBytes(of: c6, toByteOffset: 384, as: __m512i.self); o.storeBytes(of: c7, toByteOffset: 448, as: __m512i.self)
}

/// The same tile plus the whole output stage for a full block of 16 channels, requantized 16
/// lanes at a time (AVX-512 vpmuldq / vpsravd / vpsraq) with the integer steps of the scalar
/// `int8Requantize` (SaturatingRoundingDoublingHighMul as floor((a·b + 2^30) / 2^31), which is
/// identical for multipliers ≠ INT32_MIN). Bit-exactness is checked by the test suite.
/// perChannel: bias + correction, multiplier, shift — each 16 Int32 for this block.
@_cdecl("edgeseg_int8_tile_vnni_requant")
public func int8TileVNNIRequant(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kQuads: Int,
                                biasTotal: UnsafeRawPointer, multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                                zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                                out: UnsafeMutableRawPointer, ldc: Int, rows: Int) {
  withUnsafeTemporaryAllocation(of: SIMD16<Int32>.self, capacity: 8) { t in
    let acc = UnsafeMutableRawPointer(t.baseAddress!).assumingMemoryBound(to: Int32.self)
    tileVNNI(panel: panel, weights: weights, kQuads: kQuads, acc: acc)
    let b = biasTotal.loadUnaligned(as: SIMD16<Int32>.self)
    let m = multiplier.loadUnaligned(as: SIMD16<Int32>.self)
    let sh = shift.loadUnaligned(as: SIMD16<Int32>.self)
    let zero = SIMD16<Int32>(repeating: 0)
    let left = sh.replacing(with: 0, where: sh .< zero), right = (zero &- sh).replacing(with: 0, where: sh .> zero)
    let mask = (SIMD16<Int32>(repeating: 1) &<< right) &- 1, half = mask &>> 1
    let mLo = SIMD8<Int64>(truncatingIfNeeded: m.lowHalf), mHi = SIMD8<Int64>(truncatingIfNeeded: m.highHalf)
    let zp = SIMD16<Int32>(repeating: zeroPoint)
    let lo = SIMD16<Int32>(repeating: clampMin), hi = SIMD16<Int32>(repeating: clampMax)
    for r in 0..<rows {
      let x = (t[r] &+ b) &<< left
      let pLo = (SIMD8<Int64>(truncatingIfNeeded: x.lowHalf) &* mLo &+ (1 << 30)) &>> 31
      let pHi = (SIMD8<Int64>(truncatingIfNeeded: x.highHalf) &* mHi &+ (1 << 30)) &>> 31
      let h = SIMD16<Int32>(lowHalf: SIMD8<Int32>(truncatingIfNeeded: pLo), highHalf: SIMD8<Int32>(truncatingIfNeeded: pHi))
      let threshold = half &+ zero.replacing(with: 1, where: h .< zero)
      let rounded = (h &>> right) &+ zero.replacing(with: 1, where: (h & mask) .> threshold)
      let v = (rounded &+ zp).clamped(lowerBound: lo, upperBound: hi)
      (out + r * ldc).storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: v), as: SIMD16<Int8>.self)
    }
  }
}
#endif
