import EdgeSegCore

/// A tensor whose value is known at compile time: initializers, Constant nodes and everything the
/// constant folder computes from them (mostly the int64 shape plumbing exporters emit).
/// Floats stay Float (what the graph stores); every integer and bool type widens to Int64.
struct ConstTensor: Equatable {
    enum Storage: Equatable { case float([Float]), int([Int64]) }
    var shape: [Int]
    var storage: Storage

    init(shape: [Int], floats: [Float]) { self.shape = shape; storage = .float(floats) }
    init(shape: [Int], ints: [Int64]) { self.shape = shape; storage = .int(ints) }
    static func scalar(_ v: Float) -> ConstTensor { ConstTensor(shape: [], floats: [v]) }
    static func vector(_ v: [Int64]) -> ConstTensor { ConstTensor(shape: [v.count], ints: v) }

    var count: Int {
        switch storage { case .float(let v): return v.count; case .int(let v): return v.count }
    }
    var isFloat: Bool { if case .float = storage { return true } else { return false } }
    var floats: [Float] {
        switch storage { case .float(let v): return v; case .int(let v): return v.map { Float($0) } }
    }
    var ints: [Int64] {
        switch storage {
        case .int(let v): return v
        case .float(let v): return v.map { $0.isFinite ? Int64(max(min($0, 9.2e18), -9.2e18)) : 0 }
        }
    }

    var constantData: ConstantData {
        switch storage { case .float(let v): return .float32(v); case .int(let v): return .int64(v) }
    }
    var elementType: ElementType { isFloat ? .float32 : .int64 }

    /// Same layout, new shape (Reshape/Squeeze/Unsqueeze/Flatten on constants).
    func reshaped(_ s: [Int]) -> ConstTensor { var t = self; t.shape = s; return t }

    /// Builds a tensor by picking source elements: `index[i]` is the flat source index of output i.
    func gathered(_ index: [Int], shape s: [Int]) -> ConstTensor {
        switch storage {
        case .float(let v): return ConstTensor(shape: s, floats: index.map { v[$0] })
        case .int(let v): return ConstTensor(shape: s, ints: index.map { v[$0] })
        }
    }
}

// MARK: - TensorProto decoding

enum ONNXDataType: Int32 {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8
    case bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16
}

