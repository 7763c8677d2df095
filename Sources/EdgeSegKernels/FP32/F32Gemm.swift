// Reference matrix products. Core uses OpenBLAS sgemm for the large ones
// (Kernels cannot import it); these are the oracle and the small-matrix path.

/// out[m, n] = alpha * sum_k op(A)[m, k] * op(B)[k, n]   (row-major, leading dimensions given).
/// Rows of out are split across parts.
public func f32GemmReference(m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, transA: Bool,
                             b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                             out: UnsafeMutablePointer<Float>, ldo: Int, part: Int = 0, parts: Int = 1) {
    for i in f32PartRange(m, part, parts) {
        let o = out + i * ldo
        for j in 0..<n { o[j] = 0 }
        for p in 0..<k {
            let av = alpha * (transA ? a[p * lda + i] : a[i * lda + p])
            if transB {
                for j in 0..<n { o[j] += av * b[j * ldb + p] }
            } else {
                let br = b + p * ldb
                for j in 0..<n { o[j] += av * br[j] }
            }
        }
    }
}

/// Batched MatMul with numpy broadcasting over up to 4 leading axes: out[b] = A[b] (MxK) * B[b] (KxN).
public struct F32MatMul: Sendable, Equatable {
    public var batch = F32Dims6()      // leading axes of the output, right-aligned in d2...d5
    public var aStrides = F32Dims6()   // per-batch-axis element strides of A (0 = broadcast)
    public var bStrides = F32Dims6()
    public var m = 0, n = 0, k = 0
    public init() {}
    /// Shapes of rank >= 2 (already validated); output batch = broadcast of the leading axes.
    public init(a: [Int], b: [Int], out: [Int]) {
        m = a[a.count - 2]; k = a[a.count - 1]; n = b[b.count - 1]
        let r = out.count - 2
        let ob = Array(out.prefix(r))
        func strides(_ s: [Int], _ matrix: Int) -> [Int] {
            let lead = [Int](repeating: 1, count: r - (s.count - 2)) + s.prefix(s.count - 2)
            let cs = f32ContiguousStrides(lead).map { $0 * matrix }
            return (0..<r).map { lead[$0] == 1 ? 0 : cs[$0] }
        }
        batch = F32Dims6(ob, fill: 1)
        aStrides = F32Dims6(strides(a, m * k), fill: 0)
        bStrides = F32Dims6(strides(b, k * n), fill: 0)
    }
    public var batchCount: Int { batch.product }
    /// True when every batch uses the same B and A's matrices are stored back to back in batch
    /// order: the batched product is then one (batchCount·m) × k by k × n product.
    public var stacksA: Bool {
        var inner = m * k
        for i in stride(from: 5, through: 0, by: -1) {
            if batch[i] > 1 && (bStrides[i] != 0 || aStrides[i] != inner) { return false }
            inner *= batch[i]
        }
        return true
    }
    /// Element offsets of A and B for flat batch index `i`.
    @inline(__always)
    public func offsets(_ i: Int) -> (a: Int, b: Int) {
        var r = i
        var oa = 0, ob = 0
        let i5 = r % batch.d5; r /= batch.d5; oa += i5 * aStrides.d5; ob += i5 * bStrides.d5
        let i4 = r % batch.d4; r /= batch.d4; oa += i4 * aStrides.d4; ob += i4 * bStrides.d4
        let i3 = r % batch.d3; r /= batch.d3; oa += i3 * aStrides.d3; ob += i3 * bStrides.d3
        let i2 = r % batch.d2; r /= batch.d2; oa += i2 * aStrides.d2; ob += i2 * bStrides.d2
        let i1 = r % batch.d1; r /= batch.d1; oa += i1 * aStrides.d1; ob += i1 * bStrides.d1
        oa += r * aStrides.d0; ob += r * bStrides.d0
        return (oa, ob)
    }
}

/// Reference batched matmul; whole matrices are split across parts.
public func f32MatMulReference(_ d: F32MatMul, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                               _ out: UnsafeMutablePointer<Float>, part: Int = 0, parts: Int = 1) {
    for i in f32PartRange(d.batchCount, part, parts) {
        let (oa, ob) = d.offsets(i)
        f32GemmReference(m: d.m, n: d.n, k: d.k, alpha: 1, a: a + oa, lda: d.k, transA: false,
                         b: b + ob, ldb: d.n, transB: false, out: out + i * d.m * d.n, ldo: d.n)
    }
}
