// Depthwise int8 convolution, 8 channels per vector, for x86 hosts with AVX2 (the VNNI path
// included). The same Swift as the portable kernel in EdgeSegKernels/Int8/Int8Conv.swift; it is
// here only so that it is compiled with AVX2 enabled (vpmovsxbd, vpmulld, vpmuldq): in the
// baseline x86-64 unit the widening multiplies and the requantization go lane by lane through
// SSE2 emulation (0.4 GMAC/s). Same integer operations, so the same bytes (tested).
#if arch(x86_64)

/// Full 8-channel groups of output rows [rowLo, rowHi); the caller does the channel tail.
/// geometry: inH, inW, C, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW.
@_cdecl("edgeseg_int8_dw_rows_avx2")
public func int8DepthwiseRowsAVX2(input: UnsafePointer<Int8>, inputZeroPoint: Int32, geometry g: UnsafePointer<Int>,
                                  weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
                                  multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int32>,
                                  outputZeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                                  output: UnsafeMutablePointer<Int8>, rowLo: Int, rowHi: Int) {
  let inH = g[0], inW = g[1], C = g[2], outW = g[3], kH = g[4], kW = g[5]
  let strideH = g[6], strideW = g[7], padTop = g[8], padLeft = g[9], dilH = g[10], dilW = g[11]
  let zpv = SIMD8<Int32>(repeating: inputZeroPoint)
  let zero = SIMD8<Int32>(repeating: 0), one = SIMD8<Int32>(repeating: 1)
  let zpOut = SIMD8<Int32>(repeating: outputZeroPoint)
  let lo = SIMD8<Int32>(repeating: clampMin), hi = SIMD8<Int32>(repeating: clampMax)
  @inline(__always) func highMul(_ a: SIMD4<Int32>, _ b: SIMD4<Int32>) -> SIMD4<Int32> {
    let ab = SIMD4<Int64>(truncatingIfNeeded: a) &* SIMD4<Int64>(truncatingIfNeeded: b)
    return SIMD4<Int32>(truncatingIfNeeded: (ab &+ (1 << 30)) &>> 31)
  }
  for oy in rowLo..<rowHi {
    for ox in 0..<outW {
      let dst = output + (oy * outW + ox) * C
      var c = 0
      while c + 8 <= C {
        var acc = UnsafeRawPointer(bias + c).loadUnaligned(as: SIMD8<Int32>.self)
        for ky in 0..<kH {
          let iy = oy * strideH - padTop + ky * dilH
          for kx in 0..<kW {
            let ix = ox * strideW - padLeft + kx * dilW
            let wv = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(weights + (ky * kW + kx) * C + c)
              .loadUnaligned(as: SIMD8<Int8>.self))
            if iy >= 0 && iy < inH && ix >= 0 && ix < inW {
              let xv = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(input + (iy * inW + ix) * C + c)
                .loadUnaligned(as: SIMD8<Int8>.self))
              acc &+= xv &* wv
            } else {
              acc &+= zpv &* wv
            }
          }
        }
        // int8Requantize on 8 lanes (see EdgeSegKernels int8RequantizeLanes).
        let m = UnsafeRawPointer(multiplier + c).loadUnaligned(as: SIMD8<Int32>.self)
        let sh = UnsafeRawPointer(shift + c).loadUnaligned(as: SIMD8<Int32>.self)
        let left = pointwiseMax(sh, zero), right = pointwiseMax(zero &- sh, zero)
        let x = acc &<< left
        let h = SIMD8<Int32>(lowHalf: highMul(x.lowHalf, m.lowHalf), highHalf: highMul(x.highHalf, m.highHalf))
        let mask = (one &<< right) &- 1
        let threshold = (mask &>> 1) &+ zero.replacing(with: 1, where: h .< zero)
        let rounded = (h &>> right) &+ zero.replacing(with: 1, where: (h & mask) .> threshold)
        let v = (rounded &+ zpOut).clamped(lowerBound: lo, upperBound: hi)
        UnsafeMutableRawPointer(dst + c).storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: v), as: SIMD8<Int8>.self)
        c += 8
      }
    }
  }
}
#endif
