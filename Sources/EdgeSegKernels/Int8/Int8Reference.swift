// Scalar reference kernels: the oracle every int8 path is tested against, bit for bit.
// Written for obviousness, not speed: one output at a time, straight loops, no packing.
// Layout everywhere: NHWC (one image, channels last); weights [cout][kh][kw][cin/groups].

/// Geometry of a 2-D convolution / pooling window over an NHWC image.
public struct Int8ConvShape: Equatable, Sendable {
  public var inH: Int, inW: Int, inC: Int, outC: Int
  public var kH: Int, kW: Int
  public var strideH: Int, strideW: Int
  public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
  public var dilationH: Int, dilationW: Int
  public var groups: Int

  public init(inH: Int, inW: Int, inC: Int, outC: Int, kH: Int, kW: Int,
              stride: (Int, Int) = (1, 1), pad: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
              dilation: (Int, Int) = (1, 1), groups: Int = 1) {
    precondition(groups > 0 && inC % groups == 0 && outC % groups == 0, "channels must divide into groups")
    self.inH = inH; self.inW = inW; self.inC = inC; self.outC = outC; self.kH = kH; self.kW = kW
    strideH = stride.0; strideW = stride.1
    padTop = pad.top; padLeft = pad.left; padBottom = pad.bottom; padRight = pad.right
    dilationH = dilation.0; dilationW = dilation.1; self.groups = groups
  }

  public var outH: Int { (inH + padTop + padBottom - dilationH * (kH - 1) - 1) / strideH + 1 }
  public var outW: Int { (inW + padLeft + padRight - dilationW * (kW - 1) - 1) / strideW + 1 }
  public var inCPerGroup: Int { inC / groups }
  public var outCPerGroup: Int { outC / groups }
  /// GEMM depth of one group: kh·kw·cin/groups, in (ky, kx, ci) order.
  public var gemmK: Int { kH * kW * inCPerGroup }
}

/// out[i][c] = requant(bias[c] + Σ_k a[i][k]·w[c][k]) for i < m, c < n. `w` row-major [n][k].
public func int8GemmReference(a: UnsafePointer<Int8>, lda: Int, m: Int,
                              weights w: UnsafePointer<Int8>, n: Int, k: Int,
                              stage: Int8OutputStage, out: UnsafeMutablePointer<Int8>, ldc: Int) {
  for i in 0..<m {
    for c in 0..<n {
      var acc = stage.bias[c]
      for j in 0..<k { acc &+= Int32(a[i * lda + j]) &* Int32(w[c * k + j]) }
      out[i * ldc + c] = int8Requantize(acc, stage.multiplier[c], stage.shift[c],
                                        stage.outputZeroPoint, stage.clampMin, stage.clampMax)
    }
  }
}

/// Direct convolution (dense, dilated, grouped, depthwise as groups == inC). Padding taps read the
/// input zero point, i.e. real 0, which is what keeps the folded bias (bias − zpIn·Σw) exact.
public func int8Conv2DReference(input: UnsafePointer<Int8>, inputZeroPoint: Int32, shape s: Int8ConvShape,
                                weights: UnsafePointer<Int8>, stage: Int8OutputStage,
                                output: UnsafeMutablePointer<Int8>) {
  let cig = s.inCPerGroup, cog = s.outCPerGroup
  for oy in 0..<s.outH {
    for ox in 0..<s.outW {
      for co in 0..<s.outC {
        let g = co / cog
        var acc = stage.bias[co]
        for ky in 0..<s.kH {
          for kx in 0..<s.kW {
            let iy = oy * s.strideH - s.padTop + ky * s.dilationH
            let ix = ox * s.strideW - s.padLeft + kx * s.dilationW
            let inside = iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW
            for ci in 0..<cig {
              let x = inside ? Int32(input[(iy * s.inW + ix) * s.inC + g * cig + ci]) : inputZeroPoint
              let w = Int32(weights[((co * s.kH + ky) * s.kW + kx) * cig + ci])
              acc &+= x &* w
            }
          }
        }
        output[(oy * s.outW + ox) * s.outC + co] =
          int8Requantize(acc, stage.multiplier[co], stage.shift[co], stage.outputZeroPoint,
                         stage.clampMin, stage.clampMax)
      }
    }
  }
}

// MARK: - element-wise, pooling, resize: one implementation each (no ISA variants), so they are
// their own reference. They are memory-bound; the GEMM-shaped ops are where ISA paths pay off.

/// Parameters of a quantized add, TFLite style: both inputs rescaled to 2·max(s1, s2) with a
/// 20-bit head-room left shift, summed in int32, rescaled to the output.
public struct Int8AddParams: Sendable {
  public var zp1: Int32, zp2: Int32, zpOut: Int32
  public var m1: Int8Multiplier, m2: Int8Multiplier, mOut: Int8Multiplier
  public var clampMin: Int32, clampMax: Int32
  public static let leftShift: Int32 = 20

