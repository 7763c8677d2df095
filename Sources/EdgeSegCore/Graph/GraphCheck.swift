// Structural and shape validation of a Graph. The model-file reader and the executor
// both run it, so every later index and size computation works on checked values:
// a hostile file can only produce a thrown GraphError, never an out-of-bounds access.

public struct GraphError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid graph: \(message)" }
}

/// Largest tensor the runtime accepts (elements), and the largest rank.
public let maxTensorElements = 1 << 28
public let maxTensorRank = 6

/// Conv parameters split out of a node's inputs.
public struct ConvOperands: Sendable {
    public var x: TensorID, weight: TensorID, bias: TensorID?, residual: TensorID?
}

public func convOperands(_ n: Node, _ a: ConvAttrs) throws -> ConvOperands {
    let expected = 2 + (a.hasResidual ? 1 : 0)
    guard n.inputs.count == expected || n.inputs.count == expected + 1 else {
        throw GraphError("node '\(n.name)': conv takes x, weight, bias?, residual? (got \(n.inputs.count) inputs)")
    }
    let hasBias = n.inputs.count == expected + 1
    return ConvOperands(x: n.inputs[0], weight: n.inputs[1], bias: hasBias ? n.inputs[2] : nil,
                        residual: a.hasResidual ? n.inputs[n.inputs.count - 1] : nil)
}

/// Numpy broadcast of two shapes, nil when incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let x = i < r - a.count ? 1 : a[i - (r - a.count)]
        let y = i < r - b.count ? 1 : b[i - (r - b.count)]
        if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
    }
    return out
}

@inline(__always) func normAxis(_ axis: Int, _ rank: Int) -> Int? {
    let a = axis < 0 ? axis + rank : axis
    return (a >= 0 && a < rank) ? a : nil
}

/// Per-axis start/step and output shape of a slice, with ONNX clamping rules.
public func sliceGeometry(inShape: [Int], starts: [Int], ends: [Int], axes: [Int], steps: [Int]) throws
    -> (starts: [Int], steps: [Int], outShape: [Int]) {
    guard starts.count == ends.count, starts.count == axes.count, steps.count == axes.count else {
        throw GraphError("slice: starts/ends/axes/steps lengths differ")
    }
    var st = [Int](repeating: 0, count: inShape.count)
    var sp = [Int](repeating: 1, count: inShape.count)
    var out = inShape
    var seen = Set<Int>()
    for i in 0..<axes.count {
        guard let a = normAxis(axes[i], inShape.count), seen.insert(a).inserted else { throw GraphError("slice: bad axis \(axes[i])") }
        let d = inShape[a], step = steps[i]
        guard step != 0, abs(step) <= 1 << 31 else { throw GraphError("slice: step 0") }
        var s = max(-(1 << 40), min(1 << 40, starts[i])), e = max(-(1 << 40), min(1 << 40, ends[i]))
        if s < 0 { s += d }
        if e < 0 { e += d }
        let len: Int
        if step > 0 {
            s = max(0, min(d, s)); e = max(0, min(d, e))
            len = e > s ? (e - s + step - 1) / step : 0
        } else {
            s = max(-1, min(d - 1, s)); e = max(-1, min(d - 1, e))
            len = s > e ? (s - e + (-step) - 1) / (-step) : 0
        }
        guard len > 0 else { throw GraphError("slice: empty result on axis \(a)") }
        st[a] = s; sp[a] = step; out[a] = len
    }
    return (st, sp, out)
}

/// Output spatial size of a pooling window (ONNX/ORT, including the ceil-mode rule that a
/// window may not start inside the end padding).
func pooledSize(_ inLen: Int, _ k: Int, _ s: Int, _ padA: Int, _ padB: Int, ceil: Bool, dilation: Int = 1) -> Int {
    let span = inLen + padA + padB - dilation * (k - 1) - 1
    if span < 0 { return 0 }
    if !ceil { return span / s + 1 }
    var o = (span + s - 1) / s + 1
    if (o - 1) * s >= inLen + padA { o -= 1 }
    return o
}

