// The `.edgeseg` file: one self-checking blob holding the graph and its weights.
//
// Layout (all integers little-endian):
//   header, 64 bytes:
//     0  magic "EDGESEG\0"          8  u32 format version (1)      12 u32 flags (0)
//     16 u64 graph offset (64)      24 u64 graph length
//     32 u64 weights offset (64-aligned)                          40 u64 weights length
//     48 u64 file length            56 u64 FNV-1a-64 of bytes [0,56) and [64, file length)
//   graph section: tensors, constants (kind, count, offset into weights), nodes, inputs, outputs
//   weights section: each constant's payload at a 64-byte aligned offset (mmap/packing friendly)
// Loading checks magic, version, lengths, checksum, decodes with bounds checks, then runs
// validateGraph so shapes are re-derived before anything trusts them.

public let modelFileMagic: [UInt8] = Array("EDGESEG".utf8) + [0]
public let modelFileVersion: UInt32 = 1
let headerSize = 64

public func writeModelFile(_ g: Graph) -> [UInt8] {
    var w = ByteWriter()
    // Weights section first (in memory), so the graph section can name offsets.
    var weights = ByteWriter()
    var constantEntries: [(TensorID, UInt8, Int, Int)] = []
    for id in g.constants.keys.sorted() {
        let c = g.constants[id]!
        weights.align(64)
        let off = weights.bytes.count
        let kind: UInt8
        switch c {
        case .float32(let v): kind = 0; for x in v { weights.f32(x) }
        case .float16(let v): kind = 1; for x in v { weights.bytes.append(UInt8(x & 0xff)); weights.bytes.append(UInt8(x >> 8)) }
        case .int8(let v): kind = 2; for x in v { weights.u8(UInt8(bitPattern: x)) }
        case .int32(let v): kind = 3; for x in v { weights.u32(UInt32(bitPattern: x)) }
        case .int64(let v): kind = 4; for x in v { weights.u64(UInt64(bitPattern: x)) }
        }
        constantEntries.append((id, kind, c.count, off))
    }
    var gs = ByteWriter()
    gs.count(g.tensors.count)
    for t in g.tensors {
        gs.string(t.name); gs.u8(t.type.rawValue); gs.ints(t.shape)
        if let q = t.quant {
            gs.u8(1)
            gs.count(q.scale.count); for s in q.scale { gs.f32(s) }
            gs.count(q.zeroPoint.count); for z in q.zeroPoint { gs.u32(UInt32(bitPattern: z)) }
            gs.i64(q.axis ?? -1)
        } else { gs.u8(0) }
    }
    gs.count(constantEntries.count)
    for (id, kind, count, off) in constantEntries { gs.u32(UInt32(id)); gs.u8(kind); gs.u64(UInt64(count)); gs.u64(UInt64(off)) }
    gs.count(g.nodes.count)
    for n in g.nodes {
        gs.string(n.name)
        encodeOp(n.op, &gs)
        gs.count(n.inputs.count); for i in n.inputs { gs.u32(UInt32(i)) }
        gs.count(n.outputs.count); for o in n.outputs { gs.u32(UInt32(o)) }
    }
    gs.count(g.inputs.count); for i in g.inputs { gs.u32(UInt32(i)) }
    gs.count(g.outputs.count); for o in g.outputs { gs.u32(UInt32(o)) }

    w.bytes = modelFileMagic
    w.u32(modelFileVersion); w.u32(0)
    w.u64(UInt64(headerSize)); w.u64(UInt64(gs.bytes.count))
    let weightsOffset = (headerSize + gs.bytes.count + 63) / 64 * 64
    w.u64(UInt64(weightsOffset)); w.u64(UInt64(weights.bytes.count))
    w.u64(UInt64(weightsOffset + weights.bytes.count)); w.u64(0)
    w.bytes += gs.bytes
    w.align(64)
    w.bytes += weights.bytes
    let sum = fnv1a64(w.bytes, ranges: [0..<56, headerSize..<w.bytes.count])
    w.patch64(at: 56, sum)
    return w.bytes
}

/// Re-stamps the checksum (used by tests that mutate a file on purpose).
public func resealModelFile(_ bytes: inout [UInt8]) {
    guard bytes.count >= headerSize else { return }
    var w = ByteWriter(); w.bytes = bytes
    w.patch64(at: 56, fnv1a64(bytes, ranges: [0..<56, headerSize..<bytes.count]))
    bytes = w.bytes
}

