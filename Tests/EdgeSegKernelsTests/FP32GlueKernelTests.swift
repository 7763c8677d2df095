import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import EdgeSegKernels

/// The vectorised glue kernels (exp / sigmoid / SiLU lanes, broadcast binary, strided copy,
/// reductions, global pooling, table-driven resize) against their scalar twins or naive loops.
@Suite struct FP32GlueKernelTests {
    private struct Rng {
        var s: UInt64
        mutating func next() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s) >> 40) / Float(1 << 23)
        }
    }

    private static func sameBits(_ a: Float, _ b: Float) -> Bool { a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern }

    @Test func expLanesAreBitIdenticalWithScalarOverTheWholeRange() {
        var xs: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, -.nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                           .leastNonzeroMagnitude, -.leastNormalMagnitude, 88.72283, 88.72284, 88.7228, 88.0, 88.5,
                           -87.33654, -87.33655, -87.3365, -87.0, -103.9, -104, 1e-8, -1e-8, 0.34657359, -0.34657359]
        var x: Float = -120
        while x < 120 { xs.append(x); x += 0.00731 }
        var r = Rng(s: 7)
        for _ in 0..<4000 { xs.append(r.next() * 200) }
        for op in [F32Activation.exp, .sigmoid, .silu] {
            var y = [Float](repeating: 0, count: xs.count)
            f32Unary(op, xs, &y, xs.count)
            var bad = 0
            for i in xs.indices where !Self.sameBits(y[i], f32Activate(op, xs[i])) {
                bad += 1
                if bad < 5 { Issue.record("\(op)(\(xs[i])) lanes \(y[i]) scalar \(f32Activate(op, xs[i]))") }
            }
            #expect(bad == 0, "\(op): \(bad) lanes differ from the scalar function")
            // f32Unary takes the AVX-512 twin for sigmoid / SiLU where it runs: the portable lanes too
            if op != .exp {
                var p = [Float](repeating: 0, count: xs.count)
                f32Lanes8(xs, &p, xs.count, { op == .silu ? $0 * f32SigmoidLanes($0) : f32SigmoidLanes($0) },
                          { f32Activate(op, $0) })
                #expect(zip(p, xs).allSatisfy { Self.sameBits($0, f32Activate(op, $1)) }, "\(op): portable lanes")
            }
            // In place, every tail length.
            for n in 0..<20 {
                var z = Array(xs[100..<(100 + n)])
                z.withUnsafeMutableBufferPointer { p in if n > 0 { f32Unary(op, UnsafePointer(p.baseAddress!), p.baseAddress!, n) } }
                #expect(zip(z, xs[100..<(100 + n)]).allSatisfy { Self.sameBits($0, f32Activate(op, $1)) }, "\(op) n=\(n)")
            }
        }
        // Accuracy of the shared polynomial against libm in Double, over the finite range.
        var worst: Double = 0
        for v in xs where v.isFinite && v > -87 && v < 88.7 {
            let e = Double(f32Exp(v)), want = exp(Double(v))
            worst = max(worst, abs(e - want) / want)
        }
        #expect(worst < 3e-7, "exp max relative error \(worst)")
        var e = [Float](repeating: 0, count: 4)
        f32Unary(.exp, [.nan, .infinity, -.infinity, 100], &e, 4)
        #expect(e[0].isNaN && e[1] == .infinity && e[2] == 0 && e[3] == .infinity)
        f32Unary(.sigmoid, [.nan, .infinity, -.infinity, -100], &e, 4)
        #expect(e[0].isNaN && e[1] == 1 && e[2] == 0 && e[3] == 0)
    }

    @Test func otherActivationsMatchTheScalarFunction() {
        var r = Rng(s: 3)
        let xs = (0..<101).map { _ in r.next() * 10 }
        for op in [F32Activation.hardSwish, .hardSigmoid(alpha: 0.2, beta: 0.5), .relu, .clip(min: -1, max: 2), .neg, .tanh] {
            var y = [Float](repeating: 0, count: xs.count)
            f32Unary(op, xs, &y, xs.count)
            #expect(zip(y, xs).allSatisfy { abs($0 - f32Activate(op, $1)) <= 1e-7 * max(1, abs($0)) }, "\(op)")
        }
    }

    /// Every numpy broadcast pattern of a 4-D operand pair, every op, split into parts.
    @Test func broadcastBinaryMatchesNaive() {
        let out = [2, 3, 5, 19]
        let st = f32ContiguousStrides(out)
        var r = Rng(s: 11)
        for maskA in 0..<16 {
            for maskB in [0, 1, 2, 4, 8, 3, 5, 6, 9, 12, 14, 15] {
                let a = (0..<4).map { maskA & (1 << $0) != 0 ? 1 : out[$0] }
                let b = Array((0..<4).map { maskB & (1 << $0) != 0 ? 1 : out[$0] }.drop(while: { _ in maskB == 15 }))
                let av = (0..<a.reduce(1, *)).map { _ in r.next() + 3 }, bv = (0..<max(1, b.reduce(1, *))).map { _ in r.next() + 3 }
                let d = F32Broadcast(out: out, a: a, b: b.isEmpty ? [1] : b)
                let sa = f32ContiguousStrides(a), pb = b.isEmpty ? [1, 1, 1, 1] : b, sb = f32ContiguousStrides(pb)
                for op in [F32BinaryOp.add, .sub, .mul, .div, .max, .min] {
                    var want = [Float](repeating: 0, count: out.reduce(1, *))
                    for i in want.indices {
                        var ia = 0, ib = 0
                        for k in 0..<4 {
                            let j = i / st[k] % out[k]
                            if a[k] != 1 { ia += j * sa[k] }
                            if pb[k] != 1 { ib += j * sb[k] }
                        }
                        let x = av[ia], y = bv[ib]
                        switch op {
                        case .add: want[i] = x + y
                        case .sub: want[i] = x - y
                        case .mul: want[i] = x * y
                        case .div: want[i] = x / y
                        case .max: want[i] = max(x, y)
                        case .min: want[i] = min(x, y)
                        case .pow: break
                        }
                    }
                    for parts in [1, 4] {
                        var got = [Float](repeating: .nan, count: want.count)
                        for p in 0..<parts { f32Binary(op, d, av, bv, &got, part: p, parts: parts) }
                        #expect(got == want, "\(op) a\(a) b\(b) parts \(parts)")
                    }
                }
            }
        }
    }

    /// Every permutation of a 4-D transpose, slices with steps, and placing copies (concat, pad).
    @Test func stridedCopiesMatchNaive() {
        let shape = [3, 5, 2, 7]
        let x = (0..<210).map(Float.init)
        let st = f32ContiguousStrides(shape)
        func perms(_ a: [Int]) -> [[Int]] { a.count <= 1 ? [a] : a.indices.flatMap { i in perms(a.enumerated().filter { $0.offset != i }.map(\.element)).map { [a[i]] + $0 } } }
        for perm in perms([0, 1, 2, 3]) {
            let os = perm.map { shape[$0] }, ost = f32ContiguousStrides(os)
            var want = [Float](repeating: 0, count: 210)
            for i in 0..<210 {
                var src = 0
                for k in 0..<4 { src += (i / ost[k] % os[k]) * st[perm[k]] }
                want[i] = x[src]
            }
            for parts in [1, 3] {
                var got = [Float](repeating: .nan, count: 210)
                for p in 0..<parts { f32Copy(f32TransposeCopy(inShape: shape, perm: perm), x, &got, part: p, parts: parts) }
                #expect(got == want, "perm \(perm) parts \(parts)")
            }
        }
        // Slice [1:3, 0:5:2, :, 6:0:-3]-like (positive steps only here) and a concat along each axis.
        let sl = f32SliceCopy(inShape: shape, outShape: [2, 3, 2, 3], starts: [1, 0, 0, 0], steps: [1, 2, 1, 3])
        var got = [Float](repeating: .nan, count: 36)
        for p in 0..<2 { f32Copy(sl, x, &got, part: p, parts: 2) }
        var k = 0
        for a in 1..<3 { for b in stride(from: 0, to: 5, by: 2) { for c in 0..<2 { for d in stride(from: 0, to: 7, by: 3) {
            #expect(got[k] == x[a * st[0] + b * st[1] + c * st[2] + d]); k += 1 } } } }
        for axis in 0..<4 {
            var os = shape; os[axis] *= 2
            var cat = [Float](repeating: .nan, count: 420)
            for half in 0..<2 {
                var origin = [0, 0, 0, 0]; origin[axis] = half * shape[axis]
                let y = x.map { $0 + Float(half) * 1000 }
                for p in 0..<3 { f32Copy(f32PlaceCopy(inShape: shape, outShape: os, origin: origin), y, &cat, part: p, parts: 3) }
            }
            let ost = f32ContiguousStrides(os)
            var ok = true
            for i in 0..<420 {
                var src = 0, half = 0
                for k in 0..<4 {
                    var j = i / ost[k] % os[k]
                    if k == axis && j >= shape[k] { j -= shape[k]; half = 1 }
                    src += j * st[k]
                }
                ok = ok && cat[i] == x[src] + Float(half) * 1000
            }
            #expect(ok, "concat axis \(axis)")
        }
    }

    /// Every axis set of an odd-sized 4-D tensor, both walks, against the scalar reference walk.
    @Test func reductionsMatchTheScalarWalk() {
        for shape in [[2, 5, 19, 37], [1, 17, 9, 8], [3, 1, 33, 1]] {
            var r = Rng(s: 5)
            let total = shape.reduce(1, *)
            var x = (0..<total).map { _ in r.next() * 4 }
            x[7] = .nan; x[total - 3] = -.infinity     // max/min skip NaN as Swift.max/min do
            for mask in 1..<16 {
                let axes = (0..<4).filter { mask & (1 << $0) != 0 }
                let d = F32Reduce(inShape: shape, axes: axes)
                let n = d.outer.product
                for op in [F32ReduceOp.mean, .max, .min, .sum] {
                    let clean = op == .mean || op == .sum ? x.map { $0.isFinite ? $0 : 0.5 } : x
                    var want = [Float](repeating: 0, count: n), scale = want
                    f32ReduceReference(op, d, clean, &want)
                    // Sums differ from the sequential walk by reassociation: bound by the sum of magnitudes.
                    f32ReduceReference(op == .mean ? .mean : .sum, d, clean.map { $0.isFinite ? abs($0) : 1 }, &scale)
                    for parts in [1, 3] {
                        var got = [Float](repeating: .nan, count: n)
                        for p in 0..<parts { f32ReduceRun(op, d, clean, &got, part: p, parts: parts) }
                        let ok = (0..<n).allSatisfy { i in
                            let g = got[i], w = want[i]
                            if op == .max || op == .min { return g == w }
                            return abs(g - w) <= 3e-6 * scale[i]
                        }
                        #expect(ok, "\(shape) axes \(axes) \(op) parts \(parts)")
                    }
                }
            }
        }
    }

    /// The strip-pool shapes (mean / max over W and over H of [N, C, H, W] maps, the GGCA pools)
    /// through the batched row fold and the register accumulators, bit for bit against the order
    /// the previous kernels used: over W, two eight-lane accumulators per output, a scalar tail and
    /// the lane tree; over H, a sequential fold per output, means scaled by 1 / count.
    @Test func stripPoolsAreBitIdenticalWithThePerOutputFolds() {
        func op(_ o: F32ReduceOp, _ a: Float, _ b: Float) -> Float {
            switch o {
            case .max: return b >= a ? b : a
            case .min: return b < a ? b : a
            default: return a + b
            }
        }
        func rowFold(_ o: F32ReduceOp, _ p: ArraySlice<Float>, _ initial: Float) -> Float {
            let x = Array(p), n = x.count
            var v0 = [Float](repeating: initial, count: 8), v1 = v0
            var i = 0
            while i + 16 <= n { for l in 0..<8 { v0[l] = op(o, v0[l], x[i + l]); v1[l] = op(o, v1[l], x[i + 8 + l]) }; i += 16 }
            if i + 8 <= n { for l in 0..<8 { v0[l] = op(o, v0[l], x[i + l]) }; i += 8 }
            var acc = initial
            while i < n { acc = op(o, acc, x[i]); i += 1 }
            for l in 0..<8 { v0[l] = op(o, v0[l], v1[l]) }
            let h = op(o, op(o, op(o, v0[0], v0[1]), op(o, v0[2], v0[3])), op(o, op(o, v0[4], v0[5]), op(o, v0[6], v0[7])))
            return op(o, acc, h)
        }
        for shape in [[4, 7, 32, 32], [2, 3, 32, 24], [1, 5, 9, 40], [3, 2, 17, 5], [1, 3, 7, 70], [2, 2, 11, 45]] {
            var r = Rng(s: 11)
            let total = shape.reduce(1, *)
            var x = (0..<total).map { _ in r.next() * 4 }
            // Signed zeros and NaNs make max / min order-sensitive: the folds must keep the order.
            for i in stride(from: 3, to: total, by: 29) { x[i] = i % 2 == 0 ? 0 : -0.0 }
            let H = shape[2], W = shape[3], planes = shape[0] * shape[1]
            for axis in [3, 2] {
                let d = F32Reduce(inShape: shape, axes: [axis])
                for o in [F32ReduceOp.mean, .max, .min, .sum] {
                    var xs = x
                    if o == .max || o == .min { for i in stride(from: 5, to: total, by: 41) { xs[i] = .nan } }
                    let initial: Float = o == .max ? -.infinity : o == .min ? .infinity : 0
                    var want = [Float](repeating: 0, count: d.outer.product)
                    if axis == 3 {
                        for row in 0..<(planes * H) {
                            let v = rowFold(o, xs[(row * W)..<(row * W + W)], initial)
                            want[row] = o == .mean ? v * (1 / Float(W)) : v
                        }
                    } else {
                        for pl in 0..<planes {
                            for j in 0..<W {
                                var acc = initial
                                for y in 0..<H { acc = op(o, acc, xs[(pl * H + y) * W + j]) }
                                want[pl * W + j] = o == .mean ? acc * (1 / Float(H)) : acc
                            }
                        }
                    }
                    for parts in [1, 3] {
                        var got = [Float](repeating: 7, count: want.count)
                        for p in 0..<parts { f32ReduceRun(o, d, xs, &got, part: p, parts: parts) }
                        let bad = (0..<want.count).first { !Self.sameBits(got[$0], want[$0]) }
                        #expect(bad == nil, "\(shape) axis \(axis) \(o) parts \(parts) first mismatch \(bad.map { "\($0): \(got[$0]) vs \(want[$0])" } ?? "")")
                    }
                }
            }
        }
    }

    @Test func globalPoolMatchesNaive() {
        var r = Rng(s: 9)
        for size in [1, 7, 8, 15, 16, 17, 33, 100] {
            let x = (0..<(3 * size)).map { _ in r.next() }
            var mx = [Float](repeating: 0, count: 3), av = mx
            for p in 0..<2 {
                f32GlobalPool(isMax: true, x, &mx, planes: 3, planeSize: size, part: p, parts: 2)
                f32GlobalPool(isMax: false, x, &av, planes: 3, planeSize: size, part: p, parts: 2)
            }
            for p in 0..<3 {
                let s = x[(p * size)..<((p + 1) * size)]
                #expect(mx[p] == s.max()!, "max size \(size)")
                #expect(abs(av[p] - s.reduce(0, +) / Float(size)) <= 1e-6, "mean size \(size)")
            }
        }
    }

    /// The table-driven resize against the per-pixel walk: bit-identical for every mode, transform,
    /// rounding, up/down/odd ratio and part split (each part with its own scratch).
    @Test func tableResizeIsBitIdenticalWithTheScalarWalk() {
        var r = Rng(s: 13)
        let sizes = [(2, 2, 4, 4), (8, 8, 16, 16), (32, 32, 128, 128), (7, 5, 19, 23), (19, 23, 7, 5), (1, 1, 5, 3), (5, 3, 1, 1),
                     (6, 9, 18, 27), (4, 4, 4, 4), (3, 17, 7, 9)]
        for (ih, iw, oh, ow) in sizes {
            let planes = 3
            let x = (0..<(planes * ih * iw)).map { _ in r.next() }
            for linear in [true, false] {
                for t in [F32CoordinateTransform.halfPixel, .alignCorners, .asymmetric, .pytorchHalfPixel] {
                    for nm in linear ? [F32NearestRounding.floor] : [.floor, .ceil, .roundPreferFloor, .roundPreferCeil] {
                        let s = F32ResizeShape(planes: planes, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow,
                                               linear: linear, transform: t, nearest: nm)
                        var want = [Float](repeating: 0, count: planes * oh * ow)
                        f32Resize(s, x, &want)
                        for parts in [1, 2, 5] {
                            var got = [Float](repeating: .nan, count: want.count)
                            var scratch = [Float](repeating: .nan, count: f32ResizeScratchFloats(outWidth: ow) * parts)
                            scratch.withUnsafeMutableBufferPointer { sp in
                                for p in 0..<parts {
                                    f32Resize(s, x, &got, part: p, parts: parts, scratch: sp.baseAddress! + p * f32ResizeScratchFloats(outWidth: ow))
                                }
                            }
                            #expect(zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern },
                                    "\(ih)x\(iw)->\(oh)x\(ow) linear \(linear) \(t) \(nm) parts \(parts)")
                        }
                    }
                }
            }
        }
    }
}
