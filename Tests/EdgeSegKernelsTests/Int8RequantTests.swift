import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import EdgeSegKernels

@Suite struct Int8RequantTests {
  @Test func gemmlowpPrimitivesRoundHalfAwayFromZero() throws {
    #expect(int8RoundingDivideByPOT(5, 1) == 3)      // 2.5 → 3
    #expect(int8RoundingDivideByPOT(-5, 1) == -3)    // −2.5 → −3
    #expect(int8RoundingDivideByPOT(6, 2) == 2)      // 1.5 → 2
    #expect(int8RoundingDivideByPOT(-6, 2) == -2)
    #expect(int8RoundingDivideByPOT(-7, 2) == -2)    // −1.75 → −2
    #expect(int8RoundingDivideByPOT(7, 0) == 7)
    #expect(int8SaturatingRoundingDoublingHighMul(Int32.min, Int32.min) == Int32.max)
    #expect(int8SaturatingRoundingDoublingHighMul(1 << 30, 1 << 30) == 1 << 29)
    // +1.5 → 2, but −1.5 → −1: gemmlowp's negative nudge is (1 − 2^30), i.e. −½ + 2^-31, so an
    // exact negative tie truncates toward zero. TFLite inherits the quirk; so do we, on purpose.
    #expect(int8SaturatingRoundingDoublingHighMul(-3, 1 << 30) == -1)
    #expect(int8SaturatingRoundingDoublingHighMul(-5, 1 << 30) == -2)    // −2.5 → −2
    #expect(int8SaturatingRoundingDoublingHighMul(3, 1 << 30) == 2)
  }

  @Test func quantizeMultiplierAsTFLite() throws {
    #expect(Int8Multiplier(0.5) == Int8Multiplier(multiplier: 1 << 30, shift: 0))
    #expect(Int8Multiplier(0.25) == Int8Multiplier(multiplier: 1 << 30, shift: -1))
    #expect(Int8Multiplier(1.5) == Int8Multiplier(multiplier: 3 << 29, shift: 1))
    #expect(Int8Multiplier(0) == Int8Multiplier(multiplier: 0, shift: 0))
    #expect(Int8Multiplier(1e-12) == Int8Multiplier(multiplier: 0, shift: 0))   // shift < −31 flushes
    // q rounds up to 2^31 → renormalised to 2^30 with shift + 1
    let almostOne = Int8Multiplier(1 - 1e-12)
    #expect(almostOne == Int8Multiplier(multiplier: 1 << 30, shift: 1))
  }

  @Test func multiplyByQuantizedMultiplierTracksRealProduct() throws {
    var rng = QuantTestRNG(seed: 3)
    for _ in 0..<5000 {
      let real = Double(rng.unit()) * 0.9 + 1e-4
      let x = Int32(rng.int(-1_000_000...1_000_000))
      let m = Int8Multiplier(real)
      let got = int8MultiplyByQuantizedMultiplier(x, m.multiplier, m.shift)
      // two roundings, each ≤ ½: within 1 of the exact product
      #expect(abs(Double(got) - Double(x) * m.real) <= 1, "x=\(x) real=\(real)")
    }
  }

  @Test func fusedActivationBounds() throws {
    #expect(int8ClampBounds(.none, outputScale: 0.1, outputZeroPoint: -5) == (-128, 127))
    #expect(int8ClampBounds(.relu, outputScale: 0.1, outputZeroPoint: -5) == (-5, 127))
    #expect(int8ClampBounds(.relu6, outputScale: 0.05, outputZeroPoint: -128) == (-128, -8))
    #expect(int8ClampBounds(.relu6, outputScale: 0.01, outputZeroPoint: -128) == (-128, 127))
  }
}

@Suite struct Int8ElementwiseTests {
  @Test func addMatchesFloatWithinOneStep() throws {
    var rng = QuantTestRNG(seed: 11)
    let s1: Float = 0.031, z1: Int32 = -20, s2: Float = 0.07, z2: Int32 = 101, so: Float = 0.09, zo: Int32 = -3
    let p = Int8AddParams(scale1: s1, zeroPoint1: z1, scale2: s2, zeroPoint2: z2, outputScale: so, outputZeroPoint: zo)
    let a = rng.activations(4000), b = rng.activations(4000)
    var out = [Int8](repeating: 0, count: 4000)
    int8Add(a, b, count: 4000, params: p, out: &out)
    for i in 0..<4000 {
      let y = (Double(s1) * Double(Int32(a[i]) - z1) + Double(s2) * Double(Int32(b[i]) - z2)) / Double(so)
      let q = max(-128, min(127, y.rounded() + Double(zo)))
      #expect(abs(Double(out[i]) - q) <= 1)
    }
  }