public func readModelFile(_ bytes: [UInt8]) throws -> Graph {
    guard bytes.count >= headerSize else { throw ModelFileError("file is \(bytes.count) bytes, shorter than the 64-byte header") }
    guard Array(bytes[0..<8]) == modelFileMagic else { throw ModelFileError("not an .edgeseg file (bad magic)") }
    var h = ByteReader(bytes, from: 8, to: headerSize)
    let version = try h.u32()
    guard version == modelFileVersion else { throw ModelFileError("format version \(version); this runtime reads version \(modelFileVersion)") }
    _ = try h.u32()
    let graphOffset = try h.u64(), graphLength = try h.u64()
    let weightsOffset = try h.u64(), weightsLength = try h.u64()
    let fileLength = try h.u64(), stored = try h.u64()
    guard fileLength == UInt64(bytes.count) else {
        throw ModelFileError("file is \(bytes.count) bytes but the header says \(fileLength) (truncated or padded)")
    }
    guard graphOffset == UInt64(headerSize), graphLength <= fileLength - graphOffset,
          weightsOffset % 64 == 0, weightsOffset >= graphOffset + graphLength,
          weightsOffset <= fileLength, weightsLength == fileLength - weightsOffset else {
        throw ModelFileError("section table is inconsistent")
    }
    let sum = fnv1a64(bytes, ranges: [0..<56, headerSize..<bytes.count])
    guard sum == stored else { throw ModelFileError("checksum mismatch (file corrupted)") }

    let wBase = Int(weightsOffset), wLen = Int(weightsLength)
    var r = ByteReader(bytes, from: Int(graphOffset), to: Int(graphOffset + graphLength))
    var g = Graph()
    let nt = try r.count("tensor count", minBytes: 10, max: 1 << 20)
    for _ in 0..<nt {
        let name = try r.string("tensor name")
        guard let type = ElementType(rawValue: try r.u8("type")) else { throw ModelFileError("unknown element type") }
        let shape = try r.ints("shape", max: maxTensorRank)
        var quant: QuantParams? = nil
        if try r.bool("has quant") {
            let ns = try r.count("scales", minBytes: 4)
            var sc: [Float] = []; for _ in 0..<ns { sc.append(try r.f32()) }
            let nz = try r.count("zero points", minBytes: 4)
            var zp: [Int32] = []; for _ in 0..<nz { zp.append(Int32(bitPattern: try r.u32())) }
            let axis = try r.attr("quant axis")
            quant = QuantParams(scale: sc, zeroPoint: zp, axis: axis < 0 ? nil : axis)
        }
        g.tensors.append(TensorDesc(name: name, shape: shape, type: type, quant: quant))
    }
    let nc = try r.count("constant count", minBytes: 21)
    for _ in 0..<nc {
        let id = Int(try r.u32("constant tensor"))
        let kind = try r.u8("constant kind")
        let count = try r.u64("constant count"), off = try r.u64("constant offset")
        guard id < nt, g.constants[id] == nil else { throw ModelFileError("constant for tensor \(id) unknown or repeated") }
        let elem: Int
        switch kind { case 0, 3: elem = 4; case 1: elem = 2; case 2: elem = 1; case 4: elem = 8
        default: throw ModelFileError("unknown constant kind \(kind)") }
        guard count <= UInt64(maxTensorElements), off <= UInt64(wLen), off % 64 == 0,
              Int(count) * elem <= wLen - Int(off) else {
            throw ModelFileError("constant for tensor \(id) lies outside the weights section")
        }
        g.constants[id] = decodeConstant(bytes, at: wBase + Int(off), count: Int(count), kind: kind)
    }
    let nn = try r.count("node count", minBytes: 14)
    for _ in 0..<nn {
        let name = try r.string("node name")
        let op = try decodeOp(&r)
        let ni = try r.count("node inputs", minBytes: 4, max: 4096)
        var ins: [TensorID] = []; for _ in 0..<ni { ins.append(Int(try r.u32("input id"))) }
        let no = try r.count("node outputs", minBytes: 4, max: 4096)
        var outs: [TensorID] = []; for _ in 0..<no { outs.append(Int(try r.u32("output id"))) }
        g.nodes.append(Node(name: name, op: op, inputs: ins, outputs: outs))
    }
    let gi = try r.count("graph inputs", minBytes: 4, max: 4096)
    for _ in 0..<gi { g.inputs.append(Int(try r.u32("graph input"))) }
    let go = try r.count("graph outputs", minBytes: 4, max: 4096)
    for _ in 0..<go { g.outputs.append(Int(try r.u32("graph output"))) }
    guard r.remaining == 0 else { throw ModelFileError("\(r.remaining) unexpected bytes after the graph") }
    do { try validateGraph(g) } catch let e as GraphError { throw ModelFileError(e.description) }
    return g
}

