// Vector int8 island boundaries (float NCHW ↔ int8 NHWC) where the CPU has them: the AVX-512
// tier's 16×16 transposing blocks. Elsewhere the executor's portable tiled step runs; both give
// the same bytes (tested).

#if arch(x86_64)
@_extern(c, "edgeseg_int8_quantize_block_avx512")
func int8QuantizeBlockAVX512(src: UnsafePointer<Float>, planeStride: Int, channels: Int, pixels: Int,
                             dst: UnsafeMutablePointer<Int8>, dstStride: Int, scale: Float, zeroPoint: Int32)
@_extern(c, "edgeseg_int8_dequantize_block_avx512")
func int8DequantizeBlockAVX512(src: UnsafePointer<Int8>, channels: Int, pixels: Int,
                               dst: UnsafeMutablePointer<Float>, planeStride: Int, scale: Float, zeroPoint: Int32)
#endif

/// Whether `int8QuantizeBlock` / `int8DequantizeBlock` run on this CPU (AVX-512 BW/VL/VNNI).
public func int8BoundaryBlocksAvailable() -> Bool {
  #if arch(x86_64)
  return Int8Path.vnni.runs(on: .host)
  #else
  return false
  #endif
}

/// `pixels` pixels of `channels` float planes (`planeStride` apart) → int8 NHWC rows
/// (`dstStride` bytes apart: `channels`, or a concat's width when writing into its slice):
/// q = saturate(round_half_even(x / scale) + zp), NaN → the low bound (ONNX QuantizeLinear).
/// Only where `int8BoundaryBlocksAvailable()`.
public func int8QuantizeBlock(src: UnsafePointer<Float>, planeStride: Int, channels: Int, pixels: Int,
                              dst: UnsafeMutablePointer<Int8>, dstStride: Int? = nil, scale: Float, zeroPoint: Int32) {
  #if arch(x86_64)
  int8QuantizeBlockAVX512(src: src, planeStride: planeStride, channels: channels, pixels: pixels, dst: dst,
                          dstStride: dstStride ?? channels, scale: scale, zeroPoint: zeroPoint)
  #else
  preconditionFailure("int8QuantizeBlock needs AVX-512")
  #endif
}

/// int8 NHWC rows → float planes: x = Float(q − zp) · scale. Only where `int8BoundaryBlocksAvailable()`.
public func int8DequantizeBlock(src: UnsafePointer<Int8>, channels: Int, pixels: Int,
                                dst: UnsafeMutablePointer<Float>, planeStride: Int, scale: Float, zeroPoint: Int32) {
  #if arch(x86_64)
  int8DequantizeBlockAVX512(src: src, channels: channels, pixels: pixels, dst: dst, planeStride: planeStride,
                            scale: scale, zeroPoint: zeroPoint)
  #else
  preconditionFailure("int8DequantizeBlock needs AVX-512")
  #endif
}