  @Test func mulMatchesFloatWithinOneStep() throws {
    var rng = QuantTestRNG(seed: 12)
    let p = Int8MulParams(scale1: 0.02, zeroPoint1: 7, scale2: 1.0 / 256, zeroPoint2: -128,
                          outputScale: 0.02, outputZeroPoint: 0)
    let a = rng.activations(3000), b = rng.activations(3000)
    var out = [Int8](repeating: 0, count: 3000), outB = out
    int8Mul(a, b, count: 3000, params: p, out: &out)
    for i in 0..<3000 {
      let y = 0.02 * Double(Int32(a[i]) - 7) * (Double(Int32(b[i]) + 128) / 256) / 0.02
      #expect(abs(Double(out[i]) - max(-128, min(127, y.rounded()))) <= 1)
    }
    // broadcast per channel (attention gate): same bytes as the explicit element-wise multiply
    let pixels = 100, channels = 30
    let gate = Array(b[0..<channels])
    var expanded = [Int8](repeating: 0, count: pixels * channels)
    for px in 0..<pixels { for c in 0..<channels { expanded[px * channels + c] = gate[c] } }
    int8Mul(a, expanded, count: pixels * channels, params: p, out: &out)
    int8MulBroadcast(a, pixels: pixels, channels: channels, gate, perPixel: false, params: p, out: &outB)
    #expect(Array(out[0..<pixels * channels]) == Array(outB[0..<pixels * channels]))
  }

  @Test func concatRequantizesEachPart() throws {
    let t = int8RequantTable(inputScale: 0.1, inputZeroPoint: 10, outputScale: 0.2, outputZeroPoint: -4)
    for x in -128...127 {
      let want = max(-128, min(127, (Double(x - 10) * 0.5).rounded() - 4))
      #expect(Double(t[x + 128]) == want, "x=\(x)")
    }
    let a: [Int8] = [1, 2, 3, 4], b: [Int8] = [10, 20]   // 2 pixels: a has 2 channels, b 1
    var out = [Int8](repeating: 0, count: 6)
    int8ConcatPart(a, channels: 2, pixels: 2, table: nil, output: &out, outputChannels: 3, channelOffset: 0)
    t.withUnsafeBufferPointer { int8ConcatPart(b, channels: 1, pixels: 2, table: $0.baseAddress, output: &out,
                                               outputChannels: 3, channelOffset: 2) }
    #expect(out == [1, 2, t[10 + 128], 3, 4, t[20 + 128]])
  }

