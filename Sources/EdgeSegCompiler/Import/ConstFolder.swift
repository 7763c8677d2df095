import Foundation

/// Evaluates one ONNX node whose inputs are all compile-time constants. Returns nil for
/// operators it does not evaluate (they are then emitted as graph nodes with constant inputs).
/// This is where the exporters' shape plumbing (Shape→Gather→Unsqueeze→Concat→Reshape...) dies.
func foldConstantNode(_ node: NodeView, _ inputs: [ConstTensor?], opset: Int) throws -> [ConstTensor]? {
    func input(_ i: Int) throws -> ConstTensor {
        guard i < inputs.count, let t = inputs[i] else { throw node.fail("missing input \(i)") }
        return t
    }
    switch node.op {
    case "Identity", "Dropout":
        return [try input(0)]
    case "Cast":
        let x = try input(0)
        switch ONNXDataType(rawValue: Int32(clamping: node.int("to", default: 1))) {
        case .float, .double, .float16, .bfloat16: return [ConstTensor(shape: x.shape, floats: x.floats)]
        case .bool: return [ConstTensor(shape: x.shape, ints: x.floats.map { $0 != 0 ? 1 : 0 })]
        case .int64, .int32, .int16, .int8, .uint8, .uint16, .uint32, .uint64: return [ConstTensor(shape: x.shape, ints: x.ints)]
        default: throw node.fail("Cast to unsupported type \(node.int("to", default: 0))")
        }
    case "Reshape":
        let x = try input(0)
        let s = try reshapeTarget(x.shape, try input(1).ints, allowZero: node.int("allowzero", default: 0) != 0, node: node)
        return [x.reshaped(s)]
    case "Flatten":
        let x = try input(0)
        return [x.reshaped(try flattenShape(x.shape, axis: node.int("axis", default: 1), node: node))]
    case "Squeeze":
        let x = try input(0)
        let axes = inputs.count > 1 ? inputs[1]?.ints.map { Int($0) } : node.ints("axes")
        return [x.reshaped(try squeezeShape(x.shape, axes: axes, node: node))]
    case "Unsqueeze":
        let x = try input(0)
        guard let axes = inputs.count > 1 ? inputs[1]?.ints.map({ Int($0) }) : node.ints("axes") else { throw node.fail("no axes") }
        return [x.reshaped(try unsqueezeShape(x.shape, axes: axes, node: node))]
    case "Transpose":
        let x = try input(0)
        let perm = try transposePerm(x.shape.count, node.ints("perm"), node: node)
        let (s, idx) = transposeIndex(x.shape, perm: perm)
        return [x.gathered(idx, shape: s)]
    case "Concat":
        let xs = try (0..<inputs.count).map(input)
        guard let first = xs.first, let axis = normaliseAxis(node.int("axis", default: 0), rank: first.shape.count) else { throw node.fail("bad concat") }
        var shape = first.shape; shape[axis] = 0
        for x in xs {
            guard x.shape.count == first.shape.count,
                  x.shape.enumerated().allSatisfy({ $0.offset == axis || $0.element == first.shape[$0.offset] })
            else { throw node.fail("concat shapes \(xs.map(\.shape)) disagree") }
            shape[axis] += x.shape[axis]
        }
        let outer = shape[..<axis].reduce(1, *)
        if xs.allSatisfy(\.isFloat) {
            var out = [Float]()
            for o in 0..<outer { for x in xs { let inner = x.shape[axis...].reduce(1, *); out += x.floats[(o * inner)..<((o + 1) * inner)] } }
            return [ConstTensor(shape: shape, floats: out)]
        }
        var out = [Int64]()
        for o in 0..<outer { for x in xs { let inner = x.shape[axis...].reduce(1, *); out += x.ints[(o * inner)..<((o + 1) * inner)] } }
        return [ConstTensor(shape: shape, ints: out)]
    case "Gather":
        let x = try input(0), ind = try input(1)
        guard let axis = normaliseAxis(node.int("axis", default: 0), rank: x.shape.count) else { throw node.fail("bad gather axis") }
        let dim = x.shape[axis]
        let idx = try ind.ints.map { i -> Int in
            let j = i < 0 ? i &+ Int64(dim) : i
            guard j >= 0, j < Int64(dim) else { throw node.fail("gather index \(i) out of range 0..<\(dim)") }
            return Int(j)
        }
        let outShape = Array(x.shape[..<axis]) + ind.shape + Array(x.shape[(axis + 1)...])
        guard checkedElementCount(outShape, allowZero: true) != nil else { throw node.fail("gather result \(outShape) is too large") }
        let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        var flat = [Int]()
        for o in 0..<outer { for i in idx { for k in 0..<inner { flat.append((o * dim + i) * inner + k) } } }
        return [x.gathered(flat, shape: outShape)]
    case "Slice":
        let x = try input(0)
        let spec: SliceSpec
        if opset < 10 {
            spec = try sliceSpec(x.shape, starts: (node.ints("starts") ?? []).map(Int64.init), ends: (node.ints("ends") ?? []).map(Int64.init),
                                 axes: node.ints("axes")?.map(Int64.init), steps: nil, node: node)
        } else {
            spec = try sliceSpec(x.shape, starts: try input(1).ints, ends: try input(2).ints,
                                 axes: inputs.count > 3 ? inputs[3]?.ints : nil, steps: inputs.count > 4 ? inputs[4]?.ints : nil, node: node)
        }
        return [x.gathered(sliceIndex(x.shape, spec), shape: spec.outShape)]
    case "Range":
        let s = try input(0), l = try input(1), d = try input(2)
        if s.isFloat {
            let a = s.floats[0], b = l.floats[0], st = d.floats[0]
            guard st != 0 else { throw node.fail("range step 0") }
            let n = max(0, Int(((b - a) / st).rounded(.up)))
            guard n <= ImportLimits.maxElements else { throw node.fail("range of \(n) elements") }
            return [ConstTensor(shape: [n], floats: (0..<n).map { a + Float($0) * st })]
        }
        let a = s.ints[0], b = l.ints[0], st = d.ints[0]
        guard st != 0 else { throw node.fail("range step 0") }
        let span = Double(b) - Double(a)
        let n = max(0, Int(min((span / Double(st)).rounded(.up), Double(ImportLimits.maxElements + 1))))
        guard n <= ImportLimits.maxElements else { throw node.fail("range of \(n) elements") }
        return [ConstTensor(shape: [n], ints: (0..<n).map { a &+ Int64($0) &* st })]
    case "ConstantOfShape":
        let dims = try input(0).ints.map { Int(clamping: $0) }
        guard let n = checkedElementCount(dims, allowZero: true) else { throw node.fail("hostile shape \(dims)") }
        if let t = node.attr("value")?.t, let v = try? decodeTensor(t, name: node.name), v.count == 1 {
            return [v.isFloat ? ConstTensor(shape: dims, floats: .init(repeating: v.floats[0], count: n))
                              : ConstTensor(shape: dims, ints: .init(repeating: v.ints[0], count: n))]
        }
        return [ConstTensor(shape: dims, floats: .init(repeating: 0, count: n))]
    case "Expand":
        let x = try input(0)
        let target = try input(1).ints.map { Int(clamping: $0) }
        guard let out = broadcastShapes(x.shape, target), checkedElementCount(out, allowZero: true) != nil else { throw node.fail("cannot expand \(x.shape) to \(target)") }
        return [x.gathered(broadcastIndex(from: x.shape, to: out), shape: out)]
    case "Where":
        let c = try input(0), a = try input(1), b = try input(2)
        guard let s1 = broadcastShapes(c.shape, a.shape), let out = broadcastShapes(s1, b.shape) else { throw node.fail("where shapes disagree") }
        let ci = broadcastIndex(from: c.shape, to: out), ai = broadcastIndex(from: a.shape, to: out), bi = broadcastIndex(from: b.shape, to: out)
        let cv = c.ints
        if a.isFloat || b.isFloat {
            let av = a.floats, bv = b.floats
            return [ConstTensor(shape: out, floats: (0..<ci.count).map { cv[ci[$0]] != 0 ? av[ai[$0]] : bv[bi[$0]] })]
        }
        let av = a.ints, bv = b.ints
        return [ConstTensor(shape: out, ints: (0..<ci.count).map { cv[ci[$0]] != 0 ? av[ai[$0]] : bv[bi[$0]] })]
    case "Not":
        let x = try input(0)
        return [ConstTensor(shape: x.shape, ints: x.ints.map { $0 == 0 ? 1 : 0 })]
    case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Mod":
        if ["Max", "Min"].contains(node.op) && inputs.count != 2 { return nil }
        return [try foldBinary(node, try input(0), try input(1))]
    case "Neg", "Abs", "Sqrt", "Exp", "Reciprocal", "Floor", "Ceil", "Sigmoid", "Tanh", "Relu", "Erf", "Log":
        let x = try input(0)
        if !x.isFloat, ["Neg", "Abs", "Relu", "Floor", "Ceil"].contains(node.op) {
            let f: (Int64) -> Int64 = switch node.op {
            case "Neg": { 0 &- $0 }
            case "Abs": { $0 < 0 ? 0 &- $0 : $0 }
            case "Relu": { max($0, 0) }
            default: { $0 }
            }
            return [ConstTensor(shape: x.shape, ints: x.ints.map(f))]
        }
        let f: (Float) -> Float = switch node.op {
        case "Neg": { -$0 }
        case "Abs": { Swift.abs($0) }
        case "Sqrt": { $0.squareRoot() }
        case "Exp": { Foundation.exp($0) }
        case "Reciprocal": { 1 / $0 }
        case "Floor": { $0.rounded(.down) }
        case "Ceil": { $0.rounded(.up) }
        case "Sigmoid": { 1 / (1 + Foundation.exp(-$0)) }
        case "Tanh": { Foundation.tanh($0) }
        case "Relu": { max($0, 0) }
        case "Erf": { Foundation.erf($0) }
        default: { Foundation.log($0) }
        }
        return [ConstTensor(shape: x.shape, floats: x.floats.map(f))]
    default:
        return nil
    }
}