  public init(scale1: Float, zeroPoint1: Int32, scale2: Float, zeroPoint2: Int32,
              outputScale: Float, outputZeroPoint: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127) {
    let twiceMax = 2 * Double(max(scale1, scale2))
    m1 = Int8Multiplier(Double(scale1) / twiceMax)
    m2 = Int8Multiplier(Double(scale2) / twiceMax)
    mOut = Int8Multiplier(twiceMax / (Double(1 << Int8AddParams.leftShift) * Double(outputScale)))
    zp1 = zeroPoint1; zp2 = zeroPoint2; zpOut = outputZeroPoint
    self.clampMin = clampMin; self.clampMax = clampMax
  }
}

public func int8Add(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int,
                    params p: Int8AddParams, out: UnsafeMutablePointer<Int8>) {
  for i in 0..<count {
    let x1 = (Int32(a[i]) - p.zp1) << Int8AddParams.leftShift
    let x2 = (Int32(b[i]) - p.zp2) << Int8AddParams.leftShift
    let s1 = int8MultiplyByQuantizedMultiplier(x1, p.m1.multiplier, p.m1.shift)
    let s2 = int8MultiplyByQuantizedMultiplier(x2, p.m2.multiplier, p.m2.shift)
    let v = int8MultiplyByQuantizedMultiplier(s1 &+ s2, p.mOut.multiplier, p.mOut.shift) &+ p.zpOut
    out[i] = Int8(truncatingIfNeeded: min(max(v, p.clampMin), p.clampMax))
  }
}

/// Parameters of a quantized element-wise multiply: (x1 − zp1)(x2 − zp2)·s1·s2/sOut + zpOut.
public struct Int8MulParams: Sendable {
  public var zp1: Int32, zp2: Int32, zpOut: Int32, m: Int8Multiplier, clampMin: Int32, clampMax: Int32
  public init(scale1: Float, zeroPoint1: Int32, scale2: Float, zeroPoint2: Int32,
              outputScale: Float, outputZeroPoint: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127) {
    zp1 = zeroPoint1; zp2 = zeroPoint2; zpOut = outputZeroPoint
    m = Int8Multiplier(Double(scale1) * Double(scale2) / Double(outputScale))
    self.clampMin = clampMin; self.clampMax = clampMax
  }
}

/// Element-wise multiply of two tensors of the same shape.
public func int8Mul(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int,
                    params p: Int8MulParams, out: UnsafeMutablePointer<Int8>) {
  for i in 0..<count {
    let prod = (Int32(a[i]) - p.zp1) * (Int32(b[i]) - p.zp2)
    let v = int8MultiplyByQuantizedMultiplier(prod, p.m.multiplier, p.m.shift) &+ p.zpOut
    out[i] = Int8(truncatingIfNeeded: min(max(v, p.clampMin), p.clampMax))
  }
}

/// Multiply an NHWC tensor [pixels][channels] by a per-channel vector (channel attention) or,
/// with `perPixel`, by a per-pixel vector (spatial attention), without materialising the broadcast.
public func int8MulBroadcast(_ a: UnsafePointer<Int8>, pixels: Int, channels: Int,
                             _ b: UnsafePointer<Int8>, perPixel: Bool,
                             params p: Int8MulParams, out: UnsafeMutablePointer<Int8>) {
  for px in 0..<pixels {
    for c in 0..<channels {
      let i = px * channels + c
      let bv = perPixel ? b[px] : b[c]
      let prod = (Int32(a[i]) - p.zp1) * (Int32(bv) - p.zp2)
      let v = int8MultiplyByQuantizedMultiplier(prod, p.m.multiplier, p.m.shift) &+ p.zpOut
      out[i] = Int8(truncatingIfNeeded: min(max(v, p.clampMin), p.clampMax))
    }
  }
}

/// 256-entry requantization table (index: x + 128) from one (scale, zp) to another: used by concat
/// when an input's parameters differ from the output's.
public func int8RequantTable(inputScale: Float, inputZeroPoint: Int32,
                             outputScale: Float, outputZeroPoint: Int32) -> [Int8] {
  let m = Int8Multiplier(Double(inputScale) / Double(outputScale))
  var t = [Int8](repeating: 0, count: 256)
  for i in 0..<256 {
    // head-room shift so small (x − zp) keep their precision through the q31 multiply
    let x = (Int32(i - 128) - inputZeroPoint) << 16
    let v = int8RoundingDivideByPOT(int8MultiplyByQuantizedMultiplier(x, m.multiplier, m.shift), 16) + outputZeroPoint
    t[i] = Int8(min(max(v, -128), 127))
  }
  return t
}

