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
#endif
