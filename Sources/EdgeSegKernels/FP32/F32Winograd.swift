// Winograd F(2×2, 3×3) for the FP32 dense 3×3 stride-1 dilation-1 convs on F32Path.avx512 (the
// decoder's and the ASPP's heavy convs): each 2×2 output tile costs 16 multiplies per (input,
// output) channel pair instead of 36. The weights are transformed once, at load (U = G·g·Gᵀ, 16
// matrices [cout][cin] in the packed conv GEMM's 8-row panels; they replace the plain copy:
// 16/9 of its size); a run splits each image's tiles into chunks (the work items), and the
// AVX-512 tier (EdgeSegQuantVNNI/F32WinogradAVX512.swift) transforms a chunk's inputs, runs the
// 16 GEMMs on the packed GEMM's micro-tile and transforms the outputs with bias, residual and
// ReLU / clip fused. F(2, 3)'s constants are 0, ±1 and ½ (exact): the error is that of a few
// extra float additions, ~1e-6 relative (tested against f32ConvReference). Off x86 the executor
// never selects it.

#if arch(x86_64)
@_extern(c, "edgeseg_f32_winograd_chunk_avx512")
func f32WinogradChunkAVX512(u: UnsafePointer<Float>, input: UnsafePointer<Float>, geometry: UnsafePointer<Int>,
                            t0: Int, count: Int, ld: Int, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                            bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, lo: Float, hi: Float,
                            output: UnsafeMutablePointer<Float>)
#endif

/// Dense 3×3, stride 1, dilation 1, one group: what F(2×2, 3×3) computes here.
public func f32WinogradApplies(_ s: F32ConvShape) -> Bool {
    s.kernelH == 3 && s.kernelW == 3 && s.strideH == 1 && s.strideW == 1 && s.dilationH == 1 && s.dilationW == 1
        && s.groups == 1
}

/// Tiling of one conv: 2×2 output tiles, row-major, `chunk` per work item.
public struct F32WinogradPlan: Sendable, Equatable {
    public var tilesH: Int, tilesW: Int
    /// Tiles per work item and work items per image.
    public var chunk: Int, chunksPerImage: Int
    /// Row length of the V and M matrices: the chunk in whole 48-column strips.
    public var ld: Int { (chunk + F32ConvGemm.stripCols - 1) / F32ConvGemm.stripCols * F32ConvGemm.stripCols }
    public var tiles: Int { tilesH * tilesW }

    /// Chunks of at most `maxChunk` tiles (V and M take 16 · (cin + cout) floats per tile of a
    /// thread's scratch), enough for `threads` (s.batch images) to share. From 48 tiles on, whole
    /// 48-column strips: a partial strip costs the GEMM a whole one. Default one strip: a chunk's
    /// V and M then stay in L2 next to U (the demo's cat_conv.0: 0.6 + 0.7 MB); 96 and 144 measured
    /// no faster.
    public init(_ s: F32ConvShape, threads: Int, maxChunk: Int = 48) {
        tilesH = (s.outHeight + 1) / 2; tilesW = (s.outWidth + 1) / 2
        let total = tilesH * tilesW
        let wanted = (max(1, threads) + s.batch - 1) / s.batch      // work items one image should split into
        let nr = F32ConvGemm.stripCols
        var best = (cost: Double.infinity, chunk: max(1, maxChunk))
        if maxChunk >= nr {
            // the split that leaves the busiest thread the fewest strips, a little in favour of
            // longer chunks (each chunk streams all 16 weight matrices once)
            for k in 1...(maxChunk / nr) {
                let chunks = (total + k * nr - 1) / (k * nr)
                let cost = Double((chunks + wanted - 1) / wanted * k) * (1 + 0.1 / Double(k))
                if cost < best.cost { best = (cost, k * nr) }
            }
        }
        chunk = max(1, min(best.chunk, total))
        chunksPerImage = (total + chunk - 1) / chunk
    }

    /// Floats of per-thread scratch: V [16][cin][ld] and M [16][cout][ld].
    public func scratchFloats(_ s: F32ConvShape) -> Int { 16 * (s.inChannels + s.outChannels) * ld }
}

/// Floats of a conv's transformed weights: [16][⌈cout/8⌉ · 8][cin].
public func f32WinogradWeightFloats(_ s: F32ConvShape) -> Int {
    let mr = F32ConvGemm.panelRows
    return 16 * ((s.outChannels + mr - 1) / mr * mr) * s.inChannels
}

