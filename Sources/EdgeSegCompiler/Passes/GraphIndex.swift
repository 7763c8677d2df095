import EdgeSegCore

/// Who produces and who consumes each tensor; rebuilt after every rewrite (graphs are a few
/// hundred nodes, so clarity beats incremental bookkeeping).
struct GraphIndex {
    var producer: [TensorID: Int] = [:]
    var consumers: [TensorID: [Int]] = [:]
    let outputs: Set<TensorID>

    init(_ g: Graph) {
        outputs = Set(g.outputs)
        for (i, n) in g.nodes.enumerated() {
            for o in n.outputs { producer[o] = i }
            for t in n.inputs { consumers[t, default: []].append(i) }
        }
    }

    /// True when `t` feeds exactly one node input and is not a graph output: the producer may
    /// absorb that consumer.
    func soleConsumer(_ t: TensorID) -> Int? {
        guard !outputs.contains(t), let c = consumers[t], c.count == 1 else { return nil }
        return c[0]
    }
}

extension Graph {
    func constantTensor(_ id: TensorID) -> ConstTensor? {
        guard let c = constants[id] else { return nil }
        let shape = tensors[id].shape
        switch c {
        case .float32(let v): return ConstTensor(shape: shape, floats: v)
        case .int64(let v): return ConstTensor(shape: shape, ints: v)
        case .int32(let v): return ConstTensor(shape: shape, ints: v.map(Int64.init))
        case .int8(let v): return ConstTensor(shape: shape, ints: v.map(Int64.init))
        case .float16(let v): return ConstTensor(shape: shape, floats: v.map(halfToFloat))
        }
    }

    /// Scalar value of a constant tensor with one element.
    func scalarConstant(_ id: TensorID) -> Float? {
        guard let c = constantTensor(id), c.count == 1 else { return nil }
        return c.floats[0]
    }

    mutating func addConstant(_ name: String, _ c: ConstTensor) -> TensorID {
        addTensor(TensorDesc(name: name, shape: c.shape, type: c.elementType), constant: c.constantData)
    }

    /// Removes the nodes at `indices` (a rewrite has already rewired around them).
    mutating func removeNodes(_ indices: Set<Int>) {
        guard !indices.isEmpty else { return }
        nodes = nodes.enumerated().filter { !indices.contains($0.offset) }.map(\.element)
    }
}