/// Copy one input of a channel concat into its slice of the NHWC output, requantizing through
/// `table` (from `int8RequantTable`) or copying when the parameters match (table nil).
public func int8ConcatPart(_ input: UnsafePointer<Int8>, channels: Int, pixels: Int,
                           table: UnsafePointer<Int8>?, output: UnsafeMutablePointer<Int8>,
                           outputChannels: Int, channelOffset: Int) {
  for px in 0..<pixels {
    let src = input + px * channels, dst = output + px * outputChannels + channelOffset
    if let table {
      for c in 0..<channels { dst[c] = table[Int(src[c]) + 128] }
    } else {
      dst.update(from: src, count: channels)
    }
  }
}

/// Apply a 256-entry table (activation or requantization): out[i] = table[x[i] + 128].
public func int8ApplyTable(_ input: UnsafePointer<Int8>, count: Int, table: UnsafePointer<Int8>,
                           out: UnsafeMutablePointer<Int8>) {
  for i in 0..<count { out[i] = table[Int(input[i]) + 128] }
}

/// Max pooling (NHWC); padding never wins. Quantization parameters pass through unchanged.
public func int8MaxPool2D(_ input: UnsafePointer<Int8>, shape s: Int8ConvShape, out: UnsafeMutablePointer<Int8>) {
  for oy in 0..<s.outH {
    for ox in 0..<s.outW {
      for c in 0..<s.inC {
        var best: Int8 = -128
        for ky in 0..<s.kH {
          let iy = oy * s.strideH - s.padTop + ky * s.dilationH
          if iy < 0 || iy >= s.inH { continue }
          for kx in 0..<s.kW {
            let ix = ox * s.strideW - s.padLeft + kx * s.dilationW
            if ix < 0 || ix >= s.inW { continue }
            best = max(best, input[(iy * s.inW + ix) * s.inC + c])
          }
        }
        out[(oy * s.outW + ox) * s.inC + c] = best
      }
    }
  }
}

/// Average pooling (NHWC), count excluding padding, rounded half away from zero (TFLite).
/// Same scale and zero point in and out. A global average pool is kH = inH, kW = inW.
public func int8AvgPool2D(_ input: UnsafePointer<Int8>, shape s: Int8ConvShape, out: UnsafeMutablePointer<Int8>) {
  for oy in 0..<s.outH {
    for ox in 0..<s.outW {
      for c in 0..<s.inC {
        var sum: Int32 = 0, count: Int32 = 0
        for ky in 0..<s.kH {
          let iy = oy * s.strideH - s.padTop + ky * s.dilationH
          if iy < 0 || iy >= s.inH { continue }
          for kx in 0..<s.kW {
            let ix = ox * s.strideW - s.padLeft + kx * s.dilationW
            if ix < 0 || ix >= s.inW { continue }
            sum += Int32(input[(iy * s.inW + ix) * s.inC + c]); count += 1
          }
        }
        let avg = count == 0 ? 0 : (sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count)
        out[(oy * s.outW + ox) * s.inC + c] = Int8(min(max(avg, -128), 127))
      }
    }
  }
}

/// Bilinear resize (NHWC), same quantization in and out. Source coordinates as PyTorch
/// (`align_corners` true, or false = half-pixel with clamping at 0); weights in Q10 fixed point,
/// the Q20 sum rounded half up. Integer-only per pixel, so every platform gives the same bytes.
public func int8ResizeBilinear(_ input: UnsafePointer<Int8>, inH: Int, inW: Int, channels: Int,
                               out: UnsafeMutablePointer<Int8>, outH: Int, outW: Int, alignCorners: Bool) {
  func axis(_ o: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Int32) {
    var src: Double
    if alignCorners {
      src = outSize > 1 ? Double(o) * Double(inSize - 1) / Double(outSize - 1) : 0
    } else {
      src = (Double(o) + 0.5) * Double(inSize) / Double(outSize) - 0.5
      if src < 0 { src = 0 }
    }
    var i0 = Int(src)
    if i0 > inSize - 1 { i0 = inSize - 1 }
    let i1 = min(i0 + 1, inSize - 1)
    let f = Int32(((src - Double(i0)) * 1024).rounded())
    return (i0, i1, min(max(f, 0), 1024))
  }
  for oy in 0..<outH {
    let (y0, y1, fy) = axis(oy, inH, outH)
    for ox in 0..<outW {
      let (x0, x1, fx) = axis(ox, inW, outW)
      let p00 = input + (y0 * inW + x0) * channels, p01 = input + (y0 * inW + x1) * channels
      let p10 = input + (y1 * inW + x0) * channels, p11 = input + (y1 * inW + x1) * channels
      let dst = out + (oy * outW + ox) * channels
      for c in 0..<channels {
        let top = Int32(p00[c]) * (1024 - fx) + Int32(p01[c]) * fx
        let bot = Int32(p10[c]) * (1024 - fx) + Int32(p11[c]) * fx
        let v = (top * (1024 - fy) + bot * fy + (1 << 19)) >> 20
        dst[c] = Int8(truncatingIfNeeded: v)
      }
    }
  }
}