private func decodeConstant(_ b: [UInt8], at o: Int, count: Int, kind: UInt8) -> ConstantData {
    b.withUnsafeBytes { raw in
        let p = raw.baseAddress! + o
        switch kind {
        case 0: return .float32((0..<count).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) })
        case 1: return .float16((0..<count).map { UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) })
        case 2: return .int8((0..<count).map { Int8(bitPattern: p.load(fromByteOffset: $0, as: UInt8.self)) })
        case 3: return .int32((0..<count).map { Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) })
        default: return .int64((0..<count).map { Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) })
        }
    }
}

// MARK: op encoding (tag byte, then the attributes in declaration order)

private func encodeUnary(_ u: UnaryOp?, _ w: inout ByteWriter) {
    guard let u else { w.u8(0); return }
    switch u {
    case .relu: w.u8(1)
    case .clip(let lo, let hi): w.u8(2); w.f32(lo); w.f32(hi)
    case .sigmoid: w.u8(3)
    case .hardSigmoid(let a, let b): w.u8(4); w.f32(a); w.f32(b)
    case .hardSwish: w.u8(5)
    case .silu: w.u8(6)
    case .gelu: w.u8(7)
    case .erf: w.u8(8)
    case .sqrt: w.u8(9)
    case .exp: w.u8(10)
    case .tanh: w.u8(11)
    case .neg: w.u8(12)
    case .abs: w.u8(13)
    case .reciprocal: w.u8(14)
    case .pow(let e): w.u8(15); w.f32(e)
    }
}

private func decodeUnary(_ r: inout ByteReader) throws -> UnaryOp? {
    switch try r.u8("unary tag") {
    case 0: return nil
    case 1: return .relu
    case 2: return .clip(min: try r.f32(), max: try r.f32())
    case 3: return .sigmoid
    case 4: return .hardSigmoid(alpha: try r.f32(), beta: try r.f32())
    case 5: return .hardSwish
    case 6: return .silu
    case 7: return .gelu
    case 8: return .erf
    case 9: return .sqrt
    case 10: return .exp
    case 11: return .tanh
    case 12: return .neg
    case 13: return .abs
    case 14: return .reciprocal
    case 15: return .pow(try r.f32())
    case let t: throw ModelFileError("unknown unary op tag \(t)")
    }
}

private func encodeOp(_ op: Op, _ w: inout ByteWriter) {
    switch op {
    case .conv(let a):
        w.u8(1); w.ints(a.kernel); w.ints(a.strides); w.ints(a.pads); w.ints(a.dilations); w.i64(a.group)
        w.bool(a.hasResidual); encodeUnary(a.activation, &w)
    case .gemm(let a): w.u8(2); w.bool(a.transA); w.bool(a.transB); w.f32(a.alpha); w.f32(a.beta); encodeUnary(a.activation, &w)
    case .matMul: w.u8(3)
    case .unary(let u): w.u8(4); encodeUnary(u, &w)
    case .binary(let b): w.u8(5); w.u8(b.rawValue)
    case .concat(let axis): w.u8(6); w.i64(axis)
    case .split(let axis, let sizes): w.u8(7); w.i64(axis); w.ints(sizes)
    case .slice(let s, let e, let a, let st):
        // ONNX uses ±INT64_MAX for "to the end"; clamping to ±2^31 keeps the meaning (dims <= 2^28).
        func c(_ v: [Int]) -> [Int] { v.map { max(-(1 << 31), min(1 << 31, $0)) } }
        w.u8(8); w.ints(c(s)); w.ints(c(e)); w.ints(a); w.ints(c(st))
    case .reshape: w.u8(9)
    case .transpose(let perm): w.u8(10); w.ints(perm)
    case .reduce(let r, let axes, let keep): w.u8(11); w.u8(r.rawValue); w.ints(axes); w.bool(keep)
    case .globalPool(let k): w.u8(12); w.u8(k.rawValue)
    case .pool(let a):
        w.u8(13); w.u8(a.kind.rawValue); w.ints(a.kernel); w.ints(a.strides); w.ints(a.pads); w.bool(a.ceilMode); w.bool(a.countIncludePad)
    case .resize(let a): w.u8(14); w.u8(a.mode.rawValue); w.u8(a.transform.rawValue); w.u8(a.nearestMode.rawValue)
    case .softmax(let axis): w.u8(15); w.i64(axis)
    case .layerNorm(let axis, let eps): w.u8(16); w.i64(axis); w.f32(eps)
    case .instanceNorm(let eps): w.u8(17); w.f32(eps)
    case .pad(let pads, let v): w.u8(18); w.ints(pads); w.f32(v)
    case .identity: w.u8(19)
    case .quantize: w.u8(20)
    case .dequantize: w.u8(21)
    case .axisScale: w.u8(22)
    }
}

