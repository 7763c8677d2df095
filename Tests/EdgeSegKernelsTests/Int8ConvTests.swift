import Testing
@testable import EdgeSegKernels

@Suite struct Int8ConvTests {
  /// im2col + packed GEMM against the direct reference convolution, every path: dense 3×3,
  /// strided, dilated (ASPP), asymmetric padding, grouped, 1×1 (in place) and 1×1 grouped.
  @Test func convolutionBitExactEveryPath() throws {
    var rng = QuantTestRNG(seed: 99)
    struct Case { var kh: Int, stride: Int, dil: Int, pad: (Int, Int, Int, Int), groups: Int }
    let cases: [Case] = [
      Case(kh: 3, stride: 1, dil: 1, pad: (1, 1, 1, 1), groups: 1),
      Case(kh: 3, stride: 2, dil: 1, pad: (1, 1, 1, 1), groups: 1),
      Case(kh: 3, stride: 1, dil: 2, pad: (2, 2, 2, 2), groups: 1),
      Case(kh: 3, stride: 1, dil: 3, pad: (3, 1, 0, 3), groups: 1),
      Case(kh: 3, stride: 2, dil: 1, pad: (0, 1, 1, 0), groups: 3),
      Case(kh: 1, stride: 1, dil: 1, pad: (0, 0, 0, 0), groups: 1),
      Case(kh: 1, stride: 1, dil: 1, pad: (0, 0, 0, 0), groups: 2),
      Case(kh: 1, stride: 2, dil: 1, pad: (0, 0, 0, 0), groups: 1),
      Case(kh: 5, stride: 1, dil: 1, pad: (2, 2, 2, 2), groups: 1),
    ]
    for (ci, c) in cases.enumerated() {
      let cin = c.groups * rng.int(1...11), cout = c.groups * rng.int(1...13)
      let s = Int8ConvShape(inH: rng.int(4...9), inW: rng.int(4...9), inC: cin, outC: cout, kH: c.kh, kW: c.kh,
                            stride: (c.stride, c.stride), pad: c.pad, dilation: (c.dil, c.dil), groups: c.groups)
      let zp = Int32(ci % 3 == 0 ? -128 : (ci % 3 == 1 ? 127 : rng.int(-128...127)))
      let x = rng.activations(s.inH * s.inW * cin), w = rng.weights(cout * s.gemmK)
      let stage = rng.stage(channels: cout, k: s.gemmK, clamp: ci % 2 == 0)
      var want = [Int8](repeating: 0, count: s.outH * s.outW * cout)
      int8Conv2DReference(input: x, inputZeroPoint: zp, shape: s, weights: w, stage: stage, output: &want)
      for path in Int8Path.available() {
        var got = [Int8](repeating: 0, count: want.count)
        let conv = try packInt8Conv(w, shape: s, path: path)
        int8Conv2D(input: x, inputZeroPoint: zp, conv: conv, stage: stage, output: &got)
        #expect(int8FirstMismatch(got, want) == nil, "case \(ci) path \(path.name) shape \(s)")
      }
    }
  }

  /// Kernel rows of ≤ 16 bytes (the RGB stem: 3 × 3 channels) take the VNNI path's masked-vector
  /// im2col: every edge (left/right runs half outside, padding rows), strides, row dilation,
  /// 5-wide kernels, several bands, zero points at both ends.
  @Test func shortRunIm2colBitExact() throws {
    var rng = QuantTestRNG(seed: 7)
    for t in 0..<14 {
      let cin = [1, 2, 3, 3, 4, 5][t % 6], kw = t % 5 == 4 && cin <= 3 ? 5 : 3
      let stride = 1 + t % 2, dilH = t % 7 == 3 ? 2 : 1
      let pad = (t % 3, (t + 1) % 3, t % 2, 1 + t % 2)
      let s = Int8ConvShape(inH: rng.int(5...23), inW: rng.int(5...31), inC: cin, outC: rng.int(1...37), kH: kw, kW: kw,
                            stride: (stride, stride), pad: pad, dilation: (dilH, 1), groups: 1)
      let zp = Int32(t % 3 == 0 ? -128 : (t % 3 == 1 ? 127 : rng.int(-128...127)))
      let x = rng.activations(s.inH * s.inW * cin), w = rng.weights(s.outC * s.gemmK)
      let stage = rng.stage(channels: s.outC, k: s.gemmK, clamp: t % 2 == 0)
      var want = [Int8](repeating: 0, count: s.outH * s.outW * s.outC)
      int8Conv2DReference(input: x, inputZeroPoint: zp, shape: s, weights: w, stage: stage, output: &want)
      for path in Int8Path.available() {
        var got = [Int8](repeating: 0, count: want.count)
        int8Conv2D(input: x, inputZeroPoint: zp, conv: try packInt8Conv(w, shape: s, path: path), stage: stage, output: &got)
        #expect(int8FirstMismatch(got, want) == nil, "case \(t) path \(path.name) shape \(s)")
      }
    }
  }

