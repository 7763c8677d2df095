// A channel concat assembled in int8 NHWC (the quantize pass's `fuseInt8Concats`): its parts
// are int8 tensors, requantized through a table when their parameters differ from the output's,
// and the upsampling resizes before it run int8 → int8 here instead of writing float tensors.

import EdgeSegKernels

/// int8 NHWC concat over channels: every output pixel gets each part's channels in order. A part
/// the quantize pass made by resizing (read by nothing else) is resized straight into its slice.
struct Int8ConcatStep {
    struct Part {
        var x: UnsafeMutablePointer<Int8>
        var channels: Int, offset: Int
        /// 256 bytes: requantization (index q + 128); nil when the part already has the output's parameters.
        var table: UnsafePointer<Int8>?
        /// The part's parameters (the AVX-512 runs requantize arithmetically, as the table was built).
        var quant: QuantParams
    }
    var parts: [Part]
    var resized: [Int8ResizeStep]
    var y: UnsafeMutablePointer<Int8>
    var pixels: Int, channels: Int
    var output: QuantParams
    /// The pixel-major AVX-512 runs (`Int8PixelRuns`) instead of the table, same bytes.
    var vector: Bool

    func run(part: Int, parts count: Int, scratch: UnsafeMutableRawPointer) {
        // (indices, not `for … in`: the array iterator allocated per call in unoptimised builds)
        for i in resized.indices { resized[i].run(part: part, parts: count, scratch: scratch) }
        let r = f32PartRange(pixels, part, count)
        for k in parts.indices {
            let p = parts[k], C = p.channels
            if p.table != nil && vector {
                Int8PixelRuns.requantize(p.x + r.lowerBound * C, channels: C, pixels: r.count,
                                         into: y + r.lowerBound * channels + p.offset, dstStride: channels,
                                         inScale: p.quant.scale[0], inZeroPoint: p.quant.zeroPoint[0],
                                         outScale: output.scale[0], outZeroPoint: output.zeroPoint[0])
            } else if let table = p.table {
                for i in r {
                    let src = p.x + i * C, dst = y + i * channels + p.offset
                    for c in 0..<C { dst[c] = table[Int(src[c]) + 128] }
                }
            } else {
                for i in r { (y + i * channels + p.offset).update(from: p.x + i * C, count: C) }
            }
        }
    }
}

/// int8 NHWC → int8 NHWC linear resize with the unfused graph's float arithmetic: input rows are
/// dequantized by the dequantize step (to channel planes), resized horizontally with the float
/// kernel's expressions into a two-row cache, blended vertically, and each output row quantized
/// by the quantize step. Threads split the output rows. `outStride`: bytes from one output pixel
/// to the next (the concat's channel count when writing into its slice).
struct Int8ResizeStep {
    var x: UnsafeMutablePointer<Int8>, y: UnsafeMutablePointer<Int8>
    var channels: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    var outStride: Int
    var transform: F32CoordinateTransform
    var input: QuantParams, output: QuantParams
    var vector: Bool

    /// Per-thread scratch: the boundary steps' tile, then floats (a dequantized input row, two
    /// resized rows, one blended row, the column taps).
    static func scratchBytes(channels C: Int, inWidth: Int, outWidth W: Int) -> Int {
        int8BoundaryTileBytes(channels: C) + 4 * (C * inWidth + 3 * C * W + 3 * W)
    }

    /// The boundary step on one row of `pixels` (dequantize: input row → planes; quantize: planes → output row).
    private func boundary(_ f: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Int8>, _ pixels: Int,
                          _ p: QuantParams, stride: Int? = nil) -> Int8BoundaryStep {
        var b = Int8BoundaryStep(float: f, int8: q, batch: 1, channels: channels, pixels: pixels, scale: p.scale[0],
                                 zeroPoint: p.zeroPoint[0], tileBytes: int8BoundaryTileBytes(channels: channels), vector: vector)
        b.int8Stride = stride
        return b
    }

    /// Input row `iy` dequantized (to `deq`, channel planes) and resized horizontally into `h`.
    /// (A method, not a nested function: unoptimised builds allocated captured contexts per call.)
    private func fill(_ h: UnsafeMutablePointer<Float>, row iy: Int, deq: UnsafeMutablePointer<Float>,
                      taps: (x0: UnsafeMutablePointer<Int32>, w0: UnsafeMutablePointer<Float>, w1: UnsafeMutablePointer<Float>),
                      tile: UnsafeMutablePointer<Int8>) {
        boundary(deq, x + iy * inWidth * channels, inWidth, input).dequantize(part: 0, parts: 1, tile: tile)
        for c in 0..<channels {
            let r = deq + c * inWidth, out = h + c * outWidth
            for ox in 0..<outWidth {
                let i0 = Int(taps.x0[ox])
                out[ox] = r[i0] * taps.w0[ox] + r[min(i0 + 1, inWidth - 1)] * taps.w1[ox]
            }
        }
    }