private func decodeOp(_ r: inout ByteReader) throws -> Op {
    switch try r.u8("op tag") {
    case 1:
        let k = try r.ints("kernel"), s = try r.ints("strides"), p = try r.ints("pads"), d = try r.ints("dilations")
        let g = try r.attr("group")
        let res = try r.bool("residual")
        return .conv(ConvAttrs(kernel: k, strides: s, pads: p, dilations: d, group: g, hasResidual: res, activation: try decodeUnary(&r)))
    case 2:
        let ta = try r.bool("transA"), tb = try r.bool("transB"), al = try r.f32(), be = try r.f32()
        return .gemm(GemmAttrs(transA: ta, transB: tb, alpha: al, beta: be, activation: try decodeUnary(&r)))
    case 3: return .matMul
    case 4:
        guard let u = try decodeUnary(&r) else { throw ModelFileError("unary node without a function") }
        return .unary(u)
    case 5:
        guard let b = BinaryOp(rawValue: try r.u8()) else { throw ModelFileError("unknown binary op") }
        return .binary(b)
    case 6: return .concat(axis: try r.attr("axis"))
    case 7: return .split(axis: try r.attr("axis"), sizes: try r.ints("sizes", max: 4096))
    case 8: return .slice(starts: try r.ints("starts"), ends: try r.ints("ends"), axes: try r.ints("axes"), steps: try r.ints("steps"))
    case 9: return .reshape
    case 10: return .transpose(perm: try r.ints("perm"))
    case 11:
        guard let op = ReduceOp(rawValue: try r.u8()) else { throw ModelFileError("unknown reduce op") }
        return .reduce(op, axes: try r.ints("axes"), keepDims: try r.bool("keepDims"))
    case 12:
        guard let k = PoolKind(rawValue: try r.u8()) else { throw ModelFileError("unknown pool kind") }
        return .globalPool(k)
    case 13:
        guard let k = PoolKind(rawValue: try r.u8()) else { throw ModelFileError("unknown pool kind") }
        let ke = try r.ints("kernel"), s = try r.ints("strides"), p = try r.ints("pads")
        return .pool(PoolAttrs(kind: k, kernel: ke, strides: s, pads: p, ceilMode: try r.bool("ceil"), countIncludePad: try r.bool("countIncludePad")))
    case 14:
        guard let m = ResizeMode(rawValue: try r.u8()), let t = CoordinateTransform(rawValue: try r.u8()),
              let nm = NearestMode(rawValue: try r.u8()) else { throw ModelFileError("unknown resize mode") }
        return .resize(ResizeAttrs(mode: m, transform: t, nearestMode: nm))
    case 15: return .softmax(axis: try r.attr("axis"))
    case 16: return .layerNorm(axis: try r.attr("axis"), epsilon: try r.f32())
    case 17: return .instanceNorm(epsilon: try r.f32())
    case 18: return .pad(pads: try r.ints("pads"), value: try r.f32())
    case 19: return .identity
    case 20: return .quantize
    case 21: return .dequantize
    case 22: return .axisScale
    case let t: throw ModelFileError("unknown op tag \(t)")
    }
}
