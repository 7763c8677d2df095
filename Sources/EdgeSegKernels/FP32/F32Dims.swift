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

/// Odometer over the five outer axes of a rank-6 walk (axis 5 is the caller's inner loop), carrying
/// the offsets of two operands. Decomposing a row index costs five integer divisions (~100 cycles);
/// kernels whose rows are short (attention maps, pooled columns) spent more time there than in the
/// row itself, so a part decomposes its first row once and then steps.
public struct F32RowCursor {
    public let dims: F32Dims6, a: F32Dims6, b: F32Dims6
    public var i0 = 0, i1 = 0, i2 = 0, i3 = 0, i4 = 0
    /// Offsets of the current row in operands a and b.
    public var offA = 0, offB = 0

    @inline(__always)
    public init(dims: F32Dims6, a: F32Dims6, b: F32Dims6, row: Int) {
        self.dims = dims; self.a = a; self.b = b
        var r = row
        i4 = r % dims.d4; r /= dims.d4
        i3 = r % dims.d3; r /= dims.d3
        i2 = r % dims.d2; r /= dims.d2
        i1 = r % dims.d1; r /= dims.d1
        i0 = r
        offA = i0 * a.d0 + i1 * a.d1 + i2 * a.d2 + i3 * a.d3 + i4 * a.d4
        offB = i0 * b.d0 + i1 * b.d1 + i2 * b.d2 + i3 * b.d3 + i4 * b.d4
    }

    /// Starts at row 0 (no divisions).
    @inline(__always)
    public init(dims: F32Dims6, a: F32Dims6, b: F32Dims6) {
        self.dims = dims; self.a = a; self.b = b
    }

    @inline(__always)
    public mutating func next() {
        i4 += 1; offA += a.d4; offB += b.d4
        if i4 < dims.d4 { return }
        offA -= i4 * a.d4; offB -= i4 * b.d4; i4 = 0
        i3 += 1; offA += a.d3; offB += b.d3
        if i3 < dims.d3 { return }
        offA -= i3 * a.d3; offB -= i3 * b.d3; i3 = 0
        i2 += 1; offA += a.d2; offB += b.d2
        if i2 < dims.d2 { return }
        offA -= i2 * a.d2; offB -= i2 * b.d2; i2 = 0
        i1 += 1; offA += a.d1; offB += b.d1
        if i1 < dims.d1 { return }
        offA -= i1 * a.d1; offB -= i1 * b.d1; i1 = 0
        i0 += 1; offA += a.d0; offB += b.d0
    }
}

extension F32Dims6 {
    /// Axes 1…5 moved to 0…4 (axis 5 becomes 1): a cursor over the result steps through every
    /// index of a walk whose axis 0 is 1, e.g. the kept or the reduced axes of a reduction.
    @inline(__always)
    public var shiftedOut: F32Dims6 {
        var r = F32Dims6()
        r.d0 = d1; r.d1 = d2; r.d2 = d3; r.d3 = d4; r.d4 = d5; r.d5 = 1
        return r
    }
}
