// Depthwise int8 convolution for x86 AVX-512 VNNI hosts: vpdpwssd (int16 pair dot product into
// int32) on pairs of vertically adjacent taps read from interleaved int16 "pair rows" (layouts
// in EdgeSegKernels/Int8/Int8Depthwise.swift). 16 channels per zmm, the 3×3 weights in registers
// across a row, channel tails by masked stores. Requantization: `Requant16`, the GEMM tile's
// output stage (this kernel is bound by it: 6 dot products per 16 outputs).
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Output rows [rowLo, rowHi) of a depthwise conv, all channels.
/// geometry: inH, inW, C, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW.
@_cdecl("edgeseg_int8_dw_pairs_vnni")
public func int8DepthwisePairsVNNI(input: UnsafePointer<Int8>, inputZeroPoint: Int32, geometry g: UnsafePointer<Int>,
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
      dwBuildPairRowVNNI(input: input, zpRow: zpIn, inH: inH, inW: inW, C: C, cp: cp, r: r, dilH: dilH,
                         padLeft: padLeft, cols: cols, dst: base + s * rowBytes)
      tags[s] = r
    }
    return UnsafeRawPointer(base + s * rowBytes)
  }

  @inline(__always) func stage(_ blk: Int) -> (bias: __m512i, rq: Requant16) {
    let p = params + blk * 384
    return (p.loadUnaligned(as: __m512i.self),
            Requant16(multiplier: (p + 64).loadUnaligned(as: __m512i.self), left: (p + 128).loadUnaligned(as: __m512i.self),
                      right: (p + 192).loadUnaligned(as: __m512i.self), zeroPoint: outputZeroPoint,
                      clampMin: clampMin, clampMax: clampMax))
  }
  let pixStep = strideW * cp * 4, tapStep = dilW * cp * 4
  let blockWeights = pairRows * kW * 64
  for oy in rowLo..<rowHi {
    let r0 = oy * strideH - padTop
    let dstRow = output + oy * outW * C
    if kH == 3 && kW == 3 {
      // Both pair rows exist before the pointers are taken (their slots differ by construction).
      _ = slot(r0); let p1 = slot(r0 + 2 * dilH), p0 = slot(r0)
      for blk in 0..<blocks {
        let c = blk * 16
        let w = weights + blk * blockWeights
        let w00 = w.loadUnaligned(as: __m512i.self), w01 = (w + 64).loadUnaligned(as: __m512i.self)
        let w02 = (w + 128).loadUnaligned(as: __m512i.self), w10 = (w + 192).loadUnaligned(as: __m512i.self)
        let w11 = (w + 256).loadUnaligned(as: __m512i.self), w12 = (w + 320).loadUnaligned(as: __m512i.self)
        let (bias, rq) = stage(blk)
        var a = p0 + c * 4, b = p1 + c * 4
        var dst = dstRow + c
        let n = min(16, C - c)
        for _ in 0..<outW {
          var s0 = _mm512_dpwssd_epi32(bias, a.loadUnaligned(as: __m512i.self), w00)
          var s1 = _mm512_madd_epi16(b.loadUnaligned(as: __m512i.self), w10)
          s0 = _mm512_dpwssd_epi32(s0, (a + tapStep).loadUnaligned(as: __m512i.self), w01)
          s1 = _mm512_dpwssd_epi32(s1, (b + tapStep).loadUnaligned(as: __m512i.self), w11)
          s0 = _mm512_dpwssd_epi32(s0, (a + 2 * tapStep).loadUnaligned(as: __m512i.self), w02)
          s1 = _mm512_dpwssd_epi32(s1, (b + 2 * tapStep).loadUnaligned(as: __m512i.self), w12)
          dwStore16(rq.apply(_mm512_add_epi32(s0, s1)), dst, n)
          a += pixStep; b += pixStep; dst += C
        }
      }
    } else {
      for j in 0..<pairRows { _ = slot(r0 + 2 * j * dilH) }
      for blk in 0..<blocks {
        let c = blk * 16
        let w = weights + blk * blockWeights
        let (bias, rq) = stage(blk)
        let n = min(16, C - c)
        for ox in 0..<outW {
          var acc = bias
          for j in 0..<pairRows {
            let p = slot(r0 + 2 * j * dilH) + c * 4 + ox * pixStep
            for kx in 0..<kW {
              acc = _mm512_dpwssd_epi32(acc, (p + kx * tapStep).loadUnaligned(as: __m512i.self),
                                        (w + (j * kW + kx) * 64).loadUnaligned(as: __m512i.self))
            }
          }
          dwStore16(rq.apply(acc), dstRow + ox * C + c, n)
        }
      }
    }
  }
}

/// P_r[col][c] = (x[r][ix][c], x[r + dilH][ix][c]) as int16, ix = col − padLeft; zp_in outside
/// the image, 0 in the channel padding.
@inline(__always)
func dwBuildPairRowVNNI(input: UnsafePointer<Int8>, zpRow: UnsafePointer<Int8>, inH: Int, inW: Int, C: Int, cp: Int,
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
      let ab = _mm256_set_m128i(_mm_unpackhi_epi8(va, vb), _mm_unpacklo_epi8(va, vb))
      (d + c * 4).storeBytes(of: _mm512_cvtepi8_epi16(ab), as: __m512i.self)
      c += 16
    }
    if c < C {   // the last C % 16 channels: masked loads (no fault past the end), zeros after
      let m = laneMask16(C - c)
      let va = _mm_maskz_loadu_epi8(m, a + c), vb = _mm_maskz_loadu_epi8(m, b + c)
      let ab = _mm256_set_m128i(_mm_unpackhi_epi8(va, vb), _mm_unpacklo_epi8(va, vb))
      (d + c * 4).storeBytes(of: _mm512_cvtepi8_epi16(ab), as: __m512i.self)
    }
  }
}

/// Stores 16 output bytes (n ≤ 16 of them).
@inline(__always) func dwStore16(_ b: __m128i, _ dst: UnsafeMutablePointer<Int8>, _ n: Int) {
  if n == 16 {
    UnsafeMutableRawPointer(dst).storeBytes(of: b, as: __m128i.self)
  } else {
    _mm_mask_storeu_epi8(dst, laneMask16(n), b)
  }
}
#endif
