import EdgeSegCore

// MARK: - affine folding (BatchNorm → Conv)

/// Conv → Mul/Add/Sub by a per-output-channel constant ([C,1,1], [1,C,1,1] or a scalar) folds
/// into the conv's weights and bias. The importer lowers standalone BatchNormalization to exactly
/// this Mul+Add pair, so this is the BatchNorm fold. Folded weights are new constants: a weight
/// shared by several convs (GGCA's shared MLP) is never rewritten in place.
func foldAffineIntoConv(_ g: inout Graph) -> Int {
    var count = 0
    while true {
        let idx = GraphIndex(g)
        var done = false
        for (ci, conv) in g.nodes.enumerated() {
            guard case .conv(let attrs) = conv.op, !attrs.hasResidual, attrs.activation == nil,
                  let ni = idx.soleConsumer(conv.outputs[0]) else { continue }
            let next = g.nodes[ni]
            guard case .binary(let b) = next.op, b == .mul || b == .add || b == .sub,
                  next.inputs.count == 2 else { continue }
            let convOut = conv.outputs[0]
            let otherSide = next.inputs[0] == convOut ? 1 : 0
            // x - c folds; c - x does not (it would negate the conv).
            if b == .sub && otherSide == 0 { continue }
            let cid = next.inputs[otherSide]
            guard next.inputs[1 - otherSide] == convOut, let c = g.constantTensor(cid), c.isFloat else { continue }
            let m = g.tensors[convOut].shape[1]
            let rank4 = [Int](repeating: 1, count: max(0, 4 - c.shape.count)) + c.shape
            guard rank4.count == 4, rank4[0] == 1, rank4[2] == 1, rank4[3] == 1, rank4[1] == m || rank4[1] == 1 else { continue }
            // The other operand must not broadcast the output bigger than the conv output.
            guard g.tensors[next.outputs[0]].shape == g.tensors[convOut].shape else { continue }
            let per = c.floats.count == 1 ? [Float](repeating: c.floats[0], count: m) : c.floats
            guard let w = g.constantTensor(conv.inputs[1]), let bias = g.constantTensor(conv.inputs[2]) else { continue }
            var wv = w.floats, bv = bias.floats
            let perOut = wv.count / m
            switch b {
            case .mul:
                for o in 0..<m { for k in 0..<perOut { wv[o * perOut + k] *= per[o] }; bv[o] *= per[o] }
            case .add: for o in 0..<m { bv[o] += per[o] }
            default: for o in 0..<m { bv[o] -= per[o] }
            }
            var newConv = conv
            if b == .mul { newConv.inputs[1] = g.addConstant(g.tensors[conv.inputs[1]].name + "/folded", ConstTensor(shape: w.shape, floats: wv)) }
            newConv.inputs[2] = g.addConstant(conv.name + "/bias_folded", ConstTensor(shape: [m], floats: bv))
            newConv.outputs = next.outputs
            g.nodes[ci] = newConv
            g.removeNodes([ni])
            count += 1; done = true
            break
        }
        if !done { return count }
    }
}

// MARK: - pad folding

/// Pad (constant 0, only on H and W) → Conv: the padding moves into the conv's own pads, so
/// the padded copy is never materialised. Non-zero pad values or N/C padding stay a Pad node.
func foldPadIntoConv(_ g: inout Graph) -> Int {
    var count = 0
    let idx = GraphIndex(g)
    var removed = Set<Int>()
    for (pi, pad) in g.nodes.enumerated() {
        guard case .pad(let pads, let value) = pad.op, value == 0, pads.count == 8,
              pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0,
              let ci = idx.soleConsumer(pad.outputs[0]), g.nodes[ci].inputs[0] == pad.outputs[0],
              case .conv(var a) = g.nodes[ci].op else { continue }
        // ONNX pads: [n, c, h, w] begins then ends; ConvAttrs: [top, left, bottom, right].
        a.pads = [a.pads[0] + pads[2], a.pads[1] + pads[3], a.pads[2] + pads[6], a.pads[3] + pads[7]]
        g.nodes[ci].op = .conv(a)
        g.nodes[ci].inputs[0] = pad.inputs[0]
        removed.insert(pi); count += 1
    }
    g.removeNodes(removed)
    return count
}

