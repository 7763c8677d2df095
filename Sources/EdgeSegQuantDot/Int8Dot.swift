// ARMv8.2 dot-product tier of EdgeSegKernels (built with -march=armv8.2-a+dotprod; empty elsewhere).
// Kept apart from the fp16 tier: some cores have one extension without the other (A64FX: fp16, no sdot).
#if arch(arm64)
import _Builtin_intrinsics.arm.neon

/// int8 GEMM tile, MR = 4 rows × NR = 8 channels, acc[4][8]: one sdot = 4 channels × 4 K.
/// panel: [kQuads][4 rows][4] s8 (each row's 4 bytes broadcast to all lanes); weights: [kQuads][8 ch][4] s8.
@_cdecl("edgeseg_int8_tile_dot")
public func int8TileDot(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kQuads: Int,
                        acc: UnsafeMutablePointer<Int32>) {
  var c00 = int32x4_t(repeating: 0), c01 = c00, c10 = c00, c11 = c00
  var c20 = c00, c21 = c00, c30 = c00, c31 = c00
  var p = panel, w = weights
  for _ in 0..<kQuads {
    let w0 = w.loadUnaligned(as: int8x16_t.self), w1 = (w + 16).loadUnaligned(as: int8x16_t.self)
    let a0 = unsafeBitCast(int32x4_t(repeating: p.loadUnaligned(as: Int32.self)), to: int8x16_t.self)
    c00 = vdotq_s32(c00, w0, a0); c01 = vdotq_s32(c01, w1, a0)
    let a1 = unsafeBitCast(int32x4_t(repeating: (p + 4).loadUnaligned(as: Int32.self)), to: int8x16_t.self)
    c10 = vdotq_s32(c10, w0, a1); c11 = vdotq_s32(c11, w1, a1)
    let a2 = unsafeBitCast(int32x4_t(repeating: (p + 8).loadUnaligned(as: Int32.self)), to: int8x16_t.self)
    c20 = vdotq_s32(c20, w0, a2); c21 = vdotq_s32(c21, w1, a2)
    let a3 = unsafeBitCast(int32x4_t(repeating: (p + 12).loadUnaligned(as: Int32.self)), to: int8x16_t.self)
    c30 = vdotq_s32(c30, w0, a3); c31 = vdotq_s32(c31, w1, a3)
    p += 16; w += 32
  }
  let o = UnsafeMutableRawPointer(acc)
  o.storeBytes(of: c00, toByteOffset: 0, as: int32x4_t.self); o.storeBytes(of: c01, toByteOffset: 16, as: int32x4_t.self)
  o.storeBytes(of: c10, toByteOffset: 32, as: int32x4_t.self); o.storeBytes(of: c11, toByteOffset: 48, as: int32x4_t.self)
  o.storeBytes(of: c20, toByteOffset: 64, as: int32x4_t.self); o.storeBytes(of: c21, toByteOffset: 80, as: int32x4_t.self)
  o.storeBytes(of: c30, toByteOffset: 96, as: int32x4_t.self); o.storeBytes(of: c31, toByteOffset: 112, as: int32x4_t.self)
}
#endif
