// x86 AVX2 tier of EdgeSegKernels (built with -mavx2 -mfma -mf16c; empty elsewhere). Only
// micro-kernels live here: packing, dispatch and requantization stay in EdgeSegKernels.
// Entry points are C symbols (@_cdecl), reached from EdgeSegKernels through @_extern(c): no Swift
// import, so no cross-module optimisation (or Embedded Swift's emit-into-client) can pull AVX2
// code into a unit compiled without the feature, which would crash the compiler.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// int8 GEMM tile, MR = 4 rows × NR = 16 channels, int32 accumulators written to acc[4][16].
/// vpmaddubsw would saturate its int16 pair sums (255·127·2 > 32767), so both operands are
/// int16 and vpmaddwd sums each pair exactly into int32.
/// panel: [kPairs][4 rows] × (int16, int16); weights: [kPairs][16 ch] × (int16, int16).
@_cdecl("edgeseg_int8_tile_avx2")
public func int8TileAVX2(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kPairs: Int,
                         acc: UnsafeMutablePointer<Int32>) {
  tileAVX2(panel: panel, weights: weights, kPairs: kPairs, acc: acc)
}

@inline(__always)
func tileAVX2(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kPairs: Int,
                         acc: UnsafeMutablePointer<Int32>) {
  var c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00
  var c20 = c00, c21 = c00, c30 = c00, c31 = c00
  var p = panel, w = weights
  for _ in 0..<kPairs {
    let w0 = w.loadUnaligned(as: __m256i.self), w1 = (w + 32).loadUnaligned(as: __m256i.self)
    let a0 = _mm256_set1_epi32(p.loadUnaligned(as: Int32.self))
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(a0, w0)); c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(a0, w1))
    let a1 = _mm256_set1_epi32((p + 4).loadUnaligned(as: Int32.self))
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(a1, w0)); c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(a1, w1))
    let a2 = _mm256_set1_epi32((p + 8).loadUnaligned(as: Int32.self))
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(a2, w0)); c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(a2, w1))
    let a3 = _mm256_set1_epi32((p + 12).loadUnaligned(as: Int32.self))
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(a3, w0)); c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(a3, w1))
    p += 16; w += 64
  }
  let o = UnsafeMutableRawPointer(acc)
  o.storeBytes(of: c00, toByteOffset: 0, as: __m256i.self); o.storeBytes(of: c01, toByteOffset: 32, as: __m256i.self)
  o.storeBytes(of: c10, toByteOffset: 64, as: __m256i.self); o.storeBytes(of: c11, toByteOffset: 96, as: __m256i.self)
  o.storeBytes(of: c20, toByteOffset: 128, as: __m256i.self); o.storeBytes(of: c21, toByteOffset: 160, as: __m256i.self)
  o.storeBytes(of: c30, toByteOffset: 192, as: __m256i.self); o.storeBytes(of: c31, toByteOffset: 224, as: __m256i.self)
}

/// The tile plus the output stage for a full block of 16 channels, 16 lanes at a time; same
/// integer steps as the scalar `int8Requantize` (see EdgeSegQuantVNNI for the derivation).
@_cdecl("edgeseg_int8_tile_avx2_requant")
public func int8TileAVX2Requant(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kPairs: Int,
                                biasTotal: UnsafeRawPointer, multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                                zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                                out: UnsafeMutableRawPointer, ldc: Int, rows: Int) {
  withUnsafeTemporaryAllocation(of: SIMD16<Int32>.self, capacity: 4) { t in
    let acc = UnsafeMutableRawPointer(t.baseAddress!).assumingMemoryBound(to: Int32.self)
    tileAVX2(panel: panel, weights: weights, kPairs: kPairs, acc: acc)
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
