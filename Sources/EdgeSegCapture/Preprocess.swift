import EdgeSegCore

/// How the model input tensor is laid out and encoded. Layout is always NCHW, N = 1, C = 3 (RGB).
public enum InputElement: Sendable, Equatable {
    case float32
    case float16
    /// Quantized: q = clamp(round_half_away(x / scale) + zeroPoint, -128, 127) with x the scaled value.
    case int8(scale: Float, zeroPoint: Int32)

    public var byteSize: Int {
        switch self { case .float32: return 4; case .float16: return 2; case .int8: return 1 }
    }

    /// From a Core tensor description (the executor's input).
    public init?(_ desc: TensorDesc) {
        switch desc.type {
        case .float32: self = .float32
        case .float16: self = .float16
        case .int8:
            guard let q = desc.quant, let s = q.scale.first, let z = q.zeroPoint.first else { return nil }
            self = .int8(scale: s, zeroPoint: z)
        default: return nil
        }
    }
}

/// A rectangle in source pixels (region of interest from the board profile).
public struct PixelRect: Sendable, Equatable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) { self.x = x; self.y = y; self.width = width; self.height = height }
}

public struct InputSpec: Sendable, Equatable {
    public enum Fit: Sendable, Equatable {
        /// Keep aspect, centre on a grey canvas (the model's training preprocessing).
        case letterbox
        /// Fill the whole input, aspect ignored.
        case stretch
    }
    public var width: Int
    public var height: Int
    public var element: InputElement
    public var fit: Fit
    /// Crop this region of the frame first (clipped to the frame); nil = whole frame.
    public var roi: PixelRect?
    /// Canvas grey level for letterbox borders (0...255, before scaling).
    public var padValue: Float
    /// Multiplier from 0...255 pixel values to tensor values (the spec: x / 255, no mean/std).
    public var pixelScale: Float

    public init(width: Int = 512, height: Int = 512, element: InputElement = .float32, fit: Fit = .letterbox,
                roi: PixelRect? = nil, padValue: Float = 128, pixelScale: Float = 1.0 / 255.0) {
        self.width = width; self.height = height; self.element = element; self.fit = fit; self.roi = roi
        self.padValue = padValue; self.pixelScale = pixelScale
    }

    public var tensorByteCount: Int { 3 * width * height * element.byteSize }
}

/// Where the (cropped) source lands inside the input tensor, and the resize factors.
public struct Placement: Sendable, Equatable {
    public var crop: PixelRect
    public var x: Int, y: Int, width: Int, height: Int

    /// The letterbox arithmetic of the training code: s = min(W/w, H/h), size = Int(w*s),
    /// offset = (W - size) / 2 (integer division).
    public init(spec: InputSpec, sourceWidth: Int, sourceHeight: Int) {
        var c = spec.roi ?? PixelRect(x: 0, y: 0, width: sourceWidth, height: sourceHeight)
        c.x = min(max(c.x, 0), max(sourceWidth - 1, 0)); c.y = min(max(c.y, 0), max(sourceHeight - 1, 0))
        c.width = max(1, min(c.width, sourceWidth - c.x)); c.height = max(1, min(c.height, sourceHeight - c.y))
        crop = c
        switch spec.fit {
        case .stretch:
            x = 0; y = 0; width = spec.width; height = spec.height
        case .letterbox:
            let s = min(Double(spec.width) / Double(c.width), Double(spec.height) / Double(c.height))
            width = max(1, min(spec.width, Int(Double(c.width) * s)))
            height = max(1, min(spec.height, Int(Double(c.height) * s)))
            x = (spec.width - width) / 2; y = (spec.height - height) / 2
        }
    }

    /// The smallest source scale that keeps every output pixel backed by at least one source pixel.
    public var minSourceScale: Double {
        max(Double(width) / Double(crop.width), Double(height) / Double(crop.height))
    }
}

public enum PreprocessError: Error, Equatable, CustomStringConvertible {
    case corruptFrame(JPEGError)
    case badFrame(String)
    public var description: String {
        switch self {
        case let .corruptFrame(e): return "corrupt frame: \(e)"
        case let .badFrame(s): return "bad frame: \(s)"
        }
    }
}

/// One pass from camera pixels to the model input: YUYV or RGB (or MJPEG, decoded scaled first)
/// → crop → bilinear resize → letterbox → x/255 → FP32, FP16 or int8, written straight into the
/// NCHW tensor. All tables and the JPEG buffer are allocated once, in `init`; `prepare` allocates nothing.
public final class Preprocessor {
    public let spec: InputSpec
    public let decoder: JPEGDecoder
    public private(set) var lastPlacement: Placement?
    /// Frames rejected (corrupt JPEG, wrong size); the caller skips them.
    public private(set) var rejected: UInt64 = 0

