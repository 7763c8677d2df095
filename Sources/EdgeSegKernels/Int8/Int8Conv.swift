// int8 convolutions on top of the packed GEMM: 1×1 stride 1 reads the NHWC input in place,
// everything else (3×3, dilated, strided, grouped) goes through im2col in bands of rows, with
// padding filled with the input zero point so the folded bias stays exact. Depthwise convs have
// their own channel-vectorised kernel.

/// A convolution's weights packed once at load (one GEMM per group).
public struct Int8PackedConv: Sendable {
  public let shape: Int8ConvShape
  public let groups: [Int8PackedWeights]
  public var byteCount: Int { groups.reduce(0) { $0 + $1.byteCount } }
  var isPointwise: Bool {
    shape.kH == 1 && shape.kW == 1 && shape.strideH == 1 && shape.strideW == 1
      && shape.padTop == 0 && shape.padLeft == 0 && shape.padBottom == 0 && shape.padRight == 0
  }
}

/// Output pixels im2col'd per band (bounds the scratch to bandRows·K bytes).
let int8Im2colBandRows = 64

/// Pack weights [cout][kh][kw][cin/groups] (ONNX OIHW must first be transposed to OHWI, see
/// `int8WeightsOIHWToOHWI`).
public func packInt8Conv(_ weights: UnsafePointer<Int8>, shape: Int8ConvShape,
                         path: Int8Path = .preferred()) throws(Int8KernelError) -> Int8PackedConv {
  let cog = shape.outCPerGroup, k = shape.gemmK
  var packs: [Int8PackedWeights] = []
  for g in 0..<shape.groups {
    packs.append(try packInt8Weights(weights + g * cog * k, n: cog, k: k, path: path))
  }
  return Int8PackedConv(shape: shape, groups: packs)
}

/// OIHW (ONNX, PyTorch) → OHWI (channels-last, the order im2col produces).
public func int8WeightsOIHWToOHWI(_ w: [Int8], outC: Int, inCPerGroup: Int, kH: Int, kW: Int) -> [Int8] {
  var r = [Int8](repeating: 0, count: w.count)
  for o in 0..<outC { for i in 0..<inCPerGroup { for y in 0..<kH { for x in 0..<kW {
    r[((o * kH + y) * kW + x) * inCPerGroup + i] = w[((o * inCPerGroup + i) * kH + y) * kW + x]
  } } } }
  return r
}

public func int8Conv2DScratchBytes(_ conv: Int8PackedConv) -> Int {
  let k = conv.shape.gemmK
  return max(int8Im2colBandRows * k, int8GemmMaxBandRows * ((k + 3) & ~3)) + 64 + int8GemmScratchBytes(k: k)
}

