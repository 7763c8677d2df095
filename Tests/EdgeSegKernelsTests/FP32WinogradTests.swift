import Testing
@testable import EdgeSegKernels

/// Winograd F(2×2, 3×3) (F32Path.avx512 only) against f32ConvReference. Tolerance per output as
/// the packed GEMM's: |y − ref| ≤ 1e-6 · (1 + Σ|terms|), Σ|terms| = |bias| + Σ|w·x| (+ |residual|).
/// The transforms add a few roundings of sums of up to 4 inputs / 9 weights; measured worst over
/// these shapes 2.4e-7 · (1 + Σ|terms|).
@Suite struct FP32WinogradTests {
    typealias Rng = FP32FastKernelTests.Rng

    func shape(n: Int = 1, cin: Int, h: Int, w: Int, cout: Int, top: Int, left: Int, bottom: Int, right: Int) -> F32ConvShape {
        F32ConvShape(batch: n, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout, outHeight: h + top + bottom - 2,
                     outWidth: w + left + right - 2, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: top, padLeft: left,
                     dilationH: 1, dilationW: 1, groups: 1)
    }

    /// Worst |Δ| / tolerance of a whole conv split over `parts`, chunks of at most `maxChunk`
    /// tiles; NaN-poisoned scratch, and guard values around the output that must survive.
    func worst(_ sh: F32ConvShape, maxChunk: Int, parts: Int, bias: Bool, residual: Bool, activation: F32Activation,
               rng: inout Rng, corrupt: Bool = false) -> Float {
        let x = rng.floats(sh.batch * sh.inChannels * sh.inPlane), w = rng.floats(sh.outChannels * sh.patchSize)
        let b: [Float]? = bias ? rng.floats(sh.outChannels) : nil
        let outCount = sh.batch * sh.outChannels * sh.outPlane
        let res: [Float]? = residual ? rng.floats(outCount) : nil
        var ref = [Float](repeating: 0, count: outCount), mag = ref
        f32ConvReference(sh, input: x, weight: w, bias: b, residual: res, activation: activation, output: &ref)
        f32ConvReference(sh, input: x.map(abs), weight: w.map(abs), bias: b?.map(abs), residual: res?.map(abs), activation: .none, output: &mag)
        let plan = F32WinogradPlan(sh, threads: parts, maxChunk: maxChunk)
        var u = [Float](repeating: .nan, count: f32WinogradWeightFloats(sh))
        u.withUnsafeMutableBufferPointer { f32WinogradWeights(w, outChannels: sh.outChannels, inChannels: sh.inChannels, into: $0.baseAddress!) }
        if corrupt { u[u.count / 3 + 5] += 0.01 }
        let guardCount = 64
        var out = [Float](repeating: 777, count: outCount + 2 * guardCount)
        var scratch = [Float](repeating: .nan, count: plan.scratchFloats(sh))
        out.withUnsafeMutableBufferPointer { o in
            scratch.withUnsafeMutableBufferPointer { sc in
                for part in 0..<parts {
                    f32WinogradConv(sh, plan, input: x, u: u, bias: b, residual: res, activation: activation,
                                    output: o.baseAddress! + guardCount, part: part, parts: parts, scratch: sc.baseAddress!)
                }
            }
        }
        var worst: Float = 0
        for i in 0..<guardCount where out[i] != 777 || out[guardCount + outCount + i] != 777 { worst = .infinity }
        for i in 0..<outCount {
            let d = abs(out[guardCount + i] - ref[i]), tol = 1e-6 * (1 + mag[i])
            if !(d <= tol) { worst = max(worst, d.isNaN ? .infinity : d / tol) }
        }
        return worst
    }

    @Test func winogradMatchesReference() {
        guard F32Path.avx512.runs(on: .host) else { return }
        var rng = Rng(s: 41)
        let acts: [F32Activation] = [.none, .relu, .clip(min: -0.5, max: 0.75), .silu]
        // odd / even sizes (last tile half outside), channels off 8 and 16, pads 0…2 and
        // asymmetric, chunks that end mid tile row and tile rows longer than 16 tiles, 1–3 parts
        let cases: [(F32ConvShape, Int, Int)] = [
            (shape(cin: 5, h: 7, w: 9, cout: 3, top: 1, left: 1, bottom: 1, right: 1), 96, 1),
            (shape(cin: 17, h: 13, w: 37, cout: 20, top: 1, left: 1, bottom: 1, right: 1), 7, 2),
            (shape(n: 2, cin: 33, h: 11, w: 6, cout: 76, top: 0, left: 2, bottom: 2, right: 0), 20, 3),
            (shape(cin: 40, h: 5, w: 40, cout: 9, top: 2, left: 0, bottom: 1, right: 2), 50, 2),
            (shape(cin: 130, h: 16, w: 16, cout: 100, top: 1, left: 1, bottom: 1, right: 1), 96, 2),   // one K block of 130
            (shape(cin: 400, h: 9, w: 35, cout: 17, top: 1, left: 1, bottom: 1, right: 1), 33, 1),     // K blocks 134 + 133 + 133
            (shape(cin: 8, h: 3, w: 3, cout: 8, top: 0, left: 0, bottom: 0, right: 0), 96, 2),          // one output pixel
        ]
        for (i, (sh, maxChunk, parts)) in cases.enumerated() {
            let w = worst(sh, maxChunk: maxChunk, parts: parts, bias: i % 2 == 0, residual: i % 3 != 2,
                          activation: acts[i % acts.count], rng: &rng)
            #expect(w <= 1, "\(sh) chunk \(maxChunk) parts \(parts): max |Δ| / tolerance \(w)")
        }
    }

    @Test func corruptedWeightsAreCaught() {
        guard F32Path.avx512.runs(on: .host) else { return }
        var rng = Rng(s: 7)
        let sh = shape(cin: 12, h: 9, w: 11, cout: 10, top: 1, left: 1, bottom: 1, right: 1)
        #expect(worst(sh, maxChunk: 96, parts: 1, bias: true, residual: false, activation: .none, rng: &rng, corrupt: true) > 1)
    }

    @Test func planSplitsTilesEvenly() {
        let sh = shape(cin: 256, h: 128, w: 128, cout: 256, top: 1, left: 1, bottom: 1, right: 1)
        let p = F32WinogradPlan(sh, threads: 2, maxChunk: 96)
        #expect(p.tiles == 4096 && p.chunk == 96 && p.chunksPerImage == 43 && p.ld == 96)
        // 16 × 16 tiles on 2 threads: 6 chunks of one strip (3 each), not 3 of two (2 + 1)
        let aspp = F32WinogradPlan(shape(cin: 256, h: 32, w: 32, cout: 256, top: 1, left: 1, bottom: 1, right: 1), threads: 2)
        #expect(aspp.chunk == 48 && aspp.chunksPerImage == 6)
        #expect(F32WinogradPlan(sh, threads: 1, maxChunk: 20).chunk == 20)
        let small = F32WinogradPlan(shape(cin: 8, h: 3, w: 3, cout: 8, top: 0, left: 0, bottom: 0, right: 0), threads: 4)
        #expect(small.tiles == 1 && small.chunk == 1 && small.chunksPerImage == 1)
        #expect(f32WinogradWeightFloats(shape(cin: 3, h: 5, w: 5, cout: 9, top: 1, left: 1, bottom: 1, right: 1)) == 16 * 16 * 3)
    }
}
