// AVX-512 coordinate attention on int8 NHWC (Sources/EdgeSegKernels/Int8/Int8Attention.swift
// holds the portable loops and the meaning): 16 channels per vector, masked channel tails,
// the same arithmetic lane for lane, so the bytes and floats equal the portable ones.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Strip pool outputs `o` in `first..<last` of the kept axis (see `int8StripReduce`).
@_cdecl("edgeseg_int8_strip_reduce_avx512")
public func int8StripReduceAVX512(x: UnsafePointer<Int8>, width W: Int, channels C: Int, kept: Int, count: Int,
                                  overWidth: Bool, isMax: Bool, scale: Float, zeroPoint: Int32,
                                  out: UnsafeMutablePointer<Float>, first: Int, last: Int) {
  let rowStep = overWidth ? C : W * C
  let zp = _mm512_set1_epi32(isMax ? zeroPoint : Int32(count) &* zeroPoint)
  let mul = _mm512_set1_ps(isMax ? scale : scale / Float(count))
  // out[(c0 + i)·kept + o] for the `n` ≤ 16 channels of a block of integer results: a strided
  // column, one lane at a time (the scatter intrinsic is a macro)
  @inline(__always) func put(_ acc: __m512i, _ o: Int, _ c0: Int, _ n: Int) {
    let f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc, zp)), mul)
    withUnsafeBytes(of: f) { lanes in
      for i in 0..<n { out[(c0 + i) * kept + o] = lanes.load(fromByteOffset: 4 * i, as: Float.self) }
    }
  }
  // 64 channels per pass: max on the bytes themselves, sums in int16 lanes (|Σ| ≤ 256 · 128 fits),
  // widened once per output; the 16-channel int32 loop below for longer strips
  if count <= 256 {
    for o in first..<last {
      let base = x + (overWidth ? o * W * C : o * C)
      var c0 = 0
      while c0 < C {
        let n = min(64, C - c0)
        let m64: __mmask64 = n == 64 ? ~0 : (1 << UInt64(n)) - 1
        var blocks = (_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512())
        if isMax {
          var acc = _mm512_maskz_loadu_epi8(m64, base + c0)
          for r in 1..<max(1, count) { acc = _mm512_max_epi8(acc, _mm512_maskz_loadu_epi8(m64, base + r * rowStep + c0)) }
          withUnsafeBytes(of: acc) { b in
            blocks = (_mm512_cvtepi8_epi32(b.loadUnaligned(as: __m128i.self)), _mm512_cvtepi8_epi32(b.loadUnaligned(fromByteOffset: 16, as: __m128i.self)),
                      _mm512_cvtepi8_epi32(b.loadUnaligned(fromByteOffset: 32, as: __m128i.self)),
                      _mm512_cvtepi8_epi32(b.loadUnaligned(fromByteOffset: 48, as: __m128i.self)))
          }
        } else {
          let mLo = __mmask32(truncatingIfNeeded: m64), mHi = __mmask32(truncatingIfNeeded: m64 >> 32)
          var lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512()
          for r in 0..<count {
            let p = base + r * rowStep + c0
            lo = _mm512_add_epi16(lo, _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mLo, p)))
            hi = _mm512_add_epi16(hi, _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mHi, p + 32)))
          }
          withUnsafeBytes(of: lo) { l in withUnsafeBytes(of: hi) { h in
            blocks = (_mm512_cvtepi16_epi32(l.loadUnaligned(as: __m256i.self)), _mm512_cvtepi16_epi32(l.loadUnaligned(fromByteOffset: 32, as: __m256i.self)),
                      _mm512_cvtepi16_epi32(h.loadUnaligned(as: __m256i.self)), _mm512_cvtepi16_epi32(h.loadUnaligned(fromByteOffset: 32, as: __m256i.self)))
          } }
        }
        put(blocks.0, o, c0, min(16, n))
        if n > 16 { put(blocks.1, o, c0 + 16, min(16, n - 16)) }
        if n > 32 { put(blocks.2, o, c0 + 32, min(16, n - 32)) }
        if n > 48 { put(blocks.3, o, c0 + 48, n - 48) }
        c0 += 64
      }
    }
    return
  }
  for o in first..<last {
    let base = x + (overWidth ? o * W * C : o * C)
    var c0 = 0
    while c0 < C {
      let mask = laneMask16(C - c0)
      var acc = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, base + c0))
      for r in 1..<max(1, count) {
        let v = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, base + r * rowStep + c0))
        acc = isMax ? _mm512_max_epi32(acc, v) : _mm512_add_epi32(acc, v)
      }
      put(acc, o, c0, min(16, C - c0))
      c0 += 16
    }
  }
}