func decodeTensor(_ t: Onnx_TensorProto, name: String) throws -> ConstTensor {
    let shape = t.dims.map { Int(clamping: $0) }
    guard let n = checkedElementCount(shape, allowZero: true) else {
        throw ImportError.invalidTensor(name: name, reason: "hostile or negative dims \(t.dims)")
    }
    if t.dataLocation == .external || !t.externalData.isEmpty {
        throw ImportError.invalidTensor(name: name, reason: "external data is not supported; re-export with the weights inside the .onnx file")
    }
    guard let type = ONNXDataType(rawValue: t.dataType) else {
        throw ImportError.invalidTensor(name: name, reason: "unsupported data type \(t.dataType)")
    }
    let raw = t.hasRawData ? t.rawData : nil
    func rawValues<T>(_: T.Type) throws -> [T] {
        guard let raw else { return [] }
        guard raw.count == n * MemoryLayout<T>.size else {
            throw ImportError.invalidTensor(name: name, reason: "raw_data holds \(raw.count) bytes, shape \(shape) needs \(n * MemoryLayout<T>.size)")
        }
        // One copy of the payload (weights are most of a model file): no per-element loads.
        // raw_data is little-endian, as is every target we build for.
        return [T](unsafeUninitializedCapacity: n) { dst, count in
            raw.withUnsafeBytes { src in UnsafeMutableRawBufferPointer(dst).copyMemory(from: src) }
            count = n
        }
    }
    func check(_ count: Int) throws {
        guard count == n else {
            throw ImportError.invalidTensor(name: name, reason: "holds \(count) values, shape \(shape) needs \(n)")
        }
    }
    switch type {
    case .float:
        let v = raw != nil ? try rawValues(Float.self) : t.floatData
        try check(v.count); return ConstTensor(shape: shape, floats: v)
    case .double:
        let v = raw != nil ? try rawValues(Double.self) : t.doubleData
        try check(v.count); return ConstTensor(shape: shape, floats: v.map { Float($0) })
    case .float16, .bfloat16:
        let bits: [UInt16] = raw != nil ? try rawValues(UInt16.self) : t.int32Data.map { UInt16(truncatingIfNeeded: $0) }
        try check(bits.count)
        return ConstTensor(shape: shape, floats: bits.map { type == .float16 ? halfToFloat($0) : Float(bitPattern: UInt32($0) << 16) })
    case .int64:
        let v = raw != nil ? try rawValues(Int64.self) : t.int64Data
        try check(v.count); return ConstTensor(shape: shape, ints: v)
    case .int32:
        let v = raw != nil ? try rawValues(Int32.self).map(Int64.init) : t.int32Data.map(Int64.init)
        try check(v.count); return ConstTensor(shape: shape, ints: v)
    case .int8:
        let v = raw != nil ? try rawValues(Int8.self).map(Int64.init) : t.int32Data.map { Int64(Int8(truncatingIfNeeded: $0)) }
        try check(v.count); return ConstTensor(shape: shape, ints: v)
    case .uint8, .bool:
        let v = raw != nil ? try rawValues(UInt8.self).map(Int64.init) : t.int32Data.map { Int64(UInt8(truncatingIfNeeded: $0)) }
        try check(v.count); return ConstTensor(shape: shape, ints: v)
    case .int16, .uint16:
        let v: [Int64] = raw != nil
            ? (type == .int16 ? try rawValues(Int16.self).map(Int64.init) : try rawValues(UInt16.self).map(Int64.init))
            : t.int32Data.map(Int64.init)
        try check(v.count); return ConstTensor(shape: shape, ints: v)
    case .uint32, .uint64:
        let v: [Int64] = raw != nil
            ? (type == .uint32 ? try rawValues(UInt32.self).map(Int64.init) : try rawValues(UInt64.self).map { Int64(truncatingIfNeeded: $0) })
            : t.uint64Data.map { Int64(truncatingIfNeeded: $0) }
        try check(v.count); return ConstTensor(shape: shape, ints: v)
    case .string:
        throw ImportError.invalidTensor(name: name, reason: "string tensors are not supported")
    }
}

/// IEEE binary16 → binary32 (Float16 is not available on every Swift platform we build for).
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int(h >> 10) & 0x1F
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        return Float(bitPattern: sign) + (sign != 0 ? -1 : 1) * Float(mant) * 0x1p-24
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
}

// MARK: - Shape helpers shared by the folder and the lowering

/// Numpy broadcast of two shapes, nil when incompatible.
func broadcastShapes(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

func strides(of shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
    return s
}

/// For every element of `outShape` (row-major), the flat index into a tensor of `srcShape`
/// broadcast to it.
func broadcastIndex(from srcShape: [Int], to outShape: [Int]) -> [Int] {
    let r = outShape.count
    let padded = [Int](repeating: 1, count: r - srcShape.count) + srcShape
    let srcStrides = strides(of: padded).enumerated().map { padded[$0.offset] == 1 ? 0 : $0.element }
    return mapIndices(outShape) { idx in zip(idx, srcStrides).reduce(0) { $0 + $1.0 * $1.1 } }
}

/// Calls `f` with every multi-index of `shape` in row-major order.
func mapIndices(_ shape: [Int], _ f: ([Int]) -> Int) -> [Int] {
    let n = shape.reduce(1, *)
    if n == 0 { return [] }
    var idx = [Int](repeating: 0, count: shape.count)
    var out = [Int](); out.reserveCapacity(n)
    for _ in 0..<n {
        out.append(f(idx))
        var k = shape.count - 1
        while k >= 0 { idx[k] += 1; if idx[k] < shape[k] { break }; idx[k] = 0; k -= 1 }
    }
    return out
}

func normaliseAxis(_ axis: Int, rank: Int) -> Int? {
    let a = axis < 0 ? axis + rank : axis
    return (0..<max(rank, 1)).contains(a) ? a : nil
}
