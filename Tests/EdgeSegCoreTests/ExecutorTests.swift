import Testing
import CAllocCounter
@testable import EdgeSegCore
import EdgeSegKernels

/// Fast paths (OpenBLAS im2col / 1x1 GEMM, SIMD depthwise, threads) against the scalar
/// reference kernels. Tolerance: max |Δ| <= 1e-4 · (1 + max |reference|) (summation order differs).
@Suite struct ExecutorTests {
    func compare(_ g: Graph, threads: [Int] = [1, 3], seed: UInt64 = 9) throws {
        let ref = try Executor(graph: g, threads: 1, reference: true)
        for i in 0..<ref.inputCount { fill(ref.input(i), seed: seed + UInt64(i)) }
        ref.run()
        for t in threads {
            let fast = try Executor(graph: g, threads: t)
            for i in 0..<fast.inputCount { fill(fast.input(i), seed: seed + UInt64(i)) }
            fast.run()
            fast.run()   // a second run must give the same answer (no state leaks between runs)
            for o in 0..<ref.outputCount {
                let r = ref.output(o)
                let scale = 1 + r.reduce(Float(0)) { max($0, abs($1)) }
                let d = maxAbsDiff(fast.output(o), r)
                #expect(d <= 1e-4 * scale, "output \(o) threads \(t): max |Δ| \(d)")
            }
        }
    }

    @Test func convFastPathsMatchReference() throws {
        var rng = SplitMix64(seed: 21)
        for trial in 0..<24 {
            var b = GraphBuilder(seed: UInt64(trial))
            let cin = [3, 5, 8, 13, 17, 24][rng.int(0...5)]
            let h = rng.int(5...23), w = rng.int(5...29)
            let n = rng.int(1...2)
            let x = b.input([n, cin, h, w])
            let kind = trial % 4
            let act: UnaryOp? = [nil, .relu, .clip(min: 0, max: 6), .silu][rng.int(0...3)]
            let y: TensorID
            switch kind {
            case 0:   // depthwise 3x3, stride 1/2, dilation 1/2/4, asymmetric pads
                let d = [1, 2, 4][rng.int(0...2)], s = rng.int(1...2)
                y = b.conv(x, cout: cin, k: [3, 3], stride: [s, s], pads: [d, rng.int(0...d), rng.int(0...d), d], dil: [d, d],
                           group: cin, act: act)
            case 1:   // 1x1 (GEMM directly on the input), optional residual
                let o = b.conv(x, cout: rng.int(1...19), k: [1, 1], act: act)
                y = b.conv(o, cout: b.g.tensors[o].shape[1], k: [1, 1], residual: o, act: act)
            case 2:   // k x k im2col with stride, dilation and asymmetric pads
                let k = [[3, 3], [5, 5], [1, 3], [7, 7]][rng.int(0...3)]
                y = b.conv(x, cout: rng.int(1...21), k: k, stride: [rng.int(1...2), rng.int(1...2)],
                           pads: [rng.int(0...2), rng.int(0...2), rng.int(0...2), rng.int(0...2)], dil: [rng.int(1...2), 1], act: act)
            default:  // grouped
                let gsz = [1, cin][rng.int(0...1)] == 1 ? 1 : (cin % 2 == 0 ? 2 : 1)
                y = b.conv(x, cout: gsz * rng.int(1...5), k: [3, 3], stride: [2, 1], pads: [1, 1, 1, 1], group: gsz, act: act)
            }
            b.g.outputs = [y]
            try compare(b.g)
        }
    }