    // Per output column / row: source byte offsets of the two neighbours and the weight of the second.
    private let colOffset0: UnsafeMutablePointer<Int32>
    private let colOffset1: UnsafeMutablePointer<Int32>
    private let colWeight: UnsafeMutablePointer<Float>
    private let rowIndex0: UnsafeMutablePointer<Int32>
    private let rowIndex1: UnsafeMutablePointer<Int32>
    private let rowWeight: UnsafeMutablePointer<Float>
    private var tableKey = (format: PixelFormat.rgb24, width: -1, height: -1)

    public init(spec: InputSpec, maxJPEGWidth: Int = 1920, maxJPEGHeight: Int = 1080) {
        self.spec = spec
        decoder = JPEGDecoder(maxWidth: maxJPEGWidth, maxHeight: maxJPEGHeight)
        colOffset0 = .allocate(capacity: spec.width); colOffset1 = .allocate(capacity: spec.width)
        colWeight = .allocate(capacity: spec.width)
        rowIndex0 = .allocate(capacity: spec.height); rowIndex1 = .allocate(capacity: spec.height)
        rowWeight = .allocate(capacity: spec.height)
    }
    deinit {
        colOffset0.deallocate(); colOffset1.deallocate(); colWeight.deallocate()
        rowIndex0.deallocate(); rowIndex1.deallocate(); rowWeight.deallocate()
    }

    /// Fills `tensor` (spec.tensorByteCount bytes) from `frame`. Throws for frames to skip.
    public func prepare(_ frame: Frame, into tensor: UnsafeMutableRawPointer) throws(PreprocessError) {
        switch frame.format {
        case .mjpeg:
            let full = Placement(spec: spec, sourceWidth: frame.width, sourceHeight: frame.height)
            let rgb: RGBView
            do throws(JPEGError) {
                rgb = try decoder.decode(frame.buffer, minScale: full.minSourceScale)
            } catch { rejected += 1; throw .corruptFrame(error) }
            // The ROI is given in camera pixels; follow the decoder's reduction.
            var scaledSpec = spec
            if let r = spec.roi, frame.width > 0, frame.height > 0 {
                let fx = Double(rgb.width) / Double(frame.width), fy = Double(rgb.height) / Double(frame.height)
                scaledSpec.roi = PixelRect(x: Int(Double(r.x) * fx), y: Int(Double(r.y) * fy),
                                           width: Int((Double(r.width) * fx).rounded()), height: Int((Double(r.height) * fy).rounded()))
            }
            run(format: .rgb24, pixels: UnsafeRawPointer(rgb.pixels), pitch: rgb.bytesPerLine,
                width: rgb.width, height: rgb.height, spec: scaledSpec, into: tensor)
        case .rgb24, .yuyv:
            let bpp = frame.format == .yuyv ? 2 : 3
            let pitch = frame.bytesPerLine > 0 ? frame.bytesPerLine : frame.width * bpp
            // YUYV carries chroma per pixel pair: an odd width would read the last pair's V past
            // the row (and past the buffer on the last row; found by tools/fuzz, target jpeg).
            guard frame.width > 0, frame.height > 0, frame.width * bpp <= pitch,
                  frame.format != .yuyv || frame.width % 2 == 0,
                  frame.byteCount >= pitch * (frame.height - 1) + frame.width * bpp else {
                rejected += 1
                throw .badFrame("\(frame.format) \(frame.width)x\(frame.height) in \(frame.byteCount) bytes")
            }
            run(format: frame.format, pixels: frame.bytes, pitch: pitch, width: frame.width, height: frame.height,
                spec: spec, into: tensor)
        }
    }

    private func run(format: PixelFormat, pixels: UnsafeRawPointer, pitch: Int, width: Int, height: Int,
                     spec: InputSpec, into tensor: UnsafeMutableRawPointer) {
        let p = Placement(spec: spec, sourceWidth: width, sourceHeight: height)
        if p != lastPlacement || tableKey.format != format || tableKey.width != width || tableKey.height != height {
            buildTables(p, format: format)
            lastPlacement = p
            tableKey = (format, width, height)
        }
        switch spec.element {
        case .float32:
            fill(format: format, pixels: pixels, pitch: pitch, placement: p,
                 writer: Float32Writer(base: tensor.assumingMemoryBound(to: Float.self), scale: spec.pixelScale))
        case .float16:
            fill(format: format, pixels: pixels, pitch: pitch, placement: p,
                 writer: Float16Writer(base: tensor.assumingMemoryBound(to: UInt16.self), scale: spec.pixelScale))
        case let .int8(scale, zp):
            fill(format: format, pixels: pixels, pitch: pitch, placement: p,
                 writer: Int8Writer(base: tensor.assumingMemoryBound(to: Int8.self),
                                    multiplier: spec.pixelScale / scale, zeroPoint: Float(zp)))
        }
    }

