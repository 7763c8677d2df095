// Post-training quantization of a compiled FP32 graph (`edgeseg compile --precision ...`).
//
// Convolutions are the int8 islands: weights symmetric per output channel, activations
// asymmetric per tensor, calibrated by running the FP32 graph on real images. Every other op
// (GGCA's sigmoid gates and broadcast multiplies, pooling, resize, concat, residual adds) stays
// FP32 between `dequantize` / `quantize` boundaries. A tensor is quantized with one set of
// parameters wherever it is read, so a conv whose output feeds the next conv hands over int8
// bytes with no boundary at all (MobileNetV2's expand → depthwise → project chains).
//
// Mixed precision: every conv's own error is measured (SQNR of its int8 output against FP32, fed
// the FP32 input), the worst ones are kept in float until the whole model's output SQNR meets
// the target.

import EdgeSegCore
import EdgeSegKernels
import Foundation

public enum Precision: String, CaseIterable, Sendable { case fp32, fp16, int8, mixed }

public struct QuantizeOptions: Sendable {
    public var precision: Precision
    public var method: CalibrationMethod
    public var percentile: Double
    /// Mixed precision: the model output's SQNR (dB, vs FP32 on the calibration images) to reach.
    public var targetSQNR: Double
    /// Node names the user keeps in float.
    public var keepFloat: Set<String>
    public var threads: Int
    /// Convs with fewer MACs stay float: the int8 gain is nil and each would add a quantize /
    /// dequantize boundary (GGCA's MLP convs on pooled 1×1 maps, the ASPP's pooled branch).
    public var minMACs: Int
    public init(precision: Precision = .int8, method: CalibrationMethod = .mse, percentile: Double = 99.99,
                targetSQNR: Double = 30, keepFloat: Set<String> = [], threads: Int = 2, minMACs: Int = 0) {
        self.precision = precision; self.method = method; self.percentile = percentile
        self.targetSQNR = targetSQNR; self.keepFloat = keepFloat; self.threads = threads; self.minMACs = minMACs
    }
}

public struct QuantizeError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// One conv's line in the compile report.
public struct LayerQuantization: Sendable {
    public var name: String
    public var kind: String
    public var macs: Int
    /// SQNR (dB) of this layer alone in int8 against FP32, on the first calibration image.
    public var sqnr: Double
    public var int8: Bool
}

public struct QuantizeReport: Sendable {
    public var precision: Precision
    public var method: CalibrationMethod
    public var images: Int
    public var layers: [LayerQuantization]
    /// Convs left in float for having fewer than `QuantizeOptions.minMACs` MACs.
    public var smallFloat: Int = 0
    /// Whole-model output SQNR (dB) against FP32 on the calibration images.
    public var outputSQNR: Double
    public var outputAgreement: Double

    public var lines: [String] {
        var l = ["quantize: \(precision.rawValue), \(method.rawValue) calibration on \(images) image(s)"]
        if !layers.isEmpty {
            l.append("  layer                                   kind        MMAC   SQNR dB  precision")
            for r in layers {
                let name = r.name.count > 38 ? "…" + r.name.suffix(37) : r.name
                l.append("  " + name.padding(toLength: 40, withPad: " ", startingAt: 0)
                         + r.kind.padding(toLength: 10, withPad: " ", startingAt: 0)
                         + String(format: "%8.1f %9.1f  ", Double(r.macs) / 1e6, r.sqnr) + (r.int8 ? "int8" : "fp32"))
            }
            let q = layers.filter(\.int8)
            let macs = layers.reduce(0) { $0 + $1.macs }, qm = q.reduce(0) { $0 + $1.macs }
            l.append(String(format: "  %d of %d convs int8 (%.1f%% of their MACs)", q.count, layers.count,
                            100 * Double(qm) / Double(max(1, macs)))
                     + (smallFloat > 0 ? ", \(smallFloat) tiny convs kept in float" : ""))
        }
        l.append(String(format: "  output vs FP32 on the calibration images: SQNR %.1f dB, argmax agreement %.3f%%",
                        outputSQNR, 100 * outputAgreement))
        return l
    }
}

