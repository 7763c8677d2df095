import EdgeSegCompiler
import EdgeSegCore
import Foundation

/// A deliberately naive scalar interpreter of the Graph IR, written from the ONNX operator
/// definitions. It is the test oracle for the importer and the passes: if import or a fusion
/// changed a model's meaning, evaluating the graph here stops matching ONNX Runtime's outputs.
/// (The runtime's executor in EdgeSegCore is checked separately against the same references.)
struct ReferenceEvaluator {
    let g: Graph
    var values: [TensorID: [Float]] = [:]

    init(_ g: Graph) {
        self.g = g
        for (id, c) in g.constants {
            switch c {
            case .float32(let v): values[id] = v
            case .int64(let v): values[id] = v.map(Float.init)
            case .int32(let v): values[id] = v.map(Float.init)
            case .int8(let v): values[id] = v.map(Float.init)
            case .float16: fatalError("fp16 constants are not produced by import")
            }
        }
    }

    static func run(_ g: Graph, _ inputs: [[Float]]) -> [[Float]] {
        var e = ReferenceEvaluator(g)
        for (id, v) in zip(g.inputs, inputs) { e.values[id] = v }
        for n in g.nodes { e.execute(n) }
        return g.outputs.map { e.values[$0]! }
    }

    func shape(_ t: TensorID) -> [Int] { g.tensors[t].shape }

