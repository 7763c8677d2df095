// Little-endian byte writer and a bounds-checked reader: every read checks the
// remaining length first, and counts are checked against it before allocating.

public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "model file: \(message)" }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func i64(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    mutating func count(_ n: Int) { u32(UInt32(n)) }
    mutating func string(_ s: String) { let u = Array(s.utf8); count(u.count); bytes += u }
    mutating func ints(_ v: [Int]) { count(v.count); for x in v { i64(x) } }
    mutating func align(_ a: Int) { while bytes.count % a != 0 { bytes.append(0) } }
    mutating func patch64(at o: Int, _ v: UInt64) { for i in 0..<8 { bytes[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
}

struct ByteReader {
    let bytes: [UInt8]
    var pos: Int
    let end: Int
    init(_ bytes: [UInt8], from: Int, to: Int) { self.bytes = bytes; pos = from; end = to }

    var remaining: Int { end - pos }
    mutating func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= remaining else { throw ModelFileError("truncated graph section reading \(what) at byte \(pos)") }
    }
    mutating func u8(_ what: String = "byte") throws -> UInt8 { try need(1, what); defer { pos += 1 }; return bytes[pos] }
    mutating func u32(_ what: String = "u32") throws -> UInt32 {
        try need(4, what)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[pos + i]) << (8 * UInt32(i)) }
        pos += 4
        return v
    }
    mutating func u64(_ what: String = "u64") throws -> UInt64 {
        try need(8, what)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return v
    }
    mutating func i64(_ what: String = "int") throws -> Int { Int(Int64(bitPattern: try u64(what))) }
    /// An attribute integer: must fit in ±2^31 so later arithmetic cannot overflow.
    mutating func attr(_ what: String) throws -> Int {
        let v = try i64(what)
        guard v >= -(1 << 31), v <= 1 << 31 else { throw ModelFileError("\(what) = \(v) out of range") }
        return v
    }
    mutating func f32(_ what: String = "float") throws -> Float { Float(bitPattern: try u32(what)) }
    mutating func bool(_ what: String) throws -> Bool {
        let b = try u8(what)
        guard b <= 1 else { throw ModelFileError("\(what): bad boolean \(b)") }
        return b == 1
    }
    /// A count of items, each at least `minBytes` long in the remaining section.
    mutating func count(_ what: String, minBytes: Int, max: Int = 1 << 24) throws -> Int {
        let n = Int(try u32(what))
        guard n <= max, n * Swift.max(minBytes, 0) <= remaining else { throw ModelFileError("\(what) = \(n) exceeds the section") }
        return n
    }
    mutating func string(_ what: String) throws -> String {
        let n = try count(what, minBytes: 1, max: 1 << 16)
        defer { pos += n }
        return String(decoding: bytes[pos..<(pos + n)], as: UTF8.self)
    }
    mutating func ints(_ what: String, max: Int = 64) throws -> [Int] {
        let n = try count(what, minBytes: 8, max: max)
        var v: [Int] = []
        v.reserveCapacity(n)
        for _ in 0..<n { v.append(try attr(what)) }
        return v
    }
}

/// FNV-1a, 64-bit, over the given byte ranges (in order).
func fnv1a64(_ bytes: [UInt8], ranges: [Range<Int>]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    bytes.withUnsafeBufferPointer { p in
        for r in ranges {
            for i in r { h = (h ^ UInt64(p[i])) &* 0x0000_0100_0000_01b3 }
        }
    }
    return h
}