private func foldBinary(_ node: NodeView, _ a: ConstTensor, _ b: ConstTensor) throws -> ConstTensor {
    guard let out = broadcastShapes(a.shape, b.shape), checkedElementCount(out, allowZero: true) != nil else {
        throw node.fail("cannot broadcast \(a.shape) with \(b.shape)")
    }
    let ai = broadcastIndex(from: a.shape, to: out), bi = broadcastIndex(from: b.shape, to: out)
    let compare: ((Double, Double) -> Bool)? = switch node.op {
    case "Equal": { $0 == $1 }
    case "Less": { $0 < $1 }
    case "Greater": { $0 > $1 }
    case "LessOrEqual": { $0 <= $1 }
    case "GreaterOrEqual": { $0 >= $1 }
    case "And": { $0 != 0 && $1 != 0 }
    case "Or": { $0 != 0 || $1 != 0 }
    default: nil
    }
    if let compare {
        if a.isFloat || b.isFloat {
            let av = a.floats, bv = b.floats
            return ConstTensor(shape: out, ints: (0..<ai.count).map { compare(Double(av[ai[$0]]), Double(bv[bi[$0]])) ? 1 : 0 })
        }
        // Integers compare exactly (Double would merge values above 2^53, e.g. INT64_MAX sentinels).
        let av = a.ints, bv = b.ints
        let icmp: (Int64, Int64) -> Bool = switch node.op {
        case "Equal": { $0 == $1 }
        case "Less": { $0 < $1 }
        case "Greater": { $0 > $1 }
        case "LessOrEqual": { $0 <= $1 }
        case "GreaterOrEqual": { $0 >= $1 }
        case "And": { $0 != 0 && $1 != 0 }
        default: { $0 != 0 || $1 != 0 }
        }
        return ConstTensor(shape: out, ints: (0..<ai.count).map { icmp(av[ai[$0]], bv[bi[$0]]) ? 1 : 0 })
    }
    if a.isFloat || b.isFloat {
        let av = a.floats, bv = b.floats
        let f: (Float, Float) -> Float = switch node.op {
        case "Add": { $0 + $1 }
        case "Sub": { $0 - $1 }
        case "Mul": { $0 * $1 }
        case "Div": { $0 / $1 }
        case "Pow": { Foundation.pow($0, $1) }
        case "Max": { Swift.max($0, $1) }
        case "Min": { Swift.min($0, $1) }
        default: { Foundation.fmod($0, $1) }
        }
        return ConstTensor(shape: out, floats: (0..<ai.count).map { f(av[ai[$0]], bv[bi[$0]]) })
    }
    let av = a.ints, bv = b.ints
    if node.op == "Div" || node.op == "Mod", bv.contains(0) { throw node.fail("integer division by zero") }
    let f: (Int64, Int64) -> Int64 = switch node.op {
    case "Add": { $0 &+ $1 }
    case "Sub": { $0 &- $1 }
    case "Mul": { $0 &* $1 }
    // ONNX integer Div truncates toward zero, like Swift.
    case "Div": { $1 == -1 ? 0 &- $0 : $0 / $1 }
    case "Pow": { Int64(clamping: Int(Foundation.pow(Double($0), Double($1)).clamped)) }
    case "Max": { Swift.max($0, $1) }
    case "Min": { Swift.min($0, $1) }
    default: { $1 == -1 ? 0 : $0 % $1 }
    }
    return ConstTensor(shape: out, ints: (0..<ai.count).map { f(av[ai[$0]], bv[bi[$0]]) })
}

private extension Double {
    var clamped: Double { isFinite ? Swift.min(Swift.max(self, -9.2e18), 9.2e18) : 0 }
}