/// Quantizes `graph` (a compiled FP32 graph, one float input) with calibration `samples`
/// (preprocessed input tensors, each `inputs[0]`'s element count).
public func quantizeGraph(_ graph: Graph, samples: [[Float]], options: QuantizeOptions) throws -> (Graph, QuantizeReport) {
    switch options.precision {
    case .fp32:
        return (graph, QuantizeReport(precision: .fp32, method: options.method, images: 0, layers: [], outputSQNR: .infinity, outputAgreement: 1))
    case .fp16:
        let g = convertWeightsToFP16(graph)
        let (sqnr, agree) = try compareOutputs(graph, g, samples: samples, threads: options.threads)
        return (g, QuantizeReport(precision: .fp16, method: options.method, images: samples.count, layers: [],
                                  outputSQNR: sqnr, outputAgreement: agree))
    case .int8, .mixed: break
    }
    guard graph.inputs.count == 1, !samples.isEmpty else { throw QuantizeError("calibration needs a one-input model and at least one image") }
    let n = graph.tensors[graph.inputs[0]].elementCount
    for s in samples where s.count != n { throw QuantizeError("calibration sample has \(s.count) values, the input needs \(n)") }

    let (g, allConvs) = splitForQuantization(graph)
    // Below minMACs only convs with small outputs stay float (GGCA's MLP on pooled strips, the
    // ASPP's pooled branch): a tiny depthwise on a 192×32×32 map (features.7) cost more in its two
    // boundary transposes than the int8 kernel saved.
    let convs = allConvs.filter { nodeMACs(g.nodes[$0], g) >= options.minMACs || g.tensors[g.nodes[$0].outputs[0]].elementCount >= 65_536 }
    let stats = try calibrate(g, convs: convs, samples: samples, options: options)
    var params: [TensorID: QuantParams] = [:]
    for (t, obs) in stats.observers {
        let r = chooseRange(obs, method: options.method, percentile: options.percentile)
        let p = asymmetricInt8Params(lo: r.lo, hi: r.hi)
        params[t] = QuantParams(scale: [p.scale], zeroPoint: [p.zeroPoint])
    }

    // Each conv alone: int8 output vs FP32 output given the same FP32 input.
    var layers: [LayerQuantization] = []
    for c in convs {
        let node = g.nodes[c]
        let sqnr = try layerSQNR(g, conv: c, params: params, input: stats.firstInputs[c]!, expected: stats.firstOutputs[c]!)
        layers.append(LayerQuantization(name: node.name, kind: opName(node.op), macs: nodeMACs(node, g), sqnr: sqnr, int8: true))
    }
    var keep = Set(convs.indices.filter { options.keepFloat.contains(g.nodes[convs[$0]].name) })
    var q = try applyQuantization(g, convs: convs.enumerated().filter { !keep.contains($0.offset) }.map(\.element), params: params)
    let reference = try ReferenceOutputs(graph, samples: samples, threads: options.threads)
    var (sqnr, agree) = try compareOutputs(reference, q, samples: samples, threads: options.threads)
    if options.precision == .mixed && sqnr < options.targetSQNR {
        // Keep the k worst layers in float: grow k by doubling, then bisect on the first k that meets the target.
        let worst = convs.indices.filter { !keep.contains($0) }.sorted { layers[$0].sqnr < layers[$1].sqnr }
        func trial(_ k: Int) throws -> (Graph, Double, Double) {
            let floatSet = keep.union(worst.prefix(k))
            let qg = try applyQuantization(g, convs: convs.enumerated().filter { !floatSet.contains($0.offset) }.map(\.element), params: params)
            let (s, a) = try compareOutputs(reference, qg, samples: samples, threads: options.threads)
            return (qg, s, a)
        }
        var lo = 0, hi = 1
        var best: (Int, Graph, Double, Double)? = nil
        while hi <= worst.count {
            let (qg, s, a) = try trial(hi)
            if s >= options.targetSQNR { best = (hi, qg, s, a); break }
            lo = hi; hi = hi * 2 > worst.count && hi < worst.count ? worst.count : hi * 2
        }
        if var b = best {
            while b.0 - lo > 1 {
                let mid = (lo + b.0) / 2
                let (qg, s, a) = try trial(mid)
                if s >= options.targetSQNR { b = (mid, qg, s, a) } else { lo = mid }
            }
            keep.formUnion(worst.prefix(b.0)); q = b.1; sqnr = b.2; agree = b.3
        } else {
            keep.formUnion(worst); q = graph; (sqnr, agree) = (.infinity, 1)
        }
    }
    for i in layers.indices where keep.contains(i) { layers[i].int8 = false }
    return (q, QuantizeReport(precision: options.precision, method: options.method, images: samples.count, layers: layers,
                              smallFloat: allConvs.count - convs.count, outputSQNR: sqnr, outputAgreement: agree))
}