public func validateGraph(_ g: Graph) throws {
    let nt = g.tensors.count
    guard nt > 0, nt <= 1 << 20 else { throw GraphError("tensor count \(nt)") }
    for (i, t) in g.tensors.enumerated() {
        guard t.shape.count <= maxTensorRank else { throw GraphError("tensor \(i) '\(t.name)': rank \(t.shape.count) > \(maxTensorRank)") }
        var count = 1
        for d in t.shape {
            guard d >= 1, d <= maxTensorElements else { throw GraphError("tensor \(i) '\(t.name)': dimension \(d)") }
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= maxTensorElements else { throw GraphError("tensor \(i) '\(t.name)': too many elements") }
            count = p
        }
    }
    for (id, c) in g.constants {
        guard id >= 0, id < nt else { throw GraphError("constant for unknown tensor \(id)") }
        let t = g.tensors[id]
        guard c.count == t.elementCount else {
            throw GraphError("constant '\(t.name)': \(c.count) values for shape \(t.shape)")
        }
        let ok: Bool
        switch c {
        case .float32: ok = t.type == .float32
        case .float16: ok = t.type == .float16
        case .int8: ok = t.type == .int8 || t.type == .uint8
        case .int32: ok = t.type == .int32
        case .int64: ok = t.type == .int64
        }
        guard ok else { throw GraphError("constant '\(t.name)': payload does not match type \(t.type)") }
    }
    var defined = [Bool](repeating: false, count: nt)
    for id in g.constants.keys { defined[id] = true }
    guard !g.inputs.isEmpty, !g.outputs.isEmpty else { throw GraphError("graph needs inputs and outputs") }
    for id in g.inputs {
        guard id >= 0, id < nt, !defined[id] else { throw GraphError("graph input \(id) unknown, constant or repeated") }
        defined[id] = true
    }
    for n in g.nodes {
        guard !n.outputs.isEmpty else { throw GraphError("node '\(n.name)' has no outputs") }
        for i in n.inputs {
            guard i >= 0, i < nt, defined[i] else { throw GraphError("node '\(n.name)': input \(i) is not defined before use") }
        }
        for o in n.outputs {
            guard o >= 0, o < nt, !defined[o] else { throw GraphError("node '\(n.name)': output \(o) unknown or defined twice") }
        }
        try checkNodeShapes(n, g)
        for o in n.outputs { defined[o] = true }
    }
    for o in g.outputs {
        guard o >= 0, o < nt, defined[o] else { throw GraphError("graph output \(o) is never produced") }
    }
}

