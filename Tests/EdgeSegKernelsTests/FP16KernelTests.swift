import Testing
@testable import EdgeSegKernels

@Suite struct FP16KernelTests {
  @Test func gemmEveryPathWithinTolerance() throws {
    var rng = QuantTestRNG(seed: 21)
    for _ in 0..<25 {
      let m = rng.int(1...9), n = rng.int(1...37), k = rng.int(1...90)
      let a = (0..<(m * k)).map { _ in Float16(rng.unit() * 2 - 1) }
      let w = (0..<(n * k)).map { _ in Float16(rng.unit() * 2 - 1) }
      let bias = (0..<n).map { _ in rng.unit() - 0.5 }
      var want = [Float16](repeating: 0, count: m * n)
      fp16GemmReference(a: a, lda: k, m: m, weights: w, n: n, k: k, bias: bias, clampMin: -3, clampMax: 6,
                        out: &want, ldc: n)
      for path in FP16Path.available() {
        var got = [Float16](repeating: 0, count: m * n)
        fp16Gemm(a: a, lda: k, m: m, packed: try packFP16Weights(w, n: n, k: k, path: path), bias: bias,
                 clampMin: -3, clampMax: 6, out: &got, ldc: n)
        for i in 0..<m {
          for c in 0..<n {
            var sabs = abs(bias[c])
            for j in 0..<k { sabs += abs(Float(a[i * k + j]) * Float(w[c * k + j])) }
            let ref = Float(want[i * n + c])
            let tol = fp16Tolerance(reference: ref, sumAbsProducts: sabs, k: k, path: path)
            #expect(abs(Float(got[i * n + c]) - ref) <= tol, "path \(path.name) m=\(m) n=\(n) k=\(k)")
          }
        }
      }
    }
  }

  @Test func depthwiseEveryPathWithinTolerance() throws {
    var rng = QuantTestRNG(seed: 22)
    for (t, channels) in [3, 8, 19].enumerated() {
      let s = Int8ConvShape(inH: 7, inW: 6, inC: channels, outC: channels, kH: 3, kW: 3,
                            stride: (t % 2 + 1, t % 2 + 1), pad: (1, 1, 1, 1), groups: channels)
      let x = (0..<(42 * channels)).map { _ in Float16(rng.unit() * 2 - 1) }
      let w = (0..<(9 * channels)).map { _ in Float16(rng.unit() * 2 - 1) }
      let bias = (0..<channels).map { _ in rng.unit() - 0.5 }
      var want = [Float16](repeating: 0, count: s.outH * s.outW * channels)
      fp16DepthwiseReference(input: x, shape: s, weights: w, bias: bias, clampMin: 0, clampMax: 6, output: &want)
      for path in FP16Path.available() {
        var got = want.map { _ in Float16(0) }
        fp16DepthwiseConv2D(input: x, shape: s, weights: w, bias: bias, clampMin: 0, clampMax: 6,
                            output: &got, path: path)
        for i in 0..<want.count {
          let ref = Float(want[i])
          #expect(abs(Float(got[i]) - ref) <= fp16Tolerance(reference: ref, sumAbsProducts: 10, k: 9, path: path),
                  "path \(path.name) C=\(channels)")
        }
      }
    }
  }
}
