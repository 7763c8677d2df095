import Glibc

/// A procedural steel wire rope moving through the frame, for boards without a camera and for
/// tests: twisted strands (diagonal stripes with cylindrical shading) on a dark background, a
/// worn patch (rust-brown, flattened strands) and a broken wire (a bright strand end sticking out)
/// that travel with the rope. Deterministic: frame n is always the same image.
public final class SyntheticRopeSource: FrameSource {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    public private(set) var stats = CaptureStats()
    /// Rope travel per frame in pixels.
    public var speed: Int = 6
    private let rgb: UnsafeMutablePointer<UInt8>
    private let yuyv: UnsafeMutablePointer<UInt8>
    private var pacer: Pacer
    private var index: UInt64 = 0
    private let wave: [Float]   // one period of the strand profile, 64 entries

    /// `format` is `.rgb24` or `.yuyv` (the latter exercises the camera conversion path).
    public init(width: Int = 640, height: Int = 480, fps: Double = 25, format: PixelFormat = .rgb24) {
        precondition(format != .mjpeg, "encode synthetic frames with encodeJPEG for MJPEG")
        self.width = width - width % 2; self.height = height; self.format = format
        rgb = .allocate(capacity: self.width * height * 3)
        yuyv = .allocate(capacity: self.width * height * 2)
        pacer = Pacer(fps: fps)
        wave = (0..<64).map { i in
            let t = Float(i) / 64
            // Rounded strand crowns separated by dark grooves.
            let s = sin(t * Float.pi)
            return s * s.squareRoot()
        }
    }
    deinit { rgb.deallocate(); yuyv.deallocate() }

    public var maxFrameBytes: Int { width * height * 3 }

    public func next(timeoutMs: Int) throws(CaptureError) -> Frame? {
        guard pacer.wait(timeoutMs: timeoutMs) else { return nil }
        render(frame: index)
        index += 1
        stats.frames += 1
        let now = monotonicNanoseconds()
        if format == .yuyv {
            rgbToYUYV(rgb: rgb, width: width, height: height, into: yuyv)
            return Frame(format: .yuyv, width: width, height: height, bytesPerLine: width * 2,
                         bytes: UnsafeRawPointer(yuyv), byteCount: width * height * 2,
                         sequence: index, captureNs: now, dequeueNs: now)
        }
        return Frame(format: .rgb24, width: width, height: height, bytesPerLine: width * 3,
                     bytes: UnsafeRawPointer(rgb), byteCount: width * height * 3,
                     sequence: index, captureNs: now, dequeueNs: now)
    }

    /// Renders frame `n` into the RGB buffer (public so benchmarks and tests can make stills).
    @discardableResult
    public func render(frame n: UInt64) -> UnsafePointer<UInt8> {
        let w = width, h = height
        let top = h * 28 / 100, bottom = h * 72 / 100
        let band = Float(bottom - top)
        let shift = Int(n % 1_000_000) * speed
        let period = max(h / 8, 8)
        // Defects ride with the rope: their x position advances with `shift`.
        let wearX = ((w * 3 / 4 - shift) % (2 * w) + 2 * w) % (2 * w) - w / 2
        let wearW = w / 6
        let breakX = ((w / 4 - shift) % (2 * w) + 2 * w) % (2 * w) - w / 2
        for y in 0..<h {
            let row = rgb + y * w * 3
            if y < top || y >= bottom {
                let g = UInt8(24 + (y * 16) / h)
                for x in 0..<w { row[3 * x] = g; row[3 * x + 1] = g; row[3 * x + 2] = g &+ 4 }
                continue
            }
            let v = (Float(y - top) + 0.5) / band * 2 - 1          // -1...1 across the rope
            let shade = (1 - v * v).squareRoot()                    // cylinder lighting
            for x in 0..<w {
                let phase = ((x + shift) * 2 + (y - top) * 3) % (period * 2)
                let strand = wave[(phase * 64 / (period * 2)) & 63]
                var r = 40 + 170 * shade * strand, g = r, b = r + 8 * shade
                if x >= wearX && x < wearX + wearW {
                    // Wear: strands rubbed flat and rusty.
                    let flat = 0.35 + 0.65 * shade * (0.6 + 0.4 * strand)
                    r = 150 * flat; g = 95 * flat; b = 55 * flat
                }
                row[3 * x] = UInt8(min(r, 255)); row[3 * x + 1] = UInt8(min(g, 255)); row[3 * x + 2] = UInt8(min(b, 255))
            }
        }
        // Broken wire: a bright bent strand end leaving the top edge of the rope.
        for k in 0..<(h / 10) {
            let y = top - k, x = breakX + k / 2
            guard y >= 0, x >= 0, x + 2 < w else { continue }
            for dx in 0..<3 { let o = (y * w + x + dx) * 3; rgb[o] = 235; rgb[o + 1] = 235; rgb[o + 2] = 225 }
        }
        return UnsafePointer(rgb)
    }

    public func close() {}
}

/// Packed RGB24 → YUYV (BT.601 limited range, chroma averaged over each pixel pair).
public func rgbToYUYV(rgb: UnsafePointer<UInt8>, width: Int, height: Int, into dst: UnsafeMutablePointer<UInt8>) {
    @inline(__always) func clamp(_ v: Float) -> UInt8 { UInt8(min(max(v.rounded(), 0), 255)) }
    for y in 0..<height {
        let s = rgb + y * width * 3, d = dst + y * width * 2
        var x = 0
        while x + 1 < width {
            let r0 = Float(s[3 * x]), g0 = Float(s[3 * x + 1]), b0 = Float(s[3 * x + 2])
            let r1 = Float(s[3 * x + 3]), g1 = Float(s[3 * x + 4]), b1 = Float(s[3 * x + 5])
            let y0 = 16 + 0.256788 * r0 + 0.504129 * g0 + 0.097906 * b0
            let y1 = 16 + 0.256788 * r1 + 0.504129 * g1 + 0.097906 * b1
            let r = (r0 + r1) / 2, g = (g0 + g1) / 2, b = (b0 + b1) / 2
            let u = 128 - 0.148223 * r - 0.290993 * g + 0.439216 * b
            let v = 128 + 0.439216 * r - 0.367788 * g - 0.071427 * b
            d[2 * x] = clamp(y0); d[2 * x + 1] = clamp(u); d[2 * x + 2] = clamp(y1); d[2 * x + 3] = clamp(v)
            x += 2
        }
    }
}
