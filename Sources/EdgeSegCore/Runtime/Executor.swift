// The FP32 executor. Everything is allocated at load: the activation arena (planned by
// MemoryPlanner), the weights, per-thread im2col scratch, the steps with resolved pointers,
// the thread pool and the profiler counters. `run()` then performs no heap allocation.

import CBLAS
import EdgeSegKernels
#if canImport(Glibc)
import Glibc
#endif

public struct ExecutorError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "executor: \(message)" }
}

/// Products with M·N·K at or below this go to our own GEMM: OpenBLAS 0.3.21 routes them to its
/// x86 "small matrix" kernels, which malloc a packing buffer on every call (found by the
/// zero-allocation test; see ZeroAllocationTests). Above it OpenBLAS uses its preallocated buffers.
let blasMinMNK = 1 << 20

/// `path` nil: the scalar reference (reference executors, the parity oracle). Otherwise products
/// too small for OpenBLAS go to `f32GemmSmall` (vector tiles, no allocation).
@inline(__always)
func gemmNN(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
            c: UnsafeMutablePointer<Float>, ldc: Int, useBLAS: Bool, path: F32Path?) {
    if useBLAS && m * n * k > blasMinMNK {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    } else if let path {
        f32GemmSmall(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, path: path)
    } else {
        f32GemmReference(m: m, n: n, k: k, alpha: 1, a: a, lda: lda, transA: false, b: b, ldb: ldb, transB: false, out: c, ldo: ldc)
    }
}

/// Per-thread im2col scratch budget (floats); tiles of output columns are sized to fit it.
let im2colScratchFloats = 1 << 20

public final class Executor: @unchecked Sendable {
    public let graph: Graph
    public let plan: MemoryPlan
    public let threads: Int
    public let arenaBytes: Int
    public let weightBytes: Int
    public let scratchBytes: Int
    /// Convs running on the packed-weight AVX-512 GEMM (F32Path.avx512) instead of OpenBLAS.
    public let packedConvCount: Int
    /// Of those, the dense 3×3 stride-1 convs run as Winograd F(2×2, 3×3) (F32Winograd.swift).
    public let winogradConvCount: Int
    /// Per-node time is accumulated when true (two clock reads per step).
    public var profiling = false

    private let arena: UnsafeMutableRawPointer
    private let weights: UnsafeMutableRawPointer
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchStride: Int
    /// Offset (floats) of the packed conv GEMM's B buffer in each thread's scratch.
    private let gemmPackOffset: Int
    private let steps: UnsafeMutablePointer<Step>
    private let stepCount: Int
    private var currentStep = 0
    private let pool: ThreadPool
    private let nodeNanos: UnsafeMutablePointer<UInt64>
    private var profiledRuns = 0
    private let int8Kernels: UnsafeMutablePointer<Int8ConvKernel>
    private let int8KernelCount: Int
    private let int8Scratch: UnsafeMutableRawPointer
    private let int8ScratchStride: Int
    /// Activation tables of int8 inputs (1 KiB each: 256 floats, or 256 bytes), built at load.
    private let int8Tables: UnsafeMutableRawPointer
    private let inputPtrs: [UnsafeMutablePointer<Float>]
    /// FP32 fast-kernel path (depthwise, small GEMM), chosen once here so runs never read CPUID or the environment.
    private let f32Path: F32Path
    private let outputPtrs: [UnsafeMutablePointer<Float>]

