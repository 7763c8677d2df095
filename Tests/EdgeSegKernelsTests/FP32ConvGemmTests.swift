import Testing
@testable import EdgeSegKernels

/// The packed-weight conv GEMM (F32Path.avx512: AVX-512 tier on x86, its scalar stand-in
/// elsewhere) against f32GemmReference / f32ConvReference. Tolerance as FP32FastKernelTests:
/// |y − ref| ≤ 1e-6 · (1 + Σ|terms|) per output, Σ|terms| = |bias| + Σ|a·b| (+ |residual|).
@Suite struct FP32ConvGemmTests {
    typealias Rng = FP32FastKernelTests.Rng

    func packed(_ w: [Float], coutG: Int, k: Int, groups: Int) -> [Float] {
        var p = [Float](repeating: .nan, count: F32ConvGemm.packedWeightFloats(outChannelsPerGroup: coutG, patchSize: k, groups: groups))
        w.withUnsafeBufferPointer { src in
            p.withUnsafeMutableBufferPointer { f32PackConvWeights(src.baseAddress!, outChannelsPerGroup: coutG, patchSize: k, groups: groups, into: $0.baseAddress!) }
        }
        return p
    }

    /// c[m × n] in a wider matrix (ldc > n, guard columns and rows around it must survive),
    /// B with ldb > n; bias / residual / activation as the executor passes them.
    /// Returns the worst |Δ| / tolerance (0: all within).
    func gemmWorst(m: Int, k: Int, n: Int, bias: Bool, residual: Bool, activation: F32Activation,
                   rng: inout Rng, corrupt: Bool = false) -> Float {
        let ldb = n + 5, ldc = n + 7
        let a = rng.floats(m * k), b = rng.floats(max(1, k) * ldb)
        let bs: [Float]? = bias ? rng.floats(m) : nil
        let res: [Float]? = residual ? rng.floats(m * ldc) : nil
        var pa = packed(a, coutG: m, k: k, groups: 1)
        if corrupt { pa[pa.count / 2 + 3] += 0.01 }
        var ref = [Float](repeating: 0, count: m * ldc)
        f32GemmReference(m: m, n: n, k: k, alpha: 1, a: a, lda: k, transA: false, b: b, ldb: ldb, transB: false, out: &ref, ldo: ldc)
        let guardRows = 2
        var out = [Float](repeating: 777, count: (m + 2 * guardRows) * ldc)
        var pack = [Float](repeating: .nan, count: F32ConvGemm.packFloats(tile: n))
        out.withUnsafeMutableBufferPointer { o in
            pack.withUnsafeMutableBufferPointer { pk in
                f32ConvGemmPacked(a: pa, m: m, k: k, b: b, ldb: ldb, n: n, c: o.baseAddress! + guardRows * ldc, ldc: ldc,
                                  bias: bs, residual: res, activation: activation, pack: pk.baseAddress!)
            }
        }
        var worst: Float = 0
        for i in 0..<(m + 2 * guardRows) {
            for j in 0..<ldc {
                let v = out[i * ldc + j]
                let r = i - guardRows
                if r < 0 || r >= m || j >= n {
                    if v != 777 { worst = .infinity }
                    continue
                }
                var mag: Float = abs(bs?[r] ?? 0) + abs(res?[r * ldc + j] ?? 0)
                for p in 0..<k { mag += abs(a[r * k + p] * b[p * ldb + j]) }
                let want = f32Activate(activation, ref[r * ldc + j] + (bs?[r] ?? 0) + (res?[r * ldc + j] ?? 0))
                let d = abs(v - want), tol = 1e-6 * (1 + mag)
                if !(d <= tol) { worst = max(worst, d.isNaN ? .infinity : d / tol) }
            }
        }
        return worst
    }

