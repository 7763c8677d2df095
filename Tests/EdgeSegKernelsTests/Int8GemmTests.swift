import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import EdgeSegKernels

@Suite struct Int8GemmTests {
  @Test func everyPathBitExactOnRandomShapes() throws {
    var rng = QuantTestRNG(seed: 42)
    let paths = Int8Path.available()
    #expect(paths.contains(.scalar))
    for trial in 0..<60 {
      let m = rng.int(1...19), n = rng.int(1...41), k = rng.int(1...75)
      let lda = k + rng.int(0...3), ldc = n + rng.int(0...2)
      let a = rng.activations(m * lda), w = rng.weights(n * k)
      let stage = rng.stage(channels: n, k: k, clamp: trial % 3 == 0)
      var want = [Int8](repeating: 0, count: m * ldc)
      int8GemmReference(a: a, lda: lda, m: m, weights: w, n: n, k: k, stage: stage, out: &want, ldc: ldc)
      for path in paths {
        let packed = try packInt8Weights(w, n: n, k: k, path: path)
        var got = [Int8](repeating: 0, count: m * ldc)
        int8Gemm(a: a, lda: lda, m: m, packed: packed, stage: stage, out: &got, ldc: ldc)
        for i in 0..<m {   // compare only the written columns
          for c in 0..<n where got[i * ldc + c] != want[i * ldc + c] {
            Issue.record("path \(path.name) m=\(m) n=\(n) k=\(k): [\(i)][\(c)] \(got[i * ldc + c]) != \(want[i * ldc + c])")
            return
          }
        }
      }
    }
  }

  /// The vectorised output stages (VNNI / AVX2 tiles, 8-lane portable) against the scalar one over
  /// every shift TFLite allows (−31…30), q31 multipliers across their range and biases that push
  /// the accumulators to ±2^30, where the left shift wraps and the rounding ties sit.
  @Test func everyPathBitExactOverTheWholeOutputStageRange() throws {
    var rng = QuantTestRNG(seed: 2024)
    for trial in 0..<40 {
      let m = rng.int(1...13), n = rng.int(1...37), k = rng.int(1...40)
      var bias: [Int32] = [], mult: [Int32] = [], shift: [Int32] = []
      for _ in 0..<n {
        bias.append(Int32(rng.int(-(1 << 30)...(1 << 30))) >> Int32(rng.int(0...24)))
        mult.append(rng.int(0...5) == 0 ? Int32(1 << 30) : Int32(rng.int((1 << 30)...Int(Int32.max))))
        shift.append(Int32(rng.int(0...3) == 0 ? rng.int(-31...30) : rng.int(-31...0)))
      }
      let stage = try Int8OutputStage(bias: bias, multiplier: mult, shift: shift,
                                      outputZeroPoint: Int32(rng.int(-128...127)))
      let a = rng.activations(m * k), w = rng.weights(n * k)
      var want = [Int8](repeating: 0, count: m * n)
      int8GemmReference(a: a, lda: k, m: m, weights: w, n: n, k: k, stage: stage, out: &want, ldc: n)
      for path in Int8Path.available() {
        var got = [Int8](repeating: 0, count: m * n)
        int8Gemm(a: a, lda: k, m: m, packed: try packInt8Weights(w, n: n, k: k, path: path), stage: stage,
                 out: &got, ldc: n)
        #expect(int8FirstMismatch(got, want) == nil, "path \(path.name) trial \(trial) m=\(m) n=\(n) k=\(k)")
      }
    }
  }

  /// Long K: the VNNI driver splits K into balanced chunks (≤ int8VNNIChunkQuads quads) with
  /// int32 partial sums between them, over groups of int8VNNIGroupBlocks channel blocks. K just
  /// over one chunk, several uneven chunks with a K tail, N off the 16 grid and across two
  /// groups, M with 16-row and band tails, padded lda / ldc; every path against the reference,
  /// with output stages over their whole range (shifts −31…30, biases near ±2^30).
  @Test func longKChunksAndChannelGroupsBitExact() throws {
    var rng = QuantTestRNG(seed: 77)
    let q = 4 * int8VNNIChunkQuads   // bytes of K in one chunk
    let cases: [(m: Int, n: Int, k: Int)] = [(1, 1, q + 1), (17, 19, q + 5), (33, 37, 2 * q + 1), (45, 257, q + 87),
                                             (20, 290, 2 * q + 6), (3, 16, 4 * q + 1), (32, 48, q), (31, 33, q + 3)]
    for (t, c) in cases.enumerated() {
      let lda = c.k + t % 3, ldc = c.n + t % 2
      let a = rng.activations(c.m * lda), w = rng.weights(c.n * c.k)
      var bias: [Int32] = [], mult: [Int32] = [], shift: [Int32] = []
      for _ in 0..<c.n {
        bias.append(Int32(rng.int(-(1 << 30)...(1 << 30))) >> Int32(rng.int(0...24)))
        mult.append(Int32(rng.int((1 << 30)...Int(Int32.max))))
        shift.append(Int32(rng.int(0...3) == 0 ? rng.int(-31...30) : rng.int((-31)...(-8))))
      }
      let stage = try Int8OutputStage(bias: bias, multiplier: mult, shift: shift,
                                      outputZeroPoint: Int32(rng.int(-128...127)),
                                      clampMin: t % 2 == 0 ? -128 : -100, clampMax: t % 2 == 0 ? 127 : 90)
      var want = [Int8](repeating: 0, count: c.m * ldc)
      int8GemmReference(a: a, lda: lda, m: c.m, weights: w, n: c.n, k: c.k, stage: stage, out: &want, ldc: ldc)
      for path in Int8Path.available() {
        // a sentinel in the ldc padding: the masked stores of a partial block must leave it alone
        var got = [Int8](repeating: 0x55, count: c.m * ldc)
        int8Gemm(a: a, lda: lda, m: c.m, packed: try packInt8Weights(w, n: c.n, k: c.k, path: path), stage: stage,
                 out: &got, ldc: ldc)
        var bad: String? = nil
        for i in 0..<c.m {
          for j in 0..<ldc where bad == nil {
            let expected = j < c.n ? want[i * ldc + j] : 0x55
            if got[i * ldc + j] != expected { bad = "[\(i)][\(j)] \(got[i * ldc + j]) != \(expected)" }
          }
        }
        #expect(bad == nil, "path \(path.name) m=\(c.m) n=\(c.n) k=\(c.k): \(bad ?? "")")
      }
    }
  }