// MARK: - graph rewriting

/// Convs that int8 can run take their residual add and any activation other than ReLU/Clip out
/// into float nodes (the int8 output stage can only clamp). Returns the graph and the indices
/// of the quantizable convs in it.
func splitForQuantization(_ graph: Graph) -> (Graph, [Int]) {
    var g = graph
    var nodes: [Node] = []
    var convs: [Int] = []
    for n in graph.nodes {
        guard case .conv(var a) = n.op, graph.tensors[n.inputs[0]].type == .float32,
              case .float32? = graph.constants[n.inputs[1]] else { nodes.append(n); continue }
        let clampable: Bool
        switch a.activation {
        case nil, .relu?, .clip?: clampable = true
        default: clampable = false
        }
        if !a.hasResidual && clampable { convs.append(nodes.count); nodes.append(n); continue }
        let out = n.outputs[0], desc = graph.tensors[out]
        let raw = g.addTensor(TensorDesc(name: desc.name + ":conv", shape: desc.shape))
        var inputs = n.inputs
        let residual = a.hasResidual ? inputs.removeLast() : nil
        let act = a.activation
        a.hasResidual = false
        a.activation = (residual == nil && clampable) ? act : nil
        convs.append(nodes.count)
        nodes.append(Node(name: n.name, op: .conv(a), inputs: inputs, outputs: [raw]))
        var cur = raw
        if let residual {
            let sum = act == nil ? out : g.addTensor(TensorDesc(name: desc.name + ":sum", shape: desc.shape))
            nodes.append(Node(name: n.name + ":residual", op: .binary(.add), inputs: [cur, residual], outputs: [sum]))
            cur = sum
        }
        if let act, a.activation == nil {
            nodes.append(Node(name: n.name + ":act", op: .unary(act), inputs: [cur], outputs: [out]))
        }
    }
    g.nodes = nodes
    return (g, convs)
}

/// The graph with `convs` in int8: quantized weights, one quantize node per float tensor read by
/// an int8 conv (reused by every reader), a dequantize node after each int8 conv whose output
/// anything but another int8 conv reads.
/// `tables`: fold activations after a dequantize into int8 tables (`fuseActivationTables`) and run
/// the other int8 fusions; `concats`: with them, `fuseInt8Concats` (off only to test it).
func applyQuantization(_ g: Graph, convs: [Int], params: [TensorID: QuantParams], tables: Bool = true,
                       concats: Bool = true) throws -> Graph {
    var q = g
    var nodes: [Node] = []
    var int8Of: [TensorID: TensorID] = [:]     // float tensor → its int8 twin
    let convSet = Set(convs)
    for (i, n) in g.nodes.enumerated() {
        guard convSet.contains(i), case .conv(let a) = n.op else {
            nodes.append(n); continue
        }
        let x = n.inputs[0], y = n.outputs[0], wid = n.inputs[1]
        guard let px = params[x], let py = params[y] else { throw QuantizeError("conv '\(n.name)' was not calibrated") }
        guard case .float32(let w)? = g.constants[wid] else { throw QuantizeError("conv '\(n.name)': weight is not a float constant") }
        let wDesc = g.tensors[wid]
        let (wq, scales) = int8QuantizeWeightsPerChannel(w, outputChannels: wDesc.shape[0])
        let wqId = q.addTensor(TensorDesc(name: wDesc.name + ":int8", shape: wDesc.shape, type: .int8,
                                          quant: QuantParams(scale: scales, zeroPoint: [Int32](repeating: 0, count: scales.count), axis: 0)),
                               constant: .int8(wq))
        let xq: TensorID
        if let t = int8Of[x] { xq = t } else {
            xq = q.addTensor(TensorDesc(name: g.tensors[x].name + ":int8", shape: g.tensors[x].shape, type: .int8, quant: px))
            nodes.append(Node(name: g.tensors[x].name + ":quantize", op: .quantize, inputs: [x], outputs: [xq]))
            int8Of[x] = xq
        }
        let yq = q.addTensor(TensorDesc(name: g.tensors[y].name + ":int8", shape: g.tensors[y].shape, type: .int8, quant: py))
        int8Of[y] = yq
        var inputs = n.inputs
        inputs[0] = xq; inputs[1] = wqId
        nodes.append(Node(name: n.name, op: .conv(a), inputs: inputs, outputs: [yq]))
        nodes.append(Node(name: g.tensors[y].name + ":dequantize", op: .dequantize, inputs: [yq], outputs: [y]))
    }
    if tables { nodes = fuseResidualAdds(q, fuseCoordinateAttention(&q, nodes)) }
    if tables && concats { nodes = fuseInt8Concats(&q, nodes) }
    q.nodes = tables ? fuseActivationTables(q, nodes) : nodes
    _ = removeDeadNodes(&q)   // dequantizes nobody reads, float weights now unused
    try validate(q)
    do { try validateGraph(q) } catch { throw QuantizeError("quantized graph is not executable: \(error)") }
    return q
}

