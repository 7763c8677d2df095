// 2-D convolution, NCHW activations, weights [Cout, Cin/group, kh, kw].
// The reference kernel is the oracle; im2col tiles + an external GEMM (called from
// Core) and the direct depthwise kernel are the fast paths checked against it.

public struct F32ConvShape: Sendable, Equatable {
    public var batch: Int, inChannels: Int, inHeight: Int, inWidth: Int
    public var outChannels: Int, outHeight: Int, outWidth: Int
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int

    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int,
                outChannels: Int, outHeight: Int, outWidth: Int,
                kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                padTop: Int, padLeft: Int, dilationH: Int, dilationW: Int, groups: Int) {
        self.batch = batch; self.inChannels = inChannels; self.inHeight = inHeight; self.inWidth = inWidth
        self.outChannels = outChannels; self.outHeight = outHeight; self.outWidth = outWidth
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.dilationH = dilationH; self.dilationW = dilationW
        self.groups = groups
    }

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    /// Rows of the im2col matrix (= GEMM K) for one group.
    public var patchSize: Int { inChannelsPerGroup * kernelH * kernelW }
    public var outPlane: Int { outHeight * outWidth }
    public var inPlane: Int { inHeight * inWidth }
}

/// Direct convolution, one (image, output channel) plane per work item.
public func f32ConvReference(_ s: F32ConvShape, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                             activation: F32Activation, output: UnsafeMutablePointer<Float>,
                             part: Int = 0, parts: Int = 1) {
    let cinG = s.inChannelsPerGroup, coutG = s.outChannelsPerGroup
    for item in f32PartRange(s.batch * s.outChannels, part, parts) {
        let n = item / s.outChannels, co = item % s.outChannels
        let g = co / coutG
        let wBase = weight + co * cinG * s.kernelH * s.kernelW
        let out = output + item * s.outPlane
        for oy in 0..<s.outHeight {
            for ox in 0..<s.outWidth {
                var acc: Float = bias?[co] ?? 0
                for ci in 0..<cinG {
                    let plane = input + (n * s.inChannels + g * cinG + ci) * s.inPlane
                    for ky in 0..<s.kernelH {
                        let iy = oy * s.strideH - s.padTop + ky * s.dilationH
                        if iy < 0 || iy >= s.inHeight { continue }
                        for kx in 0..<s.kernelW {
                            let ix = ox * s.strideW - s.padLeft + kx * s.dilationW
                            if ix < 0 || ix >= s.inWidth { continue }
                            acc += plane[iy * s.inWidth + ix] * wBase[(ci * s.kernelH + ky) * s.kernelW + kx]
                        }
                    }
                }
                let o = oy * s.outWidth + ox
                if let residual { acc += residual[item * s.outPlane + o] }
                out[o] = f32Activate(activation, acc)
            }
        }
    }
}

/// Writes im2col columns [col0, col0+cols) of one group of one image into `dst`
/// as a [patchSize x cols] row-major matrix. `groupInput` points at the group's first channel.
public func f32Im2colTile(_ s: F32ConvShape, groupInput: UnsafePointer<Float>, col0: Int, cols: Int,
                          dst: UnsafeMutablePointer<Float>) {
    let cinG = s.inChannelsPerGroup
    var row = 0
    for ci in 0..<cinG {
        let plane = groupInput + ci * s.inPlane
        for ky in 0..<s.kernelH {
            for kx in 0..<s.kernelW {
                let d = dst + row * cols
                row += 1
                var j = 0
                var oy = col0 / s.outWidth, ox = col0 % s.outWidth
                while j < cols {
                    let run = Swift.min(cols - j, s.outWidth - ox)   // rest of this output row
                    let iy = oy * s.strideH - s.padTop + ky * s.dilationH
                    if iy < 0 || iy >= s.inHeight {
                        (d + j).update(repeating: 0, count: run)
                    } else {
                        let src = plane + iy * s.inWidth
                        let ix0 = ox * s.strideW - s.padLeft + kx * s.dilationW
                        if s.strideW == 1 {
                            // Contiguous source: zero the out-of-range ends, copy the middle.
                            let lo = Swift.min(run, Swift.max(0, -ix0))
                            let hi = Swift.max(lo, Swift.min(run, s.inWidth - ix0))
                            if lo > 0 { (d + j).update(repeating: 0, count: lo) }
                            if hi > lo { (d + j + lo).update(from: src + ix0 + lo, count: hi - lo) }
                            if run > hi { (d + j + hi).update(repeating: 0, count: run - hi) }
                        } else {
                            var ix = ix0
                            for t in 0..<run {
                                d[j + t] = (ix >= 0 && ix < s.inWidth) ? src[ix] : 0
                                ix += s.strideW
                            }
                        }
                    }
                    j += run
                    ox = 0; oy += 1
                }
            }
        }
    }
}

/// out[r, c] = act(out[r, c] + bias[r] + residual[r, c]) on a [rows x cols] block with row stride `ld`.
public func f32ConvEpilogue(_ out: UnsafeMutablePointer<Float>, ld: Int, rows: Int, cols: Int,
                            bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                            activation: F32Activation) {
    for r in 0..<rows {
        let o = out + r * ld
        let b: Float = bias?[r] ?? 0
        if let residual {
            let res = residual + r * ld
            for c in 0..<cols { o[c] += b + res[c] }
        } else if b != 0 {
            for c in 0..<cols { o[c] += b }
        }
        f32ApplyActivation(activation, o, cols)
    }
}
