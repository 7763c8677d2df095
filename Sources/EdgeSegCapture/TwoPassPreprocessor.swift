/// The straightforward way, kept as the benchmark baseline and the tests' oracle: decode the
/// whole frame to RGB at full size, resize into an RGB canvas (letterbox on grey), then convert
/// the canvas to the float NCHW tensor. Three passes over memory instead of one; buffers are
/// preallocated so the comparison measures the passes, not malloc.
public final class TwoPassPreprocessor {
    public let spec: InputSpec
    private let decoder: JPEGDecoder
    private let fullRGB: UnsafeMutablePointer<UInt8>
    private let canvas: UnsafeMutablePointer<UInt8>
    private let maxPixels: Int

    public init(spec: InputSpec, maxWidth: Int = 1920, maxHeight: Int = 1080) {
        precondition(spec.element == .float32, "the two-pass baseline writes FP32")
        self.spec = spec
        maxPixels = maxWidth * maxHeight
        decoder = JPEGDecoder(maxWidth: maxWidth, maxHeight: maxHeight)
        fullRGB = .allocate(capacity: maxPixels * 3)
        canvas = .allocate(capacity: spec.width * spec.height * 3)
    }
    deinit { fullRGB.deallocate(); canvas.deallocate() }

    public func prepare(_ frame: Frame, into tensor: UnsafeMutablePointer<Float>) throws(PreprocessError) {
        // Pass 1: full-size RGB.
        let w: Int, h: Int, src: UnsafePointer<UInt8>
        switch frame.format {
        case .mjpeg:
            let v: RGBView
            do throws(JPEGError) { v = try decoder.decode(frame.buffer, minScale: 1) } catch { throw .corruptFrame(error) }
            w = v.width; h = v.height; src = v.pixels
        case .yuyv:
            guard frame.width * frame.height <= maxPixels else { throw .badFrame("too large") }
            w = frame.width; h = frame.height
            let pitch = frame.bytesPerLine > 0 ? frame.bytesPerLine : w * 2
            let s = frame.bytes.assumingMemoryBound(to: UInt8.self)
            for y in 0..<h {
                for x in 0..<w {
                    let p = s + y * pitch + (x & ~1) * 2
                    let (r, g, b) = yuvToRGB(Float(p[(x & 1) * 2]) - 16, Float(p[1]) - 128, Float(p[3]) - 128)
                    let o = (y * w + x) * 3
                    fullRGB[o] = UInt8(r.rounded()); fullRGB[o + 1] = UInt8(g.rounded()); fullRGB[o + 2] = UInt8(b.rounded())
                }
            }
            src = UnsafePointer(fullRGB)
        case .rgb24:
            w = frame.width; h = frame.height
            src = frame.bytes.assumingMemoryBound(to: UInt8.self)
        }
        // Pass 2: bilinear resize into the letterboxed RGB canvas.
        let p = Placement(spec: spec, sourceWidth: w, sourceHeight: h)
        let W = spec.width, H = spec.height
        let pad = UInt8(spec.padValue.rounded())
        canvas.update(repeating: pad, count: W * H * 3)
        let pitch = frame.format == .rgb24 && frame.bytesPerLine > 0 ? frame.bytesPerLine : w * 3
        let sx = Double(p.crop.width) / Double(p.width), sy = Double(p.crop.height) / Double(p.height)
        for j in 0..<p.height {
            let fy = min(max((Double(j) + 0.5) * sy - 0.5, 0), Double(p.crop.height - 1))
            let y0 = Int(fy), y1 = min(y0 + 1, p.crop.height - 1), wy = Float(fy - Double(y0))
            for i in 0..<p.width {
                let fx = min(max((Double(i) + 0.5) * sx - 0.5, 0), Double(p.crop.width - 1))
                let x0 = Int(fx), x1 = min(x0 + 1, p.crop.width - 1), wx = Float(fx - Double(x0))
                for c in 0..<3 {
                    func px(_ x: Int, _ y: Int) -> Float { Float(src[(p.crop.y + y) * pitch + (p.crop.x + x) * 3 + c]) }
                    let top = px(x0, y0) + (px(x1, y0) - px(x0, y0)) * wx
                    let bot = px(x0, y1) + (px(x1, y1) - px(x0, y1)) * wx
                    canvas[((p.y + j) * W + p.x + i) * 3 + c] = UInt8(min(max((top + (bot - top) * wy).rounded(), 0), 255))
                }
            }
        }
        // Pass 3: HWC bytes → CHW floats.
        for c in 0..<3 {
            for k in 0..<(W * H) { tensor[c * W * H + k] = Float(canvas[k * 3 + c]) * spec.pixelScale }
        }
    }
}
