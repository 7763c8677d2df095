// Little-endian cursor over caller-owned bytes. Both sides are bounds-checked on every
// access so a hostile length can never read or write past the buffer; neither allocates.

/// Writes little-endian fields into a fixed buffer. Sets `overflowed` instead of trapping
/// when a field does not fit, so encoders can report "too large" as a value.
public struct WireWriter {
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    public private(set) var count: Int = 0
    public private(set) var overflowed = false

    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    @inline(__always) mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer? {
        guard !overflowed, count + n <= capacity else { overflowed = true; return nil }
        let p = base + count
        count += n
        return p
    }

    public mutating func u8(_ v: UInt8) { reserve(1)?.storeBytes(of: v, as: UInt8.self) }
    public mutating func u16(_ v: UInt16) { reserve(2)?.storeBytes(of: v.littleEndian, toByteOffset: 0, as: UInt16.self) }
    public mutating func u32(_ v: UInt32) { reserve(4)?.storeBytes(of: v.littleEndian, toByteOffset: 0, as: UInt32.self) }
    public mutating func u64(_ v: UInt64) { reserve(8)?.storeBytes(of: v.littleEndian, toByteOffset: 0, as: UInt64.self) }
    public mutating func i16(_ v: Int16) { u16(UInt16(bitPattern: v)) }
    public mutating func f32(_ v: Float) { u32(v.bitPattern) }
    public mutating func zeros(_ n: Int) {
        if let p = reserve(n) { p.initializeMemory(as: UInt8.self, repeating: 0, count: n) }
    }
    public mutating func bytes(_ src: UnsafeRawBufferPointer) {
        guard src.count > 0 else { return }
        if let p = reserve(src.count) { p.copyMemory(from: src.baseAddress!, byteCount: src.count) }
    }
    /// Overwrites a u16 at an absolute offset already written (used to patch lengths).
    public mutating func patchU16(at offset: Int, _ v: UInt16) {
        precondition(offset + 2 <= count)
        (base + offset).storeBytes(of: v.littleEndian, toByteOffset: 0, as: UInt16.self)
    }
    public var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// Reads little-endian fields; `failed` latches on the first short read and every later
/// read returns zero, so a decoder checks once at the end instead of after each field.
public struct WireReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int = 0
    public private(set) var failed = false

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    @inline(__always) mutating func take(_ n: Int) -> UnsafeRawPointer? {
        guard !failed, n >= 0, offset + n <= bytes.count, let b = bytes.baseAddress else { failed = true; return nil }
        let p = b + offset
        offset += n
        return p
    }
    public mutating func u8() -> UInt8 { take(1)?.load(as: UInt8.self) ?? 0 }
    public mutating func u16() -> UInt16 { take(2).map { UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self)) } ?? 0 }
    public mutating func u32() -> UInt32 { take(4).map { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) } ?? 0 }
    public mutating func u64() -> UInt64 { take(8).map { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) } ?? 0 }
    public mutating func i16() -> Int16 { Int16(bitPattern: u16()) }
    public mutating func f32() -> Float { Float(bitPattern: u32()) }
    public mutating func skip(_ n: Int) { _ = take(n) }
    public mutating func slice(_ n: Int) -> UnsafeRawBufferPointer {
        guard let p = take(n) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: n)
    }
}
