// ARMv8.2 FP16-arithmetic tier of EdgeSegKernels (built with -march=armv8.2-a+fp16; empty
// elsewhere): FP16 FMA (vfmaq_f16) on FP16 accumulators, 8 lanes per instruction.
#if arch(arm64)
import _Builtin_intrinsics.arm.neon

/// FP16 GEMM tile, 4 rows × 16 channels; FP16 sums widened into acc[4][16]. weights: [k][16] FP16.
@_cdecl("edgeseg_fp16_tile_fp16")
public func fp16TileFP16Arith(_ p0: UnsafeRawPointer, _ p1: UnsafeRawPointer, _ p2: UnsafeRawPointer,
                              _ p3: UnsafeRawPointer, weights: UnsafeRawPointer, k: Int, acc: UnsafeMutablePointer<Float>) {
  let r0 = p0.assumingMemoryBound(to: Float16.self), r1 = p1.assumingMemoryBound(to: Float16.self)
  let r2 = p2.assumingMemoryBound(to: Float16.self), r3 = p3.assumingMemoryBound(to: Float16.self)
  var c00 = float16x8_t(repeating: 0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00
  var w = weights
  for j in 0..<k {
    let w0 = w.loadUnaligned(as: float16x8_t.self), w1 = (w + 16).loadUnaligned(as: float16x8_t.self)
    let a0 = float16x8_t(repeating: r0[j]), a1 = float16x8_t(repeating: r1[j])
    let a2 = float16x8_t(repeating: r2[j]), a3 = float16x8_t(repeating: r3[j])
    c00 = vfmaq_f16(c00, a0, w0); c01 = vfmaq_f16(c01, a0, w1)
    c10 = vfmaq_f16(c10, a1, w0); c11 = vfmaq_f16(c11, a1, w1)
    c20 = vfmaq_f16(c20, a2, w0); c21 = vfmaq_f16(c21, a2, w1)
    c30 = vfmaq_f16(c30, a3, w0); c31 = vfmaq_f16(c31, a3, w1)
    w += 32
  }
  for l in 0..<8 {
    acc[l] = Float(c00[l]); acc[8 + l] = Float(c01[l]); acc[16 + l] = Float(c10[l]); acc[24 + l] = Float(c11[l])
    acc[32 + l] = Float(c20[l]); acc[40 + l] = Float(c21[l]); acc[48 + l] = Float(c30[l]); acc[56 + l] = Float(c31[l])
  }
}

/// One output pixel of an FP16 depthwise conv across all channels, FP16 FMA, 8 lanes per step.
@_cdecl("edgeseg_fp16_dwpixel_fp16")
public func fp16DepthwisePixelFP16Arith(taps tapsRaw: UnsafeRawPointer, tapCount: Int, weights w: UnsafeRawPointer,
                                        bias: UnsafePointer<Float>, channels C: Int, clampMin: Float, clampMax: Float,
                                        out o: UnsafeMutableRawPointer) {
  let taps = tapsRaw.assumingMemoryBound(to: UnsafePointer<Float16>?.self)
  let weights = w.assumingMemoryBound(to: Float16.self), out = o.assumingMemoryBound(to: Float16.self)
  let lo = float16x8_t(repeating: Float16(max(clampMin, -65504)))
  let hi = float16x8_t(repeating: Float16(min(clampMax, 65504)))
  var c = 0
  while c + 8 <= C {
    var acc = float16x8_t(repeating: 0)
    for l in 0..<8 { acc[l] = Float16(bias[c + l]) }
    for t in 0..<tapCount {
      guard let p = taps[t] else { continue }
      acc = vfmaq_f16(acc, UnsafeRawPointer(p + c).loadUnaligned(as: float16x8_t.self),
                      UnsafeRawPointer(weights + t * C + c).loadUnaligned(as: float16x8_t.self))
    }
    let v = vminq_f16(vmaxq_f16(acc, lo), hi)
    UnsafeMutableRawPointer(out + c).storeBytes(of: v, as: float16x8_t.self)
    c += 8
  }
  while c < C {
    var acc = Float16(bias[c])
    for t in 0..<tapCount { if let p = taps[t] { acc = acc.addingProduct(p[c], weights[t * C + c]) } }
    out[c] = Float16(min(max(Float(acc), clampMin), clampMax))
    c += 1
  }
}
#endif
