// Activation arena planning: one buffer, offsets chosen from tensor lifetimes.
// Reshape/identity outputs alias their input; element-wise ops write in place when their
// input dies at that node; a float concat whose parts are contiguous slices of its output
// (batch 1 along the axis) has each part that dies there written in place, so nothing is copied. Placement is greedy by size (largest first, lowest free gap),
// as TFLite Micro's GreedyMemoryPlanner and XNNPACK do.

public struct MemoryPlan: Sendable, Equatable {
    /// Storage root of every tensor (itself, or the tensor it aliases).
    public var root: [TensorID]
    /// Byte offset of every tensor inside its root's storage (a concat part's slice; else 0).
    public var sub: [Int]
    /// Byte offset in the arena of every root that lives there (nil: constant).
    public var offset: [Int?]
    public var arenaBytes: Int
    /// What the activations would take with one buffer per tensor (no reuse, no aliasing).
    public var noReuseBytes: Int
    /// Nodes that run in place.
    public var inPlaceNodes: Int
    /// Lifetime [first, last] node index of each root (-1 = before the first node).
    public var lifetime: [ClosedRange<Int>?]
}

public let arenaAlignment = 64

@inline(__always) func alignUp(_ n: Int, _ a: Int = arenaAlignment) -> Int { (n + a - 1) / a * a }

public func planMemory(_ g: Graph, inPlace: Bool = true) -> MemoryPlan {
    let nt = g.tensors.count
    let forever = g.nodes.count
    var lastUse = [Int](repeating: -1, count: nt)
    for (i, n) in g.nodes.enumerated() { for t in n.inputs { lastUse[t] = i } }
    let readers = tensorReaders(g)
    for i in g.nodes.indices {
        if let k = int8ResizeRunsInConcat(g, i, readers: readers) { lastUse[g.nodes[i].inputs[0]] = max(lastUse[g.nodes[i].inputs[0]], k) }
    }
    for t in g.outputs { lastUse[t] = forever }
    // Graph inputs are written once by the caller and read on every run: never reuse them.
    for t in g.inputs { lastUse[t] = forever }

    var root = Array(0..<nt)
    var sub = [Int](repeating: 0, count: nt)
    var start = [Int](repeating: Int.max, count: nt)
    var end = lastUse
    for t in g.inputs { start[t] = -1 }
    var inPlaceNodes = 0
    /// Moves each part of a concat into its slice of the output: a part qualifies when its whole
    /// storage group (the part and whatever aliases it) dies at the concat and is exactly the
    /// part's size, so no later node can write through it.
    func concatInPlace(_ n: Node, axis: Int, at i: Int) {
        let y = n.outputs[0], ys = g.tensors[y].shape
        guard g.tensors[y].type == .float32, let ax = normAxis(axis, ys.count), ys[..<ax].reduce(1, *) == 1 else { return }
        var offset = 0, moved = Set<TensorID>()
        for x in n.inputs {
            defer { offset += g.tensors[x].byteCount }
            let r = root[x]
            guard g.constants[r] == nil, r != y, start[r] != -1, start[r] != Int.max, end[r] == i, !moved.contains(r),
                  g.tensors[r].byteCount == g.tensors[x].byteCount, g.tensors[x].type == .float32, sub[x] == 0 else { continue }
            moved.insert(r)
            for t in 0..<nt where root[t] == r { root[t] = y; sub[t] += offset }
            start[y] = min(start[y], start[r])
            inPlaceNodes += 1
        }
    }

    for (i, n) in g.nodes.enumerated() {
        var aliasTo: TensorID? = nil
        switch n.op {
        case .reshape, .identity:
            aliasTo = n.inputs[0]
        case .unary, .binary:
            guard inPlace else { break }
            // same shape and element type: an int8 → float activation table must not write its
            // 4-byte results over its 1-byte input
            let outShape = g.tensors[n.outputs[0]].shape, outType = g.tensors[n.outputs[0]].type
            for x in n.inputs {
                let r = root[x]
                if g.constants[r] == nil && g.tensors[x].shape == outShape && g.tensors[x].type == outType
                    && end[r] == i && start[r] != -1 {
                    aliasTo = x; inPlaceNodes += 1; break
                }
            }
        default: break
        }
        if let a = aliasTo {
            let r = root[a]
            for o in n.outputs { root[o] = r; sub[o] = sub[a]; end[r] = max(end[r], lastUse[o]) }
        } else {
            for o in n.outputs { start[o] = i; end[o] = max(lastUse[o], i) }
        }
        if inPlace, case .concat(let axis) = n.op { concatInPlace(n, axis: axis, at: i) }
    }

    struct Buffer { var id: TensorID; var size: Int; var first: Int; var last: Int }
    var buffers: [Buffer] = []
    var noReuse = 0
    for t in 0..<nt where g.constants[t] == nil {
        let defined = start[root[t]] != Int.max
        if !defined { continue }   // unused, never produced
        noReuse += alignUp(g.tensors[t].byteCount)
        if root[t] == t { buffers.append(Buffer(id: t, size: alignUp(g.tensors[t].byteCount), first: start[t], last: end[t])) }
    }
    buffers.sort { $0.size != $1.size ? $0.size > $1.size : $0.first < $1.first }
    var offset = [Int?](repeating: nil, count: nt)
    var lifetime = [ClosedRange<Int>?](repeating: nil, count: nt)
    var placed: [(off: Int, size: Int, first: Int, last: Int)] = []
    var arena = 0
    for b in buffers {
        let overlapping = placed.filter { $0.first <= b.last && b.first <= $0.last }.sorted { $0.off < $1.off }
        var candidate = 0
        for p in overlapping {
            if p.off >= candidate + b.size { break }
            candidate = max(candidate, p.off + p.size)
        }
        placed.append((candidate, b.size, b.first, b.last))
        offset[b.id] = candidate
        lifetime[b.id] = b.first...b.last
        arena = max(arena, candidate + b.size)
    }
    return MemoryPlan(root: root, sub: sub, offset: offset, arenaBytes: arena, noReuseBytes: noReuse,
                      inPlaceNodes: inPlaceNodes, lifetime: lifetime)
}
