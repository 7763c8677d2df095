import CTurboJPEG
import Glibc

public enum JPEGError: Error, Equatable, CustomStringConvertible {
    case badHeader(String)
    case tooLarge(width: Int, height: Int)
    case decodeFailed(String)
    case encodeFailed(String)

    public var description: String {
        switch self {
        case let .badHeader(s): return "JPEG header unreadable: \(s)"
        case let .tooLarge(w, h): return "JPEG \(w)x\(h) exceeds the configured maximum"
        case let .decodeFailed(s): return "JPEG decode failed: \(s)"
        case let .encodeFailed(s): return "JPEG encode failed: \(s)"
        }
    }
}

/// A decoded RGB24 image borrowed from the decoder's buffer (valid until the next decode).
public struct RGBView {
    public var width: Int
    public var height: Int
    public var pixels: UnsafePointer<UInt8>
    public var bytesPerLine: Int { width * 3 }
}

/// TurboJPEG (2.1 API: tjDecompressHeader3 / tjDecompress2) into one buffer sized at start-up.
/// Scaled decode: the IDCT shrinks by 1/2 or 1/4 (the SIMD-accelerated factors) when the
/// model input is small enough, which is cheaper than decoding full size and resizing.
/// Corrupt or truncated data (including libjpeg warnings) is an error, counted in `corruptCount`;
/// the handle is recreated after a failure so one broken frame cannot poison the next.
public final class JPEGDecoder {
    public let maxWidth: Int
    public let maxHeight: Int
    public private(set) var corruptCount: UInt64 = 0
    public private(set) var decodedCount: UInt64 = 0
    /// Scale factors tried, largest reduction first.
    public var allowedDenominators: [Int32] = [4, 2, 1]
    private var handle: tjhandle?
    private let output: UnsafeMutablePointer<UInt8>
    private let flags = CTJ_FLAG_FASTDCT | CTJ_FLAG_LIMITSCANS

    public init(maxWidth: Int = 4096, maxHeight: Int = 4096) {
        self.maxWidth = maxWidth; self.maxHeight = maxHeight
        output = .allocate(capacity: maxWidth * maxHeight * 3)
        handle = tjInitDecompress()
    }
    deinit {
        if let handle { tjDestroy(handle) }
        output.deallocate()
    }

    /// Width and height from the header, without decoding.
    public func dimensions(of jpeg: UnsafeRawBufferPointer) throws(JPEGError) -> (width: Int, height: Int) {
        guard let handle, let base = jpeg.baseAddress, jpeg.count > 4 else { throw .badHeader("empty") }
        var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
        if tjDecompressHeader3(handle, base.assumingMemoryBound(to: UInt8.self), UInt(jpeg.count), &w, &h, &sub, &cs) != 0 {
            let msg = String(cString: tjGetErrorStr2(handle))
            resetHandle()
            throw .badHeader(msg)
        }
        return (Int(w), Int(h))
    }

    /// Output size for a JPEG of `width`x`height` when every output dimension must stay at least
    /// `minScale` times the original (the scale the preprocessor will resize by).
    public func scaledSize(width: Int, height: Int, minScale: Double) -> (width: Int, height: Int, denominator: Int32) {
        for d in allowedDenominators {
            let f = tjscalingfactor(num: 1, denom: d)
            let sw = Int(ctj_scaled(Int32(width), f)), sh = Int(ctj_scaled(Int32(height), f))
            if d == 1 || (Double(sw) >= Double(width) * minScale - 1e-9 && Double(sh) >= Double(height) * minScale - 1e-9) {
                return (sw, sh, d)
            }
        }
        return (width, height, 1)
    }

    /// Decodes to RGB24, reduced by the largest allowed factor that keeps `minScale` (1 = full size).
    public func decode(_ jpeg: UnsafeRawBufferPointer, minScale: Double = 1) throws(JPEGError) -> RGBView {
        let dims: (width: Int, height: Int)
        do throws(JPEGError) { dims = try dimensions(of: jpeg) } catch { corruptCount += 1; throw error }
        guard dims.width > 0, dims.height > 0, dims.width <= maxWidth, dims.height <= maxHeight else {
            corruptCount += 1
            throw .tooLarge(width: dims.width, height: dims.height)
        }
        let out = scaledSize(width: dims.width, height: dims.height, minScale: min(minScale, 1))
        guard let handle else { corruptCount += 1; throw .decodeFailed("no TurboJPEG handle") }
        let rc = tjDecompress2(handle, jpeg.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt(jpeg.count),
                               output, Int32(out.width), Int32(out.width * 3), Int32(out.height),
                               Int32(TJPF_RGB.rawValue), flags)
        if rc != 0 {
            // tjDecompress2 also returns -1 for warnings (e.g. "premature end of data"): the image
            // is then partly grey, so the frame is treated as corrupt either way.
            let msg = String(cString: tjGetErrorStr2(handle))
            corruptCount += 1
            resetHandle()
            throw .decodeFailed(msg)
        }
        decodedCount += 1
        return RGBView(width: out.width, height: out.height, pixels: UnsafePointer(output))
    }

    private func resetHandle() {
        if let handle { tjDestroy(handle) }
        handle = tjInitDecompress()
    }
}

/// Encodes packed RGB24 to JPEG (test clips, calibration images, saved frames).
public func encodeJPEG(rgb: UnsafeRawBufferPointer, width: Int, height: Int,
                       quality: Int = 85, subsampling420: Bool = true) throws(JPEGError) -> [UInt8] {
    guard rgb.count >= width * height * 3, width > 0, height > 0 else { throw .encodeFailed("buffer too small") }
    guard let h = tjInitCompress() else { throw .encodeFailed("tjInitCompress") }
    defer { tjDestroy(h) }
    var out: UnsafeMutablePointer<UInt8>? = nil
    var size: UInt = 0
    let sub = subsampling420 ? TJSAMP_420 : TJSAMP_422
    let rc = tjCompress2(h, rgb.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(width), Int32(width * 3),
                         Int32(height), Int32(TJPF_RGB.rawValue), &out, &size, Int32(sub.rawValue),
                         Int32(quality), 0)
    defer { if let out { tjFree(out) } }
    guard rc == 0, let out else { throw .encodeFailed(String(cString: tjGetErrorStr2(h))) }
    return Array(UnsafeBufferPointer(start: out, count: Int(size)))
}