    /// Half-pixel-centre bilinear mapping (align_corners = false), clamped at the borders.
    private func buildTables(_ p: Placement, format: PixelFormat) {
        let bpp: Int32 = format == .yuyv ? 2 : 3
        let sx = Double(p.crop.width) / Double(p.width)
        for i in 0..<p.width {
            let s = min(max((Double(i) + 0.5) * sx - 0.5, 0), Double(p.crop.width - 1))
            let i0 = Int(s), i1 = min(i0 + 1, p.crop.width - 1)
            colOffset0[i] = Int32(p.crop.x + i0) * bpp
            colOffset1[i] = Int32(p.crop.x + i1) * bpp
            colWeight[i] = Float(s - Double(i0))
        }
        let sy = Double(p.crop.height) / Double(p.height)
        for j in 0..<p.height {
            let s = min(max((Double(j) + 0.5) * sy - 0.5, 0), Double(p.crop.height - 1))
            let j0 = Int(s), j1 = min(j0 + 1, p.crop.height - 1)
            rowIndex0[j] = Int32(p.crop.y + j0)
            rowIndex1[j] = Int32(p.crop.y + j1)
            rowWeight[j] = Float(s - Double(j0))
        }
    }

    @inline(__always)
    private func fill<W: TensorWriter>(format: PixelFormat, pixels: UnsafeRawPointer, pitch: Int,
                                       placement p: Placement, writer: W) {
        let plane = spec.width * spec.height
        let pad = spec.padValue
        // Letterbox borders: written every frame because the executor may reuse the input memory.
        for c in 0..<3 {
            let base = c * plane
            for y in 0..<spec.height {
                let row = base + y * spec.width
                if y < p.y || y >= p.y + p.height {
                    for x in 0..<spec.width { writer.store(row + x, pad) }
                } else {
                    for x in 0..<p.x { writer.store(row + x, pad) }
                    for x in (p.x + p.width)..<spec.width { writer.store(row + x, pad) }
                }
            }
        }
        let src = pixels.assumingMemoryBound(to: UInt8.self)
        if format == .yuyv {
            fillYUYV(src: src, pitch: pitch, placement: p, plane: plane, writer: writer)
        } else {
            fillRGB(src: src, pitch: pitch, placement: p, plane: plane, writer: writer)
        }
    }

    @inline(__always)
    private func fillRGB<W: TensorWriter>(src: UnsafePointer<UInt8>, pitch: Int, placement p: Placement,
                                          plane: Int, writer: W) {
        for j in 0..<p.height {
            let r0 = src + Int(rowIndex0[j]) * pitch, r1 = src + Int(rowIndex1[j]) * pitch
            let wy = rowWeight[j]
            var o = (p.y + j) * spec.width + p.x
            for i in 0..<p.width {
                let a = Int(colOffset0[i]), b = Int(colOffset1[i])
                let wx = colWeight[i]
                for c in 0..<3 {
                    let top = Float(r0[a + c]) + (Float(r0[b + c]) - Float(r0[a + c])) * wx
                    let bot = Float(r1[a + c]) + (Float(r1[b + c]) - Float(r1[a + c])) * wx
                    writer.store(c * plane + o, top + (bot - top) * wy)
                }
                o += 1
            }
        }
    }