/// Convolution with packed weights. `stage` holds all outC channels (bias folded with the
/// weights' row sums: `Int8OutputStage(weights:…)`). `scratch` ≥ int8Conv2DScratchBytes.
/// `pixels` limits the work to a range of output pixels (row-major oy·outW + ox), so threads can
/// split one convolution, each with its own scratch; nil = all.
public func int8Conv2D(input: UnsafePointer<Int8>, inputZeroPoint: Int32, conv: Int8PackedConv,
                       stage: Int8OutputStage, output: UnsafeMutablePointer<Int8>,
                       scratch: UnsafeMutableRawPointer, pixels range: Range<Int>? = nil) {
  let s = conv.shape, cig = s.inCPerGroup, cog = s.outCPerGroup, k = s.gemmK
  let first = range?.lowerBound ?? 0, pixels = range?.upperBound ?? s.outH * s.outW
  precondition(first >= 0 && pixels <= s.outH * s.outW)
  if conv.isPointwise {
    for g in 0..<s.groups {
      int8GemmChannels(a: input + first * s.inC + g * cig, lda: s.inC, m: pixels - first, packed: conv.groups[g],
                       stage: stage, stageOffset: g * cog, out: output + first * s.outC + g * cog, ldc: s.outC,
                       scratch: scratch)
    }
    return
  }
  let band = scratch.assumingMemoryBound(to: Int8.self)
  let gemmScratch = (scratch + max(int8Im2colBandRows * k, int8GemmMaxBandRows * ((k + 3) & ~3))).alignedUp(toMultipleOf: 64)
  let zp = Int8(truncatingIfNeeded: inputZeroPoint)
  if conv.groups[0].path == .vnni {
    int8Im2colVNNI(input: input, zeroPoint: zp, conv: conv, stage: stage, output: output, band: band,
                   gemmScratch: gemmScratch, pixels: first..<pixels)
    return
  }
  var p0 = first
  while p0 < pixels {
    let rows = min(int8Im2colBandRows, pixels - p0)
    for g in 0..<s.groups {
      // im2col: row = output pixel, columns (ky, kx, ci) of this group; the pixel by counters
      var oy = p0 / s.outW, ox = p0 % s.outW
      for r in 0..<rows {
        defer { ox += 1; if ox == s.outW { ox = 0; oy += 1 } }
        var col = band + r * k
        for ky in 0..<s.kH {
          let iy = oy * s.strideH - s.padTop + ky * s.dilationH
          for kx in 0..<s.kW {
            let ix = ox * s.strideW - s.padLeft + kx * s.dilationW
            if iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW {
              col.update(from: input + (iy * s.inW + ix) * s.inC + g * cig, count: cig)
            } else {
              col.update(repeating: zp, count: cig)
            }
            col += cig
          }
        }
      }
      int8GemmChannels(a: band, lda: k, m: rows, packed: conv.groups[g], stage: stage, stageOffset: g * cog,
                       out: output + p0 * s.outC + g * cog, ldc: s.outC, scratch: gemmScratch)
    }
    p0 += rows
  }
}