  /// The VNNI wide tile (12 rows × 32 channels, pairs of 16-channel blocks) from the K where it
  /// takes over (the 16 × 16 one just below it): every residue of the 4-byte K tail, one and
  /// several K chunks; M with 12-row and band tails; N with a partial second half, an odd last
  /// block (duplicated weights, second half dropped) and groups of channel blocks with an odd
  /// remainder; padded lda / ldc with a sentinel the masked stores must leave alone.
  @Test func wideVNNITileShapesBitExact() throws {
    var rng = QuantTestRNG(seed: 1212)
    let k0 = 4 * int8VNNIWideMinQuads, kc = 4 * int8VNNIChunkQuads
    let ks = Array((k0 - 5)...(k0 + 17)) + [kc - 1, kc, kc + 1, kc + 15, 2 * kc + 6, 3 * kc + 63]
    let ms = [1, 11, 12, 13, 24, 35, 36, 37, 73], ns = [1, 15, 16, 17, 31, 32, 33, 48, 49, 63, 275]
    for (t, k) in ks.enumerated() {
      let m = ms[t % ms.count], n = ns[(t * 5) % ns.count]
      let lda = k + t % 3, ldc = n + 1 + t % 2
      let a = rng.activations(m * lda), w = rng.weights(n * k)
      var bias: [Int32] = [], mult: [Int32] = [], shift: [Int32] = []
      for _ in 0..<n {
        bias.append(Int32(rng.int(-(1 << 30)...(1 << 30))) >> Int32(rng.int(0...24)))
        mult.append(Int32(rng.int((1 << 30)...Int(Int32.max))))
        shift.append(Int32(rng.int(0...3) == 0 ? rng.int(-31...30) : rng.int((-31)...(-8))))
      }
      let stage = try Int8OutputStage(bias: bias, multiplier: mult, shift: shift,
                                      outputZeroPoint: Int32(rng.int(-128...127)),
                                      clampMin: t % 2 == 0 ? -128 : -100, clampMax: t % 2 == 0 ? 127 : 90)
      var want = [Int8](repeating: 0, count: m * ldc)
      int8GemmReference(a: a, lda: lda, m: m, weights: w, n: n, k: k, stage: stage, out: &want, ldc: ldc)
      for path in Int8Path.available() where path == .vnni || t % 4 == 0 {
        var got = [Int8](repeating: 0x55, count: m * ldc)
        int8Gemm(a: a, lda: lda, m: m, packed: try packInt8Weights(w, n: n, k: k, path: path), stage: stage,
                 out: &got, ldc: ldc)
        var bad: String? = nil
        for i in 0..<m {
          for j in 0..<ldc where bad == nil {
            let expected = j < n ? want[i * ldc + j] : 0x55
            if got[i * ldc + j] != expected { bad = "[\(i)][\(j)] \(got[i * ldc + j]) != \(expected)" }
          }
        }
        #expect(bad == nil, "path \(path.name) m=\(m) n=\(n) k=\(k): \(bad ?? "")")
      }
    }
  }

