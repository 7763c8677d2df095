import EdgeSegCore

/// ONNX node → `Graph` nodes, with each output's static shape computed here (value_info in the
/// file is never trusted). Ops that only move shape information all become `.reshape`.
extension Importer {
    mutating func lower(_ node: NodeView, _ inputs: [Value?]) throws {
        func value(_ i: Int) throws -> Value {
            guard i < inputs.count, let v = inputs[i] else { throw node.fail("missing input \(i)") }
            return v
        }
        func const(_ i: Int) -> ConstTensor? {
            if i < inputs.count, case .constant(let t)? = inputs[i] { return t }
            return nil
        }
        func required(_ i: Int, _ what: String) throws -> ConstTensor {
            guard i < inputs.count, inputs[i] != nil else { throw node.fail("missing \(what) input") }
            guard let c = const(i) else { throw node.fail("\(what) must be a compile-time constant") }
            return c
        }
        let xShape = inputs.first.flatMap { $0 }.map(shape) ?? []
        let rank = xShape.count

        switch node.op {
        case "Conv":
            try lowerConv(node, inputs)

        case "Relu", "Sigmoid", "Tanh", "Exp", "Sqrt", "Neg", "Abs", "Reciprocal", "Erf", "HardSwish", "HardSigmoid", "Clip":
            let u: UnaryOp
            switch node.op {
            case "Relu": u = .relu
            case "Sigmoid": u = .sigmoid
            case "Tanh": u = .tanh
            case "Exp": u = .exp
            case "Sqrt": u = .sqrt
            case "Neg": u = .neg
            case "Abs": u = .abs
            case "Reciprocal": u = .reciprocal
            case "Erf": u = .erf
            case "HardSwish": u = .hardSwish
            case "HardSigmoid": u = .hardSigmoid(alpha: node.float("alpha", default: 0.2), beta: node.float("beta", default: 0.5))
            default:
                var lo = -Float.infinity, hi = Float.infinity
                if opset < 11 {
                    lo = node.float("min", default: lo); hi = node.float("max", default: hi)
                } else {
                    if inputs.count > 1, inputs[1] != nil { lo = try required(1, "min").floats.first ?? lo }
                    if inputs.count > 2, inputs[2] != nil { hi = try required(2, "max").floats.first ?? hi }
                }
                u = lo == 0 && hi == .infinity ? .relu : .clip(min: lo, max: hi)
            }
            try emit(node, .unary(u), [try id(node, inputs, 0)], xShape)

        case "Add", "Sub", "Mul", "Div", "Max", "Min", "Pow":
            if node.op == "Pow", let e = const(1), e.count == 1 {
                try emit(node, .unary(.pow(e.floats[0])), [try id(node, inputs, 0)], xShape)
                return
            }
            let b: BinaryOp = switch node.op {
            case "Add": .add
            case "Sub": .sub
            case "Mul": .mul
            case "Div": .div
            case "Max": .max
            case "Min": .min
            default: .pow
            }
            guard inputs.count >= 1 else { throw node.fail("no inputs") }
            if inputs.count == 1 {   // variadic Max/Min with one input
                try emit(node, .identity, [try id(node, inputs, 0)], xShape); return
            }
            // Variadic Max/Min: a chain of binaries.
            var acc = try id(node, inputs, 0)
            for i in 1..<inputs.count {
                let rhs = try id(node, inputs, i)
                guard let out = broadcastShapes(graph.tensors[acc].shape, graph.tensors[rhs].shape) else {
                    throw node.fail("cannot broadcast \(graph.tensors[acc].shape) with \(graph.tensors[rhs].shape)")
                }
                if i == inputs.count - 1 { try emit(node, .binary(b), [acc, rhs], out) }
                else { acc = try emitTemp(node, "\(i)", .binary(b), [acc, rhs], out) }
            }

        case "Concat":
            guard let axis = normaliseAxis(node.int("axis", default: Int.min), rank: rank) else { throw node.fail("bad axis") }
            var out = xShape; out[axis] = 0
            var ids: [TensorID] = []
            for i in 0..<inputs.count {
                let s = shape(try value(i))
                guard s.count == rank, (0..<rank).allSatisfy({ $0 == axis || s[$0] == xShape[$0] }) else {
                    throw node.fail("input shapes \(inputs.compactMap { $0.map(shape) }) disagree off axis \(axis)")
                }
                out[axis] += s[axis]; ids.append(try id(node, inputs, i))
            }
            try emit(node, .concat(axis: axis), ids, out)

        case "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum":
            let kind: ReduceOp = switch node.op { case "ReduceMean": .mean; case "ReduceMax": .max; case "ReduceMin": .min; default: .sum }
            var axes: [Int]
            if inputs.count > 1, inputs[1] != nil { axes = try required(1, "axes").ints.map { Int(clamping: $0) } }
            else { axes = node.ints("axes") ?? [] }
            let keep = node.int("keepdims", default: 1) != 0
            if axes.isEmpty {
                if node.int("noop_with_empty_axes", default: 0) != 0 { aliased += 1; define(node, 0, try value(0)); return }
                axes = Array(0..<rank)
            }
            let norm = try axes.map { a -> Int in
                guard let n = normaliseAxis(a, rank: rank) else { throw node.fail("bad axis \(a) for rank \(rank)") }
                return n
            }
            let axesSorted = Array(Set(norm)).sorted()
            var out: [Int] = []
            for d in 0..<rank { if axesSorted.contains(d) { if keep { out.append(1) } } else { out.append(xShape[d]) } }
            try emit(node, .reduce(kind, axes: axesSorted, keepDims: keep), [try id(node, inputs, 0)], out)

        case "GlobalAveragePool", "GlobalMaxPool":
            guard rank >= 3 else { throw node.fail("needs rank ≥ 3, got \(xShape)") }
            try emit(node, .globalPool(node.op == "GlobalMaxPool" ? .max : .average), [try id(node, inputs, 0)],
                     Array(xShape[..<2]) + [Int](repeating: 1, count: rank - 2))

        case "MaxPool", "AveragePool":
            try lowerPool(node, inputs)

        case "Resize", "Upsample":
            try lowerResize(node, inputs)

        case "MatMul":
            try lowerMatMul(node, inputs)

        case "Gemm":
            let a = shape(try value(0)), b = shape(try value(1))
            guard a.count == 2, b.count == 2 else { throw node.fail("Gemm needs 2-D inputs, got \(a) and \(b)") }
            let tA = node.int("transA", default: 0) != 0, tB = node.int("transB", default: 0) != 0
            let (m, k) = tA ? (a[1], a[0]) : (a[0], a[1])
            let (k2, n) = tB ? (b[1], b[0]) : (b[0], b[1])
            guard k == k2 else { throw node.fail("inner dims differ: \(a) × \(b)") }
            var ins = [try id(node, inputs, 0), try id(node, inputs, 1)]
            if inputs.count > 2, inputs[2] != nil {
                guard let bc = broadcastShapes(shape(try value(2)), [m, n]), bc == [m, n] else { throw node.fail("C \(shape(try value(2))) does not broadcast to [\(m), \(n)]") }
                ins.append(try id(node, inputs, 2))
            }
            try emit(node, .gemm(GemmAttrs(transA: tA, transB: tB, alpha: node.float("alpha", default: 1), beta: node.float("beta", default: 1))), ins, [m, n])

        case "Softmax":
            guard let axis = normaliseAxis(node.int("axis", default: opset < 13 ? 1 : -1), rank: rank) else { throw node.fail("bad axis") }
            if opset < 13, axis != rank - 1, xShape[(axis + 1)...].contains(where: { $0 != 1 }) {
                throw node.fail("opset-\(opset) Softmax flattens axes \(axis)...; only the last-axis form is supported")
            }
            try emit(node, .softmax(axis: axis), [try id(node, inputs, 0)], xShape)

        case "LayerNormalization":
            guard let axis = normaliseAxis(node.int("axis", default: -1), rank: rank) else { throw node.fail("bad axis") }
            try rejectExtraOutputs(node, from: 1)
            let normShape = Array(xShape[axis...])
            var ins = [try id(node, inputs, 0)]
            for i in 1..<min(inputs.count, 3) where inputs[i] != nil {
                guard broadcastShapes(shape(try value(i)), normShape) == normShape else { throw node.fail("scale/bias \(shape(try value(i))) do not match \(normShape)") }
                ins.append(try id(node, inputs, i))
            }
            guard ins.count >= 2 else { throw node.fail("missing scale") }
            try emit(node, .layerNorm(axis: axis, epsilon: node.float("epsilon", default: 1e-5)), ins, xShape)

        case "InstanceNormalization":
            guard rank >= 3, shape(try value(1)) == [xShape[1]], shape(try value(2)) == [xShape[1]] else {
                throw node.fail("scale/bias must be [C] for input \(xShape)")
            }
            try emit(node, .instanceNorm(epsilon: node.float("epsilon", default: 1e-5)),
                     [try id(node, inputs, 0), try id(node, inputs, 1), try id(node, inputs, 2)], xShape)

        case "BatchNormalization":
            try lowerBatchNorm(node, inputs)

        case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
            let out: [Int]
            switch node.op {
            case "Reshape":
                let spec = opset < 5 ? (node.ints("shape") ?? []).map(Int64.init) : try required(1, "shape").ints
                out = try reshapeTarget(xShape, spec, allowZero: node.int("allowzero", default: 0) != 0, node: node)
            case "Flatten": out = try flattenShape(xShape, axis: node.int("axis", default: 1), node: node)
            case "Squeeze":
                let axes = inputs.count > 1 && inputs[1] != nil ? try required(1, "axes").ints.map { Int($0) } : node.ints("axes")
                out = try squeezeShape(xShape, axes: axes, node: node)
            default:
                let axes = inputs.count > 1 && inputs[1] != nil ? try required(1, "axes").ints.map { Int($0) } : (node.ints("axes") ?? [])
                out = try unsqueezeShape(xShape, axes: axes, node: node)
            }
            try emit(node, .reshape, [try id(node, inputs, 0)], out)

        case "Transpose":
            guard rank <= 6 else { throw node.fail("rank \(rank) > 6") }
            let perm = try transposePerm(rank, node.ints("perm"), node: node)
            try emit(node, .transpose(perm: perm), [try id(node, inputs, 0)], perm.map { xShape[$0] })

        case "Slice":
            let spec: SliceSpec
            if opset < 10 {
                spec = try sliceSpec(xShape, starts: (node.ints("starts") ?? []).map(Int64.init), ends: (node.ints("ends") ?? []).map(Int64.init),
                                     axes: node.ints("axes")?.map(Int64.init), steps: nil, node: node)
            } else {
                spec = try sliceSpec(xShape, starts: try required(1, "starts").ints, ends: try required(2, "ends").ints,
                                     axes: inputs.count > 3 && inputs[3] != nil ? try required(3, "axes").ints : nil,
                                     steps: inputs.count > 4 && inputs[4] != nil ? try required(4, "steps").ints : nil, node: node)
            }
            guard spec.steps.allSatisfy({ $0 > 0 }) else { throw node.fail("negative slice steps (flips) are not supported") }
            try emit(node, .slice(starts: spec.starts, ends: spec.ends, axes: spec.axes, steps: spec.steps), [try id(node, inputs, 0)], spec.outShape)

        case "Split":
            guard let axis = normaliseAxis(node.int("axis", default: 0), rank: rank) else { throw node.fail("bad axis") }
            let dim = xShape[axis], n = node.proto.output.count
            var sizes: [Int]
            if inputs.count > 1, inputs[1] != nil { sizes = try required(1, "split").ints.map { Int(clamping: $0) } }
            else if let s = node.ints("split") { sizes = s }
            else {
                let parts = node.int("num_outputs", default: n)
                guard parts > 0 else { throw node.fail("no outputs") }
                let chunk = (dim + parts - 1) / parts
                sizes = (0..<parts).map { min(chunk, max(0, dim - $0 * chunk)) }
            }
            guard sizes.count == n, sizes.allSatisfy({ $0 > 0 }), sizes.reduce(0, +) == dim else {
                throw node.fail("split sizes \(sizes) do not cover axis \(axis) of \(xShape) with \(n) outputs")
            }
            try emitMulti(node, .split(axis: axis, sizes: sizes), [try id(node, inputs, 0)],
                          sizes.map { var s = xShape; s[axis] = $0; return s })

        case "Pad":
            let mode = node.string("mode", default: "constant")
            guard mode == "constant" else { throw node.fail("Pad mode '\(mode)' is not supported (constant only)") }
            var pads: [Int]; var value: Float = 0
            if opset < 11 {
                pads = node.ints("pads") ?? []; value = node.float("value", default: 0)
            } else {
                pads = try required(1, "pads").ints.map { Int(clamping: $0) }
                if inputs.count > 2, inputs[2] != nil { value = try required(2, "constant_value").floats.first ?? 0 }
                if inputs.count > 3, inputs[3] != nil {
                    let axes = try required(3, "axes").ints
                    guard pads.count == 2 * axes.count else { throw node.fail("pads/axes lengths differ") }
                    var full = [Int](repeating: 0, count: 2 * rank)
                    for (k, a) in axes.enumerated() {
                        guard let na = normaliseAxis(Int(clamping: a), rank: rank) else { throw node.fail("bad axis \(a)") }
                        full[na] = pads[k]; full[rank + na] = pads[axes.count + k]
                    }
                    pads = full
                }
            }
            guard pads.count == 2 * rank else { throw node.fail("pads \(pads) do not fit rank \(rank)") }
            guard pads.allSatisfy({ $0 >= 0 && $0 <= ImportLimits.maxDim }) else { throw node.fail("negative or hostile pads \(pads)") }
            try emit(node, .pad(pads: pads, value: value), [try id(node, inputs, 0)], (0..<rank).map { xShape[$0] + pads[$0] + pads[rank + $0] })

        case "Gather":
            // Dynamic data, constant indices: a scalar index is slice + drop axis, a contiguous run is a slice.
            guard let axis = normaliseAxis(node.int("axis", default: 0), rank: rank) else { throw node.fail("bad axis") }
            let ind = try required(1, "indices")
            let dim = xShape[axis]
            let idx = ind.ints.map { $0 < 0 ? $0 &+ Int64(dim) : $0 }
            guard let first = idx.first, idx.allSatisfy({ $0 >= 0 && $0 < Int64(dim) }),
                  idx.enumerated().allSatisfy({ $0.element == first + Int64($0.offset) }), ind.shape.count <= 1 else {
                throw node.fail("only scalar or contiguous constant indices are supported on non-constant data")
            }
            var sliced = xShape; sliced[axis] = idx.count
            let spec = Op.slice(starts: [Int(first)], ends: [Int(first) + idx.count], axes: [axis], steps: [1])
            if ind.shape.isEmpty {
                let t = try emitTemp(node, "slice", spec, [try id(node, inputs, 0)], sliced)
                var out = xShape; out.remove(at: axis)
                try emit(node, .reshape, [t], out)
            } else {
                try emit(node, spec, [try id(node, inputs, 0)], sliced)
            }

        case "Expand":
            // x * ones(expanded dims): broadcasting does the copy, no new op needed.
            let target = try required(1, "shape").ints.map { Int(clamping: $0) }
            guard let out = broadcastShapes(xShape, target) else { throw node.fail("cannot expand \(xShape) to \(target)") }
            if out == xShape { aliased += 1; define(node, 0, try value(0)); return }
            let padded = [Int](repeating: 1, count: out.count - rank) + xShape
            let onesShape = (0..<out.count).map { padded[$0] == 1 ? out[$0] : 1 }
            guard let n = checkedElementCount(onesShape, allowZero: false) else { throw node.fail("hostile expand \(target)") }
            let ones = tensorID(.constant(ConstTensor(shape: onesShape, floats: .init(repeating: 1, count: n))), name: node.name + "/ones")
            try emit(node, .binary(.mul), [try id(node, inputs, 0), ones], out)

        default:
            throw ImportError.unsupportedOperator(node: node.name, opType: node.op, domain: node.proto.domain, opset: opset)
        }
    }