  /// More output pixels than one im2col band, so band boundaries are crossed.
  @Test func convolutionAcrossIm2colBands() throws {
    var rng = QuantTestRNG(seed: 5)
    let s = Int8ConvShape(inH: 11, inW: 13, inC: 5, outC: 19, kH: 3, kW: 3, pad: (1, 1, 1, 1))
    let x = rng.activations(11 * 13 * 5), w = rng.weights(19 * s.gemmK)
    let stage = rng.stage(channels: 19, k: s.gemmK)
    var want = [Int8](repeating: 0, count: 11 * 13 * 19)
    int8Conv2DReference(input: x, inputZeroPoint: 3, shape: s, weights: w, stage: stage, output: &want)
    for path in Int8Path.available() {
      var got = [Int8](repeating: 0, count: want.count)
      int8Conv2D(input: x, inputZeroPoint: 3, conv: try packInt8Conv(w, shape: s, path: path), stage: stage, output: &got)
      #expect(int8FirstMismatch(got, want) == nil, "path \(path.name)")
    }
  }

  /// A 3×3 conv whose K (9·cin) spans two VNNI chunks: im2col writes the panels (prepacked),
  /// bands of 32 pixels with a tail, odd output channels; and the 1×1 path (packed by the tier)
  /// with K just over one chunk. Whole and split in 1 or 3 pixel ranges (threads), every path.
  @Test func longKConvolutionsWholeAndSplit() throws {
    var rng = QuantTestRNG(seed: 8)
    let q = 4 * int8VNNIChunkQuads
    // (3, 31): K = 279, the wide VNNI tile in one chunk; (3, q/9 + 2): two chunks
    for (kh, cin) in [(3, q / 9 + 2), (1, q + 33), (3, 31)] {
      let s = Int8ConvShape(inH: 9, inW: 7, inC: cin, outC: 37, kH: kh, kW: kh,
                            pad: kh == 3 ? (1, 1, 1, 1) : (0, 0, 0, 0))
      let x = rng.activations(63 * cin), w = rng.weights(37 * s.gemmK)
      let stage = rng.stage(channels: 37, k: s.gemmK, clamp: kh == 3)
      var want = [Int8](repeating: 0, count: 63 * 37)
      int8Conv2DReference(input: x, inputZeroPoint: -5, shape: s, weights: w, stage: stage, output: &want)
      for path in Int8Path.available() {
        let conv = try packInt8Conv(w, shape: s, path: path)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: int8Conv2DScratchBytes(conv), alignment: 64)
        defer { scratch.deallocate() }
        for split in [[0..<63], [0..<17, 17..<50, 50..<63]] {
          var got = [Int8](repeating: 0, count: want.count)
          for r in split {
            int8Conv2D(input: x, inputZeroPoint: -5, conv: conv, stage: stage, output: &got, scratch: scratch, pixels: r)
          }
          #expect(int8FirstMismatch(got, want) == nil, "kh=\(kh) path \(path.name) pieces \(split.count)")
        }
      }
    }
  }

  @Test func depthwiseStride1And2BitExact() throws {
    var rng = QuantTestRNG(seed: 17)
    for (t, channels) in [1, 7, 8, 13, 24, 35].enumerated() {
      for stride in [1, 2] {
        let s = Int8ConvShape(inH: rng.int(3...8), inW: rng.int(3...8), inC: channels, outC: channels, kH: 3, kW: 3,
                              stride: (stride, stride), pad: t % 2 == 0 ? (1, 1, 1, 1) : (0, 1, 1, 0),
                              dilation: t == 5 ? (2, 2) : (1, 1), groups: channels)
        let zp = Int32(rng.int(-128...127))
        let x = rng.activations(s.inH * s.inW * channels), w = rng.weights(channels * 9)
        let stage = rng.stage(channels: channels, k: 9, clamp: true)
        var want = [Int8](repeating: 0, count: s.outH * s.outW * channels), got = want
        int8Conv2DReference(input: x, inputZeroPoint: zp, shape: s, weights: w, stage: stage, output: &want)
        for path in Int8Path.available() {   // x86: the portable kernel and the avx2 / vnni pair kernels
          got = [Int8](repeating: 0, count: want.count)
          int8DepthwiseConv2D(input: x, inputZeroPoint: zp, shape: s,
                              weights: int8PackDepthwiseWeights(w, channels: channels, taps: 9), stage: stage, output: &got,
                              path: path)
          #expect(int8FirstMismatch(got, want) == nil, "C=\(channels) stride=\(stride) path \(path.name)")
        }
      }
    }
  }

  @Test func oihwTransposeMatchesOHWI() throws {
    // OIHW [2][3][2][2] → OHWI: element (o,i,y,x) moves to ((o·kH + y)·kW + x)·I + i
    let w = (0..<24).map { Int8($0) }
    let r = int8WeightsOIHWToOHWI(w, outC: 2, inCPerGroup: 3, kH: 2, kW: 2)
    let ohwi: Int = ((1 * 2 + 1) * 2 + 0) * 3 + 2, oihw: Int = ((1 * 3 + 2) * 2 + 1) * 2 + 0
    #expect(r[ohwi] == w[oihw])
    #expect(r.sorted() == w)
  }
}

