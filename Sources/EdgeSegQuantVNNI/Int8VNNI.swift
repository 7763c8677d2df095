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
#endif