    /// - threads: parts every parallel step is split into (the caller's thread is one of them).
    /// - affinity: CPU ids to pin the worker threads to (board profile: the big cores).
    /// - memoryLimit: load fails if arena + weights + scratch exceed it.
    /// - reference: run every conv/gemm/matmul with the scalar reference kernels (the parity oracle).
    public init(graph g: Graph, threads: Int = 1, affinity: [Int]? = nil, memoryLimit: Int = Int.max,
                reference: Bool = false) throws {
        do { try validateGraph(g) } catch let e as GraphError { throw ExecutorError(e.description) }
        try checkExecutableTypes(g)
        var meta = g
        meta.constants = [:]     // shapes and nodes; the weights live in the executor's own blocks
        graph = meta
        self.threads = max(1, threads)
        f32Path = F32Path.preferred
        plan = planMemory(g)
        arenaBytes = plan.arenaBytes

        // Convs whose weights are packed at load for the AVX-512 GEMM (F32ConvGemm): GEMM-mode
        // float convs on that path, weight used by that conv alone. The packed copy is the only one.
        let packConvs = !reference && f32Path.packsConvWeights
        var packedConvNodes = Set<Int>(), winogradNodes = Set<Int>()
        var packedWeights: [TensorID: F32ConvShape] = [:], winogradWeights = Set<TensorID>()
        var winogradCandidates: [(Int, TensorID, F32ConvShape)] = [], winogradBudget = Executor.winogradExtraWeightBytes
        if packConvs {
            var uses: [TensorID: Int] = [:]
            for n in g.nodes { for t in n.inputs { uses[plan.root[t], default: 0] += 1 } }
            for t in g.outputs { uses[plan.root[t], default: 0] += 1 }
            for (i, n) in g.nodes.enumerated() {
                guard case .conv(let a) = n.op, g.tensors[n.inputs[0]].type == .float32,
                      let ops = try? convOperands(n, a) else { continue }
                let s = Executor.convShape(g, n, a)
                let mode = Executor.convMode(s)
                let w = plan.root[ops.weight]
                guard mode == .gemm1x1 || mode == .im2col, uses[w] == 1, let c = g.constants[w] else { continue }
                switch c { case .float32, .float16: break; default: continue }
                packedConvNodes.insert(i)
                packedWeights[w] = s
                if Executor.runsWinograd(s) { winogradCandidates.append((i, w, s)) }
            }
            // Winograd's weights are 16/9 of the plain ones: the convs that save the most MACs per
            // extra weight byte (∝ output plane), then the largest, while the extra fits the budget
            for (i, w, s) in winogradCandidates.sorted(by: { ($0.2.outPlane, nodeMACs(g.nodes[$0.0], g)) > ($1.2.outPlane, nodeMACs(g.nodes[$1.0], g)) }) {
                let extra = (f32WinogradWeightFloats(s) - s.outChannels * s.patchSize) * 4
                if extra > winogradBudget { continue }
                winogradBudget -= extra
                winogradNodes.insert(i); winogradWeights.insert(w)
            }
        }

        // Constants consumed by nodes, 64-byte aligned in one block.
        var constOffset = [Int](repeating: -1, count: g.tensors.count)
        var wBytes = 0
        for id in g.constants.keys.sorted() {
            switch g.constants[id]! {
            case .float32, .float16: break      // half weights are widened once, here
            default: continue
            }
            constOffset[id] = wBytes
            if let s = packedWeights[id], winogradWeights.contains(id) {
                wBytes += alignUp(f32WinogradWeightFloats(s) * 4)
            } else if let s = packedWeights[id] {
                wBytes += alignUp(F32ConvGemm.packedWeightFloats(outChannelsPerGroup: s.outChannelsPerGroup,
                                                                 patchSize: s.patchSize, groups: s.groups) * 4)
            } else {
                wBytes += alignUp(g.tensors[id].elementCount * 4)
            }
        }
        let floatWeightBytes = wBytes
        packedConvCount = packedConvNodes.count
        winogradConvCount = winogradNodes.count

        // Scratch: the largest im2col tile or resize row cache.
        var tileFloats = 0
        for n in g.nodes { if case .resize = n.op { tileFloats = max(tileFloats, f32ResizeScratchFloats(outWidth: g.tensors[n.outputs[0]].shape[3])) } }
        var convTiles: [Int: (Int, Int)] = [:]
        var winogradPlans: [Int: F32WinogradPlan] = [:]
        var packFloats = 0, winogradFloats = 0
        for (i, n) in g.nodes.enumerated() {
            // float convs only: an int8 conv's im2col lives in the int8 scratch (sizing float
            // tiles for the decoder's int8 3×3 convs cost an int8 model 4 MiB per thread)
            guard case .conv(let a) = n.op, g.tensors[n.inputs[0]].type == .float32 else { continue }
            let s = Executor.convShape(g, n, a)
            let mode = reference ? .direct : Executor.convMode(s)
            let packed = packedConvNodes.contains(i)
            let hw = s.outPlane
            var tile = hw
            switch mode {
            case .im2col where winogradNodes.contains(i):
                // V and M of one chunk of tiles per thread; no im2col tile, no B strips
                let plan = F32WinogradPlan(s, threads: self.threads)
                winogradPlans[i] = plan
                winogradFloats = max(winogradFloats, plan.scratchFloats(s))
                convTiles[i] = (plan.chunk, plan.chunksPerImage)
                continue
            case .im2col where packed && f32ConvPackedDirect(s, tile: 16):
                // B read from the input at each tap: no im2col tile, one column tile per thread
                let wanted = (self.threads + s.batch - 1) / s.batch
                tile = Executor.stripAligned(max(16, (hw + wanted - 1) / wanted), hw)
            case .im2col:
                // Small weights (GGCA's 7×7 spatial gate: 1 output channel) make each GEMM call's
                // packing cheap, so their tiles stay small: the largest tile sets every thread's
                // scratch, and a 4 MiB one for a 1.6 MMAC conv was 6 % of an int8 model's RSS.
                let budget = s.outChannelsPerGroup * s.patchSize < 65_536 ? min(im2colScratchFloats, 2048 * s.patchSize)
                                                                          : im2colScratchFloats
                tile = max(16, min(hw, budget / max(1, s.patchSize) / 16 * 16))
                let wanted = (self.threads + s.batch - 1) / s.batch
                tile = min(tile, max(16, (hw + wanted - 1) / wanted))
                tile = min(tile, hw)
                if packed { tile = Executor.stripAligned(tile, hw) }
                tileFloats = max(tileFloats, tile * s.patchSize)
            case .gemm1x1:
                // Column tiles keep the output block cache-resident for the bias/activation epilogue.
                let wanted = (self.threads + s.batch - 1) / s.batch
                tile = min(hw, max(64, (hw + wanted - 1) / wanted))
                tile = min(tile, max(256, (im2colScratchFloats / 2) / max(1, s.outChannelsPerGroup) / 16 * 16))
                if packed { tile = Executor.stripAligned(tile, hw) }
            case .depthwise3x3:
                tileFloats = max(tileFloats, f32Depthwise3x3ScratchFloats(s))   // padded copy of one plane
            default: break
            }
            convTiles[i] = (tile, (hw + tile - 1) / tile)
            if packed { packFloats = max(packFloats, F32ConvGemm.packFloats(tile: tile)) }
        }
        // The packed GEMM's per-thread copy of B sits at the end of each thread's scratch.
        gemmPackOffset = alignUp(tileFloats * 4) / 4
        // (a Winograd conv's V and M use the whole of it: it needs no im2col tile nor B strips)
        scratchStride = max(gemmPackOffset + alignUp(packFloats * 4) / 4, alignUp(winogradFloats * 4) / 4)
        let floatScratchBytes = scratchStride * 4 * self.threads
        let (total, overflow) = arenaBytes.addingReportingOverflow(floatWeightBytes + floatScratchBytes)
        guard !overflow, total <= memoryLimit else {
            throw ExecutorError("model needs \(arenaBytes) arena + \(floatWeightBytes) weight + \(floatScratchBytes) scratch bytes, over the \(memoryLimit)-byte limit")
        }

        // Paged in (zeroed) by the first run, not here: a caller that hands over its graph as a
        // temporary has released the file's weights by then, so they never sit next to a full
        // arena (peak RSS).
        arena = .allocate(byteCount: max(arenaBytes, 64), alignment: 64)
        let weights = UnsafeMutableRawPointer.allocate(byteCount: max(floatWeightBytes, 64), alignment: 64)
        self.weights = weights
        scratch = UnsafeMutableRawPointer.allocate(byteCount: max(floatScratchBytes, 64), alignment: 64)
            .bindMemory(to: Float.self, capacity: max(floatScratchBytes, 64) / 4)
        scratch.initialize(repeating: 0, count: max(floatScratchBytes, 64) / 4)
        for (id, off) in constOffset.enumerated() where off >= 0 {
            let dst = (weights + off).assumingMemoryBound(to: Float.self)
            if let s = packedWeights[id] {
                let wino = winogradWeights.contains(id)
                let pack = { (w: UnsafePointer<Float>) in
                    if wino {
                        f32WinogradWeights(w, outChannels: s.outChannels, inChannels: s.inChannels, into: dst)
                    } else {
                        f32PackConvWeights(w, outChannelsPerGroup: s.outChannelsPerGroup, patchSize: s.patchSize,
                                           groups: s.groups, into: dst)
                    }
                }
                switch g.constants[id]! {
                case .float32(let v): v.withUnsafeBufferPointer { pack($0.baseAddress!) }
                case .float16(let v): v.map { Float(Float16(bitPattern: $0)) }.withUnsafeBufferPointer { pack($0.baseAddress!) }
                default: break
                }
                continue
            }
            switch g.constants[id]! {
            case .float32(let v):
                v.withUnsafeBufferPointer { (weights + off).copyMemory(from: $0.baseAddress!, byteCount: v.count * 4) }
            case .float16(let v):
                for (i, h) in v.enumerated() { dst[i] = Float(Float16(bitPattern: h)) }
            default: break
            }
        }

        // 1 KiB per activation table, and per int8 concat part (its requantization table)
        let tableCount = g.nodes.reduce(0) { count, n in
            switch n.op {
            case .unary where g.tensors[n.inputs[0]].type == .int8: return count + 1
            case .concat where g.tensors[n.outputs[0]].type == .int8: return count + n.inputs.count
            default: return count
            }
        }
        int8Tables = .allocate(byteCount: max(1, tableCount) * 1024, alignment: 64)
        let lowering = Lowering(g: g, plan: plan, constOffset: constOffset, arena: self.arena, weights: weights,
                                tables: int8Tables, threads: self.threads, convTiles: convTiles, packedConvs: packedConvNodes,
                                winogradPlans: winogradPlans,
                                reference: reference)
        let (list, kernels, boundaryTile) = try lowering.lower()
        int8KernelCount = kernels.count
        int8Kernels = .allocate(capacity: max(1, kernels.count))
        int8Kernels.initialize(from: kernels, count: kernels.count)
        int8ScratchStride = alignUp(max(boundaryTile, kernels.map(\.scratchBytes).max() ?? 0))
        int8Scratch = .allocate(byteCount: max(64, int8ScratchStride * self.threads), alignment: 64)
        int8Scratch.initializeMemory(as: UInt8.self, repeating: 0, count: max(64, int8ScratchStride * self.threads))
        let int8WeightBytes = kernels.reduce(0) { $0 + $1.weightBytes } + tableCount * 1024
        weightBytes = floatWeightBytes + int8WeightBytes
        scratchBytes = floatScratchBytes + int8ScratchStride * self.threads
        if arenaBytes + weightBytes + scratchBytes > memoryLimit {
            int8Kernels.deinitialize(count: kernels.count); int8Kernels.deallocate(); int8Scratch.deallocate()
            int8Tables.deallocate()
            arena.deallocate(); weights.deallocate(); scratch.deallocate()
            throw ExecutorError("model needs \(arenaBytes) arena + \(weightBytes) weight + \(scratchBytes) scratch bytes, over the \(memoryLimit)-byte limit")
        }
        stepCount = list.count
        steps = .allocate(capacity: max(1, list.count))
        steps.initialize(from: list, count: list.count)
        nodeNanos = .allocate(capacity: max(1, g.nodes.count))
        nodeNanos.initialize(repeating: 0, count: max(1, g.nodes.count))
        inputPtrs = try g.inputs.map(lowering.ptr)
        outputPtrs = try g.outputs.map(lowering.ptr)
        // Our pool supplies the parallelism; OpenBLAS's own threads would oversubscribe the cores.
        openblas_set_num_threads(1)
        pool = try ThreadPool(size: self.threads, affinity: affinity)
    }

