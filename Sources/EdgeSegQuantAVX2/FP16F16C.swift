// x86 FP16 compute: FP16 in memory, F16C (vcvtph2ps) to widen, FMA in FP32.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// FP16 GEMM tile, 4 rows × 16 channels with its epilogue: + bias, clamp, one rounding to FP16
/// (vcvtps2ph here; the baseline unit would call a soft-float routine per output).
/// weights: [k][16] FP16; writes rows × cols outputs at out (row stride ldc, in elements).
@_cdecl("edgeseg_fp16_tile_f16c")
public func fp16TileF16C(_ p0: UnsafeRawPointer, _ p1: UnsafeRawPointer, _ p2: UnsafeRawPointer,
                         _ p3: UnsafeRawPointer, weights: UnsafeRawPointer, k: Int, bias: UnsafePointer<Float>?,
                         clampMin: Float, clampMax: Float, out: UnsafeMutableRawPointer, ldc: Int,
                         rows: Int, cols: Int) {
  let r0 = p0.assumingMemoryBound(to: Float16.self), r1 = p1.assumingMemoryBound(to: Float16.self)
  let r2 = p2.assumingMemoryBound(to: Float16.self), r3 = p3.assumingMemoryBound(to: Float16.self)
  var c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00
  var w = weights
  for j in 0..<k {
    let w0 = _mm256_cvtph_ps(w.loadUnaligned(as: __m128i.self))
    let w1 = _mm256_cvtph_ps((w + 16).loadUnaligned(as: __m128i.self))
    let a0 = _mm256_set1_ps(Float(r0[j])), a1 = _mm256_set1_ps(Float(r1[j]))
    let a2 = _mm256_set1_ps(Float(r2[j])), a3 = _mm256_set1_ps(Float(r3[j]))
    c00 = _mm256_fmadd_ps(a0, w0, c00); c01 = _mm256_fmadd_ps(a0, w1, c01)
    c10 = _mm256_fmadd_ps(a1, w0, c10); c11 = _mm256_fmadd_ps(a1, w1, c11)
    c20 = _mm256_fmadd_ps(a2, w0, c20); c21 = _mm256_fmadd_ps(a2, w1, c21)
    c30 = _mm256_fmadd_ps(a3, w0, c30); c31 = _mm256_fmadd_ps(a3, w1, c31)
    w += 32
  }
  withUnsafeTemporaryAllocation(of: __m256.self, capacity: 8) { t in
    t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21; t[6] = c30; t[7] = c31
    let acc = UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self)
    let dst = out.assumingMemoryBound(to: Float16.self)
    for r in 0..<rows {
      for j in 0..<cols {
        let v = acc[r * 16 + j] + (bias?[j] ?? 0)
        dst[r * ldc + j] = Float16(min(max(v, clampMin), clampMax))
      }
    }
  }
}

/// One output pixel of an FP16 depthwise conv across all channels (8 per step, scalar tail).
/// taps[t] is the input pixel under tap t, nil for padding.
@_cdecl("edgeseg_fp16_dwpixel_f16c")
public func fp16DepthwisePixelF16C(taps tapsRaw: UnsafeRawPointer, tapCount: Int, weights w: UnsafeRawPointer,
                                   bias: UnsafePointer<Float>, channels C: Int, clampMin: Float, clampMax: Float,
                                   out o: UnsafeMutableRawPointer) {
  let taps = tapsRaw.assumingMemoryBound(to: UnsafePointer<Float16>?.self)
  let weights = w.assumingMemoryBound(to: Float16.self), out = o.assumingMemoryBound(to: Float16.self)
  let lo = _mm256_set1_ps(clampMin), hi = _mm256_set1_ps(clampMax)
  var c = 0
  while c + 8 <= C {
    var acc = UnsafeRawPointer(bias + c).loadUnaligned(as: __m256.self)
    for t in 0..<tapCount {
      guard let p = taps[t] else { continue }
      let x = _mm256_cvtph_ps(UnsafeRawPointer(p + c).loadUnaligned(as: __m128i.self))
      let wv = _mm256_cvtph_ps(UnsafeRawPointer(weights + t * C + c).loadUnaligned(as: __m128i.self))
      acc = _mm256_fmadd_ps(x, wv, acc)
    }
    let v = unsafeBitCast(_mm256_min_ps(_mm256_max_ps(acc, lo), hi), to: SIMD8<Float>.self)
    for j in 0..<8 { out[c + j] = Float16(v[j]) }
    c += 8
  }
  while c < C {
    var acc = bias[c]
    for t in 0..<tapCount { if let p = taps[t] { acc = acc.addingProduct(Float(p[c]), Float(weights[t * C + c])) } }
    out[c] = Float16(min(max(acc, clampMin), clampMax))
    c += 1
  }
}
#endif
