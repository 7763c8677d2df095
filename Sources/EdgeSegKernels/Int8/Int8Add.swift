// int8 residual adds (MobileNetV2's stream between int8 convs): the two int8 operands are
// dequantized, added and quantized in one pass, the arithmetic of the float graph it replaces.
// `vector`: the AVX-512 twin (Int8AttentionAVX512.swift), same bytes.

/// y = quantize(dequantize_a(a) + dequantize_b(b)) element by element (int8 residual adds; any
/// layout, all three alike): the float arithmetic of the dequantize → Add → quantize it replaces.
public func int8Add(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ y: UnsafeMutablePointer<Int8>, count: Int,
                    aScale: Float, aZeroPoint: Int32, bScale: Float, bZeroPoint: Int32,
                    outScale: Float, outZeroPoint: Int32, part: Int, parts: Int, vector: Bool = false) {
  let r = f32PartRange(count, part, parts)
  if r.isEmpty { return }
  #if arch(x86_64)
  if vector {
    int8AddAVX512(a: a + r.lowerBound, b: b + r.lowerBound, y: y + r.lowerBound, count: r.count, aScale: aScale,
                  aZeroPoint: aZeroPoint, bScale: bScale, bZeroPoint: bZeroPoint, outScale: outScale, outZeroPoint: outZeroPoint)
    return
  }
  #endif
  let big: Float = 1_048_576, zp = Float(outZeroPoint)
  for i in r {
    let v = Float(Int32(a[i]) &- aZeroPoint) * aScale + Float(Int32(b[i]) &- bZeroPoint) * bScale
    var t = v / outScale
    t = t >= -big ? t : -big
    t = t > big ? big : t
    var q = ((t + f32RoundMagic) - f32RoundMagic) + zp
    q = q < -128 ? -128 : q
    q = q > 127 ? 127 : q
    y[i] = Int8(truncatingIfNeeded: Int32(bitPattern: (q + f32RoundMagic).bitPattern) &- f32RoundMagicBits)
  }
}

#if arch(x86_64)
@_extern(c, "edgeseg_int8_add_avx512")
func int8AddAVX512(a: UnsafePointer<Int8>, b: UnsafePointer<Int8>, y: UnsafeMutablePointer<Int8>, count: Int,
                   aScale: Float, aZeroPoint: Int32, bScale: Float, bZeroPoint: Int32, outScale: Float, outZeroPoint: Int32)
#endif