/// The VNNI path's im2col writes the GEMM's panels directly (rows of x ^ 0x80 at stride K4,
/// bands of `int8VNNIBandRows`), so the patch bytes are copied once instead of twice; the taps of
/// one kernel row are one contiguous run of the input when dilationW = 1 and the run is inside.
func int8Im2colVNNI(input: UnsafePointer<Int8>, zeroPoint zp: Int8, conv: Int8PackedConv, stage: Int8OutputStage,
                    output: UnsafeMutablePointer<Int8>, band: UnsafeMutablePointer<Int8>,
                    gemmScratch: UnsafeMutableRawPointer, pixels: Range<Int>) {
  let s = conv.shape, cig = s.inCPerGroup, cog = s.outCPerGroup, k = s.gemmK, k4 = (k + 3) & ~3
  let pad = UInt8(bitPattern: zp) ^ 0x80, run = s.kW * cig
  var p0 = pixels.lowerBound
  #if arch(x86_64)
  if s.groups == 1 {
    // a band per call: the RGB stem's kernel rows of a few bytes one masked vector op each
    // (`int8Im2colShortVNNI`), long runs 64 bytes at a time (`int8Im2colLongVNNI`)
    let short = s.dilationW == 1 && run <= 16
    var geo = (s.inH, s.inW, s.inC, s.outW, s.kH, s.kW, s.strideH, s.strideW, s.padTop, s.padLeft, s.dilationH, s.dilationW)
    withUnsafePointer(to: &geo) { tuple in
      tuple.withMemoryRebound(to: Int.self, capacity: 12) { geometry in
        // (its own counter: a captured `var` would be boxed on the heap per call in debug builds)
        var p = pixels.lowerBound
        while p < pixels.upperBound {
          let rows = min(int8VNNIBandRows(k4: k4), pixels.upperBound - p)
          if short {
            int8Im2colShortVNNI(input: input, geometry: geometry, zeroPoint: zp, first: p, rows: rows, k4: k4, band: band)
          } else {
            int8Im2colLongVNNI(input: input, geometry: geometry, zeroPoint: zp, first: p, rows: rows, k4: k4, band: band)
          }
          int8GemmChannels(a: band, lda: k4, m: rows, packed: conv.groups[0], stage: stage, stageOffset: 0,
                           out: output + p * s.outC, ldc: s.outC, scratch: gemmScratch, prepacked: true)
          p += rows
        }
      }
    }
    return
  }
  #endif
  while p0 < pixels.upperBound {
    let rows = min(int8VNNIBandRows(k4: k4), pixels.upperBound - p0)
    for g in 0..<s.groups {
      // the output pixel walks the band with counters: a division per row cost the stem
      // (65 536 rows of 28 bytes) about as much as its copies
      var oy = p0 / s.outW, ox = p0 % s.outW
      for r in 0..<rows {
        defer { ox += 1; if ox == s.outW { ox = 0; oy += 1 } }
        let row = UnsafeMutableRawPointer(band + r * k4)
        var col = 0
        let ix0 = ox * s.strideW - s.padLeft
        let rowInside = s.dilationW == 1 && ix0 >= 0 && ix0 + s.kW <= s.inW
        for ky in 0..<s.kH {
          let iy = oy * s.strideH - s.padTop + ky * s.dilationH
          if iy < 0 || iy >= s.inH {
            (row + col).initializeMemory(as: UInt8.self, repeating: pad, count: run)
            col += run
            continue
          }
          let inputRow = input + iy * s.inW * s.inC + g * cig
          if rowInside && s.groups == 1 {
            int8CopyFlipped(from: inputRow + ix0 * s.inC, to: row + col, count: run)
            col += run
            continue
          }
          for kx in 0..<s.kW {
            let ix = ix0 + kx * s.dilationW
            if ix >= 0 && ix < s.inW {
              int8CopyFlipped(from: inputRow + ix * s.inC, to: row + col, count: cig)
            } else {
              (row + col).initializeMemory(as: UInt8.self, repeating: pad, count: cig)
            }
            col += cig
          }
        }
        for t in k..<k4 { row.storeBytes(of: 0x80, toByteOffset: t, as: UInt8.self) }   // ≤ 3 bytes
      }
      int8GemmChannels(a: band, lda: k4, m: rows, packed: conv.groups[g], stage: stage, stageOffset: g * cog,
                       out: output + p0 * s.outC + g * cog, ldc: s.outC, scratch: gemmScratch, prepacked: true)
    }
    p0 += rows
  }
}

public func int8Conv2D(input: UnsafePointer<Int8>, inputZeroPoint: Int32, conv: Int8PackedConv,
                       stage: Int8OutputStage, output: UnsafeMutablePointer<Int8>) {
  let scratch = UnsafeMutableRawPointer.allocate(byteCount: int8Conv2DScratchBytes(conv), alignment: 64)
  defer { scratch.deallocate() }
  int8Conv2D(input: input, inputZeroPoint: inputZeroPoint, conv: conv, stage: stage, output: output,
             scratch: scratch)
}

// MARK: - depthwise

/// Depthwise weights [C][kh][kw] (ONNX [C][1][kh][kw]) → tap-major [kh·kw][C] so one tap's
/// weights for consecutive channels are contiguous.
public func int8PackDepthwiseWeights(_ w: [Int8], channels: Int, taps: Int) -> [Int8] {
  var r = [Int8](repeating: 0, count: w.count)
  for c in 0..<channels { for t in 0..<taps { r[t * channels + c] = w[c * taps + t] } }
  return r
}

