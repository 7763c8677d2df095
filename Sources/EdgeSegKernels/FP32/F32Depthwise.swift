// Direct depthwise 3x3 convolution (group == Cin == Cout), any stride/dilation/padding.
// Interior columns use SIMD4 (one SSE/NEON register: nine weight vectors plus accumulator and
// loads fit the register file without spills, which SIMD8 on 16-register SSE did not); borders are scalar.

@inline(__always)
private func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always)
private func loadEven4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    return SIMD4(v[0], v[2], v[4], v[6])
}

@inline(__always)
private func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}

@inline(__always)
private func dwScalarAt(_ ox: Int, _ b: Float, _ sw: Int, _ padLeft: Int, _ dw: Int, _ W: Int,
                        _ rows: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                        _ wr: (SIMD3<Float>, SIMD3<Float>, SIMD3<Float>)) -> Float {
    var acc = b
    let ix0 = ox * sw - padLeft
    for kx in 0..<3 {
        let ix = ix0 + kx * dw
        if ix < 0 || ix >= W { continue }
        acc += rows.0[ix] * wr.0[kx] + rows.1[ix] * wr.1[kx] + rows.2[ix] * wr.2[kx]
    }
    return acc
}

/// Work items are (image, channel) planes; part/parts splits them across threads. Requires kernel 3x3 and groups == inChannels == outChannels.
public func f32Depthwise3x3(_ s: F32ConvShape, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                            activation: F32Activation, output: UnsafeMutablePointer<Float>,
                            part: Int = 0, parts: Int = 1) {
    let H = s.inHeight, W = s.inWidth, Ho = s.outHeight, Wo = s.outWidth
    let sh = s.strideH, sw = s.strideW, dh = s.dilationH, dw = s.dilationW
    // Output columns whose three taps are all inside the row.
    let oxLo = Swift.min(Wo, (s.padLeft + sw - 1) / sw)
    let lastStart = W - 1 - 2 * dw + s.padLeft          // largest ox*sw allowed
    let oxHi = lastStart < 0 ? -1 : Swift.min(Wo - 1, lastStart / sw)
    // SIMD reads 4 (stride 1) or 8 (stride 2) floats from each tap start.
    let span = sw == 1 ? 4 : 8
    for item in f32PartRange(s.batch * s.outChannels, part, parts) {
        let c = item % s.outChannels
        let plane = input + item * s.inPlane
        let out = output + item * s.outPlane
        let w = weight + c * 9
        let b: Float = bias?[c] ?? 0
        let w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8]
        for oy in 0..<Ho {
            let iy0 = oy * sh - s.padTop
            let o = out + oy * Wo
            // Row pointers and weights for valid rows; invalid rows contribute zero weight on row 0.
            var rows: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) = (plane, plane, plane)
            var wr: (SIMD3<Float>, SIMD3<Float>, SIMD3<Float>) = (.zero, .zero, .zero)
            if iy0 >= 0 && iy0 < H { rows.0 = plane + iy0 * W; wr.0 = SIMD3(w0, w1, w2) }
            if iy0 + dh >= 0 && iy0 + dh < H { rows.1 = plane + (iy0 + dh) * W; wr.1 = SIMD3(w3, w4, w5) }
            if iy0 + 2 * dh >= 0 && iy0 + 2 * dh < H { rows.2 = plane + (iy0 + 2 * dh) * W; wr.2 = SIMD3(w6, w7, w8) }

            var ox = 0
            while ox < oxLo { o[ox] = dwScalarAt(ox, b, sw, s.padLeft, dw, W, rows, wr); ox += 1 }
            if sw == 1 || sw == 2 {
                let bv = SIMD4<Float>(repeating: b)
                let a0 = SIMD4<Float>(repeating: wr.0[0]), a1 = SIMD4<Float>(repeating: wr.0[1]), a2 = SIMD4<Float>(repeating: wr.0[2])
                let b0 = SIMD4<Float>(repeating: wr.1[0]), b1 = SIMD4<Float>(repeating: wr.1[1]), b2 = SIMD4<Float>(repeating: wr.1[2])
                let c0 = SIMD4<Float>(repeating: wr.2[0]), c1 = SIMD4<Float>(repeating: wr.2[1]), c2 = SIMD4<Float>(repeating: wr.2[2])
                while ox + 3 <= oxHi && (ox * sw - s.padLeft + 2 * dw + span) <= W {
                    let ix = ox * sw - s.padLeft
                    var acc = bv
                    if sw == 1 {
                        acc += load4(rows.0 + ix) * a0 + load4(rows.0 + ix + dw) * a1 + load4(rows.0 + ix + 2 * dw) * a2
                        acc += load4(rows.1 + ix) * b0 + load4(rows.1 + ix + dw) * b1 + load4(rows.1 + ix + 2 * dw) * b2
                        acc += load4(rows.2 + ix) * c0 + load4(rows.2 + ix + dw) * c1 + load4(rows.2 + ix + 2 * dw) * c2
                    } else {
                        acc += loadEven4(rows.0 + ix) * a0 + loadEven4(rows.0 + ix + dw) * a1 + loadEven4(rows.0 + ix + 2 * dw) * a2
                        acc += loadEven4(rows.1 + ix) * b0 + loadEven4(rows.1 + ix + dw) * b1 + loadEven4(rows.1 + ix + 2 * dw) * b2
                        acc += loadEven4(rows.2 + ix) * c0 + loadEven4(rows.2 + ix + dw) * c1 + loadEven4(rows.2 + ix + 2 * dw) * c2
                    }
                    store4(acc, o + ox)
                    ox += 4
                }
            }
            while ox < Wo { o[ox] = dwScalarAt(ox, b, sw, s.padLeft, dw, W, rows, wr); ox += 1 }
            if let residual {
                let r = residual + item * s.outPlane + oy * Wo
                for i in 0..<Wo { o[i] += r[i] }
            }
            f32ApplyActivation(activation, o, Wo)
        }
    }
}
