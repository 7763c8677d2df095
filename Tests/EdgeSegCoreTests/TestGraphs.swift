// Hand-built graphs for the runtime tests (the ONNX importer lives in another module).
import EdgeSegCore

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float { lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24) }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in float(lo, hi) } }
}

/// Small builder: tensors by shape, nodes appended in order.
struct GraphBuilder {
    var g = Graph()
    var rng: SplitMix64
    init(seed: UInt64 = 1) { rng = SplitMix64(seed: seed) }

    mutating func input(_ shape: [Int]) -> TensorID {
        let t = g.addTensor(TensorDesc(name: "in\(g.tensors.count)", shape: shape))
        g.inputs.append(t); return t
    }
    mutating func const(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> TensorID {
        let n = shape.reduce(1, *)
        return g.addTensor(TensorDesc(name: "c\(g.tensors.count)", shape: shape), constant: .float32(rng.floats(n, lo, hi)))
    }
    mutating func node(_ op: Op, _ inputs: [TensorID], _ outShapes: [[Int]]) -> [TensorID] {
        let outs = outShapes.map { g.addTensor(TensorDesc(name: "t\(g.tensors.count)", shape: $0)) }
        g.nodes.append(Node(name: "n\(g.nodes.count)", op: op, inputs: inputs, outputs: outs))
        return outs
    }
    mutating func node1(_ op: Op, _ inputs: [TensorID], _ outShape: [Int]) -> TensorID { node(op, inputs, [outShape])[0] }

    mutating func conv(_ x: TensorID, cout: Int, k: [Int], stride: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0],
                       dil: [Int] = [1, 1], group: Int = 1, residual: TensorID? = nil, act: UnaryOp? = nil) -> TensorID {
        let s = g.tensors[x].shape
        let w = const([cout, s[1] / group, k[0], k[1]], -0.5, 0.5)
        let b = const([cout])
        let ho = (s[2] + pads[0] + pads[2] - dil[0] * (k[0] - 1) - 1) / stride[0] + 1
        let wo = (s[3] + pads[1] + pads[3] - dil[1] * (k[1] - 1) - 1) / stride[1] + 1
        let a = ConvAttrs(kernel: k, strides: stride, pads: pads, dilations: dil, group: group, hasResidual: residual != nil, activation: act)
        return node1(.conv(a), [x, w, b] + (residual.map { [$0] } ?? []), [s[0], cout, ho, wo])
    }
}