@Suite struct Int8ConvSplitTests {
  /// Threads split a conv by output pixels (depthwise: by output rows); the pieces must add up to
  /// exactly the whole, for im2col, pointwise and depthwise.
  @Test func splitsAddUpToTheWhole() throws {
    var rng = QuantTestRNG(seed: 31)
    for kh in [1, 3] {
      let s = Int8ConvShape(inH: 9, inW: 7, inC: 6, outC: 10, kH: kh, kW: kh,
                            pad: kh == 3 ? (1, 1, 1, 1) : (0, 0, 0, 0))
      let x = rng.activations(9 * 7 * 6), w = rng.weights(10 * s.gemmK)
      let stage = rng.stage(channels: 10, k: s.gemmK)
      let conv = try packInt8Conv(w, shape: s, path: Int8Path.available().last!)
      var whole = [Int8](repeating: 0, count: 63 * 10), parts = whole
      int8Conv2D(input: x, inputZeroPoint: -7, conv: conv, stage: stage, output: &whole)
      let scratch = UnsafeMutableRawPointer.allocate(byteCount: int8Conv2DScratchBytes(conv), alignment: 64)
      defer { scratch.deallocate() }
      for r in [0..<5, 5..<40, 40..<63] {
        int8Conv2D(input: x, inputZeroPoint: -7, conv: conv, stage: stage, output: &parts, scratch: scratch, pixels: r)
      }
      #expect(parts == whole, "kh=\(kh)")
    }
    let d = Int8ConvShape(inH: 8, inW: 5, inC: 11, outC: 11, kH: 3, kW: 3, pad: (1, 1, 1, 1), groups: 11)
    let x = rng.activations(40 * 11), w = int8PackDepthwiseWeights(rng.weights(99), channels: 11, taps: 9)
    let stage = rng.stage(channels: 11, k: 9)
    var whole = [Int8](repeating: 0, count: 40 * 11), parts = whole
    int8DepthwiseConv2D(input: x, inputZeroPoint: 4, shape: d, weights: w, stage: stage, output: &whole)
    for r in [0..<3, 3..<8] {
      int8DepthwiseConv2D(input: x, inputZeroPoint: 4, shape: d, weights: w, stage: stage, output: &parts, outputRows: r)
    }
    #expect(parts == whole)
  }
}

