import EdgeSegLink

// Minimal PNG writer for class masks: 8-bit palette image, zlib stream made of *stored*
// (uncompressed) deflate blocks, so no compressor is needed. Masks are small (≤ 512²),
// so the size cost (~1 byte per pixel) is acceptable; any PNG reader opens them.

public enum PNG {
    /// Default palette: background black, wear yellow, broken wire red, further classes grey.
    public static let defaultPalette: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (255, 200, 0), (230, 20, 20), (0, 160, 255), (0, 200, 80), (200, 0, 200), (128, 128, 128),
    ]

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for chunkStart in stride(from: 0, to: bytes.count, by: 5552) {
            for i in chunkStart..<min(bytes.count, chunkStart + 5552) { a += UInt32(bytes[i]); b += a }
            a %= 65521; b %= 65521
        }
        return b << 16 | a
    }

    static func appendU32BE(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    static func chunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
        appendU32BE(&out, UInt32(data.count))
        let body = Array(type.utf8) + data
        out += body
        appendU32BE(&out, CRC32.checksum(body))
    }

    /// Encodes a `width × height` class-id image (row-major) as a palette PNG.
    public static func encodeMask(width: Int, height: Int, pixels: [UInt8],
                                  palette: [(UInt8, UInt8, UInt8)] = defaultPalette) -> [UInt8] {
        precondition(pixels.count == width * height && width > 0 && height > 0)
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = []
        appendU32BE(&ihdr, UInt32(width)); appendU32BE(&ihdr, UInt32(height))
        ihdr += [8, 3, 0, 0, 0]  // bit depth 8, colour type 3 (palette), deflate, filter 0, no interlace
        chunk(&out, "IHDR", ihdr)
        let maxClass = Int(pixels.max() ?? 0)
        var plte: [UInt8] = []
        for i in 0...maxClass { let c = palette[min(i, palette.count - 1)]; plte += [c.0, c.1, c.2] }
        chunk(&out, "PLTE", plte)
        // Raw scanlines, each prefixed with filter type 0.
        var raw: [UInt8] = []
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height { raw.append(0); raw += pixels[(y * width)..<((y + 1) * width)] }
        var z: [UInt8] = [0x78, 0x01]
        var pos = 0
        repeat {
            let n = min(65535, raw.count - pos)
            let final: UInt8 = pos + n == raw.count ? 1 : 0
            z += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            z += raw[pos..<(pos + n)]
            pos += n
        } while pos < raw.count
        appendU32BE(&z, adler32(raw))
        chunk(&out, "IDAT", z)
        chunk(&out, "IEND", [])
        return out
    }
}