/// A graph that uses every FP32 op at least once, with odd channel counts and sizes.
func allOpsGraph(seed: UInt64 = 7) -> Graph {
    var b = GraphBuilder(seed: seed)
    let x = b.input([1, 5, 11, 13])
    let c1 = b.conv(x, cout: 12, k: [3, 3], pads: [1, 1, 1, 1], act: .clip(min: 0, max: 6))            // im2col
    let dw = b.conv(c1, cout: 12, k: [3, 3], stride: [2, 2], pads: [2, 2, 2, 2], dil: [2, 2], group: 12, act: .relu) // depthwise s2 d2
    let pw = b.conv(dw, cout: 12, k: [1, 1], act: .silu)                                                 // 1x1
    let c2 = b.conv(pw, cout: 12, k: [1, 1], residual: dw, act: .hardSwish)                              // residual
    let gr = b.conv(c2, cout: 6, k: [3, 2], pads: [0, 1, 2, 0], group: 3, act: .sigmoid)                 // grouped asym
    let s = b.g.tensors[gr].shape                                                                        // [1,6,h,w]
    let mp = b.node1(.pool(PoolAttrs(kind: .max, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: false)),
                     [gr], [1, 6, (s[2] + 2 - 3 + 1) / 2 + 1, (s[3] + 2 - 3 + 1) / 2 + 1])
    let ap = b.node1(.pool(PoolAttrs(kind: .average, kernel: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1], ceilMode: false, countIncludePad: true)),
                     [gr], s)
    let up = b.node1(.resize(ResizeAttrs(mode: .linear, transform: .halfPixel)), [mp], [1, 6, s[2], s[3]])
    let up2 = b.node1(.resize(ResizeAttrs(mode: .nearest, transform: .asymmetric)), [mp], [1, 6, s[2], s[3]])
    let up3 = b.node1(.resize(ResizeAttrs(mode: .linear, transform: .alignCorners)), [ap], [1, 6, 2 * s[2] - 1, s[3] + 3])
    let sum = b.node1(.binary(.add), [up, up2], s)
    let cat = b.node1(.concat(axis: 1), [sum, ap, gr], [1, 18, s[2], s[3]])
    let parts = b.node(.split(axis: 1, sizes: [10, 8]), [cat], [[1, 10, s[2], s[3]], [1, 8, s[2], s[3]]])
    let gate = b.node1(.globalPool(.average), [parts[1]], [1, 8, 1, 1])
    let gmax = b.node1(.globalPool(.max), [parts[1]], [1, 8, 1, 1])
    let gsum = b.node1(.binary(.max), [gate, gmax], [1, 8, 1, 1])
    let flat = b.node1(.reshape, [gsum], [1, 8])
    let fcw = b.const([5, 8]), fcb = b.const([5])
    let fc = b.node1(.gemm(GemmAttrs(transA: false, transB: true, alpha: 1, beta: 1, activation: .relu)), [flat, fcw, fcb], [1, 5])
    let sm = b.node1(.softmax(axis: -1), [fc], [1, 5])
    let scaled = b.node1(.binary(.mul), [parts[1], b.const([1, 8, 1, 1])], [1, 8, s[2], s[3]])
    let redm = b.node1(.reduce(.mean, axes: [1], keepDims: true), [scaled], [1, 1, s[2], s[3]])
    let redx = b.node1(.reduce(.max, axes: [2, 3], keepDims: false), [scaled], [1, 8])
    let sl = b.node1(.slice(starts: [1, 0], ends: [Int.max, 100], axes: [1, 3], steps: [2, 1]), [parts[0]], [1, 5, s[2], s[3]])
    let pd = b.node1(.pad(pads: [0, 0, 1, 2, 0, 0, 0, 1], value: 0.5), [sl], [1, 5, s[2] + 1, s[3] + 3])
    let tr = b.node1(.transpose(perm: [0, 2, 3, 1]), [pd], [1, s[2] + 1, s[3] + 3, 5])
    let ln = b.node1(.layerNorm(axis: -1, epsilon: 1e-5), [tr, b.const([5]), b.const([5])], [1, s[2] + 1, s[3] + 3, 5])
    let r5 = b.node1(.reshape, [ln], [1, s[2] + 1, s[3] + 3, 1, 5])
    let mm = b.node1(.matMul, [r5, b.const([1, s[3] + 3, 5, 3])], [1, s[2] + 1, s[3] + 3, 1, 3])
    let un = b.node1(.unary(.gelu), [mm], b.g.tensors[mm].shape)
    let un2 = b.node1(.unary(.tanh), [un], b.g.tensors[mm].shape)
    let idn = b.node1(.identity, [un2], b.g.tensors[mm].shape)
    let inorm = b.node1(.instanceNorm(epsilon: 1e-5), [redm, b.const([1]), b.const([1])], [1, 1, s[2], s[3]])
    let ex = b.node1(.unary(.exp), [inorm], [1, 1, s[2], s[3]])
    let dv = b.node1(.binary(.div), [ex, b.const([1, 1, 1, s[3]], 1, 2)], [1, 1, s[2], s[3]])
    let sub = b.node1(.binary(.sub), [b.const([1], 0, 1), redx], [1, 8])
    b.g.outputs = [sm, idn, dv, sub, up3, c2]
    return b.g
}

func fill(_ p: UnsafeMutableBufferPointer<Float>, seed: UInt64) {
    var r = SplitMix64(seed: seed)
    for i in p.indices { p[i] = r.float() }
}

func maxAbsDiff(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
    var m: Float = 0
    for i in a.indices { let d = abs(a[i] - b[i]); if d > m || d.isNaN { m = d.isNaN ? .infinity : d } }
    return m
}
