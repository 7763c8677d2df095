import Foundation
import Testing
@testable import EdgeSegKernels

/// The vector depthwise 3x3 and small-GEMM kernels, every F32Path this CPU runs, against the
/// scalar references. Tolerance (FMA and summation order differ from the reference):
/// |y − ref| ≤ 1e-6 · (1 + Σ|terms|) per output, Σ|terms| = |bias| + Σ|x·w| (+ |residual|).
@Suite struct FP32FastKernelTests {
    struct Rng {
        var s: UInt64
        mutating func next() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s) >> 40) / Float(1 << 23)
        }
        mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    /// Depthwise against f32ConvReference; also checks that the kernel writes nothing outside its
    /// output, needs nothing from the scratch's previous contents (NaN-poisoned) and that every
    /// part of a split writes only its planes.
    func checkDepthwise(_ sh: F32ConvShape, residual: Bool, activation: F32Activation, path: F32Path,
                        parts: Int, rng: inout Rng) {
        let c = sh.inChannels, n = sh.batch
        let x = rng.floats(n * c * sh.inPlane), wt = rng.floats(9 * c), b = rng.floats(c)
        let res: [Float]? = residual ? rng.floats(n * c * sh.outPlane) : nil
        let outCount = n * c * sh.outPlane
        var ref = [Float](repeating: 0, count: outCount)
        f32ConvReference(sh, input: x, weight: wt, bias: b, residual: res, activation: activation, output: &ref)
        // Bound per output: same loops as the reference over |terms|.
        var mag = [Float](repeating: 0, count: outCount)
        let absX = x.map(abs), absW = wt.map(abs)
        f32ConvReference(sh, input: absX, weight: absW, bias: b.map(abs), residual: res?.map(abs), activation: .none, output: &mag)

        let guardN = 40
        var out = [Float](repeating: 12345, count: outCount + 2 * guardN)
        let scratchN = f32Depthwise3x3ScratchFloats(sh)
        var scratch = [Float](repeating: .nan, count: scratchN * parts)
        out.withUnsafeMutableBufferPointer { o in
            scratch.withUnsafeMutableBufferPointer { s in
                for part in 0..<parts {
                    f32Depthwise3x3(sh, input: x, weight: wt, bias: b, residual: res, activation: activation,
                                    output: o.baseAddress! + guardN, part: part, parts: parts,
                                    scratch: s.baseAddress! + part * scratchN, path: path)
                }
            }
        }
        let label = "\(path.name) \(sh.inHeight)x\(sh.inWidth) s\(sh.strideH),\(sh.strideW) d\(sh.dilationH),\(sh.dilationW) pad \(sh.padTop),\(sh.padLeft) res \(residual) \(activation) parts \(parts)"
        #expect(out[..<guardN].allSatisfy { $0 == 12345 } && out[(guardN + outCount)...].allSatisfy { $0 == 12345 },
                "wrote outside the output: \(label)")
        var worst: Float = 0
        for i in 0..<outCount {
            let d = abs(out[guardN + i] - ref[i])
            let tol = 1e-6 * (1 + mag[i])
            if !(d <= tol) { worst = max(worst, d.isNaN ? .infinity : d / tol) }
        }
        #expect(worst == 0, "\(label): max |Δ| / tolerance \(worst)")
    }

    @Test func depthwiseEveryPathMatchesReference() {
        var rng = Rng(s: 3)
        let acts: [F32Activation] = [.none, .relu, .clip(min: -0.25, max: 0.5), .silu]
        var trial = 0
        for path in F32Path.available {
            // (h, w): tiny planes, widths around the 8-lane vector and 16-float padding, odd sizes.
            for (h, w) in [(1, 1), (2, 3), (3, 7), (4, 8), (5, 9), (7, 15), (6, 16), (9, 17), (3, 33), (11, 40)] {
                for (s, d) in [(1, 1), (2, 1), (1, 2), (2, 2), (3, 1), (1, 3)] {
                    for pads in [(d, d), (0, 0), (d, 0), (0, d), (2 * d, 1)] {
                        let (pt, pl) = pads
                        let ho = (h + 2 * pt - 2 * d - 1) / s + 1, wo = (w + 2 * pl - 2 * d - 1) / s + 1
                        if h + 2 * pt - 2 * d - 1 < 0 || w + 2 * pl - 2 * d - 1 < 0 || ho < 1 || wo < 1 { continue }
                        trial += 1
                        let c = [1, 3, 5][trial % 3]
                        let sh = F32ConvShape(batch: 1 + trial % 2, inChannels: c, inHeight: h, inWidth: w, outChannels: c,
                                              outHeight: ho, outWidth: wo, kernelH: 3, kernelW: 3, strideH: s, strideW: s,
                                              padTop: pt, padLeft: pl, dilationH: d, dilationW: d, groups: c)
                        checkDepthwise(sh, residual: trial % 2 == 0, activation: acts[trial % acts.count], path: path,
                                       parts: 1 + trial % 3, rng: &rng)
                    }
                }
            }
            // Stride and dilation differing per axis; padding on one side only (bottom/right cut off).
            for (s, d) in [((1, 2), (2, 1)), ((2, 1), (1, 2)), ((2, 3), (3, 2))] {
                let h = 19, w = 37, pt = 1, pl = 2
                let ho = (h + pt - 2 * d.0 - 1) / s.0 + 1, wo = (w + pl - 2 * d.1 - 1) / s.1 + 1
                let sh = F32ConvShape(batch: 1, inChannels: 4, inHeight: h, inWidth: w, outChannels: 4, outHeight: ho, outWidth: wo,
                                      kernelH: 3, kernelW: 3, strideH: s.0, strideW: s.1, padTop: pt, padLeft: pl,
                                      dilationH: d.0, dilationW: d.1, groups: 4)
                checkDepthwise(sh, residual: true, activation: .relu, path: path, parts: 2, rng: &rng)
            }
            // The model's shapes, scaled down in channels: 2-row stride 1, stride 2, dilation 2.
            for (hw, s, d) in [(64, 1, 1), (64, 2, 1), (32, 1, 2)] {
                let ho = (hw - 1) / s + 1
                let sh = F32ConvShape(batch: 1, inChannels: 3, inHeight: hw, inWidth: hw, outChannels: 3, outHeight: ho, outWidth: ho,
                                      kernelH: 3, kernelW: 3, strideH: s, strideW: s, padTop: d, padLeft: d,
                                      dilationH: d, dilationW: d, groups: 3)
                checkDepthwise(sh, residual: true, activation: .clip(min: 0, max: 6), path: path, parts: 1, rng: &rng)
            }
        }
        #expect(trial > 100)
    }

    /// The tolerance can fail: a wrong weight in one tap is caught.
    @Test func depthwiseCheckDetectsAWrongTap() {
        let sh = F32ConvShape(batch: 1, inChannels: 2, inHeight: 9, inWidth: 21, outChannels: 2, outHeight: 9, outWidth: 21,
                              kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, groups: 2)
        var rng = Rng(s: 11)
        let x = rng.floats(2 * 189), wt = rng.floats(18)
        var wrong = wt
        wrong[13] += 1e-3
        var ref = [Float](repeating: 0, count: 2 * 189), out = ref
        f32ConvReference(sh, input: x, weight: wt, bias: nil, residual: nil, activation: .none, output: &ref)
        for path in F32Path.available {
            f32Depthwise3x3(sh, input: x, weight: wrong, bias: nil, residual: nil, activation: .none, output: &out, path: path)
            #expect(zip(out, ref).map { abs($0 - $1) }.max()! > 1e-5, "\(path.name)")
        }
    }

    @Test func smallGemmEveryPathMatchesReference() {
        var rng = Rng(s: 5)
        for path in F32Path.available {
            for m in [1, 2, 3, 4, 5, 7, 13] {
                for n in [1, 3, 4, 5, 8, 15, 16, 17, 31, 33, 70] {
                    for k in [0, 1, 4, 7, 30, 61] {
                        // Leading dimensions wider than the matrices; C's padding columns must survive.
                        let lda = k + 3, ldb = n + 2, ldc = n + 5
                        let a = rng.floats(m * lda), b = rng.floats(max(1, k) * ldb)
                        var ref = [Float](repeating: -7, count: m * ldc), out = ref
                        f32GemmReference(m: m, n: n, k: k, alpha: 1, a: a, lda: lda, transA: false, b: b, ldb: ldb, transB: false,
                                         out: &ref, ldo: ldc)
                        f32GemmSmall(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &out, ldc: ldc, path: path)
                        var ok = true
                        for i in 0..<m {
                            for j in 0..<ldc {
                                if j >= n { ok = ok && out[i * ldc + j] == -7; continue }
                                var mag: Float = 0
                                for p in 0..<k { mag += abs(a[i * lda + p] * b[p * ldb + j]) }
                                ok = ok && abs(out[i * ldc + j] - ref[i * ldc + j]) <= 1e-6 * (1 + mag)
                            }
                        }
                        #expect(ok, "\(path.name) m\(m) n\(n) k\(k)")
                    }
                }
            }
        }
    }

    /// EdgeSegQuantAVX2/F32AVX2.swift must hold the same vector bodies as F32FastKernels.swift
    /// (only f32MulAdd differs): the tests above check the AVX2 path numerically, this one keeps
    /// a fix in one copy from silently missing the other.
    @Test func avx2TwinIsACopyOfThePortableBodies() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let portable = try String(contentsOf: root.appendingPathComponent("Sources/EdgeSegKernels/FP32/F32FastKernels.swift"), encoding: .utf8)
        let twin = try String(contentsOf: root.appendingPathComponent("Sources/EdgeSegQuantAVX2/F32AVX2.swift"), encoding: .utf8)
        func bodiesAfterMulAdd(_ s: String) -> String? {
            guard let r = s.range(of: "func f32LoadV") else { return nil }
            var t = String(s[r.lowerBound...])
            if let e = t.range(of: "\n#endif\n", options: .backwards), t.hasSuffix(String(t[e.lowerBound...])) {
                t = String(t[..<e.lowerBound])
            }
            return t.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let twin512 = try String(contentsOf: root.appendingPathComponent("Sources/EdgeSegQuantVNNI/F32DwAVX512.swift"), encoding: .utf8)
        let a = bodiesAfterMulAdd(portable), b = bodiesAfterMulAdd(twin), c = bodiesAfterMulAdd(twin512)
        #expect(a != nil && a == b, "F32AVX2.swift differs from F32FastKernels.swift after f32MulAdd: re-copy it")
        #expect(a != nil && a == c, "F32DwAVX512.swift differs from F32FastKernels.swift after f32MulAdd: re-copy it")
    }

    @Test func matMulStacksAOnlyForSharedBAndContiguousA() {
        #expect(F32MatMul(a: [1, 256, 4, 60], b: [60, 180], out: [1, 256, 4, 180]).stacksA)
        #expect(F32MatMul(a: [2, 3, 40, 64], b: [64, 50], out: [2, 3, 40, 50]).stacksA)
        #expect(F32MatMul(a: [5, 4], b: [4, 3], out: [5, 3]).stacksA)
        #expect(!F32MatMul(a: [1, 256, 2, 4, 30], b: [1, 256, 2, 30, 4], out: [1, 256, 2, 4, 4]).stacksA)   // B per batch
        #expect(!F32MatMul(a: [1, 4, 6], b: [3, 6, 2], out: [3, 4, 2]).stacksA)                           // A broadcast
        #expect(F32MatMul(a: [3, 4, 6], b: [1, 6, 2], out: [3, 4, 2]).stacksA)                             // B batch of 1
    }
}