/// For the fusion passes: the nodes reading each tensor (once per input slot) and the node
/// producing it, by index into `nodes`.
func nodeLinks(_ nodes: [Node]) -> (readers: [TensorID: [Int]], producer: [TensorID: Int]) {
    var readers: [TensorID: [Int]] = [:], producer: [TensorID: Int] = [:]
    for (i, n) in nodes.enumerated() {
        for t in n.inputs { readers[t, default: []].append(i) }
        for t in n.outputs { producer[t] = i }
    }
    return (readers, producer)
}

/// Coordinate attention (GGCA) between two int8 convs reads the int8 tensor directly:
///   x8 → dequantize → x → [views] → ReduceMean/Max over H or W (the strip pools)
///                       → axisScale(x, gate_h, gate_w) (the float passes' `fuseAxisScales`) → quantize → y8
/// becomes int8 reduces (x8 → float strips, reshaped to the old shapes) and an int8 → int8
/// `axisScale` (the same float arithmetic, then the quantize's). The float copy of x and both
/// boundary transposes disappear. Only folded when every reader of the float tensors is part of
/// the pattern and nothing in it is a graph output.
func fuseCoordinateAttention(_ g: inout Graph, _ nodes: [Node]) -> [Node] {
    let readers = nodeLinks(nodes).readers
    let outputs = Set(g.outputs)
    func only(_ t: TensorID) -> Int? {
        guard !outputs.contains(t), let r = readers[t], r.count == 1 else { return nil }
        return r[0]
    }
    var drop = Set<Int>(), replace: [Int: [Node]] = [:]
    for (di, d) in nodes.enumerated() where d.op == .dequantize {
        let x8 = d.inputs[0], xs = g.tensors[x8].shape
        guard xs.count == 4, xs[0] == 1 else { continue }
        let (C, H, W) = (xs[1], xs[2], xs[3])
        // x and its reshaped views (PyTorch's grouped view [G, C/G, H, W]): every one must end in
        // H, W, and every reader be a view, a strip pool or the gates
        var views = [d.outputs[0]], viewNodes: [Int] = [], reduces: [(node: Int, axis: Int)] = [], scale: Int? = nil
        var ok = true, next = 0
        while ok && next < views.count {
            let v = views[next], vs = g.tensors[v].shape
            next += 1
            guard !outputs.contains(v), vs.count >= 2, vs.suffix(2) == [H, W], let users = readers[v] else { ok = false; break }
            for u in users {
                let n = nodes[u]
                switch n.op {
                case .reshape where g.tensors[n.outputs[0]].elementCount == C * H * W:
                    viewNodes.append(u); views.append(n.outputs[0])
                case .reduce(let op, let axes, true) where (op == .mean || op == .max) && axes.count == 1
                        && (axes[0] < 0 ? axes[0] + vs.count : axes[0]) >= vs.count - 2:
                    reduces.append((u, (axes[0] < 0 ? axes[0] + vs.count : axes[0]) == vs.count - 1 ? 3 : 2))
                case .axisScale where scale == nil && n.inputs[0] == v && v == d.outputs[0] && !n.inputs[1...].contains(v):
                    scale = u
                default: ok = false
                }
            }
        }
        guard ok, let sc = scale, let qi = only(nodes[sc].outputs[0]), nodes[qi].op == .quantize else { continue }
        for (u, axis) in reduces {
            let n = nodes[u]
            guard case .reduce(let op, _, _) = n.op else { continue }
            let strip = g.addTensor(TensorDesc(name: g.tensors[n.outputs[0]].name + ":strip",
                                               shape: axis == 3 ? [1, C, H, 1] : [1, C, 1, W]))
            replace[u] = [Node(name: n.name, op: .reduce(op, axes: [axis], keepDims: true), inputs: [x8], outputs: [strip]),
                          Node(name: n.name + ":view", op: .reshape, inputs: [strip], outputs: [n.outputs[0]])]
        }
        let s = nodes[sc]
        replace[sc] = [Node(name: s.name + ":int8", op: .axisScale, inputs: [x8, s.inputs[1], s.inputs[2]], outputs: [nodes[qi].outputs[0]])]
        drop.formUnion([di, qi] + viewNodes)
    }
    return nodes.indices.flatMap { i -> [Node] in drop.contains(i) ? [] : (replace[i] ?? [nodes[i]]) }
}