/// OIHW weights [cout][cin][3][3] → U[e][panel][ci][8] (e = 4·row + col of G·g·Gᵀ), rows past cout zero.
public func f32WinogradWeights(_ w: UnsafePointer<Float>, outChannels cout: Int, inChannels cin: Int,
                               into dst: UnsafeMutablePointer<Float>) {
    let mr = F32ConvGemm.panelRows
    let rows = (cout + mr - 1) / mr * mr
    dst.initialize(repeating: 0, count: 16 * rows * cin)
    for co in 0..<cout {
        for ci in 0..<cin {
            let g = w + (co * cin + ci) * 9
            // G·g: rows g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2 of each kernel column (k = 3·row + col)
            @inline(__always) func gg(_ r: Int, _ c: Int) -> Float {
                let a = g[c], b = g[3 + c], d = g[6 + c]
                return r == 0 ? a : (r == 1 ? (a + b + d) * 0.5 : (r == 2 ? (a - b + d) * 0.5 : d))
            }
            // then ·Gᵀ on each row
            for r in 0..<4 {
                let a = gg(r, 0), b = gg(r, 1), d = gg(r, 2)
                @inline(__always) func put(_ c: Int, _ x: Float) {
                    dst[((4 * r + c) * (rows / mr) + co / mr) * cin * mr + ci * mr + co % mr] = x
                }
                put(0, a); put(1, (a + b + d) * 0.5); put(2, (a - b + d) * 0.5); put(3, d)
            }
        }
    }
}

/// K blocks of at most `max` (balanced): V is already laid out as strips (no copy per K block), so
/// a block only has to keep its strip (kb × 48 floats, 36 KiB at 192) in L1 while U's panels stream.
func f32WinogradKBlock(_ k: Int, max: Int) -> Int {
    let blocks = (k + max - 1) / max
    return Swift.max(1, (k + blocks - 1) / Swift.max(1, blocks))
}

/// A Winograd conv, one part of its work items ((image, chunk) pairs). `u`: f32WinogradWeights;
/// `scratch`: plan.scratchFloats(s) floats owned by this part.
public func f32WinogradConv(_ s: F32ConvShape, _ plan: F32WinogradPlan, input: UnsafePointer<Float>, u: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, activation: F32Activation,
                            output: UnsafeMutablePointer<Float>, part: Int = 0, parts: Int = 1,
                            scratch: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
    let bounds = f32ClampBounds(activation)
    let lo = bounds?.0 ?? -.infinity, hi = bounds?.1 ?? .infinity
    var geo = (s.inHeight, s.inWidth, s.outHeight, s.outWidth, s.padTop, s.padLeft, plan.tilesW, s.inChannels,
               s.outChannels, f32WinogradKBlock(s.inChannels, max: 192))
    let v = scratch, m = scratch + 16 * s.inChannels * plan.ld
    withUnsafePointer(to: &geo) { gp in
        let g = UnsafeRawPointer(gp).assumingMemoryBound(to: Int.self)
        for item in f32PartRange(s.batch * plan.chunksPerImage, part, parts) {
            let n = item / plan.chunksPerImage
            let t0 = (item % plan.chunksPerImage) * plan.chunk, count = min(plan.chunk, plan.tiles - t0)
            let yOff = n * s.outChannels * s.outPlane
            f32WinogradChunkAVX512(u: u, input: input + n * s.inChannels * s.inPlane, geometry: g, t0: t0, count: count,
                                   ld: plan.ld, v: v, m: m, bias: bias, residual: residual.map { $0 + yOff }, lo: lo, hi: hi,
                                   output: output + yOff)
            if bounds == nil {
                // other activations: a pass over the chunk's output rows (whole tile rows it touches)
                let y0 = 2 * (t0 / plan.tilesW), y1 = min(s.outHeight, 2 * ((t0 + count - 1) / plan.tilesW) + 2)
                let x0 = 2 * (t0 % plan.tilesW), x1 = min(s.outWidth, 2 * ((t0 + count - 1) % plan.tilesW) + 2)
                for co in 0..<s.outChannels {
                    for y in y0..<y1 {
                        // first / last tile row of the chunk: only its tiles' columns
                        let a = y / 2 == y0 / 2 ? x0 : 0, b = y / 2 == (y1 - 1) / 2 ? x1 : s.outWidth
                        if b > a { f32ApplyActivation(activation, output + yOff + co * s.outPlane + y * s.outWidth + a, b - a) }
                    }
                }
            }
        }
    }
    #else
    preconditionFailure("Winograd convs run on the AVX-512 tier only")
    #endif
}