// MARK: - pattern recognition

/// x·sigmoid(x) → silu(x); the exporters' erf form x·0.5·(1+erf(x/√2)) → gelu(x).
func recogniseActivationPatterns(_ g: inout Graph) -> Int {
    var count = 0
    var idx = GraphIndex(g)
    var removed = Set<Int>()
    for (mi, mul) in g.nodes.enumerated() {
        guard case .binary(.mul) = mul.op, mul.inputs.count == 2 else { continue }
        for side in 0..<2 {
            let s = mul.inputs[side], x = mul.inputs[1 - side]
            guard let pi = idx.producer[s], !removed.contains(pi), case .unary(.sigmoid) = g.nodes[pi].op,
                  g.nodes[pi].inputs[0] == x, idx.soleConsumer(s) == mi,
                  g.tensors[x].shape == g.tensors[mul.outputs[0]].shape else { continue }
            g.nodes[mi] = Node(name: mul.name, op: .unary(.silu), inputs: [x], outputs: mul.outputs)
            removed.insert(pi); count += 1
            break
        }
    }
    g.removeNodes(removed); removed = []
    idx = GraphIndex(g)

    func producerOp(_ t: TensorID) -> (Int, Node)? { idx.producer[t].map { ($0, g.nodes[$0]) } }
    func isConst(_ t: TensorID, _ v: Float, tol: Float = 1e-5) -> Bool {
        guard let c = g.scalarConstant(t) else { return false }
        return Swift.abs(c - v) <= tol
    }
    /// The non-constant operand of binary `n` whose other operand is the scalar `v`.
    func operand(_ n: Node, _ op: BinaryOp, scalar v: Float, tol: Float = 1e-5) -> TensorID? {
        guard case .binary(let b) = n.op, b == op, n.inputs.count == 2 else { return nil }
        if isConst(n.inputs[1], v, tol: tol) { return n.inputs[0] }
        if op != .div, op != .sub, isConst(n.inputs[0], v, tol: tol) { return n.inputs[1] }
        return nil
    }
    for (ei, erf) in g.nodes.enumerated() {
        guard case .unary(.erf) = erf.op, let (di, div) = producerOp(erf.inputs[0]),
              idx.soleConsumer(div.outputs[0]) == ei else { continue }
        guard let x = operand(div, .div, scalar: 2.0.squareRoot().f, tol: 1e-4) ?? operand(div, .mul, scalar: (0.5).squareRoot().f, tol: 1e-4) else { continue }
        guard let ai = idx.soleConsumer(erf.outputs[0]), operand(g.nodes[ai], .add, scalar: 1) == erf.outputs[0],
              let mi = idx.soleConsumer(g.nodes[ai].outputs[0]) else { continue }
        let mul = g.nodes[mi]
        guard case .binary(.mul) = mul.op else { continue }
        let onePlus = g.nodes[ai].outputs[0]
        let other = mul.inputs[0] == onePlus ? mul.inputs[1] : mul.inputs[0]
        var dead: Set<Int> = [di, ei, ai]
        var final: Int
        if other == x, let hi = idx.soleConsumer(mul.outputs[0]), operand(g.nodes[hi], .mul, scalar: 0.5) == mul.outputs[0] {
            dead.insert(mi); final = hi                      // (x · (1+erf)) · 0.5
        } else if let (hi, half) = producerOp(other), operand(half, .mul, scalar: 0.5) == x, idx.soleConsumer(other) == mi {
            dead.insert(hi); final = mi                      // (x · 0.5) · (1+erf)
        } else { continue }
        guard g.tensors[x].shape == g.tensors[g.nodes[final].outputs[0]].shape, dead.isDisjoint(with: removed) else { continue }
        g.nodes[final] = Node(name: g.nodes[final].name, op: .unary(.gelu), inputs: [x], outputs: g.nodes[final].outputs)
        removed.formUnion(dead); count += 1
    }
    g.removeNodes(removed)
    return count
}

