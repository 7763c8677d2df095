import CAllocCounter
import Foundation
import Testing
import EdgeSegCore
import EdgeSegKernels
@testable import EdgeSegCompiler

/// int8 islands in the executor against the scalar int8 reference kernels (bit for bit), the
/// quantize pass end to end, and what a hostile quantized model file meets at load.
@Suite struct QuantizeTests {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s >> 11 }
        mutating func float(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(next() & 0xFFFFFF) / Float(1 << 24) }
        mutating func floats(_ n: Int, _ lo: Float, _ hi: Float) -> [Float] { (0..<n).map { _ in float(lo, hi) } }
    }

    struct Builder {
        var g = Graph()
        var rng = Rng(s: 5)
        mutating func input(_ shape: [Int]) -> TensorID {
            let t = g.addTensor(TensorDesc(name: "x", shape: shape)); g.inputs.append(t); return t
        }
        mutating func conv(_ x: TensorID, cout: Int, k: Int, stride: Int = 1, pad: Int = 0, dil: Int = 1, group: Int = 1,
                           residual: TensorID? = nil, act: UnaryOp? = nil) -> TensorID {
            let s = g.tensors[x].shape
            let fan = Float(s[1] / group * k * k)
            let w = g.addTensor(TensorDesc(name: "w\(g.tensors.count)", shape: [cout, s[1] / group, k, k]),
                                constant: .float32(rng.floats(cout * s[1] / group * k * k, -1.5 / fan.squareRoot(), 1.5 / fan.squareRoot())))
            let b = g.addTensor(TensorDesc(name: "b\(g.tensors.count)", shape: [cout]), constant: .float32(rng.floats(cout, -0.2, 0.2)))
            let ho = (s[2] + 2 * pad - dil * (k - 1) - 1) / stride + 1, wo = (s[3] + 2 * pad - dil * (k - 1) - 1) / stride + 1
            let y = g.addTensor(TensorDesc(name: "y\(g.tensors.count)", shape: [s[0], cout, ho, wo]))
            let a = ConvAttrs(kernel: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [dil, dil],
                              group: group, hasResidual: residual != nil, activation: act)
            g.nodes.append(Node(name: "conv\(g.nodes.count)", op: .conv(a), inputs: [x, w, b] + (residual.map { [$0] } ?? []), outputs: [y]))
            return y
        }
        mutating func node(_ op: Op, _ inputs: [TensorID], _ shape: [Int]) -> TensorID {
            let y = g.addTensor(TensorDesc(name: "t\(g.tensors.count)", shape: shape))
            g.nodes.append(Node(name: "n\(g.nodes.count)", op: op, inputs: inputs, outputs: [y]))
            return y
        }
    }

    /// A MobileNetV2-like chain (odd channel counts: the vector tails matter).
    func chainGraph() -> Graph {
        var b = Builder()
        let x = b.input([1, 5, 13, 11])
        let c1 = b.conv(x, cout: 19, k: 3, pad: 1, act: .clip(min: 0, max: 6))
        let dw = b.conv(c1, cout: 19, k: 3, stride: 2, pad: 1, group: 19, act: .relu)
        let pw = b.conv(dw, cout: 7, k: 1)
        let gr = b.conv(pw, cout: 14, k: 3, pad: 2, dil: 2, group: 7)
        b.g.outputs = [gr]
        return b.g
    }

    /// Residual, a non-clamp activation, a float op between convs, a concat: the split and the boundaries.
    func mixedGraph() -> Graph {
        var b = Builder()
        let x = b.input([1, 3, 24, 20])
        let c1 = b.conv(x, cout: 16, k: 3, stride: 2, pad: 1, act: .clip(min: 0, max: 6))
        let e = b.conv(c1, cout: 24, k: 1, act: .clip(min: 0, max: 6))
        let d = b.conv(e, cout: 24, k: 3, pad: 1, group: 24, act: .clip(min: 0, max: 6))
        let p = b.conv(d, cout: 16, k: 1, residual: c1)
        let s = b.g.tensors[p].shape
        let gate = b.node(.globalPool(.average), [p], [1, 16, 1, 1])
        let sg = b.node(.unary(.sigmoid), [gate], [1, 16, 1, 1])
        let m = b.node(.binary(.mul), [p, sg], s)
        let h = b.conv(m, cout: 12, k: 3, pad: 1, act: .hardSwish)
        let cat = b.node(.concat(axis: 1), [h, p], [1, 28, s[2], s[3]])
        let out = b.conv(cat, cout: 3, k: 1)
        b.g.outputs = [out]
        return b.g
    }

    func samples(_ g: Graph, count: Int, seed: UInt64) -> [[Float]] {
        var r = Rng(s: seed)
        let n = g.tensors[g.inputs[0]].elementCount
        return (0..<count).map { _ in r.floats(n, 0, 1) }
    }

    func run(_ g: Graph, _ x: [Float], threads: Int = 1) throws -> [Float] {
        let exe = try Executor(graph: g, threads: threads)
        x.withUnsafeBufferPointer { _ = exe.input(0).update(fromContentsOf: $0) }
        exe.run()
        return Array(exe.output(0))
    }

    @Test func int8ChainIsBitExactWithTheScalarReference() throws {
        let g = chainGraph()
        let (split, convs) = splitForQuantization(g)
        #expect(convs.count == 4)
        var params: [TensorID: QuantParams] = [:]
        let ranges: [(Float, Float)] = [(0, 1), (0, 6), (0, 4.5), (-3, 2.5), (-2, 3)]
        let chain = [split.nodes[0].inputs[0]] + convs.map { split.nodes[$0].outputs[0] }
        for (t, r) in zip(chain, ranges) {
            let p = asymmetricInt8Params(lo: r.0, hi: r.1)
            params[t] = QuantParams(scale: [p.scale], zeroPoint: [p.zeroPoint])
        }
        let q = try applyQuantization(split, convs: convs, params: params)
        let h = opHistogram(q)
        #expect(h["quantize"] == 1 && h["dequantize"] == 1 && h["conv"] == 4, "int8 convs must hand bytes to each other: \(h)")

        let x = samples(g, count: 1, seed: 3)[0]
        // Reference: the same quantization by hand, NHWC, int8Conv2DReference per layer.
        let xs = g.tensors[g.inputs[0]].shape
        let p0 = params[chain[0]]!
        var act = [Int8](repeating: 0, count: x.count)
        let C = xs[1], P = xs[2] * xs[3]
        for c in 0..<C { for p in 0..<P {
            let v = (x[c * P + p] / p0.scale[0]).rounded(.toNearestOrEven) + Float(p0.zeroPoint[0])
            act[p * C + c] = Int8(max(-128, min(127, v)))
        } }
        var shape = xs
        for (li, ci) in convs.enumerated() {
            let n = split.nodes[ci]
            guard case .conv(let a) = n.op, case .float32(let w)? = split.constants[n.inputs[1]],
                  case .float32(let bias)? = split.constants[n.inputs[2]] else { Issue.record("conv"); return }
            let ws = split.tensors[n.inputs[1]].shape
            let s = Int8ConvShape(inH: shape[2], inW: shape[3], inC: shape[1], outC: ws[0], kH: ws[2], kW: ws[3],
                                  stride: (a.strides[0], a.strides[1]), pad: (a.pads[0], a.pads[1], a.pads[2], a.pads[3]),
                                  dilation: (a.dilations[0], a.dilations[1]), groups: a.group)
            let (wq, scales) = int8QuantizeWeightsPerChannel(w, outputChannels: ws[0])
            let ohwi = int8WeightsOIHWToOHWI(wq, outC: ws[0], inCPerGroup: ws[1], kH: ws[2], kW: ws[3])
            let pin = params[chain[li]]!, pout = params[chain[li + 1]]!
            let clamp: (Int32, Int32)
            switch a.activation {
            case .relu?: clamp = int8ClampBounds(.relu, outputScale: pout.scale[0], outputZeroPoint: pout.zeroPoint[0])
            case .clip?: clamp = int8ClampBounds(.relu6, outputScale: pout.scale[0], outputZeroPoint: pout.zeroPoint[0])
            default: clamp = (-128, 127)
            }
            let stage = try ohwi.withUnsafeBufferPointer {
                try Int8OutputStage(weights: $0.baseAddress!, outputChannels: ws[0], k: s.gemmK, bias: bias, inputScale: pin.scale[0],
                                    inputZeroPoint: pin.zeroPoint[0], weightScales: scales, outputScale: pout.scale[0],
                                    outputZeroPoint: pout.zeroPoint[0], clampMin: clamp.0, clampMax: clamp.1)
            }
            var out = [Int8](repeating: 0, count: s.outH * s.outW * s.outC)
            int8Conv2DReference(input: act, inputZeroPoint: pin.zeroPoint[0], shape: s, weights: ohwi, stage: stage, output: &out)
            act = out
            shape = [1, s.outC, s.outH, s.outW]
        }
        let pl = params[chain.last!]!
        var expected = [Float](repeating: 0, count: act.count)
        let OC = shape[1], OP = shape[2] * shape[3]
        for c in 0..<OC { for p in 0..<OP { expected[c * OP + p] = pl.scale[0] * Float(Int32(act[p * OC + c]) - pl.zeroPoint[0]) } }
        for threads in [1, 3] {
            let got = try run(q, x, threads: threads)
            #expect(got == expected, "threads \(threads): int8 executor differs from the scalar reference")
        }
        // The model file carries int8 weights and quantization parameters unchanged.
        let reloaded = try readModelFile(writeModelFile(q))
        #expect(try run(reloaded, x, threads: 2) == expected)
    }

    @Test func quantizePassKeepsTheModelCloseToFP32() throws {
        let g = mixedGraph()
        let calib = samples(g, count: 6, seed: 11), held = samples(g, count: 3, seed: 99)
        for method in CalibrationMethod.allCases {
            let (q, report) = try quantizeGraph(g, samples: calib, options: QuantizeOptions(precision: .int8, method: method))
            #expect(report.layers.count == 6 && report.layers.allSatisfy(\.int8))
            #expect(report.layers.allSatisfy { $0.sqnr > 25 }, "\(method): \(report.lines.joined(separator: "\n"))")
            #expect(report.outputSQNR > 20, "\(method): \(report.lines.joined(separator: "\n"))")
            // Held-out inputs: the same order of error as on the calibration set.
            let (sqnr, _) = try compareOutputs(g, q, samples: held, threads: 2)
            #expect(sqnr > 18, "\(method): held-out SQNR \(sqnr)")
            #expect(opHistogram(q)["binary.add"] == 1, "the residual add stays a float op after the split")
        }
    }

    @Test func mixedPrecisionKeepsTheWorstLayersInFloatUntilTheTargetIsMet() throws {
        let g = mixedGraph()
        let calib = samples(g, count: 4, seed: 12)
        let (_, all) = try quantizeGraph(g, samples: calib, options: QuantizeOptions(precision: .int8))
        let target = all.outputSQNR + 6
        let (q, report) = try quantizeGraph(g, samples: calib, options: QuantizeOptions(precision: .mixed, targetSQNR: target))
        let kept = report.layers.filter { !$0.int8 }
        #expect(!kept.isEmpty)
        #expect(report.outputSQNR >= target || kept.count == report.layers.count, "\(report.lines.joined(separator: "\n"))")
        // The float ones are the worst by their own SQNR.
        let worstInt8 = report.layers.filter(\.int8).map(\.sqnr).min() ?? .infinity
        #expect(kept.allSatisfy { $0.sqnr <= worstInt8 })
        #expect((opHistogram(q)["quantize"] ?? 0) >= 1 || kept.count == report.layers.count)
        // The user can pin a layer in float.
        let name = g.nodes[0].name
        let (_, pinned) = try quantizeGraph(g, samples: calib, options: QuantizeOptions(precision: .int8, keepFloat: [name]))
        #expect(pinned.layers.first { $0.name == name }?.int8 == false)
    }

    @Test func fp16WeightsHalveTheFileAndStayWithinTolerance() throws {
        let g = mixedGraph()
        let x = samples(g, count: 1, seed: 4)[0]
        let (h, report) = try quantizeGraph(g, samples: [x], options: QuantizeOptions(precision: .fp16))
        #expect(report.outputSQNR > 50, "fp16 weights: \(report.outputSQNR) dB")
        let ref = try run(g, x), got = try run(readModelFile(writeModelFile(h)), x)
        let scale = ref.map(abs).max()!
        for i in ref.indices { #expect(abs(ref[i] - got[i]) <= 2e-3 * (1 + scale)) }
        #expect(writeModelFile(h).count < writeModelFile(g).count)
    }

    /// The int8 islands keep the executor's promise: no heap allocation per run, pool worker included.
    @Test(.enabled(if: alloc_counter_available() != 0, "no allocation counter under AddressSanitizer"))
    func int8RunsMakeNoHeapAllocations() throws {
        let g = mixedGraph()
        let (q, _) = try quantizeGraph(g, samples: samples(g, count: 2, seed: 8), options: QuantizeOptions(precision: .int8))
        #expect(q.precision == "int8")
        alloc_counter_begin_session()
        defer { alloc_counter_end_session() }
        let exe = try Executor(graph: q, threads: 2)
        exe.run()
        exe.runOnEveryThread(alloc_counter_track_this_thread)
        alloc_counter_reset()
        for _ in 0..<10 { exe.run() }
        let n = alloc_counter_count()
        exe.runOnEveryThread { alloc_counter_track_thread(0) }
        #expect(n == 0)
    }

    /// SiLU / sigmoid after an int8 conv become 256-entry tables: int8 → int8 when the next conv
    /// reads the result (no boundary left), int8 → float when a float op does. The output must be
    /// the unfused graph's: the table is built by the same float kernel from the same values.
    @Test func activationTablesGiveTheUnfusedResult() throws {
        var b = Builder()
        let x = b.input([1, 6, 17, 15])
        let c1 = b.conv(x, cout: 21, k: 3, pad: 1, act: .silu)           // → conv: int8 → int8 table
        let c2 = b.conv(c1, cout: 9, k: 1, act: .sigmoid)                // → concat: int8 → float table
        let cat = b.node(.concat(axis: 1), [c2, x], [1, 15, 17, 15])
        let out = b.conv(cat, cout: 4, k: 1)
        b.g.outputs = [out]
        let (split, convs) = splitForQuantization(b.g)
        var params: [TensorID: QuantParams] = [:]
        var r = Rng(s: 3)
        for c in convs {
            for t in [split.nodes[c].inputs[0], split.nodes[c].outputs[0]] where params[t] == nil {
                let lo = r.float(-4, -0.5), hi = r.float(0.5, 5)
                let p = asymmetricInt8Params(lo: lo, hi: hi)
                params[t] = QuantParams(scale: [p.scale], zeroPoint: [p.zeroPoint])
            }
        }
        let fused = try applyQuantization(split, convs: convs, params: params)
        let plain = try applyQuantization(split, convs: convs, params: params, tables: false)
        let h = opHistogram(fused), hp = opHistogram(plain)
        #expect(hp["unary.silu"] == 1 && hp["unary.sigmoid"] == 1)
        #expect(h["quantize"] == hp["quantize"]! - 1 && h["dequantize"] == hp["dequantize"]! - 2,
                "one quantize and two dequantizes folded: \(h) vs \(hp)")
        let tables = fused.nodes.filter { if case .unary = $0.op { return true } else { return false } }
        #expect(tables.count == 2 && tables.allSatisfy { fused.tensors[$0.inputs[0]].type == .int8 })
        #expect(Set(tables.map { fused.tensors[$0.outputs[0]].type }) == [.int8, .float32])
        let reloaded = try readModelFile(writeModelFile(fused))
        let outScale = params[split.nodes[convs.last!].outputs[0]]!.scale[0]
        for sample in samples(b.g, count: 3, seed: 8) {
            let want = try run(plain, sample), got = try run(reloaded, sample, threads: 2)
            let worst = zip(want, got).map { abs($0 - $1) }.max() ?? 0
            // identical but for an ulp of the float kernel moving a rounding tie: at most one step
            #expect(worst <= outScale * 1.01, "max |Δ| \(worst) vs output step \(outScale)")
        }
    }

    /// GGCA between two int8 convs (PyTorch's grouped 5-D / 4-D views, strip pools over H and W,
    /// shared gates, two broadcast Muls): the quantize pass reads the int8 tensor directly. Its
    /// output equals the unfused graph's but for a mean's float rounding moving a tie.
    @Test func coordinateAttentionRunsOnTheInt8Tensor() throws {
        var b = Builder()
        let x = b.input([1, 5, 9, 11])
        let c1 = b.conv(x, cout: 12, k: 3, pad: 1, act: .clip(min: 0, max: 6))
        let v5 = b.node(.reshape, [c1], [1, 3, 4, 9, 11])
        let v4 = b.node(.reshape, [v5], [3, 4, 9, 11])
        let mh = b.node(.reduce(.mean, axes: [3], keepDims: true), [v4], [3, 4, 9, 1])
        let xh = b.node(.reduce(.max, axes: [-1], keepDims: true), [v4], [3, 4, 9, 1])
        let mw = b.node(.reduce(.mean, axes: [2], keepDims: true), [v4], [3, 4, 1, 11])
        let xw = b.node(.reduce(.max, axes: [2], keepDims: true), [v4], [3, 4, 1, 11])
        let gh = b.node(.unary(.sigmoid), [b.node(.binary(.add), [mh, xh], [3, 4, 9, 1])], [3, 4, 9, 1])
        let gw = b.node(.unary(.sigmoid), [b.node(.binary(.add), [mw, xw], [3, 4, 1, 11])], [3, 4, 1, 11])
        let m1 = b.node(.binary(.mul), [v5, b.node(.reshape, [gh], [1, 3, 4, 9, 1])], [1, 3, 4, 9, 11])
        let m2 = b.node(.binary(.mul), [m1, b.node(.reshape, [gw], [1, 3, 4, 1, 11])], [1, 3, 4, 9, 11])
        let out = b.conv(b.node(.reshape, [m2], [1, 12, 9, 11]), cout: 4, k: 1)
        b.g.outputs = [out]
        var g = b.g
        #expect(fuseAxisScales(&g) == 1, "the float pass folds the two Muls")
        for sample in samples(b.g, count: 2, seed: 3) {
            #expect(try run(g, sample, threads: 2) == run(b.g, sample), "axisScale is the two Muls' arithmetic")
        }
        let (split, convs) = splitForQuantization(g)
        var params: [TensorID: QuantParams] = [:]
        var r = Rng(s: 5)
        for c in convs {
            for t in [split.nodes[c].inputs[0], split.nodes[c].outputs[0]] where params[t] == nil {
                let p = asymmetricInt8Params(lo: r.float(-3, -0.5), hi: r.float(0.5, 6))
                params[t] = QuantParams(scale: [p.scale], zeroPoint: [p.zeroPoint])
            }
        }
        let fused = try applyQuantization(split, convs: convs, params: params)
        let plain = try applyQuantization(split, convs: convs, params: params, tables: false)
        let h = opHistogram(fused), hp = opHistogram(plain)
        #expect(h["axisScale"] == 1 && hp["axisScale"] == 1)
        #expect(fused.tensors[fused.nodes.first { $0.op == .axisScale }!.inputs[0]].type == .int8)
        #expect(h["quantize"] == hp["quantize"]! - 1 && h["dequantize"] == hp["dequantize"]! - 1 && h["binary.mul"] == nil,
                "the float copy of x and the quantize are gone: \(h) vs \(hp)")
        let pools = fused.nodes.filter { if case .reduce = $0.op { return fused.tensors[$0.inputs[0]].type == .int8 } else { return false } }
        #expect(pools.count == 4)
        let reloaded = try readModelFile(writeModelFile(fused))
        let outScale = params[split.nodes[convs.last!].outputs[0]]!.scale[0]
        for sample in samples(b.g, count: 3, seed: 9) {
            let want = try run(plain, sample), got = try run(reloaded, sample, threads: 2)
            let worst = zip(want, got).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= outScale * 1.01, "max |Δ| \(worst) vs output step \(outScale)")
        }
    }

    /// MobileNetV2's residual stream between int8 convs stays int8 (int8 adds, no boundaries):
    /// the stream now carries quantized values, so the output moves by a few output steps at most.
    @Test func residualAddsStayInt8() throws {
        var b = Builder()
        let x = b.input([1, 3, 12, 10])
        let c1 = b.conv(x, cout: 8, k: 3, pad: 1, act: .clip(min: 0, max: 6))
        var s = c1
        for _ in 0..<2 {
            let e = b.conv(s, cout: 21, k: 1, act: .clip(min: 0, max: 6))
            let d = b.conv(e, cout: 21, k: 3, pad: 1, group: 21, act: .clip(min: 0, max: 6))
            s = b.conv(d, cout: 8, k: 1, residual: s)
        }
        let out = b.conv(s, cout: 3, k: 1)
        b.g.outputs = [out]
        let (split, convs) = splitForQuantization(b.g)
        var params: [TensorID: QuantParams] = [:]
        var r = Rng(s: 6)
        for t in split.nodes.flatMap({ $0.inputs + $0.outputs }) where split.constants[t] == nil && params[t] == nil {
            let p = asymmetricInt8Params(lo: r.float(-4, -1), hi: r.float(3, 7))
            params[t] = QuantParams(scale: [p.scale], zeroPoint: [p.zeroPoint])
        }
        let fused = try applyQuantization(split, convs: convs, params: params)
        let plain = try applyQuantization(split, convs: convs, params: params, tables: false)
        let h = opHistogram(fused), hp = opHistogram(plain)
        let int8Adds = fused.nodes.filter { $0.op == .binary(.add) && fused.tensors[$0.outputs[0]].type == .int8 }
        #expect(int8Adds.count == 2 && h["binary.add"] == 2, "both adds int8, no float add left: \(h)")
        #expect(h["dequantize"]! < hp["dequantize"]! && h["quantize"]! < hp["quantize"]!, "\(h) vs \(hp)")
        let reloaded = try readModelFile(writeModelFile(fused))
        let outScale = params[split.nodes[convs.last!].outputs[0]]!.scale[0]
        for sample in samples(b.g, count: 3, seed: 10) {
            let want = try run(plain, sample), got = try run(reloaded, sample, threads: 2)
            let worst = zip(want, got).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= outScale * 4.01, "max |Δ| \(worst) vs output step \(outScale)")
        }
    }

    /// The decoder's shape: an int8 conv upsampled ×4 (align corners) and ×2.5 (half pixel), a
    /// shortcut conv and a float part, concatenated for a conv. The int8 concat (requantizing
    /// parts, resizing in int8, quantizing the float one) gives the unfused graph's bytes exactly.
    @Test func concatsAreAssembledInInt8() throws {
        var b = Builder()
        let x = b.input([1, 3, 20, 24])
        let low = b.conv(x, cout: 21, k: 3, stride: 4, pad: 1, act: .relu)                       // [1, 21, 5, 6]
        let up = b.node(.resize(ResizeAttrs(mode: .linear, transform: .alignCorners)), [low], [1, 21, 20, 24])
        let mid = b.conv(x, cout: 6, k: 3, stride: 2, pad: 1)                                       // [1, 6, 10, 12]
        let up2 = b.node(.resize(ResizeAttrs(mode: .linear, transform: .halfPixel)), [mid], [1, 6, 20, 24])
        let short = b.conv(x, cout: 5, k: 1, act: .relu)
        let gate = b.node(.unary(.sigmoid), [x], [1, 3, 20, 24])                                   // a float part
        let cat = b.node(.concat(axis: 1), [up, short, gate, up2], [1, 35, 20, 24])
        let out = b.conv(cat, cout: 3, k: 3, pad: 1)
        b.g.outputs = [out]
        let (split, convs) = splitForQuantization(b.g)
        var params: [TensorID: QuantParams] = [:]
        var r = Rng(s: 8)
        for t in split.nodes.flatMap({ $0.inputs + $0.outputs }) where split.constants[t] == nil && params[t] == nil {
            let p = asymmetricInt8Params(lo: r.float(-3, -0.5), hi: r.float(2, 6))
            params[t] = QuantParams(scale: [p.scale], zeroPoint: [p.zeroPoint])
        }
        let fused = try applyQuantization(split, convs: convs, params: params)
        let plain = try applyQuantization(split, convs: convs, params: params, concats: false)
        let int8 = { (g: Graph, op: (Op) -> Bool) in g.nodes.filter { op($0.op) && g.tensors[$0.outputs[0]].type == .int8 }.count }
        #expect(int8(fused, { if case .concat = $0 { true } else { false } }) == 1)
        #expect(int8(fused, { if case .resize = $0 { true } else { false } }) == 2)
        #expect(int8(plain, { if case .concat = $0 { true } else { false } }) == 0)
        let h = opHistogram(fused), hp = opHistogram(plain)
        #expect(h["dequantize"]! < hp["dequantize"]!, "\(h) vs \(hp)")
        // A resize read by the concat alone runs inside the concat step, straight into its slice;
        // one with another reader (here a dequantize to a second output) runs as its own step.
        var shared = fused
        let r8 = fused.nodes.first { if case .resize = $0.op { return true } else { return false } }!.outputs[0]
        let r32 = shared.addTensor(TensorDesc(name: "resized", shape: fused.tensors[r8].shape))
        shared.nodes.append(Node(name: "resized:dequantize", op: .dequantize, inputs: [r8], outputs: [r32]))
        shared.outputs.append(r32)
        if alloc_counter_available() != 0 {   // the int8 concat and resizes allocate nothing per run
            alloc_counter_begin_session()
            defer { alloc_counter_end_session() }
            let exe = try Executor(graph: fused, threads: 2)
            exe.run()
            exe.runOnEveryThread(alloc_counter_track_this_thread)
            alloc_counter_reset()
            for _ in 0..<5 { exe.run() }
            let n = alloc_counter_count()
            exe.runOnEveryThread { alloc_counter_track_thread(0) }
            #expect(n == 0, "heap allocations per run: \(n)")
        }
        let reloaded = try readModelFile(writeModelFile(fused))
        for sample in samples(b.g, count: 3, seed: 12) {
            for threads in [1, 2] {
                let want = try run(plain, sample), got = try run(reloaded, sample, threads: threads)
                #expect(want == got, "max |Δ| \(zip(want, got).map { abs($0 - $1) }.max() ?? 0) at \(threads) threads")
                let both = try run(shared, sample, threads: threads)
                #expect(Array(both.prefix(want.count)) == want)
            }
        }
    }

    @Test func hostileQuantizedGraphsAreRefusedAtLoad() throws {
        let g = chainGraph()
        let (split, convs) = splitForQuantization(g)
        var params: [TensorID: QuantParams] = [:]
        for c in convs { for t in [split.nodes[c].inputs[0], split.nodes[c].outputs[0]] { params[t] = QuantParams(scale: [0.05], zeroPoint: [-3]) } }
        let q = try applyQuantization(split, convs: convs, params: params)
        let conv = q.nodes.firstIndex { if case .conv = $0.op { return true } else { return false } }!
        let w = q.nodes[conv].inputs[1]

        var minus128 = q
        guard case .int8(var v)? = minus128.constants[w] else { Issue.record("weights"); return }
        v[0] = -128
        minus128.constants[w] = .int8(v)
        var noScale = q
        noScale.tensors[q.nodes[conv].outputs[0]].quant = nil
        var zeroScale = q
        zeroScale.tensors[q.nodes[conv].inputs[0]].quant = QuantParams(scale: [0], zeroPoint: [0])
        var badZp = q
        badZp.tensors[q.nodes[conv].inputs[0]].quant = QuantParams(scale: [0.1], zeroPoint: [300])
        var shortScales = q
        shortScales.tensors[w].quant!.scale.removeLast()
        var floatReadsInt8 = q
        let i8 = q.nodes[conv].outputs[0]
        let f = floatReadsInt8.addTensor(TensorDesc(name: "bad", shape: q.tensors[i8].shape))
        floatReadsInt8.nodes.append(Node(name: "pool-on-int8", op: .globalPool(.average), inputs: [i8], outputs: [f]))
        floatReadsInt8.tensors[f].shape[2] = 1; floatReadsInt8.tensors[f].shape[3] = 1
        floatReadsInt8.outputs.append(f)
        // an activation table whose output is not the input's shape (it would write past it)
        var tableShape = q
        let wide = tableShape.addTensor(TensorDesc(name: "wide", shape: q.tensors[i8].shape.map { $0 * 2 }))
        tableShape.nodes.append(Node(name: "silu-table", op: .unary(.silu), inputs: [i8], outputs: [wide]))
        tableShape.outputs.append(wide)
        // a float kernel writing an int8 tensor (4-byte values over 1-byte storage): the quantize
        // feeding the first conv turned into a float ReLU
        var floatWritesInt8 = q
        let qi = q.nodes.firstIndex { $0.op == .quantize }!
        floatWritesInt8.nodes[qi].op = .unary(.relu)
        // an int8 concat over parts of another height, and an int8 resize to other channels
        var concatShape = q
        let half = concatShape.addTensor(TensorDesc(name: "half", shape: [1, q.tensors[i8].shape[1], 1, q.tensors[i8].shape[3]],
                                                    type: .int8, quant: q.tensors[i8].quant))
        let joined = concatShape.addTensor(TensorDesc(name: "joined", shape: [1, 2 * q.tensors[i8].shape[1]] + q.tensors[i8].shape[2...],
                                                      type: .int8, quant: q.tensors[i8].quant))
        concatShape.nodes.append(Node(name: "slice-int8", op: .resize(ResizeAttrs(mode: .linear, transform: .halfPixel)),
                                      inputs: [i8], outputs: [half]))
        concatShape.nodes.append(Node(name: "concat-int8", op: .concat(axis: 1), inputs: [i8, half], outputs: [joined]))
        let back = concatShape.addTensor(TensorDesc(name: "back", shape: concatShape.tensors[joined].shape))
        concatShape.nodes.append(Node(name: "deq", op: .dequantize, inputs: [joined], outputs: [back]))
        concatShape.outputs.append(back)
        var resizeChannels = q
        let more = resizeChannels.addTensor(TensorDesc(name: "more", shape: [1, q.tensors[i8].shape[1] + 1] + q.tensors[i8].shape[2...],
                                                       type: .int8, quant: q.tensors[i8].quant))
        resizeChannels.nodes.append(Node(name: "resize-int8", op: .resize(ResizeAttrs(mode: .linear, transform: .halfPixel)),
                                         inputs: [i8], outputs: [more]))
        let moreF = resizeChannels.addTensor(TensorDesc(name: "moreF", shape: resizeChannels.tensors[more].shape))
        resizeChannels.nodes.append(Node(name: "deq", op: .dequantize, inputs: [more], outputs: [moreF]))
        resizeChannels.outputs.append(moreF)
        for (why, bad) in [("weight −128", minus128), ("no output scale", noScale), ("zero scale", zeroScale),
                           ("zero point 300", badZp), ("scale count", shortScales), ("float op reads int8", floatReadsInt8),
                           ("table shape", tableShape), ("float op writes int8", floatWritesInt8),
                           ("int8 concat shapes", concatShape), ("int8 resize channels", resizeChannels)] {
            #expect(throws: (any Error).self, "\(why)") { _ = try Executor(graph: bad) }
            // Through the file loader too: a clear error, never a crash.
            if let loaded = try? readModelFile(writeModelFile(bad)) {
                #expect(throws: (any Error).self, "\(why) (from file)") { _ = try Executor(graph: loaded) }
            }
        }
    }
}