/// MobileNetV2's residual stream in int8: add(a, b) whose sum is quantized for the next conv
/// becomes an int8 add (a8, b8 → sum8) when both operands have int8 twins: the tensor a
/// dequantize made them from, or the int8 sum of an add folded before. From block to block the
/// stream then carries quantized values, as in TFLite's and ONNX Runtime's QDQ graphs. A sum
/// with float readers keeps its float add too; what nobody reads any more is removed after.
func fuseResidualAdds(_ g: Graph, _ nodes: [Node]) -> [Node] {
    let readers = nodeLinks(nodes).readers
    var twin: [TensorID: TensorID] = [:]
    for n in nodes where n.op == .dequantize { twin[n.outputs[0]] = n.inputs[0] }
    var out: [Node] = [], dropped = Set<Int>()
    for (i, n) in nodes.enumerated() where !dropped.contains(i) {
        out.append(n)
        guard n.op == .binary(.add), let a8 = twin[n.inputs[0]], let b8 = twin[n.inputs[1]],
              g.tensors[a8].shape == g.tensors[n.outputs[0]].shape, g.tensors[b8].shape == g.tensors[n.outputs[0]].shape,
              let qi = readers[n.outputs[0]]?.first(where: { nodes[$0].op == .quantize && $0 > i }) else { continue }
        let y8 = nodes[qi].outputs[0]
        out.append(Node(name: n.name + ":int8", op: .binary(.add), inputs: [a8, b8], outputs: [y8]))
        dropped.insert(qi)
        twin[n.outputs[0]] = y8
    }
    return out
}

/// A channel concat quantized for the next conv is assembled in int8 (NHWC):
///   parts → concat → quantize → y8   becomes   int8 parts → concat → y8, a part being
/// - an int8 tensor a dequantize made it from (the concat requantizes it through a table),
/// - the resize of such a dequantize (the decoder's upsampling): an int8 → int8 resize that
///   dequantizes rows, blends them with the float kernel's expressions and quantizes with y8's
///   parameters, so the 4-byte upsampled tensor is never written,
/// - else the float part quantized with y8's parameters.
/// Quantizing is elementwise, so every byte equals the unfused graph's. Only concats with at least
/// one int8 part are rewritten (the others gain nothing); the float nodes left unread go after.
func fuseInt8Concats(_ g: inout Graph, _ nodes: [Node]) -> [Node] {
    let (readers, producer) = nodeLinks(nodes)
    let graphOutputs = Set(g.outputs)
    var drop = Set<Int>(), replace: [Int: [Node]] = [:]
    for (ci, c) in nodes.enumerated() {
        guard case .concat(let axis) = c.op, g.tensors[c.outputs[0]].shape.count == 4, axis == 1 || axis == -3,
              !graphOutputs.contains(c.outputs[0]), let r = readers[c.outputs[0]], r.count == 1,
              nodes[r[0]].op == .quantize, let yq = g.tensors[nodes[r[0]].outputs[0]].quant else { continue }
        func dequantized(_ t: TensorID) -> TensorID? {
            guard let p = producer[t], nodes[p].op == .dequantize, !drop.contains(p) else { return nil }
            return nodes[p].inputs[0]
        }
        var parts: [TensorID] = [], added: [Node] = [], resizes: [Int] = [], int8Parts = 0
        for t in c.inputs {
            if let t8 = dequantized(t) {
                parts.append(t8); int8Parts += 1
            } else if let p = producer[t], case .resize = nodes[p].op, readers[t] == [ci], !graphOutputs.contains(t),
                      let x8 = dequantized(nodes[p].inputs[0]) {
                let p8 = g.addTensor(TensorDesc(name: g.tensors[t].name + ":int8", shape: g.tensors[t].shape, type: .int8, quant: yq))
                added.append(Node(name: nodes[p].name + ":int8", op: nodes[p].op, inputs: [x8], outputs: [p8]))
                parts.append(p8); resizes.append(p); int8Parts += 1
            } else {
                let p8 = g.addTensor(TensorDesc(name: g.tensors[t].name + ":int8", shape: g.tensors[t].shape, type: .int8, quant: yq))
                added.append(Node(name: g.tensors[t].name + ":quantize", op: .quantize, inputs: [t], outputs: [p8]))
                parts.append(p8)
            }
        }
        guard int8Parts > 0 else { continue }
        replace[ci] = added + [Node(name: c.name + ":int8", op: .concat(axis: 1), inputs: parts, outputs: nodes[r[0]].outputs)]
        drop.formUnion(resizes + [r[0]])
    }
    return nodes.indices.flatMap { i -> [Node] in drop.contains(i) ? [] : (replace[i] ?? [nodes[i]]) }
}