    @Test func gemmMatchesReference() {
        guard runsHere else { return }
        var rng = Rng(s: 17)
        let acts: [F32Activation] = [.none, .relu, .clip(min: -0.5, max: 0.75), .silu]
        var trial = 0
        // rows: one panel, panel tails (3, 9, 76, 100); K: single block, block edges, several balanced
        // blocks; columns: strip tails around 16/32/48, a block of 1 024 plus a tail.
        for m in [1, 3, 8, 9, 76, 100] {
            for k in [1, 7, 128, 129, 300] {
                for n in [1, 15, 16, 33, 47, 48, 49, 100] {
                    trial += 1
                    let w = gemmWorst(m: m, k: k, n: n, bias: trial % 2 == 0, residual: trial % 3 == 0,
                                      activation: acts[trial % acts.count], rng: &rng)
                    #expect(w == 0, "m\(m) k\(k) n\(n): max |Δ| / tolerance \(w)")
                }
            }
        }
        for (m, k, n) in [(20, 644, 1024 + 50), (5, 1170, 2048 + 48), (13, 0, 60)] {
            let w = gemmWorst(m: m, k: k, n: n, bias: true, residual: true, activation: .relu, rng: &rng)
            #expect(w == 0, "m\(m) k\(k) n\(n): max |Δ| / tolerance \(w)")
        }
    }

    /// The check can fail: one packed weight off by 0.01 is caught.
    @Test func gemmCheckDetectsAWrongWeight() {
        guard runsHere else { return }
        var rng = Rng(s: 5)
        #expect(gemmWorst(m: 12, k: 140, n: 50, bias: false, residual: false, activation: .none, rng: &rng, corrupt: true) > 1)
    }

    @Test func packedLayoutIsPanelsOfEightRows() {
        // coutG 3, k 2, 2 groups: each group one panel [k][8], rows 3..7 zero.
        let w: [Float] = (1...12).map(Float.init)
        let p = packed(w, coutG: 3, k: 2, groups: 2)
        #expect(p.count == 2 * 8 * 2)
        #expect(Array(p[0..<8]) == [1, 3, 5, 0, 0, 0, 0, 0])
        #expect(Array(p[8..<16]) == [2, 4, 6, 0, 0, 0, 0, 0])
        #expect(Array(p[16..<24]) == [7, 9, 11, 0, 0, 0, 0, 0])
        #expect(F32ConvGemm.packedWeightFloats(outChannelsPerGroup: 76, patchSize: 1170, groups: 1) == 80 * 1170)
    }

    /// Whole convs (im2col or 1×1 on the input planes) in column tiles split over parts, against
    /// f32ConvReference; the NaN-poisoned scratch must not leak into the result.
    func checkConv(_ sh: F32ConvShape, pointwise: Bool, tile: Int, parts: Int, residual: Bool,
                   activation: F32Activation, rng: inout Rng) {
        let coutG = sh.outChannelsPerGroup, k = sh.patchSize
        let x = rng.floats(sh.batch * sh.inChannels * sh.inPlane), w = rng.floats(sh.outChannels * k), b = rng.floats(sh.outChannels)
        let outCount = sh.batch * sh.outChannels * sh.outPlane
        let res: [Float]? = residual ? rng.floats(outCount) : nil
        var ref = [Float](repeating: 0, count: outCount), mag = ref
        f32ConvReference(sh, input: x, weight: w, bias: b, residual: res, activation: activation, output: &ref)
        f32ConvReference(sh, input: x.map(abs), weight: w.map(abs), bias: b.map(abs), residual: res?.map(abs), activation: .none, output: &mag)
        let pw = packed(w, coutG: coutG, k: k, groups: sh.groups)
        var out = [Float](repeating: 777, count: outCount)
        var im2col = [Float](repeating: .nan, count: tile * k), pack = [Float](repeating: .nan, count: F32ConvGemm.packFloats(tile: tile))
        out.withUnsafeMutableBufferPointer { o in
            im2col.withUnsafeMutableBufferPointer { ic in
                pack.withUnsafeMutableBufferPointer { pk in
                    for part in 0..<parts {
                        f32ConvPacked(sh, pointwise: pointwise, input: x, packedWeight: pw, bias: b, residual: res, activation: activation,
                                      output: o.baseAddress!, tile: tile, part: part, parts: parts,
                                      im2col: ic.baseAddress!, pack: pk.baseAddress!)
                    }
                }
            }
        }
        var worst: Float = 0
        for i in 0..<outCount {
            let d = abs(out[i] - ref[i]), tol = 1e-6 * (1 + mag[i])
            if !(d <= tol) { worst = max(worst, d.isNaN ? .infinity : d / tol) }
        }
        #expect(worst == 0, "\(sh) pointwise \(pointwise) tile \(tile) parts \(parts): max |Δ| / tolerance \(worst)")
    }