    /// Convs large enough for the packed AVX-512 GEMM's blocking (coutG 76 / 100: panel tails; K
    /// over several 128-blocks; 1 280 columns: more than one 1 024-column block, strip tails), 1×1
    /// and 3×3 (direct: stride 1, 32 / 16 wide; im2col: stride 2) with dilation, groups and a
    /// residual, on 1–3 threads. Where F32Path is .avx512 they must all take that path, and the
    /// packed weights replace the plain copy.
    @Test func packedConvGemmMatchesReference() throws {
        var b = GraphBuilder(seed: 5)
        let x = b.input([1, 20, 40, 32])
        let a = b.conv(x, cout: 76, k: [3, 3], pads: [1, 1, 1, 1], act: .relu)                     // K 180
        let p = b.conv(a, cout: 100, k: [1, 1], act: .clip(min: 0, max: 6))                         // K 76
        let q = b.conv(p, cout: 76, k: [1, 1], residual: a)                                          // K 100
        let s2 = b.conv(q, cout: 30, k: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], act: .relu)     // K 684
        let d2 = b.conv(s2, cout: 36, k: [3, 3], pads: [2, 2, 2, 2], dil: [2, 2], group: 2, act: .silu)
        b.g.outputs = [d2]
        try compare(b.g, threads: [1, 2, 3])
        let fast = try Executor(graph: b.g, threads: 1), ref = try Executor(graph: b.g, threads: 1, reference: true)
        if F32Path.preferred == .avx512 {
            #expect(fast.packedConvCount == 5)
            // panel padding only (76 → 80 rows): not a second copy
            #expect(fast.weightBytes < ref.weightBytes + ref.weightBytes / 10)
        } else {
            #expect(fast.packedConvCount == 0)
        }
    }

    /// Dense 3×3 stride-1 convs with ≥ 32 channels run as Winograd F(2×2, 3×3) on .avx512:
    /// odd sizes, asymmetric pads, channel counts off 8 / 16, a residual, ReLU / clip / SiLU,
    /// 1–3 threads (tolerance as `compare`). The transformed weights replace the plain copy.
    @Test func winogradConvsMatchReference() throws {
        var b = GraphBuilder(seed: 11)
        let x = b.input([1, 35, 13, 19])
        let a = b.conv(x, cout: 40, k: [3, 3], pads: [1, 1, 1, 1], act: .relu)
        let c = b.conv(a, cout: 40, k: [3, 3], pads: [1, 1, 1, 1], residual: a, act: .silu)
        let d = b.conv(c, cout: 33, k: [3, 3], pads: [0, 2, 1, 0], act: .clip(min: 0, max: 6))
        let e = b.conv(d, cout: 36, k: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1])   // stride 2: packed GEMM
        b.g.outputs = [c, e]
        try compare(b.g, threads: [1, 2, 3])
        let fast = try Executor(graph: b.g, threads: 2), ref = try Executor(graph: b.g, threads: 1, reference: true)
        if F32Path.preferred == .avx512 {
            #expect(fast.winogradConvCount == 3 && fast.packedConvCount == 4)
            #expect(fast.weightBytes < ref.weightBytes * 2)
            // a conv whose transformed weights would add more than the budget keeps the packed GEMM
            var big = GraphBuilder(seed: 12)
            big.g.outputs = [big.conv(big.input([1, 512, 4, 4]), cout: 512, k: [3, 3], pads: [1, 1, 1, 1])]
            let e = try Executor(graph: big.g, threads: 1)
            #expect(e.winogradConvCount == 0 && e.packedConvCount == 1)
        } else {
            #expect(fast.winogradConvCount == 0)
        }
    }

    @Test func everyOpGraphMatchesReferenceOnAnyThreadCount() throws {
        try compare(allOpsGraph(), threads: [1, 2, 4])
    }

    @Test func largeMatMulAndGemmUseBLASCorrectly() throws {
        try compare(blasGraph(), threads: [1, 3])
    }

    @Test func attentionMatMulsMatchReference() throws {
        try compare(attentionGraph(), threads: [1, 2, 3])
    }
}

/// The transformer's MatMul shapes: projections with a shared B and stacked A (one GEMM of
/// batch·m rows: below blasMinMNK the own small GEMM, above it OpenBLAS split by rows) and
/// per-head batched products with m, n, k of 4 and 30 (own small GEMM per matrix).
func attentionGraph() -> Graph {
    var b = GraphBuilder(seed: 5)
    let x = b.input([1, 64, 4, 60])
    let qkv = b.node1(.matMul, [x, b.const([60, 180])], [1, 64, 4, 180])              // 256 x 180 x 60: small
    let big = b.node1(.matMul, [b.node1(.reshape, [qkv], [1, 256, 4, 45]), b.const([45, 301])], [1, 256, 4, 301]) // > 2^20: BLAS
    let q = b.node1(.reshape, [x], [1, 64, 2, 4, 30])
    let kt = b.node1(.reshape, [b.node1(.unary(.relu), [x], [1, 64, 4, 60])], [1, 64, 2, 30, 4])
    let att = b.node1(.matMul, [q, kt], [1, 64, 2, 4, 4])
    let v = b.node1(.matMul, [att, b.node1(.reshape, [x], [1, 64, 2, 4, 30])], [1, 64, 2, 4, 30])
    let odd = b.node1(.matMul, [b.node1(.reshape, [x], [1, 5, 3, 1024]), b.const([1, 5, 1024, 7])], [1, 5, 3, 7])
    b.g.outputs = [qkv, big, att, v, odd]
    return b.g
}

