import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import EdgeSegKernels

/// FP32 kernels: math against libm, fast kernels against the scalar reference.
@Suite struct FP32KernelTests {
    @Test func mathMatchesLibm() {
        var x: Float = -20
        while x < 20 {
            #expect(abs(f32Exp(x) - expf(x)) <= 2e-7 * expf(x) + 1e-30, "exp(\(x))")
            #expect(abs(f32Tanh(x) - tanhf(x)) <= 1e-6, "tanh(\(x))")
            #expect(abs(f32Erf(x) - erff(x)) <= 1e-6, "erf(\(x))")
            #expect(abs(f32Sigmoid(x) - 1 / (1 + expf(-x))) <= 1e-6, "sigmoid(\(x))")
            if x > 0 { #expect(abs(f32Log(x) - logf(x)) <= 1e-6 * (1 + abs(logf(x))), "log(\(x))") }
            x += 0.0137
        }
        #expect(f32Exp(-100) == 0 && f32Exp(100) == .infinity && f32Exp(88.7) > 3e38)
        #expect(f32Pow(-2, 3) == -8 && f32Pow(4, 0.5) == 2 && abs(f32Pow(2, 10.5) - powf(2, 10.5)) < 1e-2)

        // Fuzz finding (model target): a negative base with a huge or infinite integral exponent
        // trapped converting the exponent to Int64. Now IEEE-like results, no trap.
        #expect(abs(f32Pow(-2, 5) - (-32)) < 1e-3 && abs(f32Pow(-2, 4) - 16) < 1e-3)
        #expect(f32Pow(-2, -1e30) == 0 && f32Pow(-2, 1e30) == .infinity && f32Pow(-0.5, .infinity) == 0)
        #expect(f32Pow(-2, -.infinity) == 0 && f32Pow(-2, 2.5).isNaN)
    }

    @Test func depthwiseMatchesReference() {
        var seed: UInt64 = 1
        func rnd() -> Float { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: seed) >> 40) / Float(1 << 23) }
        for c in [1, 7, 9, 16] {
            for (s, d) in [(1, 1), (2, 1), (1, 2), (2, 2), (1, 4), (3, 1)] {
                for (h, w) in [(5, 6), (17, 33), (12, 40)] {
                    let p = [d, 0, d, 1]
                    let ho = (h + p[0] + p[2] - 2 * d - 1) / s + 1, wo = (w + p[1] + p[3] - 2 * d - 1) / s + 1
                    if ho < 1 || wo < 1 { continue }
                    let sh = F32ConvShape(batch: 2, inChannels: c, inHeight: h, inWidth: w, outChannels: c, outHeight: ho, outWidth: wo,
                                          kernelH: 3, kernelW: 3, strideH: s, strideW: s, padTop: p[0], padLeft: p[1],
                                          dilationH: d, dilationW: d, groups: c)
                    let x = (0..<(2 * c * h * w)).map { _ in rnd() }, wt = (0..<(9 * c)).map { _ in rnd() }
                    let b = (0..<c).map { _ in rnd() }, res = (0..<(2 * c * ho * wo)).map { _ in rnd() }
                    var y1 = [Float](repeating: 0, count: 2 * c * ho * wo), y2 = y1
                    f32ConvReference(sh, input: x, weight: wt, bias: b, residual: res, activation: .relu, output: &y1)
                    for part in 0..<3 {
                        f32Depthwise3x3(sh, input: x, weight: wt, bias: b, residual: res, activation: .relu, output: &y2, part: part, parts: 3)
                    }
                    let d = zip(y1, y2).map { abs($0 - $1) }.max()!
                    #expect(d <= 1e-5, "c\(c) s\(s) d\(d) \(h)x\(w): \(d)")
                }
            }
        }
    }

    @Test func im2colTilesReassembleTheConvolution() {
        let sh = F32ConvShape(batch: 1, inChannels: 3, inHeight: 7, inWidth: 9, outChannels: 2, outHeight: 4, outWidth: 5,
                              kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, groups: 1)
        let x = (0..<(3 * 63)).map { Float($0 % 11) - 5 }, w = (0..<54).map { Float($0 % 7) - 3 }
        var ref = [Float](repeating: 0, count: 40)
        f32ConvReference(sh, input: x, weight: w, bias: nil, residual: nil, activation: .none, output: &ref)
        var out = [Float](repeating: 0, count: 40)
        for col0 in stride(from: 0, to: 20, by: 7) {
            let cols = min(7, 20 - col0)
            var col = [Float](repeating: .nan, count: 27 * cols)
            f32Im2colTile(sh, groupInput: x, col0: col0, cols: cols, dst: &col)
            var tile = [Float](repeating: 0, count: 2 * cols)
            f32GemmReference(m: 2, n: cols, k: 27, alpha: 1, a: w, lda: 27, transA: false, b: col, ldb: cols, transB: false, out: &tile, ldo: cols)
            for o in 0..<2 { for j in 0..<cols { out[o * 20 + col0 + j] = tile[o * cols + j] } }
        }
        #expect(out == ref)
    }

    @Test func broadcastBinaryAndLayout() {
        let a = (0..<24).map(Float.init), b: [Float] = [10, 20, 30]
        var out = [Float](repeating: 0, count: 24)
        f32Binary(.add, F32Broadcast(out: [2, 4, 3], a: [2, 4, 3], b: [3]), a, b, &out)
        #expect(out == (0..<24).map { Float($0) + b[$0 % 3] })
        f32Binary(.mul, F32Broadcast(out: [2, 4, 3], a: [2, 4, 3], b: [2, 1, 1]), a, [1, -1], &out)
        #expect(out == (0..<24).map { Float($0) * ($0 < 12 ? 1 : -1) })
        // Transpose [2,4,3] -> [3,2,4]
        f32Copy(f32TransposeCopy(inShape: [2, 4, 3], perm: [2, 0, 1]), a, &out)
        #expect(out[1] == a[3] && out[8] == a[1] && out[23] == a[23])
        var red = [Float](repeating: 0, count: 4)
        f32ReduceRun(.mean, F32Reduce(inShape: [2, 4, 3], axes: [0, 2]), a, &red)
        let expected: [Float] = [7, 10, 13, 16]
        #expect(red == expected)
        var sm = [Float](repeating: 0, count: 24)
        f32Softmax(a, &sm, outer: 2, len: 4, inner: 3)
        #expect(abs(sm[0] + sm[3] + sm[6] + sm[9] - 1) < 1e-6)
    }

    /// Both reduction walks (reduced axes inner, or kept axes inner) against a naive loop.
    @Test func reduceMatchesNaiveOnEveryAxisSet() {
        let shape = [2, 3, 4, 5]
        let x = (0..<120).map { Float(($0 * 37) % 23) - 11 }
        let st = f32ContiguousStrides(shape)
        for mask in 1..<16 {
            let axes = (0..<4).filter { mask & (1 << $0) != 0 }
            let outShape = (0..<4).map { axes.contains($0) ? 1 : shape[$0] }
            let n = outShape.reduce(1, *)
            for op in [F32ReduceOp.mean, .max, .min, .sum] {
                var want = [Float](repeating: op == .max ? -.infinity : (op == .min ? .infinity : 0), count: n)
                let ost = f32ContiguousStrides(outShape)
                for i in 0..<120 {
                    var o = 0
                    for a in 0..<4 where !axes.contains(a) { o += (i / st[a] % shape[a]) * ost[a] }
                    switch op {
                    case .max: want[o] = max(want[o], x[i])
                    case .min: want[o] = min(want[o], x[i])
                    default: want[o] += x[i]
                    }
                }
                if op == .mean { let c = Float(120 / n); want = want.map { $0 / c } }
                for parts in [1, 3] {
                    var got = [Float](repeating: .nan, count: n)
                    for p in 0..<parts { f32ReduceRun(op, F32Reduce(inShape: shape, axes: axes), x, &got, part: p, parts: parts) }
                    let d = zip(got, want).map { abs($0 - $1) }.max()!
                    #expect(d <= 1e-5, "axes \(axes) \(op) parts \(parts): \(d)")
                }
            }
        }
    }
}