private func checkNodeShapes(_ n: Node, _ g: Graph) throws {
    func shape(_ id: TensorID) -> [Int] { g.tensors[id].shape }
    func fail(_ why: String) -> GraphError { GraphError("node '\(n.name)' (\(opName(n.op))): \(why)") }
    func arity(_ ins: ClosedRange<Int>, _ outs: Int = 1) throws {
        guard ins.contains(n.inputs.count), n.outputs.count == outs else {
            throw fail("expects \(ins) inputs and \(outs) outputs, has \(n.inputs.count)/\(n.outputs.count)")
        }
    }
    func expectOut(_ s: [Int], _ k: Int = 0) throws {
        guard shape(n.outputs[k]) == s else { throw fail("output shape \(shape(n.outputs[k])) but inputs give \(s)") }
    }
    switch n.op {
    case .conv(let a):
        try arity(2...4)
        let ops = try convOperands(n, a)
        let x = shape(ops.x), w = shape(ops.weight)
        guard x.count == 4, w.count == 4, a.kernel.count == 2, a.strides.count == 2, a.pads.count == 4, a.dilations.count == 2 else {
            throw fail("needs 4-D x/weight and 2-D attributes")
        }
        guard a.group >= 1, x[1] % a.group == 0, w[0] % a.group == 0, w[1] * a.group == x[1] else { throw fail("group \(a.group) vs channels") }
        guard w[2] == a.kernel[0], w[3] == a.kernel[1] else { throw fail("kernel attribute \(a.kernel) vs weight \(w)") }
        guard a.strides.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }), a.dilations.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }),
              a.pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else { throw fail("stride/dilation/pad out of range") }
        if let b = ops.bias { guard g.tensors[b].elementCount == w[0] else { throw fail("bias size") } }
        let ho = pooledSize(x[2], w[2], a.strides[0], a.pads[0], a.pads[2], ceil: false, dilation: a.dilations[0])
        let wo = pooledSize(x[3], w[3], a.strides[1], a.pads[1], a.pads[3], ceil: false, dilation: a.dilations[1])
        let out = [x[0], w[0], ho, wo]
        try expectOut(out)
        if let r = ops.residual { guard shape(r) == out else { throw fail("residual shape \(shape(r))") } }
    case .gemm(let a):
        try arity(2...3)
        let A = shape(n.inputs[0]), B = shape(n.inputs[1])
        guard A.count == 2, B.count == 2 else { throw fail("gemm needs 2-D a and b") }
        let m = a.transA ? A[1] : A[0], k = a.transA ? A[0] : A[1]
        let k2 = a.transB ? B[1] : B[0], nn = a.transB ? B[0] : B[1]
        guard k == k2 else { throw fail("inner dimensions \(k) vs \(k2)") }
        if n.inputs.count == 3 {
            guard let c = broadcastShape([m, nn], shape(n.inputs[2])), c == [m, nn] else { throw fail("c does not broadcast to [\(m), \(nn)]") }
        }
        try expectOut([m, nn])
    case .matMul:
        try arity(2...2)
        let A = shape(n.inputs[0]), B = shape(n.inputs[1])
        guard A.count >= 2, B.count >= 2 else { throw fail("operands must be at least 2-D") }
        guard A[A.count - 1] == B[B.count - 2] else { throw fail("inner dimensions \(A) x \(B)") }
        guard let lead = broadcastShape(Array(A.dropLast(2)), Array(B.dropLast(2))) else { throw fail("batch axes do not broadcast") }
        try expectOut(lead + [A[A.count - 2], B[B.count - 1]])
    case .unary, .identity, .quantize, .dequantize:
        try arity(1...1)
        try expectOut(shape(n.inputs[0]))
    case .axisScale:
        try arity(3...3)
        let x = shape(n.inputs[0])
        guard x.count == 4, shape(n.inputs[1]) == [x[0], x[1], x[2], 1], shape(n.inputs[2]) == [x[0], x[1], 1, x[3]] else {
            throw fail("needs x [N,C,H,W], a [N,C,H,1], b [N,C,1,W]")
        }
        try expectOut(x)
    case .binary:
        try arity(2...2)
        guard let s = broadcastShape(shape(n.inputs[0]), shape(n.inputs[1])) else { throw fail("shapes do not broadcast") }
        try expectOut(s)
    case .concat(let axis):
        guard n.inputs.count >= 1, n.outputs.count == 1 else { throw fail("arity") }
        let s0 = shape(n.inputs[0])
        guard let ax = normAxis(axis, s0.count) else { throw fail("axis \(axis)") }
        var out = s0
        out[ax] = 0
        for i in n.inputs {
            var s = shape(i)
            guard s.count == s0.count else { throw fail("ranks differ") }
            out[ax] += s[ax]
            s[ax] = s0[ax]
            guard s == s0 else { throw fail("non-axis dimensions differ") }
        }
        try expectOut(out)
    case .split(let axis, let sizes):
        guard n.inputs.count == 1, n.outputs.count == sizes.count, !sizes.isEmpty else { throw fail("arity vs sizes") }
        let s = shape(n.inputs[0])
        guard let ax = normAxis(axis, s.count) else { throw fail("axis \(axis)") }
        guard sizes.allSatisfy({ $0 >= 1 && $0 <= s[ax] }), sizes.reduce(0, +) == s[ax] else { throw fail("sizes \(sizes) vs \(s[ax])") }
        for (k, sz) in sizes.enumerated() { var o = s; o[ax] = sz; try expectOut(o, k) }
    case .slice(let starts, let ends, let axes, let steps):
        try arity(1...1)
        do { try expectOut(try sliceGeometry(inShape: shape(n.inputs[0]), starts: starts, ends: ends, axes: axes, steps: steps).outShape) }
        catch let e as GraphError { throw fail(e.message) }
    case .reshape:
        try arity(1...1)
        guard g.tensors[n.inputs[0]].elementCount == g.tensors[n.outputs[0]].elementCount else { throw fail("element counts differ") }
    case .transpose(let perm):
        try arity(1...1)
        let s = shape(n.inputs[0])
        guard perm.count == s.count, Set(perm) == Set(0..<s.count) else { throw fail("perm \(perm) for rank \(s.count)") }
        try expectOut(perm.map { s[$0] })
    case .reduce(_, let axes, let keep):
        try arity(1...1)
        let s = shape(n.inputs[0])
        var set = Set<Int>()
        for a in axes { guard let x = normAxis(a, s.count), set.insert(x).inserted else { throw fail("axis \(a)") } }
        if axes.isEmpty { set = Set(0..<s.count) }
        var out: [Int] = []
        for i in 0..<s.count { if set.contains(i) { if keep { out.append(1) } } else { out.append(s[i]) } }
        // A full reduction without keepdims is a scalar; accept it as [] or [1].
        if out.isEmpty && shape(n.outputs[0]) == [1] { out = [1] }
        try expectOut(out)
    case .globalPool:
        try arity(1...1)
        let s = shape(n.inputs[0])
        guard s.count >= 3 else { throw fail("needs rank >= 3") }
        try expectOut([s[0], s[1]] + [Int](repeating: 1, count: s.count - 2))
    case .pool(let a):
        try arity(1...1)
        let s = shape(n.inputs[0])
        guard s.count == 4, a.kernel.count == 2, a.strides.count == 2, a.pads.count == 4 else { throw fail("needs 4-D input and 2-D attributes") }
        guard a.kernel.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }), a.strides.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }),
              a.pads.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }), a.pads[0] < a.kernel[0], a.pads[1] < a.kernel[1],
              a.pads[2] < a.kernel[0], a.pads[3] < a.kernel[1] else { throw fail("kernel/stride/pad out of range") }
        let ho = pooledSize(s[2], a.kernel[0], a.strides[0], a.pads[0], a.pads[2], ceil: a.ceilMode)
        let wo = pooledSize(s[3], a.kernel[1], a.strides[1], a.pads[1], a.pads[3], ceil: a.ceilMode)
        let out = shape(n.outputs[0])
        // ONNX shape inference before opset 19 omits the ceil-mode adjustment; accept both.
        let hoAlt = a.ceilMode ? (s[2] + a.pads[0] + a.pads[2] - a.kernel[0] + a.strides[0] - 1) / a.strides[0] + 1 : ho
        let woAlt = a.ceilMode ? (s[3] + a.pads[1] + a.pads[3] - a.kernel[1] + a.strides[1] - 1) / a.strides[1] + 1 : wo
        guard out.count == 4, out[0] == s[0], out[1] == s[1], out[2] == ho || out[2] == hoAlt, out[3] == wo || out[3] == woAlt else {
            throw fail("output shape \(out), expected [\(s[0]), \(s[1]), \(ho), \(wo)]")
        }
    case .resize:
        try arity(1...1)
        let s = shape(n.inputs[0]), o = shape(n.outputs[0])
        guard s.count == 4, o.count == 4, s[0] == o[0], s[1] == o[1] else { throw fail("resizes only the last two axes of a 4-D tensor") }
    case .softmax(let axis):
        try arity(1...1)
        guard normAxis(axis, shape(n.inputs[0]).count) != nil else { throw fail("axis \(axis)") }
        try expectOut(shape(n.inputs[0]))
    case .layerNorm(let axis, _):
        try arity(2...3)
        let s = shape(n.inputs[0])
        guard let ax = normAxis(axis, s.count) else { throw fail("axis \(axis)") }
        let len = s[ax...].reduce(1, *)
        guard g.tensors[n.inputs[1]].elementCount == len else { throw fail("scale size") }
        if n.inputs.count == 3 { guard g.tensors[n.inputs[2]].elementCount == len else { throw fail("bias size") } }
        try expectOut(s)
    case .instanceNorm:
        try arity(3...3)
        let s = shape(n.inputs[0])
        guard s.count >= 3, g.tensors[n.inputs[1]].elementCount == s[1], g.tensors[n.inputs[2]].elementCount == s[1] else {
            throw fail("needs rank >= 3 and scale/bias of C")
        }
        try expectOut(s)
    case .pad(let pads, _):
        try arity(1...1)
        let s = shape(n.inputs[0])
        guard pads.count == 2 * s.count, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else { throw fail("pads \(pads)") }
        try expectOut((0..<s.count).map { s[$0] + pads[$0] + pads[$0 + s.count] })
    }
}

