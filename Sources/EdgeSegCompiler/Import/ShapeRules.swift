/// ONNX shape rules shared by the constant folder (which computes values) and the lowering
/// (which only needs output shapes). Every function validates what a hostile file could get wrong.

/// Reshape target: 0 copies the input dim (unless allowzero), one -1 is inferred.
func reshapeTarget(_ input: [Int], _ spec: [Int64], allowZero: Bool, node: NodeView) throws -> [Int] {
    guard spec.count <= ImportLimits.maxRank else { throw node.fail("reshape to rank \(spec.count)") }
    var out = [Int](); var inferAt: Int? = nil
    for (i, s) in spec.enumerated() {
        if s == -1 {
            guard inferAt == nil else { throw node.fail("more than one -1 in shape \(spec)") }
            inferAt = i; out.append(1)
        } else if s == 0 && !allowZero {
            guard i < input.count else { throw node.fail("0 in shape \(spec) past input rank") }
            out.append(input[i])
        } else {
            guard s >= 0, s <= Int64(ImportLimits.maxDim) else { throw node.fail("bad dim \(s) in shape \(spec)") }
            out.append(Int(s))
        }
    }
    let total = input.reduce(1, *)
    guard let known = checkedElementCount(out, allowZero: true) else { throw node.fail("hostile reshape target \(spec)") }
    if let k = inferAt {
        guard known > 0, total % known == 0 else { throw node.fail("cannot infer -1 reshaping \(input) to \(spec)") }
        out[k] = total / known
    }
    guard out.reduce(1, *) == total else { throw node.fail("reshape \(input) to \(out) changes the element count") }
    return out
}

func squeezeShape(_ input: [Int], axes: [Int]?, node: NodeView) throws -> [Int] {
    guard let axes else { return input.filter { $0 != 1 } }
    let norm = try axes.map { a -> Int in
        guard let n = normaliseAxis(a, rank: input.count), input[n] == 1 else { throw node.fail("cannot squeeze axis \(a) of \(input)") }
        return n
    }
    return input.enumerated().filter { !norm.contains($0.offset) }.map(\.element)
}

func unsqueezeShape(_ input: [Int], axes: [Int], node: NodeView) throws -> [Int] {
    let rank = input.count + axes.count
    guard rank <= ImportLimits.maxRank else { throw node.fail("unsqueeze to rank \(rank)") }
    let norm = try axes.map { a -> Int in
        guard let n = normaliseAxis(a, rank: rank) else { throw node.fail("bad unsqueeze axis \(a)") }
        return n
    }
    guard Set(norm).count == norm.count else { throw node.fail("repeated unsqueeze axes \(axes)") }
    var out = [Int](); var it = input.makeIterator()
    for i in 0..<rank { out.append(norm.contains(i) ? 1 : it.next()!) }
    return out
}

func flattenShape(_ input: [Int], axis: Int, node: NodeView) throws -> [Int] {
    let a = axis < 0 ? axis + input.count : axis
    guard (0...input.count).contains(a) else { throw node.fail("bad flatten axis \(axis)") }
    return [input[..<a].reduce(1, *), input[a...].reduce(1, *)]
}

func transposePerm(_ rank: Int, _ perm: [Int]?, node: NodeView) throws -> [Int] {
    let p = perm ?? Array((0..<rank).reversed())
    guard p.count == rank, Set(p) == Set(0..<rank) else { throw node.fail("perm \(p) is not a permutation of rank \(rank)") }
    return p
}

/// Normalised slice: for every input axis (start, step, count) following ONNX clamping rules.
struct SliceSpec { var starts: [Int]; var ends: [Int]; var axes: [Int]; var steps: [Int]; var outShape: [Int] }

func sliceSpec(_ input: [Int], starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?, node: NodeView) throws -> SliceSpec {
    let rank = input.count
    let ax = axes ?? (0..<Int64(starts.count)).map { $0 }
    let st = steps ?? [Int64](repeating: 1, count: starts.count)
    guard starts.count == ends.count, ax.count == starts.count, st.count == starts.count else {
        throw node.fail("starts/ends/axes/steps lengths differ")
    }
    var spec = SliceSpec(starts: [], ends: [], axes: [], steps: [], outShape: input)
    var seen = Set<Int>()
    for i in 0..<starts.count {
        guard let a = normaliseAxis(Int(clamping: ax[i]), rank: rank), seen.insert(a).inserted else { throw node.fail("bad slice axis \(ax[i])") }
        let dim = Int64(input[a]); let step = st[i]
        guard step != 0 else { throw node.fail("slice step 0") }
        var s = starts[i] < 0 ? starts[i] &+ dim : starts[i]
        var e = ends[i] < 0 ? ends[i] &+ dim : ends[i]
        let count: Int64
        if step > 0 {
            s = min(max(s, 0), dim); e = min(max(e, 0), dim)
            count = e > s ? (e - s + step - 1) / step : 0
        } else {
            s = min(max(s, 0), dim - 1); e = min(max(e, -1), dim - 1)
            count = s > e ? (s - e + (-step) - 1) / (-step) : 0
        }
        spec.starts.append(Int(s)); spec.ends.append(Int(e)); spec.axes.append(a); spec.steps.append(Int(clamping: step))
        spec.outShape[a] = Int(count)
    }
    return spec
}

/// Flat source index for every element of a slice (used by the folder and by Gather lowering tests).
func sliceIndex(_ input: [Int], _ spec: SliceSpec) -> [Int] {
    var start = [Int](repeating: 0, count: input.count), step = [Int](repeating: 1, count: input.count)
    for (k, a) in spec.axes.enumerated() { start[a] = spec.starts[k]; step[a] = spec.steps[k] }
    let st = strides(of: input)
    return mapIndices(spec.outShape) { idx in
        var f = 0
        for d in 0..<idx.count { f += (start[d] + idx[d] * step[d]) * st[d] }
        return f
    }
}

func transposeIndex(_ input: [Int], perm: [Int]) -> (shape: [Int], index: [Int]) {
    let out = perm.map { input[$0] }
    let st = strides(of: input)
    let permStrides = perm.map { st[$0] }
    return (out, mapIndices(out) { idx in zip(idx, permStrides).reduce(0) { $0 + $1.0 * $1.1 } })
}

/// Output length of a conv/pool window along one axis.
func windowOutput(_ input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int, ceil: Bool) -> Int {
    let eff = (kernel - 1) * dilation + 1
    let span = input + padBegin + padEnd - eff
    if span < 0 { return 0 }
    var out = (ceil ? (span + stride - 1) / stride : span / stride) + 1
    // PyTorch/ORT rule: the last window must start inside the input or the leading padding.
    if ceil && (out - 1) * stride >= input + padBegin { out -= 1 }
    return out
}

/// auto_pad SAME_UPPER / SAME_LOWER: total padding so that out = ceil(in / stride).
func samePads(_ input: Int, kernel: Int, stride: Int, dilation: Int, upper: Bool) -> (Int, Int) {
    let out = (input + stride - 1) / stride
    let total = max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - input)
    let small = total / 2
    return upper ? (small, total - small) : (total - small, small)
}