/// MatMul and Gemm big enough for the OpenBLAS paths (batched and row-split).
func blasGraph() -> Graph {
        var b = GraphBuilder(seed: 4)
        // 40x50x64 per batch is below blasMinMNK (own GEMM, where OpenBLAS's small kernel would malloc);
        // the Gemm below (50x33x240) too; the 1x1 conv (96x4096x64) goes to OpenBLAS.
        let x = b.input([2, 3, 40, 64])
        let m = b.node1(.matMul, [x, b.const([64, 50])], [2, 3, 40, 50])
        let big = b.conv(b.node1(.reshape, [x], [1, 24, 20, 32]), cout: 96, k: [1, 1])
        let big2 = b.node1(.matMul, [b.node1(.reshape, [x], [1, 240, 64]), b.const([64, 300])], [1, 240, 300])
        let f = b.node1(.reshape, [m], [240, 50])
        let ge = b.node1(.gemm(GemmAttrs(transA: true, transB: false, alpha: 0.5, beta: 2, activation: .tanh)),
                         [f, b.const([240, 33]), b.const([1, 33])], [50, 33])
        b.g.outputs = [m, ge, big, big2]
        return b.g
}

extension ExecutorTests {

    @Test func knownValues() throws {
        // Resize 2x2 -> 4x4 linear half_pixel (PyTorch align_corners=False) and align_corners.
        var b = GraphBuilder()
        let x = b.input([1, 1, 2, 2])
        let hp = b.node1(.resize(ResizeAttrs(mode: .linear, transform: .halfPixel)), [x], [1, 1, 4, 4])
        let ac = b.node1(.resize(ResizeAttrs(mode: .linear, transform: .alignCorners)), [x], [1, 1, 3, 3])
        let mp = b.node1(.pool(PoolAttrs(kind: .max, kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true, countIncludePad: false)),
                         [x], [1, 1, 1, 1])
        b.g.outputs = [hp, ac, mp]
        let exe = try Executor(graph: b.g)
        for (i, v) in [1, 2, 3, 4].enumerated() { exe.input(0)[i] = Float(v) }
        exe.run()
        #expect(Array(exe.output(0)) == [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
        #expect(Array(exe.output(1)) == [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
        #expect(Array(exe.output(2)) == [4])
    }

    @Test func unsupportedGraphsFailClearly() {
        var b = GraphBuilder()
        let x = b.input([1, 4])
        b.g.tensors[x].type = .int8
        let y = b.node1(.dequantize, [x], [1, 4])
        b.g.outputs = [y]
        #expect(throws: ExecutorError.self) { _ = try Executor(graph: b.g) }
        #expect(throws: ExecutorError.self) { _ = try Executor(graph: allOpsGraph(), memoryLimit: 1024) }
    }
}

/// Counts heap allocations made by the test thread and every pool thread during 20 runs.
@Suite(.serialized, .enabled(if: alloc_counter_available() != 0, "no allocation counter under AddressSanitizer"))
struct ZeroAllocationTests {
    @Test func inferenceAllocatesNothing() throws {
        alloc_counter_begin_session()
        defer { alloc_counter_end_session() }
        for (threads, graph) in [(1, allOpsGraph()), (3, allOpsGraph()), (1, blasGraph()), (3, blasGraph()),
                                (1, attentionGraph()), (2, attentionGraph())] {
            let exe = try Executor(graph: graph, threads: threads)
            fill(exe.input(0), seed: 1)
            exe.profiling = true
            exe.run()   // warm: first touch of OpenBLAS buffers and thread-local state
            exe.runOnEveryThread(alloc_counter_track_this_thread)
            alloc_counter_track_thread(1)
            alloc_counter_reset()
            for _ in 0..<20 { exe.run() }
            let n = alloc_counter_count()
            // Positive control: the counter does see an allocation on this thread.
            let probe = [Int](repeating: 7, count: 100 + threads)
            let m = alloc_counter_count()
            alloc_counter_track_thread(0)
            #expect(n == 0, "\(n) allocations in 20 runs with \(threads) threads")
            #expect(m > n && probe.count > 0, "allocation counter did not see a known allocation")
        }
    }
}