    /// Input row `iy` dequantized and resized along x, pixel-major (`vector`: same values as `fill`).
    private func fillPixels(_ h: UnsafeMutablePointer<Float>, row iy: Int, deq: UnsafeMutablePointer<Float>,
                            taps: (x0: UnsafeMutablePointer<Int32>, w0: UnsafeMutablePointer<Float>, w1: UnsafeMutablePointer<Float>)) {
        Int8PixelRuns.dequantize(x + iy * inWidth * channels, count: inWidth * channels, into: deq,
                                 scale: input.scale[0], zeroPoint: input.zeroPoint[0])
        Int8PixelRuns.lerp(deq, channels: channels, inWidth: inWidth, x0: taps.x0, w0: taps.w0, w1: taps.w1,
                           outWidth: outWidth, into: h)
    }

    func run(part: Int, parts: Int, scratch: UnsafeMutableRawPointer) {
        let rows = f32PartRange(outHeight, part, parts)
        if rows.isEmpty { return }
        let C = channels, W = outWidth
        let tile = scratch.assumingMemoryBound(to: Int8.self)
        let deq = (scratch + int8BoundaryTileBytes(channels: C)).assumingMemoryBound(to: Float.self)
        let rowA = deq + C * inWidth, rowB = rowA + C * W, blend = rowB + C * W
        let w0 = blend + C * W, w1 = w0 + W
        let x0 = UnsafeMutableRawPointer(w1 + W).assumingMemoryBound(to: Int32.self)
        // x1 = min(x0 + 1, inW − 1) and fx, as `f32Resize` tables them
        for ox in 0..<W {
            let t = f32ResizeLinearTap(ox, inLen: inWidth, outLen: W, transform)
            x0[ox] = Int32(truncatingIfNeeded: t.i0); w0[ox] = 1 - t.f; w1[ox] = t.f
        }
        var cache = F32RowPairCache(rowA, rowB)
        for oy in rows {
            let t = f32ResizeLinearTap(oy, inLen: inHeight, outLen: outHeight, transform)
            let y0 = t.i0, y1 = min(t.i0 + 1, inHeight - 1)
            let (r0, r1, missing) = cache.rows(y0, y1)
            if vector {
                // pixel-major rows: every value as below, without the boundary steps' transposes
                if missing.0 { fillPixels(r0, row: y0, deq: deq, taps: (x0, w0, w1)) }
                if missing.1 { fillPixels(r1, row: y1, deq: deq, taps: (x0, w0, w1)) }
                f32BlendRows(r0, r1, 1 - t.f, t.f, blend, count: C * W)
                Int8PixelRuns.quantize(blend, channels: C, pixels: W, into: y + oy * W * outStride, dstStride: outStride,
                                       scale: output.scale[0], zeroPoint: output.zeroPoint[0])
                continue
            }
            if missing.0 { fill(r0, row: y0, deq: deq, taps: (x0, w0, w1), tile: tile) }
            if missing.1 { fill(r1, row: y1, deq: deq, taps: (x0, w0, w1), tile: tile) }
            f32BlendRows(r0, r1, 1 - t.f, t.f, blend, count: C * W)
            boundary(blend, y + oy * W * outStride, W, output, stride: outStride).quantize(part: 0, parts: 1, tile: tile)
        }
    }
}

/// The node that runs node `i`'s work: an int8 resize read only by a later int8 concat is run by
/// that concat's step, straight into its slice (the resize's own tensor is never written). The
/// planner keeps the resize's input alive until then; the executor lowers it there.
func int8ResizeRunsInConcat(_ g: Graph, _ i: Int, readers: [TensorID: [Int]]) -> Int? {
    let n = g.nodes[i]
    guard case .resize = n.op, g.tensors[n.inputs[0]].type == .int8, !g.outputs.contains(n.outputs[0]),
          let r = readers[n.outputs[0]], r.count == 1, r[0] > i, case .concat = g.nodes[r[0]].op,
          g.tensors[g.nodes[r[0]].outputs[0]].type == .int8 else { return nil }
    return r[0]
}

/// Every node reading each tensor (once per node).
func tensorReaders(_ g: Graph) -> [TensorID: [Int]] {
    var readers: [TensorID: [Int]] = [:]
    for (i, n) in g.nodes.enumerated() { for t in Set(n.inputs) { readers[t, default: []].append(i) } }
    return readers
}

/// Requantization table from `input` to `output` parameters: the dequantize step's value, then
/// the quantize step's rounding and saturation (what dequantize → quantize does per byte).
func int8RequantTable(input: QuantParams, output: QuantParams, into table: UnsafeMutablePointer<Int8>) {
    for i in 0..<256 {
        table[i] = int8QuantizeValue(Float(Int32(i) - 128 - input.zeroPoint[0]) * input.scale[0], output)
    }
}

/// The quantize step's arithmetic on one value (NaN → −2^20 → −128 as there).
@inline(__always)
func int8QuantizeValue(_ x: Float, _ q: QuantParams) -> Int8 {
    let t = x / q.scale[0]
    let v = t.isNaN ? -1_048_576 : max(-1_048_576, min(1_048_576, t))
    return Int8(max(-128, min(127, v.rounded(.toNearestOrEven) + Float(q.zeroPoint[0]))))
}