    deinit {
        arena.deallocate(); weights.deallocate(); scratch.deallocate()
        int8Kernels.deinitialize(count: int8KernelCount); int8Kernels.deallocate(); int8Scratch.deallocate()
        int8Tables.deallocate()
        steps.deinitialize(count: stepCount); steps.deallocate()
        nodeNanos.deallocate()
    }

    static func convShape(_ g: Graph, _ n: Node, _ a: ConvAttrs) -> F32ConvShape {
        let x = g.tensors[n.inputs[0]].shape, w = g.tensors[n.inputs[1]].shape, y = g.tensors[n.outputs[0]].shape
        return F32ConvShape(batch: x[0], inChannels: x[1], inHeight: x[2], inWidth: x[3],
                            outChannels: w[0], outHeight: y[2], outWidth: y[3], kernelH: w[2], kernelW: w[3],
                            strideH: a.strides[0], strideW: a.strides[1], padTop: a.pads[0], padLeft: a.pads[1],
                            dilationH: a.dilations[0], dilationW: a.dilations[1], groups: a.group)
    }

    static func convMode(_ s: F32ConvShape) -> ConvMode {
        let depthwise = s.groups == s.inChannels && s.groups == s.outChannels
        if depthwise { return s.kernelH == 3 && s.kernelW == 3 ? .depthwise3x3 : .direct }
        if s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.padTop == 0 && s.padLeft == 0
            && s.outHeight == s.inHeight && s.outWidth == s.inWidth { return .gemm1x1 }
        return .im2col
    }

    /// Packed convs that run as Winograd F(2×2, 3×3): dense 3×3 stride 1 with enough channels
    /// that the 16 GEMMs dominate the transforms (their cost ∝ cin + cout per tile, the GEMMs' ∝
    /// cin · cout).
    static func runsWinograd(_ s: F32ConvShape) -> Bool {
        f32WinogradApplies(s) && s.inChannels >= 32 && s.outChannels >= 32
    }

    /// Most weight bytes Winograd may add to a model (its weights are 16/9 of the plain ones): the
    /// FP32 demo's peak RSS must stay ≤ 0.5× ONNX Runtime's (178 MiB). All 8 of its candidates
    /// added 6.6 MB (2 threads: 89.3 MiB); 4.5 MiB takes cat_conv.0 / .4 (128×128: 0.46 MB) and
    /// the ASPP's three local_conv2 (32×32, 412 → 100: 3.8 MB), not its local_conv1 (0.9 MB each).
    static let winogradExtraWeightBytes = 9 << 19

    /// A packed conv's column tile rounded up to whole 48-column strips (the last tile of an
    /// image takes the rest), so only the image's last strip is partial.
    static func stripAligned(_ tile: Int, _ hw: Int) -> Int {
        let nr = F32ConvGemm.stripCols
        return min(hw, (tile + nr - 1) / nr * nr)
    }

    // MARK: running

