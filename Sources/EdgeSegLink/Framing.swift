// Serial framing: frame = COBS(message ‖ CRC-32 little-endian) ‖ 0x00.
// COBS removes every zero byte, so 0x00 only ever marks a frame end and the reader
// resynchronises at the next 0x00 after garbage. CRC-32 is CRC-32/ISO-HDLC (zlib's crc32:
// poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF; check value 0xCBF43926).

public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return ~c
    }
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { update(0, bytes) }
    public static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}

public enum COBS {
    /// Worst-case encoded size of `n` bytes (without the delimiter).
    public static func maxEncodedSize(_ n: Int) -> Int { n + n / 254 + 1 }

    /// Encodes `src` into `dst`; returns the encoded length, or nil if `dst` is too small.
    public static func encode(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> Int? {
        guard dst.count >= maxEncodedSize(src.count) else { return nil }
        var codeIndex = 0, out = 1
        var code: UInt8 = 1
        for b in src {
            if b == 0 {
                dst[codeIndex] = code; codeIndex = out; out += 1; code = 1
            } else {
                dst[out] = b; out += 1; code += 1
                if code == 0xFF { dst[codeIndex] = code; codeIndex = out; out += 1; code = 1 }
            }
        }
        dst[codeIndex] = code
        return out
    }

    /// Decodes in place (the output is never longer than the input). nil if malformed.
    public static func decodeInPlace(_ buf: UnsafeMutableRawBufferPointer) -> Int? {
        var read = 0, write = 0
        let n = buf.count
        while read < n {
            let code = Int(buf[read])
            if code == 0 { return nil }
            read += 1
            let end = read + code - 1
            if end > n { return nil }
            while read < end {
                let b = buf[read]
                if b == 0 { return nil }
                buf[write] = b; write += 1; read += 1
            }
            if code != 0xFF && read < n { buf[write] = 0; write += 1 }
        }
        return write
    }
}

/// Builds serial frames into a caller-owned buffer.
public func encodeSerialFrame(_ message: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer,
                              into dst: UnsafeMutableRawBufferPointer) -> Int? {
    let n = message.count
    guard scratch.count >= n + 4 else { return nil }
    if n > 0 { scratch.baseAddress!.copyMemory(from: message.baseAddress!, byteCount: n) }
    let crc = CRC32.checksum(message)
    (scratch.baseAddress! + n).storeBytes(of: crc.littleEndian, toByteOffset: 0, as: UInt32.self)
    guard let len = COBS.encode(UnsafeRawBufferPointer(rebasing: scratch[0..<(n + 4)]),
                                into: UnsafeMutableRawBufferPointer(rebasing: dst[0..<max(0, dst.count - 1)])),
          len < dst.count else { return nil }
    dst[len] = 0
    return len + 1
}

/// Incremental reader: feed raw serial bytes, get whole CRC-checked messages back.
public struct SerialDeframer {
    public struct Counters: Sendable, Equatable {
        public var frames: UInt64 = 0
        public var badCRC: UInt64 = 0
        public var badFraming: UInt64 = 0
        public var discardedBytes: UInt64 = 0
    }
    public private(set) var counters = Counters()
    private let buffer: UnsafeMutableRawBufferPointer
    private var fill = 0
    private var discarding = false

    public init(maxFrame: Int = Wire.maxSerialFrame) {
        buffer = .allocate(byteCount: maxFrame, alignment: 8)
    }
    public func deallocate() { buffer.deallocate() }

    public enum Event { case frame(UnsafeRawBufferPointer), rejected(RejectReason) }

    /// `handle` sees each decoded message (CRC stripped) or rejection; views are valid only
    /// during the call.
    public mutating func push(_ bytes: UnsafeRawBufferPointer, _ handle: (Event) -> Void) {
        for b in bytes {
            if b != 0 {
                if discarding { counters.discardedBytes += 1; continue }
                if fill == buffer.count {
                    // Longer than any valid frame: drop it and wait for the next delimiter.
                    counters.badFraming += 1; counters.discardedBytes += UInt64(fill + 1)
                    fill = 0; discarding = true
                    handle(.rejected(.badFraming))
                    continue
                }
                buffer[fill] = b; fill += 1
                continue
            }
            // Delimiter.
            if discarding { discarding = false; fill = 0; continue }
            if fill == 0 { continue }  // idle fill / leading delimiter
            let frame = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<fill])
            fill = 0
            guard let n = COBS.decodeInPlace(frame), n >= 4 else {
                counters.badFraming += 1; counters.discardedBytes += UInt64(frame.count)
                handle(.rejected(.badFraming)); continue
            }
            let body = UnsafeRawBufferPointer(rebasing: frame[0..<(n - 4)])
            let carried = UInt32(littleEndian: (frame.baseAddress! + n - 4).loadUnaligned(as: UInt32.self))
            guard CRC32.checksum(body) == carried else {
                counters.badCRC += 1; handle(.rejected(.badCRC)); continue
            }
            counters.frames += 1
            handle(.frame(body))
        }
    }
}