/// An activation (SiLU, sigmoid, …) right after an int8 conv's dequantize becomes a 256-entry
/// table on the int8 values (the executor builds it at load with the float kernel itself):
/// dequantize → act → quantize collapses to one int8 → int8 lookup that stays NHWC, and
/// dequantize → act with float readers becomes a dequantize through the table. Only tensors
/// with no other reader are folded, so nothing else sees a change.
func fuseActivationTables(_ g: Graph, _ nodes: [Node]) -> [Node] {
    let (readers, producer) = nodeLinks(nodes)
    let graphOutputs = Set(g.outputs)
    var drop = Set<Int>(), replace: [Int: Node] = [:]
    for (i, n) in nodes.enumerated() {
        guard case .unary = n.op, let y = n.inputs.first, readers[y] == [i], !graphOutputs.contains(y),
              let d = producer[y], nodes[d].op == .dequantize, !drop.contains(d) else { continue }
        let z = n.outputs[0]
        var out = z
        if !graphOutputs.contains(z), let r = readers[z], r.count == 1, nodes[r[0]].op == .quantize {
            out = nodes[r[0]].outputs[0]
            drop.insert(r[0])
        }
        drop.insert(d)
        replace[i] = Node(name: n.name + ":table", op: n.op, inputs: [nodes[d].inputs[0]], outputs: [out])
    }
    return nodes.indices.compactMap { drop.contains($0) ? nil : (replace[$0] ?? nodes[$0]) }
}

/// Conv and Gemm weights stored as IEEE half (half the weight bytes); the executor widens them at load.
func convertWeightsToFP16(_ graph: Graph) -> Graph {
    var g = graph
    for n in g.nodes {
        let w: TensorID
        switch n.op {
        case .conv: w = n.inputs[1]
        case .gemm: w = n.inputs[1]
        default: continue
        }
        guard case .float32(let v)? = g.constants[w] else { continue }
        g.constants[w] = .float16(v.map { Float16($0).bitPattern })
        g.tensors[w].type = .float16
    }
    return g
}

// MARK: - measuring

struct CalibrationStats {
    var observers: [TensorID: TensorRangeObserver]
    var firstInputs: [Int: [Float]]
    var firstOutputs: [Int: [Float]]
}

/// Runs the FP32 graph on every sample twice (ranges, then histograms) with every conv's input and
/// output exposed as graph outputs (so the planner does not reuse them).
func calibrate(_ g: Graph, convs: [Int], samples: [[Float]], options: QuantizeOptions) throws -> CalibrationStats {
    var probe = g
    var watched: [TensorID] = []
    for c in convs { for t in [g.nodes[c].inputs[0], g.nodes[c].outputs[0]] where !watched.contains(t) { watched.append(t) } }
    let base = probe.outputs.count
    probe.outputs += watched
    let exe = try Executor(graph: probe, threads: options.threads)
    var observers = [TensorID: TensorRangeObserver]()
    for t in watched { observers[t] = TensorRangeObserver() }
    var firstIn: [Int: [Float]] = [:], firstOut: [Int: [Float]] = [:]
    for pass in 0..<2 {
        for (si, s) in samples.enumerated() {
            s.withUnsafeBufferPointer { src in _ = exe.input(0).update(fromContentsOf: src) }
            exe.run()
            for (k, t) in watched.enumerated() {
                let out = exe.output(base + k)
                if pass == 0 { observers[t]!.observeRange(out) } else { observers[t]!.observeHistogram(out) }
            }
            if pass == 1 && si == 0 {
                for c in convs {
                    firstIn[c] = Array(exe.output(base + watched.firstIndex(of: g.nodes[c].inputs[0])!))
                    firstOut[c] = Array(exe.output(base + watched.firstIndex(of: g.nodes[c].outputs[0])!))
                }
            }
        }
        if pass == 0 { for t in watched { observers[t]!.beginHistogram() } }
    }
    return CalibrationStats(observers: observers, firstInputs: firstIn, firstOutputs: firstOut)
}

