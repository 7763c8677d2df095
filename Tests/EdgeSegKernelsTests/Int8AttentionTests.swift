import Testing
@testable import EdgeSegKernels

/// Coordinate attention on int8 NHWC against the graph it replaces, written out per element:
/// dequantize, then the float pools / the two float multiplies and QuantizeLinear. Both the
/// portable loops and (where the CPU has it) the AVX-512 twin; odd channel counts for the tails.
@Suite struct Int8AttentionTests {
  static let vectors = int8BoundaryBlocksAvailable() ? [false, true] : [false]

  @Test(arguments: vectors)
  func stripPoolsMatchTheDequantizedPools(vector: Bool) {
    var rng = QuantTestRNG(seed: 41)
    // 64-channel passes with tails (70, 130), and a strip longer than 256 (the int32 loop)
    for (C, H, W) in [(1, 1, 1), (5, 3, 7), (16, 4, 4), (19, 9, 11), (37, 6, 2), (70, 5, 33), (130, 3, 4), (3, 2, 300)] {
      let scale = 0.01 + rng.unit() * 0.2, zp = Int32(rng.int(-128...127))
      let x = (0..<(H * W * C)).map { _ in Int8(rng.int(-128...127)) }
      let deq = { (h: Int, w: Int, c: Int) in Float(Int32(x[(h * W + w) * C + c]) - zp) * scale }
      let scratch = UnsafeMutableRawPointer.allocate(byteCount: 4 * C, alignment: 64)
      defer { scratch.deallocate() }
      for overWidth in [true, false] {
        for isMax in [true, false] {
          let kept = overWidth ? H : W, count = overWidth ? W : H
          var got = [Float](repeating: .nan, count: C * kept)
          for part in 0..<3 {
            int8StripReduce(x, height: H, width: W, channels: C, overWidth: overWidth, isMax: isMax, scale: scale,
                            zeroPoint: zp, out: &got, scratch: scratch, part: part, parts: 3, vector: vector)
          }
          for c in 0..<C {
            for o in 0..<kept {
              let v = (0..<count).map { overWidth ? deq(o, $0, c) : deq($0, o, c) }
              let want = isMax ? v.max()! : v.reduce(0, +) / Float(count)
              let g = got[c * kept + o]
              if isMax {
                #expect(g == want, "max C=\(C) H=\(H) W=\(W) overWidth=\(overWidth) c=\(c) o=\(o)")   // exact
              } else {
                #expect(abs(g - want) <= 1e-5 * max(1, abs(want)), "mean C=\(C) overWidth=\(overWidth): \(g) vs \(want)")
              }
            }
          }
        }
      }
    }
  }

  @Test(arguments: vectors)
  func axisScaleIsTheUnfusedArithmetic(vector: Bool) {
    var rng = QuantTestRNG(seed: 42)
    for (C, H, W) in [(1, 1, 1), (5, 3, 7), (16, 4, 4), (19, 9, 11), (40, 5, 3)] {
      let sIn = 0.01 + rng.unit() * 0.2, zIn = Int32(rng.int(-128...127))
      let sOut = 0.005 + rng.unit() * 0.05, zOut = Int32(rng.int(-128...127))
      let x = (0..<(H * W * C)).map { _ in Int8(rng.int(-128...127)) }
      var a = (0..<(C * H)).map { _ in rng.unit() * 1.5 }, b = (0..<(C * W)).map { _ in rng.unit() * 1.5 }
      a[0] = .nan; if b.count > 1 { b[1] = .infinity }     // NaN → the low bound, ±inf saturate
      var want = [Int8](repeating: 0, count: x.count)
      for h in 0..<H {
        for w in 0..<W {
          for c in 0..<C {
            let i = (h * W + w) * C + c
            let v = Float(Int32(x[i]) - zIn) * sIn * a[c * H + h] * b[c * W + w]
            let t = v / sOut
            let q = t.isNaN ? -1_048_576 : max(-1_048_576, min(1_048_576, t))
            want[i] = Int8(max(-128, min(127, q.rounded(.toNearestOrEven) + Float(zOut))))
          }
        }
      }
      let scratch = UnsafeMutableRawPointer.allocate(byteCount: int8AxisScaleScratchBytes(width: W, channels: C), alignment: 64)
      defer { scratch.deallocate() }
      var got = [Int8](repeating: 0, count: x.count)
      for part in 0..<2 {
        int8AxisScale(x, height: H, width: W, channels: C, a: a, b: b, inScale: sIn, inZeroPoint: zIn, outScale: sOut,
                      outZeroPoint: zOut, y: &got, scratch: scratch, part: part, parts: 2, vector: vector)
      }
      #expect(int8FirstMismatch(got, want) == nil, "C=\(C) H=\(H) W=\(W) vector=\(vector)")
    }
  }

  @Test(arguments: vectors)
  func addIsTheUnfusedArithmetic(vector: Bool) {
    var rng = QuantTestRNG(seed: 43)
    for count in [1, 15, 16, 17, 100, 1000] {
      let sa = 0.01 + rng.unit() * 0.2, za = Int32(rng.int(-128...127)), sb = 0.01 + rng.unit() * 0.2
      let zb = Int32(rng.int(-128...127)), so = 0.005 + rng.unit() * 0.1, zo = Int32(rng.int(-128...127))
      let a = (0..<count).map { _ in Int8(rng.int(-128...127)) }, b = (0..<count).map { _ in Int8(rng.int(-128...127)) }
      let want = (0..<count).map { i -> Int8 in
        let t = (Float(Int32(a[i]) - za) * sa + Float(Int32(b[i]) - zb) * sb) / so
        return Int8(max(-128, min(127, max(-1_048_576, min(1_048_576, t)).rounded(.toNearestOrEven) + Float(zo))))
      }
      var got = [Int8](repeating: 0, count: count)
      for part in 0..<3 {
        int8Add(a, b, &got, count: count, aScale: sa, aZeroPoint: za, bScale: sb, bZeroPoint: zb, outScale: so,
                outZeroPoint: zo, part: part, parts: 3, vector: vector)
      }
      #expect(int8FirstMismatch(got, want) == nil, "count \(count) vector \(vector)")
    }
  }
}
