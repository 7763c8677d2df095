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
@_extern(c, "edgeseg_int8_dequantize_run_avx512")
func int8DequantizeRunAVX512(src: UnsafePointer<Int8>, count: Int, dst: UnsafeMutablePointer<Float>, scale: Float, zeroPoint: Int32)
@_extern(c, "edgeseg_int8_quantize_pixels_avx512")
func int8QuantizePixelsAVX512(src: UnsafePointer<Float>, channels: Int, pixels: Int,
                              dst: UnsafeMutablePointer<Int8>, dstStride: Int, scale: Float, zeroPoint: Int32)
@_extern(c, "edgeseg_int8_requantize_pixels_avx512")
func int8RequantizePixelsAVX512(src: UnsafePointer<Int8>, channels: Int, pixels: Int, dst: UnsafeMutablePointer<Int8>, dstStride: Int,
                                inScale: Float, inZeroPoint: Int32, outScale: Float, outZeroPoint: Int32)
@_extern(c, "edgeseg_f32_lerp_pixels_avx512")
func f32LerpPixelsAVX512(row: UnsafePointer<Float>, channels: Int, inWidth: Int, x0: UnsafePointer<Int32>,
                         w0: UnsafePointer<Float>, w1: UnsafePointer<Float>, outWidth: Int, dst: UnsafeMutablePointer<Float>)
#endif

/// Pixel-major (NHWC on both sides) kernels of the int8 concat and resize steps, where
/// `int8BoundaryBlocksAvailable()`; each value gets the boundary steps' arithmetic.
public enum Int8PixelRuns {
  /// `count` values: Float(q − zp) · scale.
  public static func dequantize(_ src: UnsafePointer<Int8>, count: Int, into dst: UnsafeMutablePointer<Float>,
                                scale: Float, zeroPoint: Int32) {
    #if arch(x86_64)
    int8DequantizeRunAVX512(src: src, count: count, dst: dst, scale: scale, zeroPoint: zeroPoint)
    #else
    preconditionFailure("Int8PixelRuns needs AVX-512")
    #endif
  }

  /// `pixels` runs of `channels` floats → int8 rows `dstStride` bytes apart (the quantize step's bytes).
  public static func quantize(_ src: UnsafePointer<Float>, channels: Int, pixels: Int, into dst: UnsafeMutablePointer<Int8>,
                              dstStride: Int, scale: Float, zeroPoint: Int32) {
    #if arch(x86_64)
    int8QuantizePixelsAVX512(src: src, channels: channels, pixels: pixels, dst: dst, dstStride: dstStride,
                             scale: scale, zeroPoint: zeroPoint)
    #else
    preconditionFailure("Int8PixelRuns needs AVX-512")
    #endif
  }

  /// `pixels` runs of `channels` int8 values requantized (dequantize, then quantize) into rows `dstStride` apart.
  public static func requantize(_ src: UnsafePointer<Int8>, channels: Int, pixels: Int, into dst: UnsafeMutablePointer<Int8>,
                                dstStride: Int, inScale: Float, inZeroPoint: Int32, outScale: Float, outZeroPoint: Int32) {
    #if arch(x86_64)
    int8RequantizePixelsAVX512(src: src, channels: channels, pixels: pixels, dst: dst, dstStride: dstStride,
                               inScale: inScale, inZeroPoint: inZeroPoint, outScale: outScale, outZeroPoint: outZeroPoint)
    #else
    preconditionFailure("Int8PixelRuns needs AVX-512")
    #endif
  }

  /// A linear resize along x of one pixel-major row (`inWidth` × `channels` → `outWidth` × `channels`):
  /// out = row[x0]·w0 + row[min(x0 + 1, inWidth − 1)]·w1, the float kernel's expression.
  public static func lerp(_ row: UnsafePointer<Float>, channels: Int, inWidth: Int, x0: UnsafePointer<Int32>,
                          w0: UnsafePointer<Float>, w1: UnsafePointer<Float>, outWidth: Int, into dst: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
    f32LerpPixelsAVX512(row: row, channels: channels, inWidth: inWidth, x0: x0, w0: w0, w1: w1, outWidth: outWidth, dst: dst)
    #else
    preconditionFailure("Int8PixelRuns needs AVX-512")
    #endif
  }
}

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
