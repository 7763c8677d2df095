// Direct depthwise 3x3 convolution (group == Cin == Cout), any stride/dilation/padding, NCHW.
// Per plane: a zero-padded copy of the input (columns split into stride phases) in per-thread
// scratch, then unmasked vector loads only — no scalar border code, no per-tap shuffles for
// stride 2 (f32DwPlaneBody in F32FastKernels.swift; the AVX2 + FMA twin in EdgeSegQuantAVX2, the
// 16-lane AVX-512 twin in EdgeSegQuantVNNI).
// Bias, residual and ReLU / clip are applied in registers before the single store.

/// Geometry slots (F32DwGeo) as one homogeneous tuple: laid out like an Int array, no allocation.
typealias F32DwGeometry = (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)

func f32DwGeometry(_ s: F32ConvShape) -> F32DwGeometry {
    // Vectors may run up to 16 lanes past the last output column: they read zero padding there.
    let phaseLen = (s.outWidth + 15) / 16 * 16 + (2 * s.dilationW) / s.strideW + 1
    let rowLen = phaseLen * s.strideW
    let rows = (s.outHeight - 1) * s.strideH + 2 * s.dilationH + 1
    return (s.inHeight, s.inWidth, s.outHeight, s.outWidth, s.strideH, s.strideW, s.padTop, s.padLeft,
            s.dilationH, s.dilationW, phaseLen, rowLen, rows)
}

/// Floats of scratch one thread of `f32Depthwise3x3` needs (the padded copy of one plane).
public func f32Depthwise3x3ScratchFloats(_ s: F32ConvShape) -> Int {
    let g = f32DwGeometry(s)
    return g.11 * g.12
}

/// Clamp bounds that implement `a` after the residual add, or nil if it needs its own pass.
@inline(__always)
func f32ClampBounds(_ a: F32Activation) -> (Float, Float)? {
    switch a {
    case .none: return (-.infinity, .infinity)
    case .relu: return (0, .infinity)
    case .clip(let lo, let hi): return lo <= hi ? (lo, hi) : nil
    default: return nil
    }
}

/// Work items are (image, channel) planes; part/parts splits them across threads. Requires kernel
/// 3x3 and groups == inChannels == outChannels. `scratch`: at least f32Depthwise3x3ScratchFloats(s)
/// floats owned by this part; nil allocates a temporary (tests, tools — not the executor).
public func f32Depthwise3x3(_ s: F32ConvShape, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                            activation: F32Activation, output: UnsafeMutablePointer<Float>,
                            part: Int = 0, parts: Int = 1, scratch: UnsafeMutablePointer<Float>? = nil,
                            path: F32Path = .preferred) {
    guard let scratch else {
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: f32Depthwise3x3ScratchFloats(s))
        defer { tmp.deallocate() }
        f32Depthwise3x3(s, input: input, weight: weight, bias: bias, residual: residual, activation: activation,
                        output: output, part: part, parts: parts, scratch: tmp, path: path)
        return
    }
    var geo = f32DwGeometry(s)
    let bounds = f32ClampBounds(activation)
    let lo = bounds?.0 ?? -.infinity, hi = bounds?.1 ?? .infinity
    withUnsafePointer(to: &geo) { gp in
        let g = UnsafeRawPointer(gp).assumingMemoryBound(to: Int.self)
        for item in f32PartRange(s.batch * s.outChannels, part, parts) {
            let c = item % s.outChannels
            let plane = input + item * s.inPlane
            let out = output + item * s.outPlane
            let res = residual.map { $0 + item * s.outPlane }
            let b: Float = bias?[c] ?? 0
            #if arch(x86_64)
            if path == .avx512 {
                f32DwPlaneAVX512(input: plane, geometry: g, weights: weight + c * 9, bias: b, residual: res,
                                 lo: lo, hi: hi, pad: scratch, output: out)
            } else if path.usesAVX2Twins {
                f32DwPlaneAVX2(input: plane, geometry: g, weights: weight + c * 9, bias: b, residual: res,
                               lo: lo, hi: hi, pad: scratch, output: out)
            } else {
                f32DwPlaneBody(SIMD8<Float>.self, input: plane, g: g, w: weight + c * 9, bias: b, residual: res,
                               lo: lo, hi: hi, pad: scratch, out: out)
            }
            #else
            f32DwPlaneBody(SIMD8<Float>.self, input: plane, g: g, w: weight + c * 9, bias: b, residual: res,
                           lo: lo, hi: hi, pad: scratch, out: out)
            #endif
            if bounds == nil { f32ApplyActivation(activation, out, s.outPlane) }
        }
    }
}
