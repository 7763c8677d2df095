// Depthwise int8 convolution for x86 AVX2 hosts: vpmaddwd on pairs of vertically adjacent taps
// read from interleaved int16 "pair rows" (layouts in EdgeSegKernels/Int8/Int8Depthwise.swift).
// The pair rows carry the padding (zp_in) and the channel padding, so the pixel loop has no
// bound checks; 8 channels per ymm, the 3×3 weights held in registers across a row.
// Requantization: the integer steps of `int8Requantize` with vpmuldq on even / odd lanes.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Output rows [rowLo, rowHi) of a depthwise conv, all channels.
/// geometry: inH, inW, C, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW.
@_cdecl("edgeseg_int8_dw_pairs_avx2")
public func int8DepthwisePairsAVX2(input: UnsafePointer<Int8>, inputZeroPoint: Int32, geometry g: UnsafePointer<Int>,
                                   weights: UnsafeRawPointer, params: UnsafeRawPointer,
                                   outputZeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                                   output: UnsafeMutablePointer<Int8>, rowLo: Int, rowHi: Int,
                                   scratch: UnsafeMutableRawPointer) {
  let inH = g[0], inW = g[1], C = g[2], outW = g[3], kH = g[4], kW = g[5]
  let strideH = g[6], strideW = g[7], padTop = g[8], padLeft = g[9], dilH = g[10], dilW = g[11]
  let cp = (C + 15) / 16 * 16, blocks = cp / 16, pairRows = (kH + 1) / 2
  let cols = (outW - 1) * strideW + (kW - 1) * dilW + 1
  let rowBytes = (cols * cp * 4 + 63) & ~63
  let slots = 2 * (pairRows - 1) * dilH + 1
  let tags = scratch.assumingMemoryBound(to: Int.self)
  let zpRow = scratch + slots * 8
  let base = scratch + ((slots * 8 + cp + 63) & ~63)
  for s in 0..<slots { tags[s] = Int.min }
  for c in 0..<cp { zpRow.storeBytes(of: Int8(truncatingIfNeeded: inputZeroPoint), toByteOffset: c, as: Int8.self) }
  let zpIn = UnsafePointer<Int8>(zpRow.assumingMemoryBound(to: Int8.self))

  @inline(__always) func slot(_ r: Int) -> UnsafeRawPointer {
    let s = ((r % slots) + slots) % slots
    if tags[s] != r {
      dwBuildPairRowAVX2(input: input, zpRow: zpIn, inH: inH, inW: inW, C: C, cp: cp, r: r, dilH: dilH,
                         padLeft: padLeft, cols: cols, dst: base + s * rowBytes)
      tags[s] = r
    }
    return UnsafeRawPointer(base + s * rowBytes)
  }

  let zp = _mm256_set1_epi32(outputZeroPoint), lo = _mm256_set1_epi32(clampMin), hi = _mm256_set1_epi32(clampMax)
  let pixStep = strideW * cp * 4, tapStep = dilW * cp * 4
  let blockWeights = pairRows * kW * 64
  for oy in rowLo..<rowHi {
    let r0 = oy * strideH - padTop
    let dstRow = output + oy * outW * C
    if kH == 3 && kW == 3 {
      // Ensure both pair rows before taking pointers (building one may not evict the other:
      // the slots differ by construction).
      _ = slot(r0); let p1 = slot(r0 + 2 * dilH), p0 = slot(r0)
      for half in 0..<(2 * blocks) {
        let c = half * 8
        if c >= C { break }
        let w = weights + (half >> 1) * blockWeights + (half & 1) * 32
        let w00 = w.loadUnaligned(as: __m256i.self), w01 = (w + 64).loadUnaligned(as: __m256i.self)
        let w02 = (w + 128).loadUnaligned(as: __m256i.self), w10 = (w + 192).loadUnaligned(as: __m256i.self)
        let w11 = (w + 256).loadUnaligned(as: __m256i.self), w12 = (w + 320).loadUnaligned(as: __m256i.self)
        let q = DWRequantAVX2(params + (half >> 1) * 384 + (half & 1) * 32)
        var a = p0 + c * 4, b = p1 + c * 4
        var dst = dstRow + c
        let n = min(8, C - c)
        for _ in 0..<outW {
          var s0 = _mm256_madd_epi16(a.loadUnaligned(as: __m256i.self), w00)
          var s1 = _mm256_madd_epi16(b.loadUnaligned(as: __m256i.self), w10)
          s0 = _mm256_add_epi32(s0, _mm256_madd_epi16((a + tapStep).loadUnaligned(as: __m256i.self), w01))
          s1 = _mm256_add_epi32(s1, _mm256_madd_epi16((b + tapStep).loadUnaligned(as: __m256i.self), w11))
          s0 = _mm256_add_epi32(s0, _mm256_madd_epi16((a + 2 * tapStep).loadUnaligned(as: __m256i.self), w02))
          s1 = _mm256_add_epi32(s1, _mm256_madd_epi16((b + 2 * tapStep).loadUnaligned(as: __m256i.self), w12))
          let v = q.apply(_mm256_add_epi32(s0, s1), zp, lo, hi)
          dwStore8(v, dst, n)
          a += pixStep; b += pixStep; dst += C
        }
      }
    } else {
      for j in 0..<pairRows { _ = slot(r0 + 2 * j * dilH) }
      for half in 0..<(2 * blocks) {
        let c = half * 8
        if c >= C { break }
        let w = weights + (half >> 1) * blockWeights + (half & 1) * 32
        let q = DWRequantAVX2(params + (half >> 1) * 384 + (half & 1) * 32)
        let n = min(8, C - c)
        for ox in 0..<outW {
          var acc = _mm256_setzero_si256()
          for j in 0..<pairRows {
            let p = slot(r0 + 2 * j * dilH) + c * 4 + ox * pixStep
            for kx in 0..<kW {
              acc = _mm256_add_epi32(acc, _mm256_madd_epi16((p + kx * tapStep).loadUnaligned(as: __m256i.self),
                                                            (w + (j * kW + kx) * 64).loadUnaligned(as: __m256i.self)))
            }
          }
          dwStore8(q.apply(acc, zp, lo, hi), dstRow + ox * C + c, n)
        }
      }
    }
  }
}