/// Opset < 17 exports spell LayerNorm out: mean → sub → pow 2 → mean → add ε → sqrt → div
/// (→ mul γ → add β). Nine passes over the tokens become one `.layerNorm`.
func recogniseDecomposedLayerNorm(_ g: inout Graph) -> Int {
    var count = 0
    var idx = GraphIndex(g)
    var removed = Set<Int>()
    func producer(_ t: TensorID) -> (Int, Node)? { idx.producer[t].map { ($0, g.nodes[$0]) } }
    func only(_ t: TensorID) -> (Int, Node)? { idx.soleConsumer(t).map { ($0, g.nodes[$0]) } }
    for (di, div) in g.nodes.enumerated() {
        guard case .binary(.div) = div.op, !removed.contains(di),
              let (si, sqrt) = producer(div.inputs[1]), sqrt.op == .unary(.sqrt), only(sqrt.outputs[0])?.0 == di,
              let (ei, addEps) = producer(sqrt.inputs[0]), case .binary(.add) = addEps.op, only(addEps.outputs[0])?.0 == si,
              let eps = g.scalarConstant(addEps.inputs[1]),
              let (vi, varMean) = producer(addEps.inputs[0]), case .reduce(.mean, let axes2, true) = varMean.op, only(varMean.outputs[0])?.0 == ei,
              let (pi, pow) = producer(varMean.inputs[0]), pow.op == .unary(.pow(2)), only(pow.outputs[0])?.0 == vi,
              let (bi, sub) = producer(pow.inputs[0]), case .binary(.sub) = sub.op, sub.outputs[0] == div.inputs[0],
              Set(idx.consumers[sub.outputs[0]] ?? []) == [pi, di], !idx.outputs.contains(sub.outputs[0]),
              let (mi, mean) = producer(sub.inputs[1]), case .reduce(.mean, let axes1, true) = mean.op,
              mean.inputs[0] == sub.inputs[0], only(mean.outputs[0])?.0 == bi, axes1 == axes2 else { continue }
        let x = sub.inputs[0], shape = g.tensors[x].shape
        guard let first = axes1.first, axes1 == Array(first..<shape.count) else { continue }
        let normShape = Array(shape[first...])
        var dead: Set<Int> = [mi, bi, pi, vi, ei, si, di]
        var final = di
        var scale: TensorID? = nil, bias: TensorID? = nil
        // Optional affine tail: mul by γ, add β (each a constant of the normalised shape).
        if let (ki, mul) = only(div.outputs[0]), case .binary(.mul) = mul.op {
            let other = mul.inputs[0] == div.outputs[0] ? mul.inputs[1] : mul.inputs[0]
            if g.constants[other] != nil, g.tensors[other].shape == normShape {
                scale = other; dead.insert(ki); final = ki
                if let (ai, add) = only(mul.outputs[0]), case .binary(.add) = add.op {
                    let b = add.inputs[0] == mul.outputs[0] ? add.inputs[1] : add.inputs[0]
                    if g.constants[b] != nil, g.tensors[b].shape == normShape { bias = b; dead.insert(ai); final = ai }
                }
            }
        }
        guard dead.isDisjoint(with: removed) else { continue }
        let n = normShape.reduce(1, *)
        let gamma = scale ?? g.addConstant(div.name + "/ones", ConstTensor(shape: normShape, floats: .init(repeating: 1, count: n)))
        dead.remove(final)
        g.nodes[final] = Node(name: g.nodes[final].name, op: .layerNorm(axis: first, epsilon: eps),
                              inputs: [x, gamma] + (bias.map { [$0] } ?? []), outputs: g.nodes[final].outputs)
        removed.formUnion(dead); count += 1
        idx = GraphIndex(g)
    }
    g.removeNodes(removed)
    return count
}

private extension Double { var f: Float { Float(self) } }

// MARK: - fusion