    public var inputCount: Int { inputPtrs.count }
    public var outputCount: Int { outputPtrs.count }
    public func inputShape(_ i: Int) -> [Int] { graph.tensors[graph.inputs[i]].shape }
    public func outputShape(_ i: Int) -> [Int] { graph.tensors[graph.outputs[i]].shape }
    /// The input tensor's storage: write it, then `run()`. It is never overwritten by a run.
    public func input(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
        pageInArena()
        return UnsafeMutableBufferPointer(start: inputPtrs[i], count: graph.tensors[graph.inputs[i]].elementCount)
    }
    /// Valid until the next `run()`.
    public func output(_ i: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: outputPtrs[i], count: graph.tensors[graph.outputs[i]].elementCount)
    }

    private static let job: PoolJob = { ctx, part, parts in
        Unmanaged<Executor>.fromOpaque(ctx)._withUnsafeGuaranteedRef { exe in
            exe.execute(exe.steps[exe.currentStep], part: part, parts: parts)
        }
    }

    /// Zeroes (and so pages in) the arena once: on the first `input(_:)` or `run()`.
    private var arenaPagedIn = false
    private func pageInArena() {
        if arenaPagedIn { return }
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(arenaBytes, 64))
        arenaPagedIn = true
    }

    public func run() {
        pageInArena()
        let ctx = Unmanaged.passUnretained(self).toOpaque()
        let profile = profiling
        for i in 0..<stepCount {
            let t0 = profile ? monotonicNanos() : 0
            if steps[i].parallel {
                currentStep = i
                pool.run(Executor.job, ctx)
            } else {
                execute(steps[i], part: 0, parts: 1)
            }
            if profile { nodeNanos[steps[i].node] &+= monotonicNanos() &- t0 }
        }
        if profile { profiledRuns += 1 }
    }

    /// Runs `body` once on every pool thread (the caller included), e.g. to tag threads in tests.
    public func runOnEveryThread(_ body: @convention(c) () -> Void) {
        var b = body
        withUnsafeMutablePointer(to: &b) { p in
            pool.run({ ctx, _, _ in ctx.assumingMemoryBound(to: (@convention(c) () -> Void).self).pointee() }, UnsafeMutableRawPointer(p))
        }
    }

    // MARK: profile

    public struct NodeProfile: Sendable {
        public var node: Int, name: String, op: String, seconds: Double, macs: Int
    }

    public func resetProfile() {
        nodeNanos.update(repeating: 0, count: max(1, graph.nodes.count))
        profiledRuns = 0
    }

    /// Mean time per profiled run of every node that has steps.
    public func profile() -> [NodeProfile] {
        let runs = Double(max(1, profiledRuns))
        return graph.nodes.enumerated().compactMap { i, n in
            if case .reshape = n.op { return nil }
            if case .identity = n.op { return nil }
            return NodeProfile(node: i, name: n.name, op: opName(n.op), seconds: Double(nodeNanos[i]) / runs / 1e9, macs: nodeMACs(n, graph))
        }
    }

    // MARK: step bodies

    @inline(__always)
    private func execute(_ step: Step, part: Int, parts: Int) {
        switch step.kind {
        case .conv(let c): runConv(c, part: part, parts: parts)
        case .int8Conv(let k):
            int8Kernels[k].run(part: part, parts: parts, scratch: int8Scratch + part * int8ScratchStride)
        case .quantize(let q):
            q.quantize(part: part, parts: parts, tile: (int8Scratch + part * int8ScratchStride).assumingMemoryBound(to: Int8.self))
        case .dequantize(let d):
            d.dequantize(part: part, parts: parts, tile: (int8Scratch + part * int8ScratchStride).assumingMemoryBound(to: Int8.self))
        case .int8Table(let t): t.run(part: part, parts: parts)
        case .int8StripReduce(let r): r.run(part: part, parts: parts, scratch: int8Scratch + part * int8ScratchStride)
        case .int8AxisScale(let a): a.run(part: part, parts: parts, scratch: int8Scratch + part * int8ScratchStride)
        case .int8Add(let a): a.run(part: part, parts: parts)
        case .int8Concat(let c): c.run(part: part, parts: parts, scratch: int8Scratch + part * int8ScratchStride)
        case .int8Resize(let r): r.run(part: part, parts: parts, scratch: int8Scratch + part * int8ScratchStride)
        case .axisScale(let x, let a, let b, let y, let c, let h, let w):
            f32AxisScale(x, a: a, b: b, y, channels: c, height: h, width: w, part: part, parts: parts)
        case .gemm(let s): runGemm(s, part: part, parts: parts)
        case .matMul(let s): runMatMul(s, part: part, parts: parts)
        case .binary(let op, let d, let a, let b, let y):
            if d.dims.d0 == 1 && d.dims.d1 == 1 && d.dims.d2 == 1 && d.dims.d3 == 1 && d.dims.d4 == 1 {
                f32BinaryFlat(op, a, aStride: d.aStrides.d5, b, bStride: d.bStrides.d5, y, count: d.dims.d5, part: part, parts: parts)
            } else {
                f32Binary(op, d, a, b, y, part: part, parts: parts)
            }
        case .unary(let act, let x, let y, let count): f32UnaryPart(act, x, y, count: count, part: part, parts: parts)
        case .copy(let d, let s, let t): f32Copy(d, s, t, part: part, parts: parts)
        case .fill(let p, let count, let v): f32Fill(p, count: count, value: v, part: part, parts: parts)
        case .reduce(let op, let d, let s, let t): f32ReduceRun(op, d, s, t, part: part, parts: parts)
        case .globalPool(let isMax, let s, let t, let planes, let size):
            f32GlobalPool(isMax: isMax, s, t, planes: planes, planeSize: size, part: part, parts: parts)
        case .pool(let d, let s, let t): f32Pool(d, s, t, part: part, parts: parts)
        case .resize(let d, let s, let t): f32Resize(d, s, t, part: part, parts: parts, scratch: scratch + part * scratchStride)
        case .softmax(let s, let t, let outer, let len, let inner):
            f32Softmax(s, t, outer: outer, len: len, inner: inner, part: part, parts: parts)
        case .layerNorm(let s, let t, let rows, let len, let scale, let bias, let eps):
            f32LayerNorm(s, t, rows: rows, len: len, scale: scale, bias: bias, epsilon: eps, part: part, parts: parts)
        case .instanceNorm(let s, let t, let planes, let channels, let size, let scale, let bias, let eps):
            f32InstanceNorm(s, t, planes: planes, channels: channels, planeSize: size, scale: scale, bias: bias, epsilon: eps, part: part, parts: parts)
        }
    }

    private func runConv(_ c: ConvStep, part: Int, parts: Int) {
        let s = c.shape
        switch c.mode {
        case .depthwise3x3:
            f32Depthwise3x3(s, input: c.x, weight: c.w, bias: c.bias, residual: c.residual, activation: c.act, output: c.y,
                            part: part, parts: parts, scratch: scratch + part * scratchStride, path: f32Path)
        case .direct:
            f32ConvReference(s, input: c.x, weight: c.w, bias: c.bias, residual: c.residual, activation: c.act, output: c.y, part: part, parts: parts)
        case .im2col where c.winograd != nil:
            f32WinogradConv(s, c.winograd!, input: c.x, u: c.w, bias: c.bias, residual: c.residual, activation: c.act,
                            output: c.y, part: part, parts: parts, scratch: scratch + part * scratchStride)
        case .gemm1x1 where c.packed, .im2col where c.packed:
            let own = scratch + part * scratchStride
            f32ConvPacked(s, pointwise: c.mode == .gemm1x1, input: c.x, packedWeight: c.w, bias: c.bias,
                          residual: c.residual, activation: c.act, output: c.y, tile: c.tile, part: part, parts: parts,
                          im2col: own, pack: own + gemmPackOffset)
        case .gemm1x1, .im2col:
            let hw = s.outPlane, cinG = s.inChannelsPerGroup, coutG = s.outChannelsPerGroup, k = s.patchSize
            let col = scratch + part * scratchStride
            for item in f32PartRange(s.batch * c.tilesPerImage, part, parts) {
                let n = item / c.tilesPerImage
                let c0 = (item % c.tilesPerImage) * c.tile
                let cols = min(c.tile, hw - c0)
                for g in 0..<s.groups {
                    let groupInput = c.x + (n * s.inChannels + g * cinG) * s.inPlane
                    let b: UnsafeMutablePointer<Float>
                    let ldb: Int
                    if c.mode == .gemm1x1 {
                        b = groupInput + c0; ldb = s.inPlane
                    } else {
                        f32Im2colTile(s, groupInput: groupInput, col0: c0, cols: cols, dst: col)
                        b = col; ldb = cols
                    }
                    let yOff = (n * s.outChannels + g * coutG) * hw + c0
                    gemmNN(m: coutG, n: cols, k: k, a: c.w + g * coutG * k, lda: k, b: b, ldb: ldb,
                           c: c.y + yOff, ldc: hw, useBLAS: true, path: f32Path)
                    f32ConvEpilogue(c.y + yOff, ld: hw, rows: coutG, cols: cols, bias: c.bias.map { $0 + g * coutG },
                                    residual: c.residual.map { UnsafePointer($0 + yOff) }, activation: c.act)
                }
            }
        }
    }

    private func runGemm(_ s: GemmStep, part: Int, parts: Int) {
        let rows = f32PartRange(s.m, part, parts)
        if rows.isEmpty { return }
        let a = s.transA ? s.a + rows.lowerBound : s.a + rows.lowerBound * s.lda
        let y = s.y + rows.lowerBound * s.n
        if s.useBLAS && rows.count * s.n * s.k > blasMinMNK {
            cblas_sgemm(CblasRowMajor, s.transA ? CblasTrans : CblasNoTrans, s.transB ? CblasTrans : CblasNoTrans,
                        Int32(rows.count), Int32(s.n), Int32(s.k), s.alpha, a, Int32(s.lda), s.b, Int32(s.ldb), 0, y, Int32(s.n))
        } else if s.useBLAS && !s.transA && !s.transB && s.alpha == 1 {
            f32GemmSmall(m: rows.count, n: s.n, k: s.k, a: a, lda: s.lda, b: s.b, ldb: s.ldb, c: y, ldc: s.n, path: f32Path)
        } else {
            f32GemmReference(m: rows.count, n: s.n, k: s.k, alpha: s.alpha, a: a, lda: s.lda, transA: s.transA,
                             b: s.b, ldb: s.ldb, transB: s.transB, out: y, ldo: s.n)
        }
        for i in rows {
            let o = s.y + i * s.n
            if let c = s.c {
                let cr = c + i * s.cRowStride
                for j in 0..<s.n { o[j] += s.beta * cr[j * s.cColStride] }
            }
            f32ApplyActivation(s.act, o, s.n)
        }
    }

    private func runMatMul(_ s: MatMulStep, part: Int, parts: Int) {
        let d = s.desc
        let count = d.batchCount
        let path: F32Path? = s.reference ? nil : f32Path
        if !s.reference && count > 1 && d.stacksA {
            // One B for every batch and A's matrices back to back (attention projections,
            // [1, 256, 4, 60] x [60, 180]): one GEMM of count·m rows, not count tiny ones.
            let rows = f32PartRange(count * d.m, part, parts)
            if rows.isEmpty { return }
            gemmNN(m: rows.count, n: d.n, k: d.k, a: s.a + rows.lowerBound * d.k, lda: d.k, b: s.b, ldb: d.n,
                   c: s.y + rows.lowerBound * d.n, ldc: d.n, useBLAS: true, path: path)
        } else if count >= parts || !s.useBLAS {
            for i in f32PartRange(count, part, parts) {
                let (oa, ob) = d.offsets(i)
                let y = s.y + i * d.m * d.n
                gemmNN(m: d.m, n: d.n, k: d.k, a: s.a + oa, lda: d.k, b: s.b + ob, ldb: d.n, c: y, ldc: d.n,
                       useBLAS: s.useBLAS, path: path)
            }
        } else {
            // Few large matrices: split each one's rows.
            let rows = f32PartRange(d.m, part, parts)
            if rows.isEmpty { return }
            for i in 0..<count {
                let (oa, ob) = d.offsets(i)
                gemmNN(m: rows.count, n: d.n, k: d.k, a: s.a + oa + rows.lowerBound * d.k, lda: d.k, b: s.b + ob, ldb: d.n,
                       c: s.y + i * d.m * d.n + rows.lowerBound * d.n, ldc: d.n, useBLAS: true, path: path)
            }
        }
    }
}