    // MARK: - emit helpers

    /// Input i as a graph tensor (constants materialised under their ONNX name).
    mutating func id(_ node: NodeView, _ inputs: [Value?], _ i: Int) throws -> TensorID {
        guard i < inputs.count, let v = inputs[i] else { throw node.fail("missing input \(i)") }
        return tensorID(v, name: node.proto.input[i])
    }

    func checkShape(_ node: NodeView, _ s: [Int]) throws {
        guard checkedElementCount(s, allowZero: false) != nil else {
            throw node.fail("output shape \(s) is empty, negative or too large")
        }
    }

    /// The node's (first) output.
    @discardableResult
    mutating func emit(_ node: NodeView, _ op: Op, _ ins: [TensorID], _ outShape: [Int]) throws -> TensorID {
        try emitMulti(node, op, ins, [outShape])[0]
    }

    @discardableResult
    mutating func emitMulti(_ node: NodeView, _ op: Op, _ ins: [TensorID], _ outShapes: [[Int]]) throws -> [TensorID] {
        var outs: [TensorID] = []
        for (i, s) in outShapes.enumerated() {
            try checkShape(node, s)
            let name = i < node.proto.output.count && !node.proto.output[i].isEmpty ? node.proto.output[i] : "\(node.name)/out\(i)"
            let t = graph.addTensor(TensorDesc(name: name, shape: s))
            outs.append(t)
            define(node, i, .tensor(t))
        }
        graph.nodes.append(Node(name: node.name, op: op, inputs: ins, outputs: outs))
        return outs
    }