/// One conv run alone in int8 on an FP32 input, against the FP32 output.
func layerSQNR(_ g: Graph, conv c: Int, params: [TensorID: QuantParams], input: [Float], expected: [Float]) throws -> Double {
    let n = g.nodes[c]
    var sub = Graph()
    var map: [TensorID: TensorID] = [:]
    for t in n.inputs + n.outputs where map[t] == nil { map[t] = sub.addTensor(g.tensors[t], constant: g.constants[t]) }
    sub.nodes = [Node(name: n.name, op: n.op, inputs: n.inputs.map { map[$0]! }, outputs: n.outputs.map { map[$0]! })]
    sub.inputs = [map[n.inputs[0]]!]; sub.outputs = [map[n.outputs[0]]!]
    var subParams: [TensorID: QuantParams] = [:]
    for (t, s) in map { if let p = params[t] { subParams[s] = p } }
    let q = try applyQuantization(sub, convs: [0], params: subParams)
    let exe = try Executor(graph: q, threads: 1)
    input.withUnsafeBufferPointer { src in _ = exe.input(0).update(fromContentsOf: src) }
    exe.run()
    return expected.withUnsafeBufferPointer { quantizationSQNR(reference: $0, test: exe.output(0)) }
}

/// The FP32 graph's outputs on the calibration samples, computed once: the mixed-precision search
/// compares a dozen candidate graphs against them.
struct ReferenceOutputs {
    var outputs: [[[Float]]]       // [sample][output] values
    var shape0: [Int]

    init(_ graph: Graph, samples: [[Float]], threads: Int) throws {
        let exe = try Executor(graph: graph, threads: threads)
        outputs = samples.map { s in
            s.withUnsafeBufferPointer { src in _ = exe.input(0).update(fromContentsOf: src) }
            exe.run()
            return (0..<exe.outputCount).map { Array(exe.output($0)) }
        }
        shape0 = exe.outputShape(0)
    }
}

/// Output SQNR (dB, all outputs) and argmax agreement over channel axis 1 of output 0.
func compareOutputs(_ reference: Graph, _ test: Graph, samples: [[Float]], threads: Int) throws -> (Double, Double) {
    try compareOutputs(ReferenceOutputs(reference, samples: samples, threads: threads), test, samples: samples, threads: threads)
}

func compareOutputs(_ reference: ReferenceOutputs, _ test: Graph, samples: [[Float]], threads: Int) throws -> (Double, Double) {
    let b = try Executor(graph: test, threads: threads)
    var signal = 0.0, noise = 0.0, same = 0, total = 0
    for (si, s) in samples.enumerated() {
        s.withUnsafeBufferPointer { src in _ = b.input(0).update(fromContentsOf: src) }
        b.run()
        for o in 0..<b.outputCount {
            let r = reference.outputs[si][o], t = b.output(o)
            for i in r.indices { signal += Double(r[i]) * Double(r[i]); let d = Double(r[i]) - Double(t[i]); noise += d * d }
        }
        let shape = reference.shape0
        if shape.count == 4 {
            let C = shape[1], P = shape[2] * shape[3], r = reference.outputs[si][0], t = b.output(0)
            for img in 0..<shape[0] {
                for p in 0..<P {
                    var br = 0, bt = 0
                    for c in 1..<C {
                        if r[(img * C + c) * P + p] > r[(img * C + br) * P + p] { br = c }
                        if t[(img * C + c) * P + p] > t[(img * C + bt) * P + p] { bt = c }
                    }
                    same += br == bt ? 1 : 0; total += 1
                }
            }
        }
    }
    let sqnr = noise == 0 ? Double.infinity : 10 * log10(signal / noise)
    return (sqnr, total == 0 ? 1 : Double(same) / Double(total))
}