/// P_r[col][c] = (x[r][ix][c], x[r + dilH][ix][c]) as int16, ix = col − padLeft; zp_in outside
/// the image, 0 in the channel padding.
@inline(__always)
func dwBuildPairRowAVX2(input: UnsafePointer<Int8>, zpRow: UnsafePointer<Int8>, inH: Int, inW: Int, C: Int, cp: Int,
                        r: Int, dilH: Int, padLeft: Int, cols: Int, dst: UnsafeMutableRawPointer) {
  let rowA = r >= 0 && r < inH, rowB = r + dilH >= 0 && r + dilH < inH
  let full = C & ~15
  for col in 0..<cols {
    let ix = col - padLeft
    let inX = ix >= 0 && ix < inW
    let a = rowA && inX ? input + (r * inW + ix) * C : zpRow
    let b = rowB && inX ? input + ((r + dilH) * inW + ix) * C : zpRow
    let d = dst + col * cp * 4
    var c = 0
    while c < full {
      let va = UnsafeRawPointer(a + c).loadUnaligned(as: __m128i.self)
      let vb = UnsafeRawPointer(b + c).loadUnaligned(as: __m128i.self)
      (d + c * 4).storeBytes(of: _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(va, vb)), as: __m256i.self)
      (d + c * 4 + 32).storeBytes(of: _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(va, vb)), as: __m256i.self)
      c += 16
    }
    if c < C {   // the last C % 16 channels, zero-padded to the block (their weights are 0)
      var ta = SIMD16<Int8>(repeating: 0), tb = ta
      for i in 0..<(C - c) { ta[i] = a[c + i]; tb[i] = b[c + i] }
      let va = unsafeBitCast(ta, to: __m128i.self), vb = unsafeBitCast(tb, to: __m128i.self)
      (d + c * 4).storeBytes(of: _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(va, vb)), as: __m256i.self)
      (d + c * 4 + 32).storeBytes(of: _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(va, vb)), as: __m256i.self)
    }
  }
}

/// Requantization constants of 8 channels (params block: bias, multiplier, left, right, mask,
/// mask/2, 64 bytes apart); `apply` = `int8Requantize` of bias + sums on 8 lanes.
struct DWRequantAVX2 {
  let bias: __m256i, mult: __m256i, multOdd: __m256i, left: __m256i, right: __m256i, mask: __m256i, half: __m256i

  @inline(__always) init(_ p: UnsafeRawPointer) {
    bias = p.loadUnaligned(as: __m256i.self); mult = (p + 64).loadUnaligned(as: __m256i.self)
    multOdd = _mm256_srli_epi64(mult, 32)
    left = (p + 128).loadUnaligned(as: __m256i.self); right = (p + 192).loadUnaligned(as: __m256i.self)
    mask = (p + 256).loadUnaligned(as: __m256i.self); half = (p + 320).loadUnaligned(as: __m256i.self)
  }

  @inline(__always) func apply(_ sums: __m256i, _ zp: __m256i, _ lo: __m256i, _ hi: __m256i) -> __m256i {
    let x = _mm256_sllv_epi32(_mm256_add_epi32(sums, bias), left)
    // floor((x·m + 2^30) / 2^31): bits 31…62 of the 64-bit sum, even lanes shifted down, odd up.
    let nudge = _mm256_set1_epi64x(1 << 30)
    let pe = _mm256_add_epi64(_mm256_mul_epi32(x, mult), nudge)
    let po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), multOdd), nudge)
    let h = _mm256_blendv_epi8(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1),
                               _mm256_set1_epi64x(-1 << 32))
    // RoundingDivideByPOT: + 1 where (h & mask) > mask/2 + (h < 0).
    let threshold = _mm256_add_epi32(half, _mm256_srli_epi32(h, 31))
    let up = _mm256_cmpgt_epi32(_mm256_and_si256(h, mask), threshold)
    let rounded = _mm256_sub_epi32(_mm256_srav_epi32(h, right), up)
    return _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(rounded, zp), lo), hi)
  }
}

/// Stores the low bytes of 8 int32 lanes already within −128…127 (n ≤ 8 of them).
@inline(__always) func dwStore8(_ v: __m256i, _ dst: UnsafeMutablePointer<Int8>, _ n: Int) {
  let b = SIMD8<Int8>(truncatingIfNeeded: unsafeBitCast(v, to: SIMD8<Int32>.self))
  if n == 8 {
    UnsafeMutableRawPointer(dst).storeBytes(of: b, as: SIMD8<Int8>.self)
  } else {
    for i in 0..<n { dst[i] = b[i] }
  }
}
#endif