  @Test func activationTablesMatchFloatFunctions() throws {
    let sIn: Float = 0.05, zIn: Int32 = -10, sOut: Float = 1.0 / 256, zOut: Int32 = -128
    let sig = int8ActivationTable(.sigmoid, inputScale: sIn, inputZeroPoint: zIn, outputScale: sOut, outputZeroPoint: zOut)
    for x in -128...127 {
      let r = Double(Int32(x) - zIn) * Double(sIn)
      let want = max(-128, min(127, (1 / (1 + exp(-r)) / Double(sOut)).rounded() + Double(zOut)))
      #expect(Double(sig[x + 128]) == want, "sigmoid x=\(x)")
    }
    let hs = int8ActivationTable(.hardSwish, inputScale: 0.05, inputZeroPoint: 0, outputScale: 0.05, outputZeroPoint: 0)
    #expect(hs[128 + 0] == 0)                  // hswish(0) = 0
    #expect(hs[128 + 100] == 100)              // x = 5 ≥ 3 → x
    #expect(hs[128 - 100] == 0)                // x = −5 ≤ −3 → 0
    let silu = int8ActivationTable(.silu, inputScale: 0.1, inputZeroPoint: 0, outputScale: 0.1, outputZeroPoint: 0)
    #expect(silu[128 + 20] == Int8((2 / (1 + exp(-2)) / 0.1).rounded()))
    for x in [-30.0, -1.0, 0, 0.5, 3, 20] { #expect(abs(int8TableExp(x) / exp(x) - 1) < 1e-13) }
    var out = [Int8](repeating: 0, count: 3)
    sig.withUnsafeBufferPointer { int8ApplyTable([-128, 0, 127], count: 3, table: $0.baseAddress!, out: &out) }
    #expect(out == [sig[0], sig[128], sig[255]])
  }

  @Test func poolingAndResize() throws {
    // 2×2 image, 1 channel: [[−3, 4], [10, −128]]
    let x: [Int8] = [-3, 4, 10, -128]
    let g = Int8ConvShape(inH: 2, inW: 2, inC: 1, outC: 1, kH: 2, kW: 2)
    var o: [Int8] = [0]
    int8AvgPool2D(x, shape: g, out: &o)
    #expect(o == [-29])       // −117 / 4 = −29.25 → −29
    int8MaxPool2D(x, shape: g, out: &o)
    #expect(o == [10])
    let x2: [Int8] = [1, 2, 3, 4]   // avg 2.5 → 3 (half away from zero)
    int8AvgPool2D(x2, shape: g, out: &o)
    #expect(o == [3])
    // padding is excluded from the average count
    let p = Int8ConvShape(inH: 2, inW: 2, inC: 1, outC: 1, kH: 3, kW: 3, pad: (1, 1, 1, 1))
    var o4 = [Int8](repeating: 0, count: 4)
    int8AvgPool2D(x2, shape: p, out: &o4)
    #expect(o4 == [3, 3, 3, 3])

    // resize: same size is the identity; 2× with align_corners puts the inputs on the corners
    var rng = QuantTestRNG(seed: 1)
    let img = rng.activations(5 * 4 * 3)
    var same = [Int8](repeating: 0, count: img.count)
    int8ResizeBilinear(img, inH: 5, inW: 4, channels: 3, out: &same, outH: 5, outW: 4, alignCorners: false)
    #expect(same == img)
    let lin: [Int8] = [0, 90]       // 1×2 → 1×4, align_corners: 0, 30, 60, 90
    var up = [Int8](repeating: 0, count: 4)
    int8ResizeBilinear(lin, inH: 1, inW: 2, channels: 1, out: &up, outH: 1, outW: 4, alignCorners: true)
    #expect(up == [0, 30, 60, 90])
    // half-pixel: 0, 22.5, 67.5, 90 → 0, 23, 68, 90 (Q20 sum rounded half up)
    int8ResizeBilinear(lin, inH: 1, inW: 2, channels: 1, out: &up, outH: 1, outW: 4, alignCorners: false)
    #expect(up == [0, 23, 68, 90])
  }
}

@Suite struct Int8RequantLanesTests {
  /// The 8-lane requantization used by the GEMM driver gives the scalar bytes, incl. extreme
  /// accumulators, shifts from −31 to +30 and negative ties.
  @Test func lanesMatchScalar() throws {
    var rng = QuantTestRNG(seed: 77)
    let specials: [Int32] = [Int32.min, Int32.max, 0, -1, 1, -(1 << 30), 1 << 30, -3, 3, -5]
    for t in 0..<4000 {
      var acc = SIMD8<Int32>(), mult = acc, shift = acc
      for l in 0..<8 {
        acc[l] = t % 5 == 0 ? specials[rng.int(0...specials.count - 1)] : Int32(truncatingIfNeeded: rng.next())
        mult[l] = t % 7 == 0 ? 1 << 30 : Int32(rng.int(0...Int(Int32.max)))
        shift[l] = Int32(rng.int(-31...(t % 3 == 0 ? 30 : 2)))
      }
      let zp = Int32(rng.int(-128...127)), lo = Int32(rng.int(-128...0)), hi = Int32(rng.int(0...127))
      let v = int8RequantizeLanes(acc, mult, shift, zp, lo, hi)
      for l in 0..<8 {
        #expect(v[l] == int8Requantize(acc[l], mult[l], shift[l], zp, lo, hi),
                "acc=\(acc[l]) m=\(mult[l]) s=\(shift[l])")
      }
    }
  }
}