/// Turns nodes into steps with resolved pointers (load time only).
struct Lowering {
    let g: Graph
    let plan: MemoryPlan
    let constOffset: [Int]
    let arena: UnsafeMutableRawPointer
    let weights: UnsafeMutableRawPointer
    let tables: UnsafeMutableRawPointer
    let threads: Int
    let convTiles: [Int: (Int, Int)]
    let packedConvs: Set<Int>
    let winogradPlans: [Int: F32WinogradPlan]
    let reference: Bool

    func int8Ptr(_ t: TensorID) throws -> UnsafeMutablePointer<Int8> {
        let r = plan.root[t]
        guard g.constants[r] == nil, let o = plan.offset[r] else { throw ExecutorError("tensor '\(g.tensors[t].name)' has no storage") }
        return (arena + o + plan.sub[t]).assumingMemoryBound(to: Int8.self)
    }

    func ptr(_ t: TensorID) throws -> UnsafeMutablePointer<Float> {
            let r = plan.root[t]
            if g.constants[r] != nil {
                guard constOffset[r] >= 0 else { throw ExecutorError("constant '\(g.tensors[r].name)' is not float32") }
                return (weights + constOffset[r]).assumingMemoryBound(to: Float.self)
            }
            guard let o = plan.offset[r] else { throw ExecutorError("tensor '\(g.tensors[t].name)' has no storage") }
            return (arena + o + plan.sub[t]).assumingMemoryBound(to: Float.self)
        }