/// Conv → Add(other) with `other` the same shape: the conv takes `other` as its residual input.
func fuseResidualAdd(_ g: inout Graph) -> Int {
    var count = 0
    while true {
        let idx = GraphIndex(g)
        var fused = false
        for (ai, add) in g.nodes.enumerated() {
            guard case .binary(.add) = add.op, add.inputs.count == 2 else { continue }
            for side in 0..<2 {
                let t = add.inputs[side], other = add.inputs[1 - side]
                guard let ci = idx.producer[t], case .conv(var attrs) = g.nodes[ci].op,
                      !attrs.hasResidual, attrs.activation == nil, idx.soleConsumer(t) == ai, other != t,
                      g.constants[other] == nil,
                      g.tensors[other].shape == g.tensors[t].shape else { continue }
                attrs.hasResidual = true
                var conv = g.nodes[ci]
                conv.op = .conv(attrs)
                conv.inputs.append(other)
                conv.outputs = add.outputs
                g.nodes[ci] = conv
                g.removeNodes([ai])
                count += 1; fused = true
                break
            }
            if fused { break }
        }
        if !fused { break }
    }
    // A residual may be produced after the conv in file order; restore a valid order.
    if count > 0 { _ = sortTopologically(&g) }
    return count
}

/// Coordinate attention's two broadcast gates (GGCA: `x.view(...) * a_h * a_w`, then viewed
/// back) become one `axisScale` node on x itself: x [1,C,H,W] read once, no intermediate
/// product. The float arithmetic is the same ((x · a) · b in that order).
func fuseAxisScales(_ g: inout Graph) -> Int {
    var count = 0
    while true {
        let idx = GraphIndex(g)
        var fused = false
        for (i1, m1) in g.nodes.enumerated() where m1.op == .binary(.mul) {
            // x: the non-view tensor the first factor is a view of
            var x = m1.inputs[0]
            while let p = idx.producer[x], g.nodes[p].op == .reshape { x = g.nodes[p].inputs[0] }
            let v = g.tensors[m1.inputs[0]].shape, xs = g.tensors[x].shape
            guard xs.count == 4, xs[0] == 1, v.count >= 2, v.suffix(2) == xs.suffix(2), g.constants[x] == nil,
                  g.tensors[m1.inputs[1]].shape == Array(v.dropLast()) + [1], m1.inputs[1] != m1.inputs[0],
                  let i2 = idx.soleConsumer(m1.outputs[0]), g.nodes[i2].op == .binary(.mul),
                  g.nodes[i2].inputs[0] == m1.outputs[0],
                  g.tensors[g.nodes[i2].inputs[1]].shape == Array(v.dropLast(2)) + [1, xs[3]] else { continue }
            let (C, H, W) = (xs[1], xs[2], xs[3])
            var y = g.nodes[i2].outputs[0], drop = [i1, i2]
            if g.tensors[y].shape != xs {
                guard let r = idx.soleConsumer(y), g.nodes[r].op == .reshape, g.tensors[g.nodes[r].outputs[0]].shape == xs else { continue }
                y = g.nodes[r].outputs[0]; drop.append(r)
            }
            let a = m1.inputs[1], b = g.nodes[i2].inputs[1]
            let a4 = g.addTensor(TensorDesc(name: g.tensors[a].name + ":view", shape: [1, C, H, 1]))
            let b4 = g.addTensor(TensorDesc(name: g.tensors[b].name + ":view", shape: [1, C, 1, W]))
            let at = drop.max()!
            g.nodes[at] = Node(name: g.nodes[i2].name + ":axes", op: .axisScale, inputs: [x, a4, b4], outputs: [y])
            g.nodes.insert(contentsOf: [Node(name: m1.name + ":view", op: .reshape, inputs: [a], outputs: [a4]),
                                        Node(name: g.nodes[i2].name + ":view", op: .reshape, inputs: [b], outputs: [b4])], at: at)
            g.removeNodes(Set(drop.filter { $0 != at }))
            count += 1; fused = true
            break
        }
        if !fused { break }
    }
    return count
}