/// One row h of `int8AxisScale`: aRow [C] = a[·, h], bT [W][C] = b transposed.
@_cdecl("edgeseg_int8_axis_scale_row_avx512")
public func int8AxisScaleRowAVX512(x: UnsafePointer<Int8>, width W: Int, channels C: Int,
                                   aRow: UnsafePointer<Float>, bT: UnsafePointer<Float>,
                                   inScale: Float, inZeroPoint: Int32, outScale: Float, outZeroPoint: Int32,
                                   y: UnsafeMutablePointer<Int8>) {
  let sIn = _mm512_set1_ps(inScale), zIn = _mm512_set1_epi32(inZeroPoint), sOut = _mm512_set1_ps(outScale)
  let zOut = _mm512_set1_epi32(outZeroPoint), big = _mm512_set1_ps(1_048_576), negBig = _mm512_set1_ps(-1_048_576)
  let lo = _mm512_set1_epi32(-128), hi = _mm512_set1_epi32(127)
  for w in 0..<W {
    let px = x + w * C, py = y + w * C, bw = bT + w * C
    var c0 = 0
    while c0 < C {
      let mask = laneMask16(C - c0)
      let q = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, px + c0)), zIn)
      var v = _mm512_mul_ps(_mm512_cvtepi32_ps(q), sIn)                      // dequantize
      v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mask, aRow + c0))          // · a
      v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mask, bw + c0))            // · b
      // quantize: max_ps returns its second operand for a NaN first one (NaN → −2^20)
      let t = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(v, sOut), negBig), big)
      let r = _mm512_add_epi32(_mm512_cvtps_epi32(t), zOut)
      _mm_mask_storeu_epi8(py + c0, mask, _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(r, lo), hi)))
      c0 += 16
    }
  }
}
#endif

#if arch(x86_64)
/// `int8Add` 16 elements at a time (masked tail).
@_cdecl("edgeseg_int8_add_avx512")
public func int8AddAVX512(a: UnsafePointer<Int8>, b: UnsafePointer<Int8>, y: UnsafeMutablePointer<Int8>, count: Int,
                          aScale: Float, aZeroPoint: Int32, bScale: Float, bZeroPoint: Int32, outScale: Float, outZeroPoint: Int32) {
  let sa = _mm512_set1_ps(aScale), za = _mm512_set1_epi32(aZeroPoint), sb = _mm512_set1_ps(bScale), zb = _mm512_set1_epi32(bZeroPoint)
  let sOut = _mm512_set1_ps(outScale), zOut = _mm512_set1_epi32(outZeroPoint)
  let big = _mm512_set1_ps(1_048_576), negBig = _mm512_set1_ps(-1_048_576)
  let lo = _mm512_set1_epi32(-128), hi = _mm512_set1_epi32(127)
  var i = 0
  while i < count {
    let mask = laneMask16(count - i)
    let qa = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, a + i)), za)
    let qb = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, b + i)), zb)
    let v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(qa), sa), _mm512_mul_ps(_mm512_cvtepi32_ps(qb), sb))
    let t = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(v, sOut), negBig), big)
    let r = _mm512_add_epi32(_mm512_cvtps_epi32(t), zOut)
    _mm_mask_storeu_epi8(y + i, mask, _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(r, lo), hi)))
    i += 16
  }
}
#endif