public func opName(_ op: Op) -> String {
    switch op {
    case .conv(let a): return "Conv\(a.kernel.map(String.init).joined(separator: "x"))" + (a.group > 1 ? "g" : "")
    case .gemm: return "Gemm"
    case .matMul: return "MatMul"
    case .unary(let u):
        switch u {
        case .clip: return "Clip"
        case .hardSigmoid: return "HardSigmoid"
        case .pow: return "Pow"
        default: return "Unary.\(u)"
        }
    case .binary(let b): return "Binary.\(b)"
    case .concat: return "Concat"
    case .split: return "Split"
    case .slice: return "Slice"
    case .reshape: return "Reshape"
    case .transpose: return "Transpose"
    case .reduce(let r, _, _): return "Reduce.\(r)"
    case .globalPool(let k): return "GlobalPool.\(k)"
    case .pool(let a): return "Pool.\(a.kind)"
    case .resize(let a): return "Resize.\(a.mode)"
    case .softmax: return "Softmax"
    case .layerNorm: return "LayerNorm"
    case .instanceNorm: return "InstanceNorm"
    case .pad: return "Pad"
    case .identity: return "Identity"
    case .quantize: return "Quantize"
    case .dequantize: return "Dequantize"
    case .axisScale: return "AxisScale"
    }
}

/// Multiply-accumulates of one node (conv, gemm, matmul); 0 for data movement and element-wise ops.
public func nodeMACs(_ n: Node, _ g: Graph) -> Int {
    switch n.op {
    case .conv(let a):
        let w = g.tensors[n.inputs[1]].shape
        return g.tensors[n.outputs[0]].elementCount * (w.count == 4 ? w[1] * w[2] * w[3] : 0) * (a.group > 0 ? 1 : 0)
    case .gemm(let a):
        let A = g.tensors[n.inputs[0]].shape
        return g.tensors[n.outputs[0]].elementCount * (a.transA ? A[0] : A[A.count - 1])
    case .matMul:
        let A = g.tensors[n.inputs[0]].shape
        return g.tensors[n.outputs[0]].elementCount * A[A.count - 1]
    default: return 0
    }
}