    /// YUYV: Y at 2x, U at 4(x/2)+1, V at 4(x/2)+3. Y, U and V are interpolated first and converted
    /// once per output pixel (BT.601 limited range, what UVC and vivid send); the conversion is
    /// affine, so this equals converting then interpolating except where a channel clips.
    @inline(__always)
    private func fillYUYV<W: TensorWriter>(src: UnsafePointer<UInt8>, pitch: Int, placement p: Placement,
                                           plane: Int, writer: W) {
        for j in 0..<p.height {
            let r0 = src + Int(rowIndex0[j]) * pitch, r1 = src + Int(rowIndex1[j]) * pitch
            let wy = rowWeight[j]
            var o = (p.y + j) * spec.width + p.x
            for i in 0..<p.width {
                let a = Int(colOffset0[i]), b = Int(colOffset1[i])
                let ua = (a & ~3) + 1, ub = (b & ~3) + 1
                let wx = colWeight[i]
                @inline(__always) func lerp2(_ k0: Int, _ k1: Int) -> Float {
                    let top = Float(r0[k0]) + (Float(r0[k1]) - Float(r0[k0])) * wx
                    let bot = Float(r1[k0]) + (Float(r1[k1]) - Float(r1[k0])) * wx
                    return top + (bot - top) * wy
                }
                let y = lerp2(a, b) - 16, u = lerp2(ua, ub) - 128, v = lerp2(ua + 2, ub + 2) - 128
                let (r, g, bl) = yuvToRGB(y, u, v)
                writer.store(o, r)
                writer.store(plane + o, g)
                writer.store(2 * plane + o, bl)
                o += 1
            }
        }
    }
}

/// BT.601 limited range; inputs are Y-16, U-128, V-128; outputs clamped to 0...255.
@inline(__always)
func yuvToRGB(_ c: Float, _ d: Float, _ e: Float) -> (Float, Float, Float) {
    let yy = 1.164383 * c
    let r = yy + 1.596027 * e
    let g = yy - 0.391762 * d - 0.812968 * e
    let b = yy + 2.017232 * d
    return (min(max(r, 0), 255), min(max(g, 0), 255), min(max(b, 0), 255))
}

/// Stores a 0...255 pixel value into the tensor in its element encoding.
protocol TensorWriter {
    func store(_ index: Int, _ pixel: Float)
}

struct Float32Writer: TensorWriter {
    let base: UnsafeMutablePointer<Float>
    let scale: Float
    @inline(__always) func store(_ index: Int, _ pixel: Float) { base[index] = pixel * scale }
}

struct Float16Writer: TensorWriter {
    let base: UnsafeMutablePointer<UInt16>
    let scale: Float
    @inline(__always) func store(_ index: Int, _ pixel: Float) { base[index] = float16Bits(pixel * scale) }
}

struct Int8Writer: TensorWriter {
    let base: UnsafeMutablePointer<Int8>
    let multiplier: Float
    let zeroPoint: Float
    @inline(__always) func store(_ index: Int, _ pixel: Float) { base[index] = quantizeInt8(pixel * multiplier, zeroPoint) }
}

/// Round half away from zero, the convention of the runtime's requantization. Truncating
/// conversion plus an exact fraction test: libm's roundf is a call on x86-64 without SSE4.1.
@inline(__always)
public func quantizeInt8(_ scaled: Float, _ zeroPoint: Float) -> Int8 {
    let x = min(max(scaled, -512), 512)           // keeps the Int32 conversion in range
    var i = Int32(x)                               // toward zero
    let frac = x - Float(i)                        // exact for |x| < 2^23
    // Selects, not branches: the fraction is noise-like, so a branch would mispredict half the time.
    i = i &+ (frac >= 0.5 ? 1 : 0) &- (frac <= -0.5 ? 1 : 0)
    let q = i + Int32(zeroPoint)
    return Int8(min(max(q, -128), 127))
}

/// IEEE half bits, round to nearest even. ARM converts in one instruction; on x86-64 without
/// F16C Swift's Float16 init is a runtime call, so the conversion is done with integer steps
/// (F. Giesen's float_to_half_fast3_rtne).
@inline(__always)
public func float16Bits(_ f: Float) -> UInt16 {
    #if arch(arm64)
    return Float16(f).bitPattern
    #else
    let f32Infinity: UInt32 = 255 << 23
    let f16Overflow: UInt32 = (127 + 16) << 23
    let denormMagic: UInt32 = ((127 - 15) + (23 - 10) + 1) << 23
    var bits = f.bitPattern
    let sign = bits & 0x8000_0000
    bits ^= sign
    let out: UInt32
    if bits >= f16Overflow {
        out = bits > f32Infinity ? 0x7E00 : 0x7C00          // NaN stays NaN, the rest saturates to inf
    } else if bits < (113 << 23) {
        // Subnormal half: let the FPU align the mantissa by adding a magic number.
        out = (Float(bitPattern: bits) + Float(bitPattern: denormMagic)).bitPattern &- denormMagic
    } else {
        let mantissaOdd = (bits >> 13) & 1
        bits = bits &+ (UInt32(bitPattern: Int32(15 - 127)) &<< 23) &+ 0xFFF &+ mantissaOdd
        out = bits >> 13
    }
    return UInt16(truncatingIfNeeded: out | (sign >> 16))
    #endif
}