    mutating func execute(_ n: Node) {
        let x = n.inputs.map { values[$0]! }
        let xs = n.inputs.map(shape)
        let os = shape(n.outputs[0])
        var out: [Float]
        switch n.op {
        case .conv(let a): out = conv(x, xs, os, a)
        case .gemm(let a): out = gemm(x, xs, a)
        case .matMul: out = matMul(x[0], xs[0], x[1], xs[1], os)
        case .unary(let u): out = x[0].map { applyUnary(u, $0) }
        case .binary(let b):
            let ai = bcast(xs[0], os), bi = bcast(xs[1], os)
            out = (0..<ai.count).map { binary(b, x[0][ai[$0]], x[1][bi[$0]]) }
        case .concat(let axis):
            let outer = os[..<axis].reduce(1, *)
            out = []
            for o in 0..<outer { for (v, s) in zip(x, xs) { let inner = s[axis...].reduce(1, *); out += v[(o * inner)..<((o + 1) * inner)] } }
        case .split(let axis, let sizes):
            let outer = xs[0][..<axis].reduce(1, *), inner = xs[0][(axis + 1)...].reduce(1, *)
            var start = 0
            for (k, s) in sizes.enumerated() {
                var part: [Float] = []
                for o in 0..<outer { part += x[0][(o * xs[0][axis] + start) * inner..<((o * xs[0][axis] + start + s) * inner)] }
                values[n.outputs[k]] = part
                start += s
            }
            return
        case .slice(let starts, _, let axes, let steps):
            var st = [Int](repeating: 0, count: xs[0].count), sp = [Int](repeating: 1, count: xs[0].count)
            for (k, a) in axes.enumerated() { st[a] = starts[k]; sp[a] = steps[k] }
            let str = strides(xs[0])
            out = indices(os).map { (idx: [Int]) -> Float in
                var f = 0
                for d in 0..<idx.count { f += (st[d] + idx[d] * sp[d]) * str[d] }
                return x[0][f]
            }
        case .reshape, .identity: out = x[0]
        case .transpose(let perm):
            let str = strides(xs[0])
            out = indices(os).map { (idx: [Int]) -> Float in
                var f = 0
                for d in 0..<idx.count { f += idx[d] * str[perm[d]] }
                return x[0][f]
            }
        case .reduce(let r, let axes, _):
            out = reduce(x[0], xs[0], axes, r)
        case .globalPool(let k):
            out = reduce(x[0], xs[0], Array(2..<xs[0].count), k == .max ? .max : .mean)
        case .pool(let a): out = pool(x[0], xs[0], os, a)
        case .resize(let a): out = resize(x[0], xs[0], os, a)
        case .softmax(let axis):
            out = x[0]
            let inner = xs[0][(axis + 1)...].reduce(1, *), d = xs[0][axis], outer = xs[0][..<axis].reduce(1, *)
            for o in 0..<outer { for i in 0..<inner {
                let idx = (0..<d).map { (o * d + $0) * inner + i }
                let m = idx.map { x[0][$0] }.max()!
                let e = idx.map { Foundation.exp(Double(x[0][$0] - m)) }
                let s = e.reduce(0, +)
                for (k, j) in idx.enumerated() { out[j] = Float(e[k] / s) }
            } }
        case .layerNorm(let axis, let eps):
            let inner = xs[0][axis...].reduce(1, *)
            out = x[0]
            let sc = bcast(xs[1], Array(xs[0][axis...])), bi = x.count > 2 ? bcast(xs[2], Array(xs[0][axis...])) : []
            for o in 0..<(x[0].count / inner) {
                let seg = (0..<inner).map { Double(x[0][o * inner + $0]) }
                let mean = seg.reduce(0, +) / Double(inner)
                let varr = seg.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(inner)
                for k in 0..<inner {
                    var y = Float((seg[k] - mean) / (varr + Double(eps)).squareRoot()) * x[1][sc[k]]
                    if x.count > 2 { y += x[2][bi[k]] }
                    out[o * inner + k] = y
                }
            }
        case .instanceNorm(let eps):
            let c = xs[0][1], hw = xs[0][2...].reduce(1, *)
            out = x[0]
            for p in 0..<(xs[0][0] * c) {
                let seg = (0..<hw).map { Double(x[0][p * hw + $0]) }
                let mean = seg.reduce(0, +) / Double(hw)
                let varr = seg.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(hw)
                for k in 0..<hw { out[p * hw + k] = Float((seg[k] - mean) / (varr + Double(eps)).squareRoot()) * x[1][p % c] + x[2][p % c] }
            }
        case .pad(let pads, let value):
            let r = xs[0].count, str = strides(xs[0])
            out = indices(os).map { idx in
                var f = 0
                for d in 0..<r { let i = idx[d] - pads[d]; if i < 0 || i >= xs[0][d] { return value }; f += i * str[d] }
                return x[0][f]
            }
        case .axisScale:
            let (C, H, W) = (xs[0][0] * xs[0][1], xs[0][2], xs[0][3])
            out = (0..<(C * H * W)).map { i in x[0][i] * x[1][i / W] * x[2][(i / (H * W)) * W + i % W] }
        case .quantize, .dequantize: fatalError("not produced by import")
        }
        values[n.outputs[0]] = out
    }

    // MARK: ops

    func conv(_ x: [[Float]], _ xs: [[Int]], _ os: [Int], _ a: ConvAttrs) -> [Float] {
        let (n, c, h, w) = (xs[0][0], xs[0][1], xs[0][2], xs[0][3])
        let (m, oh, ow) = (os[1], os[2], os[3])
        let cg = c / a.group, mg = m / a.group, kh = a.kernel[0], kw = a.kernel[1]
        var out = [Float](repeating: 0, count: n * m * oh * ow)
        for b in 0..<n { for o in 0..<m { let grp = o / mg
            for y in 0..<oh { for xx in 0..<ow {
                var acc = Double(x[2][o])
                for ci in 0..<cg { for i in 0..<kh { for j in 0..<kw {
                    let iy = y * a.strides[0] - a.pads[0] + i * a.dilations[0], ix = xx * a.strides[1] - a.pads[1] + j * a.dilations[1]
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    acc += Double(x[0][((b * c + grp * cg + ci) * h + iy) * w + ix]) * Double(x[1][((o * cg + ci) * kh + i) * kw + j])
                } } }
                let k = ((b * m + o) * oh + y) * ow + xx
                var v = Float(acc)
                if a.hasResidual { v += x[3][k] }
                if let act = a.activation { v = applyUnary(act, v) }
                out[k] = v
            } }
        } }
        return out
    }

