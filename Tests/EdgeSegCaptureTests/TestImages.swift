@testable import EdgeSegCapture

/// Small deterministic test pictures.
enum TestImages {
    /// The synthetic rope at a given size, as owned RGB bytes.
    static func rope(width: Int, height: Int, frame: UInt64 = 7) -> [UInt8] {
        // The source renders even widths only (it rounds down): render one column more for an odd
        // width and crop. Reading width * height * 3 bytes of a rounded-down render ran past its
        // buffer (found by AddressSanitizer, tools/sanitize.sh).
        let s = SyntheticRopeSource(width: width + width % 2, height: height, fps: 0)
        // render returns a view of the source's buffer: copy it while the source is alive.
        return withExtendedLifetime(s) {
            let p = s.render(frame: frame)
            var out: [UInt8] = []
            out.reserveCapacity(width * height * 3)
            for y in 0..<height { out += UnsafeBufferPointer(start: p + y * s.width * 3, count: width * 3) }
            return out
        }
    }

    static func jpeg(width: Int, height: Int, frame: UInt64 = 7, quality: Int = 90) throws -> [UInt8] {
        let rgb = rope(width: width, height: height, frame: frame)
        return try rgb.withUnsafeBytes { try encodeJPEG(rgb: $0, width: width, height: height, quality: quality) }
    }

    static func frame(_ bytes: UnsafeRawBufferPointer, format: PixelFormat, width: Int, height: Int) -> Frame {
        let bpl = format == .yuyv ? width * 2 : (format == .rgb24 ? width * 3 : 0)
        return Frame(format: format, width: width, height: height, bytesPerLine: bpl, bytes: bytes.baseAddress!,
                     byteCount: bytes.count, sequence: 1, captureNs: 1, dequeueNs: 2)
    }

    static func yuyv(fromRGB rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 2)
        rgb.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { d in
            rgbToYUYV(rgb: s.baseAddress!, width: width, height: height, into: d.baseAddress!)
        } }
        return out
    }
}