/// Conv/Gemm → activation: the activation moves into the producer's attributes.
func fuseActivations(_ g: inout Graph) -> Int {
    var count = 0
    let idx = GraphIndex(g)
    var removed = Set<Int>()
    for (ui, un) in g.nodes.enumerated() {
        guard case .unary(let u) = un.op, isFusable(u), let pi = idx.producer[un.inputs[0]],
              !removed.contains(pi), idx.soleConsumer(un.inputs[0]) == ui else { continue }
        var p = g.nodes[pi]
        switch p.op {
        case .conv(var a) where a.activation == nil: a.activation = u; p.op = .conv(a)
        case .gemm(var a) where a.activation == nil: a.activation = u; p.op = .gemm(a)
        default: continue
        }
        p.outputs = un.outputs
        g.nodes[pi] = p
        removed.insert(ui); count += 1
    }
    g.removeNodes(removed)
    return count
}

func isFusable(_ u: UnaryOp) -> Bool {
    switch u {
    case .relu, .clip, .sigmoid, .hardSwish, .silu: return true
    default: return false
    }
}

// MARK: - cleanup

/// reshape(reshape(x)) → reshape(x): only the final shape matters (row-major data never moves).
/// The exporters emit such chains around GGCA's group fold and the attention head split.
func collapseReshapes(_ g: inout Graph) -> Int {
    var count = 0
    var removed = Set<Int>()
    var idx = GraphIndex(g)
    for (i, n) in g.nodes.enumerated() where n.op == .reshape {
        guard let pi = idx.producer[n.inputs[0]], !removed.contains(pi), g.nodes[pi].op == .reshape,
              idx.soleConsumer(n.inputs[0]) == i else { continue }
        g.nodes[i].inputs = g.nodes[pi].inputs
        removed.insert(pi); count += 1
        idx = GraphIndex(g)
    }
    g.removeNodes(removed)
    return count
}

/// Drops nodes that no graph output depends on, then compacts the tensor table (unused
/// constants and intermediates go; ids are renumbered densely).
func removeDeadNodes(_ g: inout Graph) -> Int {
    var needed = Set(g.outputs)
    var keep = [Bool](repeating: false, count: g.nodes.count)
    for i in stride(from: g.nodes.count - 1, through: 0, by: -1) where g.nodes[i].outputs.contains(where: needed.contains) {
        keep[i] = true
        needed.formUnion(g.nodes[i].inputs)
    }
    let before = g.nodes.count
    g.nodes = g.nodes.enumerated().filter { keep[$0.offset] }.map(\.element)
    compactTensors(&g)
    return before - g.nodes.count
}

func compactTensors(_ g: inout Graph) {
    var used = Set(g.inputs + g.outputs)
    for n in g.nodes { used.formUnion(n.inputs); used.formUnion(n.outputs) }
    var remap: [TensorID: TensorID] = [:]
    var tensors: [TensorDesc] = []
    var constants: [TensorID: ConstantData] = [:]
    for (i, t) in g.tensors.enumerated() where used.contains(i) {
        remap[i] = tensors.count
        if let c = g.constants[i] { constants[tensors.count] = c }
        tensors.append(t)
    }
    g.tensors = tensors
    g.constants = constants
    g.inputs = g.inputs.map { remap[$0]! }
    g.outputs = g.outputs.map { remap[$0]! }
    for i in g.nodes.indices {
        g.nodes[i].inputs = g.nodes[i].inputs.map { remap[$0]! }
        g.nodes[i].outputs = g.nodes[i].outputs.map { remap[$0]! }
    }
}

/// Stable Kahn sort: nodes keep their file order unless a dependency forces otherwise.
/// Returns how many nodes moved.
func sortTopologically(_ g: inout Graph) -> Int {
    var ready = Set(g.inputs)
    ready.formUnion(g.constants.keys)
    var pending = Array(g.nodes.indices)
    var order: [Int] = []
    while !pending.isEmpty {
        guard let k = pending.firstIndex(where: { g.nodes[$0].inputs.allSatisfy(ready.contains) }) else {
            // A cycle or a dangling input: leave the rest in file order (validation reports it).
            order += pending; break
        }
        let i = pending.remove(at: k)
        order.append(i)
        ready.formUnion(g.nodes[i].outputs)
    }
    let moved = zip(order, g.nodes.indices).filter { $0 != $1 }.count
    g.nodes = order.map { g.nodes[$0] }
    return moved
}
