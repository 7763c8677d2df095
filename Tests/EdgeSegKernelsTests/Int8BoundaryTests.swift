import Testing
@testable import EdgeSegKernels

/// The vector island boundaries against ONNX QuantizeLinear / DequantizeLinear written out per
/// element: odd channel and pixel counts (masked tails), ties, NaN, ±inf, values far out of range.
@Suite struct Int8BoundaryTests {
  @Test(.enabled(if: int8BoundaryBlocksAvailable(), "no AVX-512 on this CPU: the executor's portable step runs"))
  func quantizeAndDequantizeBlocksMatchTheFormula() {
    var rng = QuantTestRNG(seed: 77)
    for (channels, pixels) in [(1, 1), (3, 17), (16, 16), (19, 33), (40, 5), (33, 64), (21, 600), (3, 301)] {
      let planeStride = pixels + rng.int(0...3)
      let scale = 0.01 + rng.unit() * 0.2, zp = Int32(rng.int(-128...127))
      var x = [Float](repeating: 0, count: channels * planeStride)
      for i in x.indices {
        switch rng.int(0...11) {
        case 0: x[i] = .nan
        case 1: x[i] = rng.int(0...1) == 0 ? .infinity : -.infinity
        case 2: x[i] = (Float(rng.int(-300...300)) + 0.5) * scale        // exact ties before the zero point
        case 3: x[i] = Float(rng.int(-1...1)) * 3e9
        default: x[i] = (rng.unit() * 2 - 1) * 160 * scale
        }
      }
      var want = [Int8](repeating: 0, count: channels * pixels), got = want
      for p in 0..<pixels {
        for c in 0..<channels {
          let t = x[c * planeStride + p] / scale
          let v = t.isNaN ? -1_048_576 : max(-1_048_576, min(1_048_576, t))
          want[p * channels + c] = Int8(max(-128, min(127, v.rounded(.toNearestOrEven) + Float(zp))))
        }
      }
      int8QuantizeBlock(src: x, planeStride: planeStride, channels: channels, pixels: pixels, dst: &got,
                        scale: scale, zeroPoint: zp)
      #expect(int8FirstMismatch(got, want) == nil, "quantize C=\(channels) P=\(pixels)")
      // into a wider row (a concat's slice): the same bytes every `stride`, the gaps untouched
      let stride = channels + 1 + rng.int(0...20)
      var wide = [Int8](repeating: 99, count: stride * pixels)
      int8QuantizeBlock(src: x, planeStride: planeStride, channels: channels, pixels: pixels, dst: &wide,
                        dstStride: stride, scale: scale, zeroPoint: zp)
      var strided = true
      for p in 0..<pixels {
        for j in 0..<stride where wide[p * stride + j] != (j < channels ? want[p * channels + j] : 99) { strided = false }
      }
      #expect(strided, "quantize C=\(channels) P=\(pixels) into rows of \(stride)")

      var back = [Float](repeating: -1, count: channels * planeStride)
      int8DequantizeBlock(src: got, channels: channels, pixels: pixels, dst: &back, planeStride: planeStride,
                          scale: scale, zeroPoint: zp)
      var exact = true
      for c in 0..<channels {
        for p in 0..<planeStride {
          let expected: Float = p < pixels ? Float(Int32(got[p * channels + c]) - zp) * scale : -1   // padding untouched
          if back[c * planeStride + p] != expected { exact = false }
        }
      }
      #expect(exact, "dequantize C=\(channels) P=\(pixels)")
    }
  }
}