/// Depthwise convolution (groups == inC == outC), any kernel size / stride / dilation / padding;
/// the decoder and MobileNetV2 use 3×3 with stride 1 and 2. Portable paths: vectorised over 8
/// channels in int32 lanes (same integer sums as the reference, any order), then the shared
/// requantization; x86 paths: packs and runs the pair kernels (allocates: the executor uses
/// `int8PackDepthwise` and the `packed:` overload instead).
/// Weights tap-major [kh·kw][C] from `int8PackDepthwiseWeights`.
/// `outputRows` limits the work to a band of output rows (for threads); nil = all.
public func int8DepthwiseConv2D(input: UnsafePointer<Int8>, inputZeroPoint: Int32, shape s: Int8ConvShape,
                                weights: UnsafePointer<Int8>, stage: Int8OutputStage,
                                output: UnsafeMutablePointer<Int8>, outputRows: Range<Int>? = nil,
                                path: Int8Path = .preferred()) {
  precondition(s.groups == s.inC && s.inC == s.outC, "depthwise needs groups == inC == outC")
  let C = s.inC, zpv = SIMD8<Int32>(repeating: inputZeroPoint)
  let rows = outputRows ?? 0..<s.outH
  precondition(rows.lowerBound >= 0 && rows.upperBound <= s.outH)
  #if arch(x86_64)
  // x86 paths: the pair kernels (Int8Depthwise.swift), packed here — this convenience
  // allocates; the executor packs once at load and passes scratch.
  if int8DepthwiseUsesPairs(path) {
    let packed = int8PackDepthwise(tapMajor: Array(UnsafeBufferPointer(start: weights, count: C * s.kH * s.kW)),
                                   channels: C, kH: s.kH, kW: s.kW, stage: stage, path: path)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, int8DepthwiseScratchBytes(packed, shape: s)),
                                                   alignment: 64)
    defer { scratch.deallocate() }
    int8DepthwiseConv2D(input: input, inputZeroPoint: inputZeroPoint, shape: s, packed: packed, stage: stage,
                        output: output, scratch: scratch, outputRows: rows)
    return
  }
  #endif
  stage.bias.withUnsafeBufferPointer { bias in
    for oy in rows {
      for ox in 0..<s.outW {
        let dst = output + (oy * s.outW + ox) * C
        var c = 0
        while c + 8 <= C {
          var acc = UnsafeRawPointer(bias.baseAddress! + c).loadUnaligned(as: SIMD8<Int32>.self)
          for ky in 0..<s.kH {
            let iy = oy * s.strideH - s.padTop + ky * s.dilationH
            for kx in 0..<s.kW {
              let ix = ox * s.strideW - s.padLeft + kx * s.dilationW
              let wv = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(weights + (ky * s.kW + kx) * C + c)
                .loadUnaligned(as: SIMD8<Int8>.self))
              if iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW {
                let xv = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(input + (iy * s.inW + ix) * C + c)
                  .loadUnaligned(as: SIMD8<Int8>.self))
                acc &+= xv &* wv
              } else {
                acc &+= zpv &* wv
              }
            }
          }
          let q = stage.multiplier.withUnsafeBytes { m in
            stage.shift.withUnsafeBytes { sh in
              int8RequantizeLanes(acc, m.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Int32>.self),
                                  sh.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Int32>.self),
                                  stage.outputZeroPoint, stage.clampMin, stage.clampMax)
            }
          }
          UnsafeMutableRawPointer(dst + c).storeBytes(of: q, as: SIMD8<Int8>.self)
          c += 8
        }
        while c < C {
          var acc = bias[c]
          for ky in 0..<s.kH {
            let iy = oy * s.strideH - s.padTop + ky * s.dilationH
            for kx in 0..<s.kW {
              let ix = ox * s.strideW - s.padLeft + kx * s.dilationW
              let inside = iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW
              let x = inside ? Int32(input[(iy * s.inW + ix) * C + c]) : inputZeroPoint
              acc &+= x &* Int32(weights[(ky * s.kW + kx) * C + c])
            }
          }
          dst[c] = int8Requantize(acc, stage.multiplier[c], stage.shift[c], stage.outputZeroPoint,
                                  stage.clampMin, stage.clampMax)
          c += 1
        }
      }
    }
  }
}