    func gemm(_ x: [[Float]], _ xs: [[Int]], _ a: GemmAttrs) -> [Float] {
        let m = a.transA ? xs[0][1] : xs[0][0], k = a.transA ? xs[0][0] : xs[0][1]
        let nn = a.transB ? xs[1][0] : xs[1][1]
        let ci = x.count > 2 ? bcast(xs[2], [m, nn]) : []
        var out = [Float](repeating: 0, count: m * nn)
        for i in 0..<m { for j in 0..<nn {
            var acc = 0.0
            for p in 0..<k {
                let av = a.transA ? x[0][p * m + i] : x[0][i * k + p]
                let bv = a.transB ? x[1][j * k + p] : x[1][p * nn + j]
                acc += Double(av) * Double(bv)
            }
            var v = Float(acc) * a.alpha
            if x.count > 2 { v += a.beta * x[2][ci[i * nn + j]] }
            if let act = a.activation { v = applyUnary(act, v) }
            out[i * nn + j] = v
        } }
        return out
    }

    func matMul(_ a: [Float], _ sa: [Int], _ b: [Float], _ sb: [Int], _ os: [Int]) -> [Float] {
        let m = sa[sa.count - 2], k = sa[sa.count - 1], n = sb[sb.count - 1]
        let batch = Array(os.dropLast(2))
        let ai = bcast(Array(sa.dropLast(2)), batch), bi = bcast(Array(sb.dropLast(2)), batch)
        var out = [Float](repeating: 0, count: os.reduce(1, *))
        for bt in 0..<max(1, ai.count) {
            let ao = (ai.isEmpty ? 0 : ai[bt]) * m * k, bo = (bi.isEmpty ? 0 : bi[bt]) * k * n
            for i in 0..<m { for j in 0..<n {
                var acc = 0.0
                for p in 0..<k { acc += Double(a[ao + i * k + p]) * Double(b[bo + p * n + j]) }
                out[(bt * m + i) * n + j] = Float(acc)
            } }
        }
        return out
    }

    func binary(_ b: BinaryOp, _ x: Float, _ y: Float) -> Float {
        switch b {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div: return x / y
        case .max: return max(x, y)
        case .min: return min(x, y)
        case .pow: return Foundation.pow(x, y)
        }
    }

    func reduce(_ x: [Float], _ s: [Int], _ axes: [Int], _ r: ReduceOp) -> [Float] {
        let keptShape = s.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let str = strides(keptShape)
        var acc = [Double](repeating: r == .max ? -.infinity : r == .min ? .infinity : 0, count: keptShape.reduce(1, *))
        for (f, idx) in indices(s).enumerated() {
            var o = 0
            for d in 0..<idx.count where !axes.contains(d) { o += idx[d] * str[d] }
            let v = Double(x[f])
            switch r { case .max: acc[o] = max(acc[o], v); case .min: acc[o] = min(acc[o], v); default: acc[o] += v }
        }
        let count = Double(axes.map { s[$0] }.reduce(1, *))
        return acc.map { Float(r == .mean ? $0 / count : $0) }
    }

    func pool(_ x: [Float], _ s: [Int], _ os: [Int], _ a: PoolAttrs) -> [Float] {
        let (h, w) = (s[2], s[3])
        var out: [Float] = []
        for p in 0..<(s[0] * s[1]) { for y in 0..<os[2] { for xx in 0..<os[3] {
            let y0 = y * a.strides[0] - a.pads[0], x0 = xx * a.strides[1] - a.pads[1]
            var acc = a.kind == .max ? -Float.infinity : 0, cnt = 0, padded = 0
            for i in 0..<a.kernel[0] { for j in 0..<a.kernel[1] {
                let iy = y0 + i, ix = x0 + j
                if iy < h + a.pads[2] && ix < w + a.pads[3] { padded += 1 }
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                let v = x[(p * h + iy) * w + ix]
                acc = a.kind == .max ? max(acc, v) : acc + v; cnt += 1
            } }
            out.append(a.kind == .max ? acc : acc / Float(a.countIncludePad ? padded : cnt))
        } } }
        return out
    }