    @Test func convsMatchReference() {
        guard runsHere else { return }
        var rng = Rng(s: 29)
        func shape(n: Int = 1, cin: Int, h: Int, w: Int, cout: Int, k: Int, s: Int = 1, p: Int = 0, d: Int = 1, g: Int = 1) -> F32ConvShape {
            let ho = (h + 2 * p - d * (k - 1) - 1) / s + 1, wo = (w + 2 * p - d * (k - 1) - 1) / s + 1
            return F32ConvShape(batch: n, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout, outHeight: ho, outWidth: wo,
                                kernelH: k, kernelW: k, strideH: s, strideW: s, padTop: p, padLeft: p, dilationH: d, dilationW: d, groups: g)
        }
        // 1×1 on the input planes: odd coutG, K across block edges, plane sizes off the strip width.
        checkConv(shape(cin: 16, h: 16, w: 16, cout: 96, k: 1), pointwise: true, tile: 256, parts: 1, residual: false, activation: .relu, rng: &rng)
        checkConv(shape(cin: 130, h: 9, w: 13, cout: 76, k: 1), pointwise: true, tile: 48, parts: 2, residual: true, activation: .none, rng: &rng)
        checkConv(shape(n: 2, cin: 20, h: 7, w: 9, cout: 6, k: 1, g: 2), pointwise: true, tile: 40, parts: 3, residual: true,
                  activation: .clip(min: 0, max: 6), rng: &rng)
        checkConv(shape(cin: 300, h: 8, w: 8, cout: 3, k: 1), pointwise: true, tile: 64, parts: 1, residual: false, activation: .silu, rng: &rng)
        // 3×3 im2col: padding, stride 2, dilation 2, groups, odd coutG.
        checkConv(shape(cin: 13, h: 20, w: 22, cout: 100, k: 3, p: 1), pointwise: false, tile: 96, parts: 2, residual: true,
                  activation: .relu, rng: &rng)
        checkConv(shape(cin: 17, h: 21, w: 19, cout: 76, k: 3, s: 2, p: 1), pointwise: false, tile: 50, parts: 1, residual: false,
                  activation: .clip(min: -0.5, max: 0.5), rng: &rng)
        checkConv(shape(cin: 24, h: 16, w: 16, cout: 9, k: 3, p: 2, d: 2), pointwise: false, tile: 256, parts: 1, residual: true,
                  activation: .none, rng: &rng)
        checkConv(shape(n: 2, cin: 12, h: 11, w: 10, cout: 6, k: 3, p: 1, g: 3), pointwise: false, tile: 48, parts: 2, residual: false,
                  activation: .sigmoid, rng: &rng)
        // Direct (stride 1, output rows of 16k columns: B read from the input at each tap), K and
        // column blocks with tails, tiles starting mid-row; and the same shape in tiles that are
        // not multiples of 16, which must take the im2col route.
        let direct = [(shape(cin: 7, h: 20, w: 32, cout: 13, k: 3, p: 1), 96, 2),
                      (shape(n: 2, cin: 30, h: 12, w: 16, cout: 76, k: 3, p: 2, d: 2, g: 2), 48, 3),
                      (shape(cin: 3, h: 40, w: 48, cout: 5, k: 5, p: 2), 1040, 1),
                      (shape(cin: 40, h: 9, w: 64, cout: 9, k: 3, p: 3, d: 3), 144, 1)]
        for (sh, tile, parts) in direct {
            #expect(f32ConvPackedDirect(sh, tile: tile) == onX86)
            checkConv(sh, pointwise: false, tile: tile, parts: parts, residual: parts != 1, activation: .relu, rng: &rng)
            #expect(!f32ConvPackedDirect(sh, tile: tile + 8))
            checkConv(sh, pointwise: false, tile: tile + 8, parts: parts, residual: false, activation: .none, rng: &rng)
        }
        #expect(!f32ConvPackedDirect(shape(cin: 4, h: 32, w: 32, cout: 4, k: 3, s: 2, p: 1), tile: 96))
    }

    /// On x86 the packed GEMM is the AVX-512 tier (the executor selects it only where it runs);
    /// elsewhere its scalar stand-in.
    var runsHere: Bool { F32Path.avx512.runs(on: .host) || !onX86 }

    var onX86: Bool {
        #if arch(x86_64)
        return true
        #else
        return false
        #endif
    }
}