@Suite struct Int8DepthwisePairTests {
  /// An output stage at the edges: multipliers across the whole positive range, every shift
  /// −31…30, biases that make accumulators wrap, random zero point and clamps.
  static func extremeStage(_ rng: inout QuantTestRNG, channels n: Int) -> Int8OutputStage {
    var bias: [Int32] = [], mult: [Int32] = [], shift: [Int32] = []
    for c in 0..<n {
      bias.append(c % 5 == 0 ? (c % 2 == 0 ? Int32.max - Int32(rng.int(0...1000)) : Int32.min + Int32(rng.int(0...1000)))
                             : Int32(rng.int(-2_000_000...2_000_000)))
      mult.append(c % 3 == 0 ? Int32.max - Int32(rng.int(0...3)) : Int32(rng.int(1 << 30...Int(Int32.max))))
      shift.append(Int32(c % 4 == 1 ? rng.int(-31...30) : rng.int(-12...2)))
    }
    return try! Int8OutputStage(bias: bias, multiplier: mult, shift: shift, outputZeroPoint: Int32(rng.int(-128...127)),
                                clampMin: -128, clampMax: 127)
  }

  /// The pair kernels (x86 avx2 / vnni) and the portable one against the reference: 3×3 stride 1
  /// and 2 (the specialised loop), other kernel sizes (the generic loop), dilation, asymmetric
  /// strides and padding, channel counts off the 8 / 16 grid, and maps so small that every
  /// pixel is border. Both entry points: packed once + scratch (row bands), and the convenience.
  @Test func pairKernelsBitExact() throws {
    var rng = QuantTestRNG(seed: 23)
    struct Case { var h: Int, w: Int, c: Int, k: (Int, Int), stride: (Int, Int), pad: (Int, Int, Int, Int), dil: (Int, Int) }
    var cases: [Case] = []
    for c in [1, 7, 8, 13, 16, 17, 24, 40, 72] {
      for stride in [1, 2] {
        cases.append(Case(h: rng.int(3...9), w: rng.int(3...9), c: c, k: (3, 3), stride: (stride, stride), pad: (1, 1, 1, 1), dil: (1, 1)))
      }
    }
    cases += [
      Case(h: 1, w: 1, c: 13, k: (3, 3), stride: (1, 1), pad: (1, 1, 1, 1), dil: (1, 1)),
      Case(h: 2, w: 3, c: 40, k: (3, 3), stride: (1, 1), pad: (1, 1, 1, 1), dil: (1, 1)),
      Case(h: 2, w: 3, c: 72, k: (3, 3), stride: (2, 2), pad: (1, 1, 1, 1), dil: (1, 1)),
      Case(h: 3, w: 2, c: 17, k: (3, 3), stride: (1, 2), pad: (2, 0, 1, 2), dil: (1, 1)),
      Case(h: 7, w: 6, c: 24, k: (3, 3), stride: (2, 1), pad: (0, 1, 1, 0), dil: (1, 1)),
      Case(h: 9, w: 8, c: 13, k: (3, 3), stride: (1, 1), pad: (2, 2, 2, 2), dil: (2, 2)),
      Case(h: 9, w: 7, c: 40, k: (3, 3), stride: (1, 1), pad: (3, 1, 3, 1), dil: (3, 1)),
      Case(h: 6, w: 5, c: 9, k: (3, 3), stride: (2, 2), pad: (0, 0, 0, 0), dil: (1, 2)),
      Case(h: 6, w: 5, c: 33, k: (5, 5), stride: (1, 1), pad: (2, 2, 2, 2), dil: (1, 1)),
      Case(h: 7, w: 7, c: 20, k: (5, 5), stride: (2, 2), pad: (2, 1, 2, 1), dil: (1, 1)),
      Case(h: 5, w: 6, c: 19, k: (1, 1), stride: (1, 1), pad: (0, 0, 0, 0), dil: (1, 1)),
      Case(h: 5, w: 6, c: 8, k: (2, 2), stride: (1, 1), pad: (1, 0, 0, 1), dil: (1, 1)),
      Case(h: 5, w: 6, c: 31, k: (3, 1), stride: (1, 1), pad: (1, 0, 1, 0), dil: (2, 1)),
      Case(h: 5, w: 6, c: 16, k: (1, 3), stride: (2, 1), pad: (0, 1, 0, 1), dil: (1, 1)),
      Case(h: 4, w: 4, c: 5, k: (4, 4), stride: (1, 1), pad: (1, 2, 2, 1), dil: (1, 1)),
    ]
    for (t, cs) in cases.enumerated() {
      let s = Int8ConvShape(inH: cs.h, inW: cs.w, inC: cs.c, outC: cs.c, kH: cs.k.0, kW: cs.k.1, stride: cs.stride,
                            pad: cs.pad, dilation: cs.dil, groups: cs.c)
      let taps = s.kH * s.kW
      let zp: Int32 = t % 3 == 0 ? -128 : t % 3 == 1 ? 127 : Int32(rng.int(-128...127))
      let x = rng.activations(s.inH * s.inW * cs.c), w = rng.weights(cs.c * taps)
      let stage = t % 2 == 0 ? rng.stage(channels: cs.c, k: taps, clamp: t % 4 == 0) : Self.extremeStage(&rng, channels: cs.c)
      var want = [Int8](repeating: 0, count: s.outH * s.outW * cs.c)
      int8Conv2DReference(input: x, inputZeroPoint: zp, shape: s, weights: w, stage: stage, output: &want)
      let tapMajor = int8PackDepthwiseWeights(w, channels: cs.c, taps: taps)
      for path in Int8Path.available() {
        let what = "case \(t) C=\(cs.c) k=\(cs.k) stride=\(cs.stride) dil=\(cs.dil) \(s.inH)×\(s.inW) path \(path.name)"
        var got = [Int8](repeating: 0, count: want.count)
        int8DepthwiseConv2D(input: x, inputZeroPoint: zp, shape: s, weights: tapMajor, stage: stage, output: &got, path: path)
        #expect(int8FirstMismatch(got, want) == nil, "\(what) (convenience)")
        // Packed once, one scratch reused over bands of rows (what the executor's threads do).
        let packed = int8PackDepthwise(tapMajor: tapMajor, channels: cs.c, kH: s.kH, kW: s.kW, stage: stage, path: path)
        let bytes = int8DepthwiseScratchBytes(packed, shape: s)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, bytes), alignment: 64)
        defer { scratch.deallocate() }
        got = [Int8](repeating: 0, count: want.count)
        let cut = s.outH / 2
        for r in [0..<cut, cut..<s.outH] {
          int8DepthwiseConv2D(input: x, inputZeroPoint: zp, shape: s, packed: packed, stage: stage, output: &got,
                              scratch: scratch, outputRows: r)
        }
        #expect(int8FirstMismatch(got, want) == nil, "\(what) (packed, two bands)")
      }
    }
  }

  /// The pair kernels write only their own rows and channels (the channel tail is a masked /
  /// partial store): bytes around the output stay untouched.
  @Test func pairKernelsWriteNothingElse() throws {
    var rng = QuantTestRNG(seed: 5)
    let s = Int8ConvShape(inH: 6, inW: 5, inC: 13, outC: 13, kH: 3, kW: 3, pad: (1, 1, 1, 1), groups: 13)
    let x = rng.activations(6 * 5 * 13), w = int8PackDepthwiseWeights(rng.weights(13 * 9), channels: 13, taps: 9)
    let stage = rng.stage(channels: 13, k: 9)
    for path in Int8Path.available() {
      let packed = int8PackDepthwise(tapMajor: w, channels: 13, kH: 3, kW: 3, stage: stage, path: path)
      let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, int8DepthwiseScratchBytes(packed, shape: s)), alignment: 64)
      defer { scratch.deallocate() }
      let n = s.outH * s.outW * 13
      var buf = [Int8](repeating: 0x55, count: n + 64)
      buf.withUnsafeMutableBufferPointer { b in
        int8DepthwiseConv2D(input: x, inputZeroPoint: 3, shape: s, packed: packed, stage: stage,
                            output: b.baseAddress! + 32, scratch: scratch, outputRows: 2..<4)
      }
      let band = (32 + 2 * s.outW * 13)..<(32 + 4 * s.outW * 13)
      #expect(buf.indices.allSatisfy { band.contains($0) || buf[$0] == 0x55 }, "path \(path.name)")
    }
  }
}
