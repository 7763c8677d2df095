// Coordinate attention (GGCA) on int8 NHWC activations: the strip pools over H or W and the two
// broadcast gates, read straight from the int8 tensor. Unfused, each block dequantized the whole
// tensor to float NCHW, pooled it four times, multiplied it twice and quantized it again; these
// touch one byte per element instead of four and skip both transposes.
//
// Plain loops over contiguous channel runs (the compiler vectorises them for the baseline ISA);
// `vector`: the AVX-512 tier's twins (Int8AttentionAVX512.swift), chosen at load where
// `int8BoundaryBlocksAvailable()`, same results.

#if arch(x86_64)
@_extern(c, "edgeseg_int8_strip_reduce_avx512")
func int8StripReduceAVX512(x: UnsafePointer<Int8>, width: Int, channels: Int, kept: Int, count: Int,
                           overWidth: Bool, isMax: Bool, scale: Float, zeroPoint: Int32,
                           out: UnsafeMutablePointer<Float>, first: Int, last: Int)
@_extern(c, "edgeseg_int8_axis_scale_row_avx512")
func int8AxisScaleRowAVX512(x: UnsafePointer<Int8>, width: Int, channels: Int, aRow: UnsafePointer<Float>,
                            bT: UnsafePointer<Float>, inScale: Float, inZeroPoint: Int32, outScale: Float,
                            outZeroPoint: Int32, y: UnsafeMutablePointer<Int8>)
#endif

/// Mean or max over one spatial axis of int8 NHWC x [H][W][C], dequantized (scale · (q − zp))
/// into float NCHW: over W → out[c·H + h], over H → out[c·W + w].
/// Max commutes with the (monotone) dequantize, so it equals the unfused result exactly; the mean
/// sums exact integers and scales once, where the unfused graph summed rounded floats.
/// `scratch`: 4·C bytes. Parts split the kept axis.
public func int8StripReduce(_ x: UnsafePointer<Int8>, height H: Int, width W: Int, channels C: Int,
                            overWidth: Bool, isMax: Bool, scale: Float, zeroPoint: Int32,
                            out: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer, part: Int, parts: Int,
                            vector: Bool = false) {
  let kept = overWidth ? H : W, count = overWidth ? W : H
  #if arch(x86_64)
  if vector {
    let r = f32PartRange(kept, part, parts)
    int8StripReduceAVX512(x: x, width: W, channels: C, kept: kept, count: count, overWidth: overWidth, isMax: isMax,
                          scale: scale, zeroPoint: zeroPoint, out: out, first: r.lowerBound, last: r.upperBound)
    return
  }
  #endif
  let rowStep = overWidth ? C : W * C            // bytes between successive reduced elements
  let acc = scratch.bindMemory(to: Int32.self, capacity: C)
  let inv = scale / Float(count)
  for o in f32PartRange(kept, part, parts) {
    let first = x + (overWidth ? o * W * C : o * C)
    if isMax {
      for c in 0..<C { acc[c] = Int32(first[c]) }
      for r in 1..<max(1, count) {
        let row = first + r * rowStep
        for c in 0..<C { acc[c] = max(acc[c], Int32(row[c])) }
      }
      for c in 0..<C { out[c * kept + o] = Float(acc[c] &- zeroPoint) * scale }
    } else {
      for c in 0..<C { acc[c] = 0 }
      for r in 0..<count {
        let row = first + r * rowStep
        for c in 0..<C { acc[c] &+= Int32(row[c]) }
      }
      let bias = Int32(count) &* zeroPoint
      for c in 0..<C { out[c * kept + o] = Float(acc[c] &- bias) * inv }
    }
  }
}

/// Bytes of per-thread scratch `int8AxisScale` needs: the W gate transposed to [W][C] and one
/// row of the H gate.
public func int8AxisScaleScratchBytes(width W: Int, channels C: Int) -> Int { 4 * C * (W + 1) }

/// y = quantize(dequantize(x) · a[c, h] · b[c, w]) for int8 NHWC x, y [H][W][C] and float gates
/// a [C][H], b [C][W]: the float arithmetic of the dequantize → Mul → Mul → quantize it replaces,
/// in the same order (QuantizeLinear: round half to even, saturate, NaN → the low bound), so the
/// bytes equal the unfused graph's. Parts split the rows.
public func int8AxisScale(_ x: UnsafePointer<Int8>, height H: Int, width W: Int, channels C: Int,
                          a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                          inScale: Float, inZeroPoint: Int32, outScale: Float, outZeroPoint: Int32,
                          y: UnsafeMutablePointer<Int8>, scratch: UnsafeMutableRawPointer, part: Int, parts: Int,
                          vector: Bool = false) {
  let rows = f32PartRange(H, part, parts)
  if rows.isEmpty { return }
  let bT = scratch.bindMemory(to: Float.self, capacity: C * (W + 1)), aRow = bT + W * C
  for c in 0..<C { for w in 0..<W { bT[w * C + c] = b[c * W + w] } }
  let big: Float = 1_048_576, zp = Float(outZeroPoint)
  for h in rows {
    for c in 0..<C { aRow[c] = a[c * H + h] }
    #if arch(x86_64)
    if vector {
      int8AxisScaleRowAVX512(x: x + h * W * C, width: W, channels: C, aRow: aRow, bT: bT, inScale: inScale,
                             inZeroPoint: inZeroPoint, outScale: outScale, outZeroPoint: outZeroPoint, y: y + h * W * C)
      continue
    }
    #endif
    for w in 0..<W {
      let p = (h * W + w) * C, bw = bT + w * C
      for c in 0..<C {
        let v = Float(Int32(x[p + c]) &- inZeroPoint) * inScale * aRow[c] * bw[c]
        var t = v / outScale
        t = t >= -big ? t : -big                  // NaN compares false: the low bound, as the quantize step
        t = t > big ? big : t
        var q = ((t + f32RoundMagic) - f32RoundMagic) + zp   // round half to even
        q = q < -128 ? -128 : q
        q = q > 127 ? 127 : q
        y[p + c] = Int8(truncatingIfNeeded: Int32(bitPattern: (q + f32RoundMagic).bitPattern) &- f32RoundMagicBits)
      }
    }
  }
}