    func resize(_ x: [Float], _ s: [Int], _ os: [Int], _ a: ResizeAttrs) -> [Float] {
        func src(_ o: Int, _ inLen: Int, _ outLen: Int) -> Double {
            let scale = Double(outLen) / Double(inLen)
            switch a.transform {
            case .halfPixel: return (Double(o) + 0.5) / scale - 0.5
            case .pytorchHalfPixel: return outLen > 1 ? (Double(o) + 0.5) / scale - 0.5 : 0
            case .alignCorners: return outLen == 1 ? 0 : Double(o) * Double(inLen - 1) / Double(outLen - 1)
            case .asymmetric: return Double(o) / scale
            }
        }
        let (h, w, oh, ow) = (s[2], s[3], os[2], os[3])
        var out: [Float] = []
        for p in 0..<(s[0] * s[1]) { for y in 0..<oh { for xx in 0..<ow {
            let sy = src(y, h, oh), sx = src(xx, w, ow)
            if a.mode == .nearest {
                func pick(_ v: Double) -> Int {
                    switch a.nearestMode {
                    case .floor: return Int(v.rounded(.down))
                    case .ceil: return Int(v.rounded(.up))
                    case .roundPreferFloor: return v - v.rounded(.down) == 0.5 ? Int(v.rounded(.down)) : Int(v.rounded())
                    case .roundPreferCeil: return v - v.rounded(.down) == 0.5 ? Int(v.rounded(.up)) : Int(v.rounded())
                    }
                }
                let iy = min(max(pick(sy), 0), h - 1), ix = min(max(pick(sx), 0), w - 1)
                out.append(x[(p * h + iy) * w + ix])
            } else {
                let cy = min(max(sy, 0), Double(h - 1)), cx = min(max(sx, 0), Double(w - 1))
                let y0 = Int(cy), x0 = Int(cx), y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
                let fy = cy - Double(y0), fx = cx - Double(x0)
                func at(_ yy: Int, _ xq: Int) -> Double { Double(x[(p * h + yy) * w + xq]) }
                let v = (at(y0, x0) * (1 - fx) + at(y0, x1) * fx) * (1 - fy) + (at(y1, x0) * (1 - fx) + at(y1, x1) * fx) * fy
                out.append(Float(v))
            }
        } } }
        return out
    }

    // MARK: index helpers

    func strides(_ s: [Int]) -> [Int] {
        var r = [Int](repeating: 1, count: s.count)
        for i in stride(from: s.count - 2, through: 0, by: -1) { r[i] = r[i + 1] * s[i + 1] }
        return r
    }

    func indices(_ s: [Int]) -> [[Int]] {
        var out: [[Int]] = [], idx = [Int](repeating: 0, count: s.count)
        for _ in 0..<s.reduce(1, *) {
            out.append(idx)
            var k = s.count - 1
            while k >= 0 { idx[k] += 1; if idx[k] < s[k] { break }; idx[k] = 0; k -= 1 }
        }
        return out
    }

    /// Flat source index of every element of `to` when `from` is numpy-broadcast to it.
    func bcast(_ from: [Int], _ to: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: to.count - from.count) + from
        let str = strides(padded)
        return indices(to).map { (idx: [Int]) -> Int in
            var f = 0
            for d in 0..<idx.count where padded[d] != 1 { f += idx[d] * str[d] }
            return f
        }
    }
}
