// Resize of the last two axes (NCHW), nearest or bilinear, with ONNX's coordinate transforms.

public enum F32CoordinateTransform: UInt8, Sendable { case halfPixel, alignCorners, asymmetric, pytorchHalfPixel }
public enum F32NearestRounding: UInt8, Sendable { case floor, ceil, roundPreferFloor, roundPreferCeil }

public struct F32ResizeShape: Sendable, Equatable {
    public var planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    public var linear: Bool
    public var transform: F32CoordinateTransform
    public var nearest: F32NearestRounding
    public init(planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int, linear: Bool,
                transform: F32CoordinateTransform, nearest: F32NearestRounding = .floor) {
        self.planes = planes; self.inHeight = inHeight; self.inWidth = inWidth
        self.outHeight = outHeight; self.outWidth = outWidth
        self.linear = linear; self.transform = transform; self.nearest = nearest
    }
}

/// Source coordinate of output index `o` (scale = outLen / inLen, as ONNX Runtime uses for `sizes`).
@inline(__always)
public func f32ResizeSource(_ o: Int, inLen: Int, outLen: Int, _ t: F32CoordinateTransform) -> Float {
    let scale = Float(outLen) / Float(inLen)
    switch t {
    case .halfPixel: return (Float(o) + 0.5) / scale - 0.5
    case .pytorchHalfPixel: return outLen > 1 ? (Float(o) + 0.5) / scale - 0.5 : 0
    case .alignCorners: return outLen == 1 ? 0 : Float(o) * Float(inLen - 1) / Float(outLen - 1)
    case .asymmetric: return Float(o) / scale
    }
}

@inline(__always)
private func nearestIndex(_ x: Float, _ len: Int, _ r: F32NearestRounding) -> Int {
    var i: Int
    switch r {
    case .floor: i = Int(x.rounded(.down))
    case .ceil: i = Int(x.rounded(.up))
    case .roundPreferFloor: i = (x - x.rounded(.down) == 0.5) ? Int(x.rounded(.down)) : Int(x.rounded(.toNearestOrAwayFromZero))
    case .roundPreferCeil: i = (x - x.rounded(.down) == 0.5) ? Int(x.rounded(.up)) : Int(x.rounded(.toNearestOrAwayFromZero))
    }
    return Swift.max(0, Swift.min(len - 1, i))
}

@inline(__always)
private func linearTap(_ o: Int, _ inLen: Int, _ outLen: Int, _ t: F32CoordinateTransform) -> (Int, Int, Float) {
    var x = f32ResizeSource(o, inLen: inLen, outLen: outLen, t)
    x = Swift.max(0, Swift.min(x, Float(inLen - 1)))
    let i0 = Swift.min(Int(x), inLen - 1)
    let i1 = Swift.min(i0 + 1, inLen - 1)
    return (i0, i1, x - Float(i0))
}

public func f32Resize(_ s: F32ResizeShape, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                      part: Int = 0, parts: Int = 1) {
    // Work items are output rows of all planes, so a single plane still splits across threads.
    for item in f32PartRange(s.planes * s.outHeight, part, parts) {
        let p = item / s.outHeight, oy = item % s.outHeight
        let plane = src + p * s.inHeight * s.inWidth
        let out = dst + item * s.outWidth
        if s.linear {
            let (y0, y1, fy) = linearTap(oy, s.inHeight, s.outHeight, s.transform)
            let r0 = plane + y0 * s.inWidth, r1 = plane + y1 * s.inWidth
            for ox in 0..<s.outWidth {
                let (x0, x1, fx) = linearTap(ox, s.inWidth, s.outWidth, s.transform)
                let top = r0[x0] * (1 - fx) + r0[x1] * fx
                let bot = r1[x0] * (1 - fx) + r1[x1] * fx
                out[ox] = top * (1 - fy) + bot * fy
            }
        } else {
            let y = nearestIndex(f32ResizeSource(oy, inLen: s.inHeight, outLen: s.outHeight, s.transform), s.inHeight, s.nearest)
            let r = plane + y * s.inWidth
            for ox in 0..<s.outWidth {
                out[ox] = r[nearestIndex(f32ResizeSource(ox, inLen: s.inWidth, outLen: s.outWidth, s.transform), s.inWidth, s.nearest)]
            }
        }
    }
}