    /// An intermediate of a multi-node lowering.
    mutating func emitTemp(_ node: NodeView, _ suffix: String, _ op: Op, _ ins: [TensorID], _ outShape: [Int]) throws -> TensorID {
        try checkShape(node, outShape)
        let name = "\(node.name)/\(suffix)"
        let t = graph.addTensor(TensorDesc(name: name, shape: outShape))
        graph.nodes.append(Node(name: name, op: op, inputs: ins, outputs: [t]))
        return t
    }

    func rejectExtraOutputs(_ node: NodeView, from k: Int) throws {
        // Extra outputs (mean/inv-std, training stats, masks) are left undefined; a consumer
        // would fail with "not defined". Nothing else to check here.
        _ = (node, k)
    }

    // MARK: - ops with more logic

    mutating func lowerConv(_ node: NodeView, _ inputs: [Value?]) throws {
        guard inputs.count >= 2, let xv = inputs[0], let wv = inputs[1] else { throw node.fail("needs x and weight") }
        let x = shape(xv)
        guard x.count == 4 else { throw node.fail("only 2-D convolution (4-D input) is supported, got \(x)") }
        guard case .constant(let w) = wv, w.shape.count == 4 else { throw node.fail("weight must be a constant [M, C/group, kh, kw]") }
        let group = node.int("group", default: 1)
        let m = w.shape[0], kh = w.shape[2], kw = w.shape[3]
        guard group >= 1, x[1] == w.shape[1] * group, m % group == 0 else {
            throw node.fail("input \(x), weight \(w.shape) and group \(group) disagree")
        }
        if let ks = node.ints("kernel_shape"), ks != [kh, kw] { throw node.fail("kernel_shape \(ks) disagrees with weight \(w.shape)") }
        let st = node.ints("strides") ?? [1, 1], dl = node.ints("dilations") ?? [1, 1]
        guard st.count == 2, dl.count == 2, st.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }), dl.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
            throw node.fail("bad strides \(st) or dilations \(dl)")
        }
        let pads = try windowPads(node, x: x, kernel: [kh, kw], strides: st, dilations: dl)
        let oh = windowOutput(x[2], kernel: kh, stride: st[0], dilation: dl[0], padBegin: pads[0], padEnd: pads[2], ceil: false)
        let ow = windowOutput(x[3], kernel: kw, stride: st[1], dilation: dl[1], padBegin: pads[1], padEnd: pads[3], ceil: false)
        var ins = [try id(node, inputs, 0), try id(node, inputs, 1)]
        if inputs.count > 2, let b = inputs[2] {
            guard shape(b) == [m] else { throw node.fail("bias \(shape(b)) is not [\(m)]") }
            ins.append(try id(node, inputs, 2))
        } else {
            // Bias always present: the executor and the BN/affine folding never special-case it.
            ins.append(tensorID(.constant(ConstTensor(shape: [m], floats: .init(repeating: 0, count: m))), name: node.name + "/bias"))
        }
        try emit(node, .conv(ConvAttrs(kernel: [kh, kw], strides: st, pads: pads, dilations: dl, group: group)), ins, [x[0], m, oh, ow])
    }

    /// [top, left, bottom, right] from pads / auto_pad.
    func windowPads(_ node: NodeView, x: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws -> [Int] {
        switch node.string("auto_pad", default: "NOTSET") {
        case "NOTSET", "":
            let p = node.ints("pads") ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else { throw node.fail("bad pads \(p)") }
            return p
        case "VALID": return [0, 0, 0, 0]
        case let mode where mode == "SAME_UPPER" || mode == "SAME_LOWER":
            let (t, b) = samePads(x[2], kernel: kernel[0], stride: strides[0], dilation: dilations[0], upper: mode == "SAME_UPPER")
            let (l, r) = samePads(x[3], kernel: kernel[1], stride: strides[1], dilation: dilations[1], upper: mode == "SAME_UPPER")
            return [t, l, b, r]
        case let other: throw node.fail("unknown auto_pad '\(other)'")
        }
    }

    mutating func lowerPool(_ node: NodeView, _ inputs: [Value?]) throws {
        guard let xv = inputs.first ?? nil else { throw node.fail("missing input") }
        let x = shape(xv)
        guard x.count == 4 else { throw node.fail("only 2-D pooling (4-D input) is supported, got \(x)") }
        if node.proto.output.count > 1, !node.proto.output[1].isEmpty { throw node.fail("MaxPool indices output is not supported") }
        guard let k = node.ints("kernel_shape"), k.count == 2, k.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else { throw node.fail("bad kernel_shape") }
        let st = node.ints("strides") ?? [1, 1]
        guard st.count == 2, st.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else { throw node.fail("bad strides \(st)") }
        if let d = node.ints("dilations"), d != [1, 1] { throw node.fail("dilated pooling is not supported") }
        let pads = try windowPads(node, x: x, kernel: k, strides: st, dilations: [1, 1])
        let ceil = node.int("ceil_mode", default: 0) != 0
        let oh = windowOutput(x[2], kernel: k[0], stride: st[0], dilation: 1, padBegin: pads[0], padEnd: pads[2], ceil: ceil)
        let ow = windowOutput(x[3], kernel: k[1], stride: st[1], dilation: 1, padBegin: pads[1], padEnd: pads[3], ceil: ceil)
        let attrs = PoolAttrs(kind: node.op == "MaxPool" ? .max : .average, kernel: k, strides: st, pads: pads, ceilMode: ceil,
                              countIncludePad: node.int("count_include_pad", default: 0) != 0)
        // A window covering the whole map with no padding is a global pool (CBAM's AdaptiveMaxPool2d(1)).
        let op: Op = (oh == 1 && ow == 1 && k == [x[2], x[3]] && pads == [0, 0, 0, 0]) ? .globalPool(attrs.kind) : .pool(attrs)
        try emit(node, op, [try id(node, inputs, 0)], [x[0], x[1], oh, ow])
    }

    mutating func lowerResize(_ node: NodeView, _ inputs: [Value?]) throws {
        guard let xv = inputs.first ?? nil else { throw node.fail("missing input") }
        let x = shape(xv)
        guard x.count == 4 else { throw node.fail("only 4-D Resize is supported, got \(x)") }
        let modeName = node.string("mode", default: "nearest")
        let mode: ResizeMode
        switch modeName {
        case "nearest": mode = .nearest
        case "linear", "bilinear": mode = .linear
        default: throw node.fail("Resize mode '\(modeName)' is not supported (nearest, linear)")
        }
        let ctm = node.op == "Upsample" || opset < 11 ? "asymmetric" : node.string("coordinate_transformation_mode", default: "half_pixel")
        let transform: CoordinateTransform
        switch ctm {
        case "half_pixel": transform = .halfPixel
        case "align_corners": transform = .alignCorners
        case "asymmetric": transform = .asymmetric
        case "pytorch_half_pixel": transform = .pytorchHalfPixel
        default: throw node.fail("coordinate_transformation_mode '\(ctm)' is not supported")
        }
        let nearestName = node.op == "Upsample" || opset < 11 ? "floor" : node.string("nearest_mode", default: "round_prefer_floor")
        let nearest: NearestMode
        switch nearestName {
        case "floor": nearest = .floor
        case "ceil": nearest = .ceil
        case "round_prefer_floor": nearest = .roundPreferFloor
        case "round_prefer_ceil": nearest = .roundPreferCeil
        default: throw node.fail("unknown nearest_mode '\(nearestName)'")
        }
        if node.int("antialias", default: 0) != 0 { throw node.fail("antialias is not supported") }
        if let axes = node.ints("axes"), Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) != Set(0..<4) { throw node.fail("Resize axes \(axes) are not supported") }
        func const(_ i: Int) throws -> ConstTensor? {
            guard i < inputs.count, let v = inputs[i] else { return nil }
            guard case .constant(let c) = v else { throw node.fail("input \(i) must be a compile-time constant") }
            return c.count == 0 ? nil : c
        }
        let scalesIndex = node.op == "Upsample" || opset < 11 ? 1 : 2
        var out: [Int]
        if let sizes = try const(scalesIndex + 1) {
            guard sizes.count == 4 else { throw node.fail("sizes must have 4 values") }
            out = sizes.ints.map { Int(clamping: $0) }
        } else if let scales = try const(scalesIndex) ?? node.attr("scales").map({ ConstTensor(shape: [$0.floats.count], floats: $0.floats) }) {
            let s = scales.floats
            guard s.count == 4, s.allSatisfy({ $0 > 0 && $0.isFinite && $0 < 1e6 }) else { throw node.fail("bad scales \(s)") }
            out = (0..<4).map { Int((Double(x[$0]) * Double(s[$0])).rounded(.down)) }
            // The executor derives the scale from the sizes; that matches ONNX only when in×scale is whole.
            if transform != .alignCorners, (0..<4).contains(where: { Double(x[$0]) * Double(s[$0]) != Double(out[$0]) }) {
                throw node.fail("scales \(s) on \(x) give fractional sizes; export with an explicit size instead")
            }
        } else {
            throw node.fail("neither scales nor sizes given")
        }
        guard out[0] == x[0], out[1] == x[1] else { throw node.fail("Resize may only change H and W (\(x) → \(out))") }
        try emit(node, .resize(ResizeAttrs(mode: mode, transform: transform, nearestMode: mode == .nearest ? nearest : .floor)), [try id(node, inputs, 0)], out)
    }

    mutating func lowerMatMul(_ node: NodeView, _ inputs: [Value?]) throws {
        guard inputs.count == 2, let av = inputs[0], let bv = inputs[1] else { throw node.fail("needs two inputs") }
        var a = try id(node, inputs, 0), b = try id(node, inputs, 1)
        var sa = shape(av), sb = shape(bv)
        let vecA = sa.count == 1, vecB = sb.count == 1
        // Rank-1 operands follow numpy: promote with a reshape, drop the dim again after.
        if vecA { sa = [1, sa[0]]; a = try emitTemp(node, "lhs2d", .reshape, [a], sa) }
        if vecB { sb = [sb[0], 1]; b = try emitTemp(node, "rhs2d", .reshape, [b], sb) }
        guard sa.count >= 2, sb.count >= 2, sa[sa.count - 1] == sb[sb.count - 2] else { throw node.fail("cannot multiply \(sa) × \(sb)") }
        guard let batch = broadcastShapes(Array(sa.dropLast(2)), Array(sb.dropLast(2))) else { throw node.fail("batch dims of \(sa) and \(sb) do not broadcast") }
        let out = batch + [sa[sa.count - 2], sb[sb.count - 1]]
        guard out.count <= 6 else { throw node.fail("MatMul rank \(out.count) > 6") }
        if vecA || vecB {
            var final = out
            if vecB { final.removeLast() }
            if vecA { final.remove(at: final.count - (vecB ? 1 : 2)) }
            let t = try emitTemp(node, "mm", .matMul, [a, b], out)
            try emit(node, .reshape, [t], final)
        } else {
            try emit(node, .matMul, [a, b], out)
        }
    }

    /// Standalone BatchNormalization (inference form) → per-channel y = x·a + b as Mul + Add with
    /// [C,1,1] constants; the affine-folding pass then merges it into a preceding Conv.
    mutating func lowerBatchNorm(_ node: NodeView, _ inputs: [Value?]) throws {
        guard inputs.count >= 5, let xv = inputs[0] else { throw node.fail("needs 5 inputs") }
        if node.int("training_mode", default: 0) != 0 { throw node.fail("training-mode BatchNormalization cannot be compiled") }
        let x = shape(xv)
        guard x.count >= 2 else { throw node.fail("input rank < 2") }
        let c = x[1]
        var params: [[Float]] = []
        for i in 1...4 {
            guard case .constant(let t)? = inputs[i], t.count == c else { throw node.fail("parameter \(i) must be a constant [\(c)]") }
            params.append(t.floats)
        }
        let eps = node.float("epsilon", default: 1e-5)
        // In Double: the fold should add no rounding of its own on top of the conv's.
        let ad = (0..<c).map { Double(params[0][$0]) / (Double(params[3][$0]) + Double(eps)).squareRoot() }
        let a = ad.map { Float($0) }
        let b = (0..<c).map { Float(Double(params[1][$0]) - Double(params[2][$0]) * ad[$0]) }
        let cshape = [c] + [Int](repeating: 1, count: x.count - 2)
        let at = tensorID(.constant(ConstTensor(shape: cshape, floats: a)), name: node.name + "/scale")
        let bt = tensorID(.constant(ConstTensor(shape: cshape, floats: b)), name: node.name + "/shift")
        let scaled = try emitTemp(node, "scale", .binary(.mul), [try id(node, inputs, 0), at], x)
        try emit(node, .binary(.add), [scaled, bt], x)
    }
}
