// Sigmoid and SiLU for x86 hosts with AVX-512 (F32Path.avx512): `f32ExpLanes` of
// EdgeSegKernels/FP32/F32Math.swift on 16 lanes (one zmm), same reduction, polynomial, rounding
// and order of operations, so every value is bit-identical with the scalar `f32Sigmoid` (no FMA
// contraction in Swift; test: FP32GlueKernelTests.expLanesAreBitIdenticalWithScalarOverTheWholeRange). The portable eight
// lanes run as two SSE halves on baseline x86-64: the int8 model's float SiLU and the GGCA gates
// spent ~3 % of a run there.
#if arch(x86_64)

/// dst[i] = sigmoid(src[i]), or src[i]·sigmoid(src[i]) with `silu`; src may equal dst.
@_cdecl("edgeseg_f32_sigmoid_avx512")
public func f32SigmoidAVX512(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, count: Int, silu: Bool) {
  @inline(__always) func body(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let s = 1 / (1 + f32ExpLanes16(-x))
    return silu ? x * s : s
  }
  var i = 0
  while i + 16 <= count {
    UnsafeMutableRawPointer(dst + i).storeBytes(of: body(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self)),
                                                as: SIMD16<Float>.self)
    i += 16
  }
  if i == count { return }
  var v = SIMD16<Float>(repeating: 0)   // the tail through a padded vector: lanes are independent
  for k in 0..<(count - i) { v[k] = src[i + k] }
  let r = body(v)
  for k in 0..<(count - i) { dst[i + k] = r[k] }
}

// ---- f32ExpLanes (EdgeSegKernels/FP32/F32Math.swift) on SIMD16 ----
@inline(__always)
func f32ExpLanes16(_ xIn: SIMD16<Float>) -> SIMD16<Float> {
  let roundMagic: Float = 12_582_912, roundMagicBits: Int32 = 0x4B40_0000
  let hi: Float = 88.72283, lo: Float = -87.33654
  var x = xIn.replacing(with: hi, where: xIn .> hi)
  x.replace(with: lo, where: x .< lo)
  let t = x * 1.44269504088896341 + roundMagic
  let n = t - roundMagic
  var r = x - n * 0.693359375
  r = r + n * 2.12194440e-4
  let z = r * r
  var p = SIMD16<Float>(repeating: 1.9875691500e-4)
  p = p * r + 1.3981999507e-3
  p = p * r + 8.3334519073e-3
  p = p * r + 4.1665795894e-2
  p = p * r + 1.6666665459e-1
  p = p * r + 5.0000001201e-1
  var y = p * z + r + 1
  let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- roundMagicBits
  let n1 = ni &>> 1, n2 = ni &- n1
  let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: SIMD16<Float>.self)
  let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: SIMD16<Float>.self)
  y = y * s1 * s2
  y.replace(with: .infinity, where: xIn .> hi)
  y.replace(with: 0, where: xIn .< lo)
  return y
}
#endif