  /// Every product at the int16 pair limit: x = −128 against w = −127 (and 127 against 127):
  /// vpmaddubsw would saturate here, vpmaddwd / smull+smlal / sdot / vpdpbusd must not.
  @Test func saturationCornersAreExact() throws {
    for path in Int8Path.available() {
      for (x, wv) in [(Int8(-128), Int8(-127)), (127, 127), (-128, 127), (127, -127)] {
        let m = 5, n = 17, k = 67
        let a = [Int8](repeating: x, count: m * k), w = [Int8](repeating: wv, count: n * k)
        let stage = try Int8OutputStage(bias: [Int32](repeating: 0, count: n),
                                    multiplier: [Int32](repeating: 1 << 30, count: n),
                                    shift: [Int32](repeating: -14, count: n), outputZeroPoint: 0)
        var want = [Int8](repeating: 0, count: m * n), got = want
        int8GemmReference(a: a, lda: k, m: m, weights: w, n: n, k: k, stage: stage, out: &want, ldc: n)
        int8Gemm(a: a, lda: k, m: m, packed: try packInt8Weights(w, n: n, k: k, path: path), stage: stage,
                 out: &got, ldc: n)
        // Σ = 67·x·w = ±1 089 536 (or 1 080 443); /2^15 → ±33
        let expected = Int8((Double(Int(x) * Int(wv) * k) / 32768).rounded())
        #expect(want[0] == expected)
        #expect(int8FirstMismatch(got, want) == nil, "path \(path.name) x=\(x) w=\(wv)")
      }
    }
  }

  @Test func zeroPointFoldingMatchesFloatMath() throws {
    // bias folded with −zpIn·Σw: the int8 result must equal the float convolution of the
    // dequantized tensors to within one output step.
    var rng = QuantTestRNG(seed: 7)
    let m = 6, n = 9, k = 31
    let sIn: Float = 0.05, zpIn: Int32 = -37, sOut: Float = 0.2, zpOut: Int32 = 11
    let a = rng.activations(m * k), wq = rng.weights(n * k)
    let sW = (0..<n).map { _ in rng.unit() * 0.01 + 0.001 }
    let biasF = (0..<n).map { _ in rng.unit() - 0.5 }
    let stage = try Int8OutputStage(weights: wq, outputChannels: n, k: k, bias: biasF, inputScale: sIn,
                                inputZeroPoint: zpIn, weightScales: sW, outputScale: sOut, outputZeroPoint: zpOut)
    var got = [Int8](repeating: 0, count: m * n)
    int8Gemm(a: a, lda: k, m: m, packed: try packInt8Weights(wq, n: n, k: k, path: .scalar), stage: stage,
             out: &got, ldc: n)
    for i in 0..<m {
      for c in 0..<n {
        var y = Double(biasF[c])
        for j in 0..<k { y += Double(sIn) * Double(Int32(a[i * k + j]) - zpIn) * Double(sW[c]) * Double(wq[c * k + j]) }
        let q = max(-128, min(127, (y / Double(sOut)).rounded() + Double(zpOut)))
        #expect(abs(Double(got[i * n + c]) - q) <= 1, "[\(i)][\(c)] \(got[i * n + c]) vs \(q)")
      }
    }
  }

  @Test func overrideEnvironmentSelectsPath() throws {
    setenv("EDGESEG_INT8_PATH", "scalar", 1)
    #expect(Int8Path.preferred() == .scalar)
    setenv("EDGESEG_INT8_PATH", "no-such-path", 1)
    #expect(Int8Path.preferred() == Int8Path.available().last)
    unsetenv("EDGESEG_INT8_PATH")
    #if arch(x86_64)
    let cpu = CPUFeatures.host
    #expect(Int8Path.available().contains(.avx2) == cpu.avx2)
    #expect(Int8Path.available().contains(.vnni) == cpu.avx512vnni)
    #endif
  }
}

@Suite struct Int8KernelErrorTests {
  /// Values that come from a model file are checked, not trapped on.
  @Test func badQuantizedDataIsAnErrorNotACrash() {
    var w = [Int8](repeating: 5, count: 12)
    w[7] = -128
    #expect(throws: Int8KernelError.weightOutOfRange(channel: 1, index: 3)) {
      _ = try packInt8Weights(w, n: 3, k: 4, path: .scalar)
    }
    #expect(throws: Int8KernelError.emptyShape(n: 0, k: 4)) { _ = try packInt8Weights(w, n: 0, k: 4, path: .scalar) }
    #expect(throws: Int8KernelError.clampOutOfRange(min: 10, max: 5)) {
      _ = try Int8OutputStage(bias: [0], multiplier: [1 << 30], shift: [0], outputZeroPoint: 0, clampMin: 10, clampMax: 5)
    }
    #expect(throws: Int8KernelError.multiplierOutOfRange(channel: 1, multiplier: Int32.min, shift: 0)) {
      _ = try Int8OutputStage(bias: [0, 0], multiplier: [1 << 30, Int32.min], shift: [0, 0], outputZeroPoint: 0)
    }
    #expect(throws: Int8KernelError.channelCountMismatch(expected: 2, got: 1)) {
      _ = try Int8OutputStage(bias: [0, 0], multiplier: [1 << 30], shift: [0, 0], outputZeroPoint: 0)
    }
    #if arch(x86_64)
    #expect(throws: Int8KernelError.int8PathUnavailable(.neon)) { _ = try packInt8Weights(w, n: 1, k: 4, path: .neon) }
    #endif
  }
}
