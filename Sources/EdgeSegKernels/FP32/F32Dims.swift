// Fixed rank-6 index vectors: every layout kernel (broadcast, transpose, slice,
// pad, concat, reduce) is a strided walk over at most six axes. A value type of six
// Ints keeps descriptors trivially copyable, so the hot path never allocates.

public struct F32Dims6: Sendable, Equatable {
    public var d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0
    public init() {}
    /// Right-aligned: the last element of `values` lands on axis 5; missing leading axes get `fill`.
    public init(_ values: [Int], fill: Int) {
        precondition(values.count <= 6, "rank above 6")
        for i in 0..<6 { self[i] = fill }
        let off = 6 - values.count
        for (i, v) in values.enumerated() { self[off + i] = v }
    }
    public subscript(i: Int) -> Int {
        get {
            switch i { case 0: return d0; case 1: return d1; case 2: return d2
            case 3: return d3; case 4: return d4; default: return d5 }
        }
        set {
            switch i { case 0: d0 = newValue; case 1: d1 = newValue; case 2: d2 = newValue
            case 3: d3 = newValue; case 4: d4 = newValue; default: d5 = newValue }
        }
    }
    public var product: Int { d0 * d1 * d2 * d3 * d4 * d5 }
}

/// Row-major strides of `shape`.
public func f32ContiguousStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
    return s
}

/// Merges adjacent axes that are contiguous in every operand (or size 1), so most walks become 1–3-D.
/// `strides` holds one stride array per operand, all the same rank as `dims`.
public func f32Coalesce(dims: [Int], strides: [[Int]]) -> (dims: [Int], strides: [[Int]]) {
    var d: [Int] = []
    var s: [[Int]] = strides.map { _ in [] }
    for i in 0..<dims.count {
        if dims[i] == 1 { continue }
        if let last = d.last, strides.indices.allSatisfy({ k in s[k].last! == strides[k][i] * dims[i] }) {
            d[d.count - 1] = last * dims[i]
            for k in strides.indices { s[k][s[k].count - 1] = strides[k][i] }
            continue
        }
        d.append(dims[i])
        for k in strides.indices { s[k].append(strides[k][i]) }
    }
    if d.isEmpty { d = [1]; s = strides.map { _ in [1] } }
    return (d, s)
}