    func lower() throws -> ([Step], [Int8ConvKernel], Int) {
        var list: [Step] = []
        var kernels: [Int8ConvKernel] = []
        var boundaryTile = 0
        var tablesUsed = 0
        var intoConcat: [TensorID: Int8ResizeStep] = [:]
        let readerNodes = tensorReaders(g)
        let vectorBoundaries = int8BoundaryBlocksAvailable() && Int8Path.preferred() == .vnni
        let par = threads > 1
        for (i, n) in g.nodes.enumerated() {
            func add(_ k: StepKind, work: Int) { list.append(Step(kind: k, node: i, parallel: par && work >= 16_384)) }
            let shape = { (t: TensorID) in g.tensors[t].shape }
            switch n.op {
            case .conv(let a) where g.tensors[n.inputs[0]].type == .int8:
                kernels.append(try Int8ConvKernel(graph: g, node: n, attrs: a, x: try int8Ptr(n.inputs[0]), y: try int8Ptr(n.outputs[0])))
                add(.int8Conv(kernels.count - 1), work: nodeMACs(n, g) / 8)
            case .quantize, .dequantize:
                let isQuantize = n.op == .quantize
                let f = isQuantize ? n.inputs[0] : n.outputs[0], q = isQuantize ? n.outputs[0] : n.inputs[0]
                let s = shape(f), qp = g.tensors[q].quant!
                boundaryTile = max(boundaryTile, int8BoundaryTileBytes(channels: s[1]))
                let b = Int8BoundaryStep(float: try ptr(f), int8: try int8Ptr(q), batch: s[0], channels: s[1], pixels: s[2] * s[3],
                                         scale: qp.scale[0], zeroPoint: qp.zeroPoint[0], tileBytes: int8BoundaryTileBytes(channels: s[1]),
                                         vector: vectorBoundaries)
                add(isQuantize ? .quantize(b) : .dequantize(b), work: g.tensors[f].elementCount)
            case .conv(let a):
                let ops = try convOperands(n, a)
                guard g.constants[ops.weight] != nil else { throw ExecutorError("node '\(n.name)': conv weight must be a constant") }
                let s = Executor.convShape(g, n, a)
                let (tile, tiles) = convTiles[i]!
                let st = ConvStep(shape: s, x: try ptr(ops.x), w: try ptr(ops.weight), bias: try ops.bias.map(ptr),
                                  residual: try ops.residual.map(ptr), y: try ptr(n.outputs[0]),
                                  act: kernelActivation(a.activation), mode: reference ? .direct : Executor.convMode(s), tile: tile, tilesPerImage: tiles,
                                  packed: packedConvs.contains(i), winograd: winogradPlans[i])
                add(.conv(st), work: nodeMACs(n, g) / 8)
            case .gemm(let a):
                let A = shape(n.inputs[0]), B = shape(n.inputs[1]), out = shape(n.outputs[0])
                var cp: UnsafeMutablePointer<Float>? = nil, crs = 0, ccs = 0
                if n.inputs.count == 3 {
                    cp = try ptr(n.inputs[2])
                    let c = shape(n.inputs[2])
                    let pc = [Int](repeating: 1, count: 2 - c.count) + c
                    crs = pc[0] == 1 ? 0 : pc[1]; ccs = pc[1] == 1 ? 0 : 1
                }
                let st = GemmStep(m: out[0], n: out[1], k: a.transA ? A[0] : A[1], a: try ptr(n.inputs[0]), lda: A[1], transA: a.transA,
                                  b: try ptr(n.inputs[1]), ldb: B[1], transB: a.transB, c: cp, cRowStride: crs, cColStride: ccs,
                                  alpha: a.alpha, beta: a.beta, y: try ptr(n.outputs[0]), act: kernelActivation(a.activation),
                                  useBLAS: !reference)
                add(.gemm(st), work: nodeMACs(n, g) / 8)
            case .matMul:
                let d = F32MatMul(a: shape(n.inputs[0]), b: shape(n.inputs[1]), out: shape(n.outputs[0]))
                add(.matMul(MatMulStep(desc: d, a: try ptr(n.inputs[0]), b: try ptr(n.inputs[1]), y: try ptr(n.outputs[0]),
                                       useBLAS: !reference && d.m * d.n * d.k >= 32_768, reference: reference)),
                    work: nodeMACs(n, g) / 8)
            case .unary(let u) where g.tensors[n.inputs[0]].type == .int8:
                let x = n.inputs[0], y = n.outputs[0], s = shape(x), xq = g.tensors[x].quant!
                let table = tables + tablesUsed * 1024
                tablesUsed += 1
                if let yq = g.tensors[y].quant, g.tensors[y].type == .int8 {
                    let t = table.assumingMemoryBound(to: Int8.self)
                    int8TableFromFloatKernel(kernelActivation(u), input: xq, output: yq, into: t)
                    add(.int8Table(Int8TableStep(x: try int8Ptr(x), y: try int8Ptr(y), count: g.tensors[x].elementCount, table: t)),
                        work: g.tensors[x].elementCount / 4)
                } else {
                    let t = table.assumingMemoryBound(to: Float.self)
                    int8FloatTable(kernelActivation(u), input: xq, into: t)
                    boundaryTile = max(boundaryTile, int8BoundaryTileBytes(channels: s[1]))
                    let b = Int8BoundaryStep(float: try ptr(y), int8: try int8Ptr(x), batch: s[0], channels: s[1], pixels: s[2] * s[3],
                                             scale: xq.scale[0], zeroPoint: xq.zeroPoint[0],
                                             tileBytes: int8BoundaryTileBytes(channels: s[1]), table: UnsafePointer(t))
                    add(.dequantize(b), work: g.tensors[y].elementCount)
                }
            case .unary(let u):
                let c = g.tensors[n.outputs[0]].elementCount
                add(.unary(kernelActivation(u), try ptr(n.inputs[0]), try ptr(n.outputs[0]), c), work: c)
            case .binary where g.tensors[n.outputs[0]].type == .int8:
                let y = n.outputs[0]
                add(.int8Add(Int8AddStep(a: try int8Ptr(n.inputs[0]), b: try int8Ptr(n.inputs[1]), y: try int8Ptr(y),
                                         count: g.tensors[y].elementCount, a8: g.tensors[n.inputs[0]].quant!,
                                         b8: g.tensors[n.inputs[1]].quant!, y8: g.tensors[y].quant!, vector: vectorBoundaries)),
                    work: g.tensors[y].elementCount)
            case .binary(let b):
                let d = F32Broadcast(out: shape(n.outputs[0]), a: shape(n.inputs[0]), b: shape(n.inputs[1]))
                add(.binary(kernelBinary(b), d, try ptr(n.inputs[0]), try ptr(n.inputs[1]), try ptr(n.outputs[0])),
                    work: g.tensors[n.outputs[0]].elementCount)
            case .concat where g.tensors[n.outputs[0]].type == .int8:
                let y = n.outputs[0], ys = shape(y), yq = g.tensors[y].quant!
                var parts: [Int8ConcatStep.Part] = [], resized: [Int8ResizeStep] = [], at = 0
                for t in n.inputs {
                    if var r = intoConcat.removeValue(forKey: t) {
                        r.y = try int8Ptr(y) + at; r.outStride = ys[1]
                        resized.append(r)
                        at += shape(t)[1]
                        continue
                    }
                    var table: UnsafePointer<Int8>? = nil
                    if let q = g.tensors[t].quant, q.scale != yq.scale || q.zeroPoint != yq.zeroPoint {
                        let tb = (tables + tablesUsed * 1024).assumingMemoryBound(to: Int8.self)
                        tablesUsed += 1
                        int8RequantTable(input: q, output: yq, into: tb)
                        table = UnsafePointer(tb)
                    }
                    parts.append(.init(x: try int8Ptr(t), channels: shape(t)[1], offset: at, table: table, quant: g.tensors[t].quant!))
                    at += shape(t)[1]
                }
                add(.int8Concat(Int8ConcatStep(parts: parts, resized: resized, y: try int8Ptr(y), pixels: ys[2] * ys[3], channels: ys[1],
                                               output: yq, vector: vectorBoundaries)),
                    work: g.tensors[y].elementCount)
            case .concat(let axis):
                let out = shape(n.outputs[0])
                let ax = normAxis(axis, out.count)!
                var at = 0
                for t in n.inputs {
                    var origin = [Int](repeating: 0, count: out.count)
                    origin[ax] = at
                    at += shape(t)[ax]
                    if try ptr(t) == ptr(n.outputs[0]) + origin[ax] * shape(t)[(ax + 1)...].reduce(1, *) { continue }   // planned in place
                    add(.copy(f32PlaceCopy(inShape: shape(t), outShape: out, origin: origin), try ptr(t), try ptr(n.outputs[0])),
                        work: g.tensors[t].elementCount)
                }
            case .split(let axis, let sizes):
                let inS = shape(n.inputs[0])
                let ax = normAxis(axis, inS.count)!
                var at = 0
                for (k, o) in n.outputs.enumerated() {
                    var starts = [Int](repeating: 0, count: inS.count)
                    starts[ax] = at
                    at += sizes[k]
                    add(.copy(f32SliceCopy(inShape: inS, outShape: shape(o), starts: starts, steps: [Int](repeating: 1, count: inS.count)),
                              try ptr(n.inputs[0]), try ptr(o)), work: g.tensors[o].elementCount)
                }
            case .slice(let starts, let ends, let axes, let steps):
                let inS = shape(n.inputs[0])
                let geo = try sliceGeometry(inShape: inS, starts: starts, ends: ends, axes: axes, steps: steps)
                add(.copy(f32SliceCopy(inShape: inS, outShape: geo.outShape, starts: geo.starts, steps: geo.steps),
                          try ptr(n.inputs[0]), try ptr(n.outputs[0])), work: g.tensors[n.outputs[0]].elementCount)
            case .reshape, .identity:
                break   // aliased by the planner
            case .transpose(let perm):
                add(.copy(f32TransposeCopy(inShape: shape(n.inputs[0]), perm: perm), try ptr(n.inputs[0]), try ptr(n.outputs[0])),
                    work: g.tensors[n.outputs[0]].elementCount)
            case .reduce(let op, let axes, _) where g.tensors[n.inputs[0]].type == .int8:
                let s = shape(n.inputs[0]), q = g.tensors[n.inputs[0]].quant!
                boundaryTile = max(boundaryTile, 4 * s[1])
                add(.int8StripReduce(Int8StripReduceStep(x: try int8Ptr(n.inputs[0]), y: try ptr(n.outputs[0]), height: s[2], width: s[3],
                                                         channels: s[1], overWidth: axes == [3], isMax: op == .max,
                                                         scale: q.scale[0], zeroPoint: q.zeroPoint[0], vector: vectorBoundaries)),
                    work: g.tensors[n.inputs[0]].elementCount / 4)
            case .axisScale where g.tensors[n.inputs[0]].type == .float32:
                let s = shape(n.inputs[0])
                add(.axisScale(x: try ptr(n.inputs[0]), a: try ptr(n.inputs[1]), b: try ptr(n.inputs[2]), y: try ptr(n.outputs[0]),
                               channels: s[0] * s[1], height: s[2], width: s[3]), work: g.tensors[n.inputs[0]].elementCount)
            case .axisScale:
                let s = shape(n.inputs[0]), xq = g.tensors[n.inputs[0]].quant!, yq = g.tensors[n.outputs[0]].quant!
                boundaryTile = max(boundaryTile, int8AxisScaleScratchBytes(width: s[3], channels: s[1]))
                add(.int8AxisScale(Int8AxisScaleStep(x: try int8Ptr(n.inputs[0]), y: try int8Ptr(n.outputs[0]), a: try ptr(n.inputs[1]),
                                                     b: try ptr(n.inputs[2]), height: s[2], width: s[3], channels: s[1],
                                                     inScale: xq.scale[0], inZeroPoint: xq.zeroPoint[0],
                                                     outScale: yq.scale[0], outZeroPoint: yq.zeroPoint[0],
                                                     vector: vectorBoundaries)),
                    work: g.tensors[n.inputs[0]].elementCount)
            case .reduce(let op, let axes, _):
                let inS = shape(n.inputs[0])
                let ax = axes.isEmpty ? Array(0..<inS.count) : axes.map { normAxis($0, inS.count)! }
                let rop: F32ReduceOp
                switch op { case .mean: rop = .mean; case .max: rop = .max; case .min: rop = .min; case .sum: rop = .sum }
                add(.reduce(rop, F32Reduce(inShape: inS, axes: ax), try ptr(n.inputs[0]), try ptr(n.outputs[0])),
                    work: g.tensors[n.inputs[0]].elementCount)
            case .globalPool(let k):
                let s = shape(n.inputs[0])
                add(.globalPool(k == .max, try ptr(n.inputs[0]), try ptr(n.outputs[0]), planes: s[0] * s[1], planeSize: s[2...].reduce(1, *)),
                    work: g.tensors[n.inputs[0]].elementCount)
            case .pool(let a):
                let s = shape(n.inputs[0]), o = shape(n.outputs[0])
                let ps = F32PoolShape(planes: s[0] * s[1], inHeight: s[2], inWidth: s[3], outHeight: o[2], outWidth: o[3],
                                      kernelH: a.kernel[0], kernelW: a.kernel[1], strideH: a.strides[0], strideW: a.strides[1],
                                      padTop: a.pads[0], padLeft: a.pads[1], padBottom: a.pads[2], padRight: a.pads[3],
                                      isMax: a.kind == .max, countIncludePad: a.countIncludePad)
                add(.pool(ps, try ptr(n.inputs[0]), try ptr(n.outputs[0])), work: g.tensors[n.outputs[0]].elementCount * a.kernel[0] * a.kernel[1])
            case .resize(let a) where g.tensors[n.inputs[0]].type == .int8:
                let s = shape(n.inputs[0]), o = shape(n.outputs[0]), y = n.outputs[0]
                boundaryTile = max(boundaryTile, Int8ResizeStep.scratchBytes(channels: s[1], inWidth: s[3], outWidth: o[3]))
                let step = Int8ResizeStep(x: try int8Ptr(n.inputs[0]), y: try int8Ptr(y), channels: s[1],
                                          inHeight: s[2], inWidth: s[3], outHeight: o[2], outWidth: o[3], outStride: s[1],
                                          transform: kernelTransform(a.transform), input: g.tensors[n.inputs[0]].quant!,
                                          output: g.tensors[y].quant!, vector: vectorBoundaries)
                if int8ResizeRunsInConcat(g, i, readers: readerNodes) != nil {
                    intoConcat[y] = step
                } else {
                    add(.int8Resize(step), work: g.tensors[y].elementCount * 4)
                }
            case .resize(let a):
                let s = shape(n.inputs[0]), o = shape(n.outputs[0])
                let t = kernelTransform(a.transform)
                let nm: F32NearestRounding
                switch a.nearestMode { case .floor: nm = .floor; case .ceil: nm = .ceil
                case .roundPreferFloor: nm = .roundPreferFloor; case .roundPreferCeil: nm = .roundPreferCeil }
                let rs = F32ResizeShape(planes: s[0] * s[1], inHeight: s[2], inWidth: s[3], outHeight: o[2], outWidth: o[3],
                                        linear: a.mode == .linear, transform: t, nearest: nm)
                add(.resize(rs, try ptr(n.inputs[0]), try ptr(n.outputs[0])), work: g.tensors[n.outputs[0]].elementCount * 4)
            case .softmax(let axis):
                let s = shape(n.inputs[0])
                let ax = normAxis(axis, s.count)!
                add(.softmax(try ptr(n.inputs[0]), try ptr(n.outputs[0]), outer: s[..<ax].reduce(1, *), len: s[ax],
                             inner: s[(ax + 1)...].reduce(1, *)), work: g.tensors[n.inputs[0]].elementCount * 4)
            case .layerNorm(let axis, let eps):
                let s = shape(n.inputs[0])
                let ax = normAxis(axis, s.count)!
                add(.layerNorm(try ptr(n.inputs[0]), try ptr(n.outputs[0]), rows: s[..<ax].reduce(1, *), len: s[ax...].reduce(1, *),
                               scale: try ptr(n.inputs[1]), bias: n.inputs.count > 2 ? try ptr(n.inputs[2]) : nil, eps: eps),
                    work: g.tensors[n.inputs[0]].elementCount * 4)
            case .instanceNorm(let eps):
                let s = shape(n.inputs[0])
                add(.instanceNorm(try ptr(n.inputs[0]), try ptr(n.outputs[0]), planes: s[0] * s[1], channels: s[1], planeSize: s[2...].reduce(1, *),
                                  scale: try ptr(n.inputs[1]), bias: try ptr(n.inputs[2]), eps: eps), work: g.tensors[n.inputs[0]].elementCount * 4)
            case .pad(let pads, let value):
                let s = shape(n.inputs[0]), o = shape(n.outputs[0])
                let y = try ptr(n.outputs[0])
                add(.fill(y, g.tensors[n.outputs[0]].elementCount, value), work: g.tensors[n.outputs[0]].elementCount)
                add(.copy(f32PlaceCopy(inShape: s, outShape: o, origin: Array(pads[0..<s.count])), try ptr(n.inputs[0]), y),
                    work: g.tensors[n.inputs[0]].elementCount)
            }
        }
        return (list, kernels, boundaryTile)
    }
}

@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// OpenBLAS's DYNAMIC_ARCH picks its kernels from the CPU model; a model it does not know (a VM's
/// generic "Intel Xeon Processor") falls back to Prescott (SSE3), 2–4× slower for the FP32 convs.
/// The choice is made when the library loads, so only the environment can fix it: this returns a
/// one-line advice when the fallback happened on an x86 CPU with AVX2, nil otherwise.
public func openBLASCoreAdvice() -> String? {
    #if arch(x86_64)
    guard let name = openblas_get_corename().map({ String(cString: $0) }) else { return nil }
    let cpu = CPUFeatures.host
    guard ["Prescott", "Core2", "Penryn", "Atom", "Nehalem"].contains(name), cpu.avx2 else { return nil }
    let suggest = cpu.avx512vnni ? "Cooperlake" : "Haswell"
    return "OpenBLAS picked its \(name) kernels (CPU model unknown to it); FP32 convs run 2-4x slower: set OPENBLAS_CORETYPE=\(suggest)"
    #else
    return nil
    #endif
}
