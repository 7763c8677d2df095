// Packed-weight conv GEMM (F32Path.avx512): the executor's 1×1 and im2col convs without OpenBLAS.
// The weights are packed once, at load, into 8-row panels ([groups][⌈coutG/8⌉][K][8], zero rows
// past coutG) that replace the plain copy; a run hands each column tile of the output to the
// AVX-512 tier (EdgeSegQuantVNNI/F32ConvAVX512.swift) in blocks of ≤ 1 024 columns, which copies
// B per K block into 48-column strips and computes 8 × 48 micro-tiles with bias, residual and
// ReLU / clip fused into the last K block's store. Other activations take a pass over the block
// while it is in L2. Off x86 a scalar loop over the same layout stands in (the executor only
// selects this path where the tier runs; the loop keeps the tests portable).

#if arch(x86_64)
@_extern(c, "edgeseg_f32_conv_block_avx512")
func f32ConvBlockAVX512(a: UnsafePointer<Float>, m: Int, k: Int, kc: Int,
                        b: UnsafePointer<Float>, ldb: Int, n: Int, pack: UnsafeMutablePointer<Float>,
                        c: UnsafeMutablePointer<Float>, ldc: Int,
                        bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, lo: Float, hi: Float)
@_extern(c, "edgeseg_f32_conv_direct_block_avx512")
func f32ConvDirectBlockAVX512(a: UnsafePointer<Float>, m: Int, k: Int, kc: Int,
                              input: UnsafePointer<Float>, geometry: UnsafePointer<Int>, col0: Int, n: Int,
                              pack: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                              bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, lo: Float, hi: Float)
#endif

/// Whether a (non-1×1) conv in column tiles of `tile` reads B straight from its input planes
/// (no im2col tile): stride 1 and 16-column output rows, so every 16 output columns of a tile
/// come from one input row per tap. x86 only (the tier's masked loads do the borders).
public func f32ConvPackedDirect(_ s: F32ConvShape, tile: Int) -> Bool {
    #if arch(x86_64)
    return s.strideH == 1 && s.strideW == 1 && s.outWidth % 16 == 0 && tile % 16 == 0
    #else
    return false
    #endif
}

/// Geometry of the packed conv GEMM (must match the tier's micro-tile).
public enum F32ConvGemm {
    /// Rows per weight panel (the micro-tile's rows).
    public static let panelRows = 8
    /// Output columns per strip (the micro-tile's 3 zmm).
    public static let stripCols = 48
    /// Largest K block: a strip's kc × 48 of B (24 KiB) stays in L1 while the weight panels stream.
    public static let maxKBlock = 128
    /// Most columns one tier call copies and computes (its K block of B: 528 KiB, in L2).
    public static let maxBlockCols = 1024

    /// Floats of per-thread buffer a conv with column tiles of `tile` needs (a K block of B as strips).
    public static func packFloats(tile: Int) -> Int {
        maxKBlock * (min(tile, maxBlockCols) + stripCols - 1) / stripCols * stripCols
    }

    /// Floats of the packed weights of a conv with these per-group sizes.
    public static func packedWeightFloats(outChannelsPerGroup: Int, patchSize: Int, groups: Int) -> Int {
        groups * ((outChannelsPerGroup + panelRows - 1) / panelRows * panelRows) * patchSize
    }

    /// K blocks of at most maxKBlock, balanced (K = 130 runs as 65 + 65, not 128 + 2).
    static func kBlock(_ k: Int) -> Int {
        let blocks = (k + maxKBlock - 1) / maxKBlock
        return max(1, (k + blocks - 1) / max(1, blocks))
    }
}

/// weights [groups·coutG][k] row-major → [groups][⌈coutG/8⌉][k][8], rows past coutG zero.
public func f32PackConvWeights(_ w: UnsafePointer<Float>, outChannelsPerGroup coutG: Int, patchSize k: Int, groups: Int,
                               into dst: UnsafeMutablePointer<Float>) {
    let mr = F32ConvGemm.panelRows
    let panels = (coutG + mr - 1) / mr
    for g in 0..<groups {
        let src = w + g * coutG * k
        for p in 0..<panels {
            let panel = dst + (g * panels + p) * k * mr
            for r in 0..<mr {
                let row = p * mr + r
                if row < coutG {
                    for kk in 0..<k { panel[kk * mr + r] = src[row * k + kk] }
                } else {
                    for kk in 0..<k { panel[kk * mr + r] = 0 }
                }
            }
        }
    }
}

/// c[m × n] (row stride ldc) = act(a · b[k × n] + bias[row] + residual[row, col]), `a` one group's
/// packed panels (f32PackConvWeights), `residual` in c's layout. `pack`: F32ConvGemm.packFloats
/// floats owned by the caller's thread (packFloats(tile: n) or more).
public func f32ConvGemmPacked(a: UnsafePointer<Float>, m: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, n: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                              residual: UnsafePointer<Float>?, activation: F32Activation,
                              pack: UnsafeMutablePointer<Float>) {
    let bounds = f32ClampBounds(activation)
    let lo = bounds?.0 ?? -.infinity, hi = bounds?.1 ?? .infinity
    let nc = F32ConvGemm.maxBlockCols
    var j = 0
    while j < n {
        let w = min(nc, n - j)
        #if arch(x86_64)
        f32ConvBlockAVX512(a: a, m: m, k: k, kc: F32ConvGemm.kBlock(k), b: b + j, ldb: ldb, n: w, pack: pack,
                           c: c + j, ldc: ldc, bias: bias, residual: residual.map { $0 + j }, lo: lo, hi: hi)
        #else
        f32ConvStripScalar(a: a, m: m, k: k, b: b + j, ldb: ldb, n: w, c: c + j, ldc: ldc, bias: bias,
                           residual: residual.map { $0 + j }, lo: lo, hi: hi)
        #endif
        if bounds == nil {
            for r in 0..<m { f32ApplyActivation(activation, c + r * ldc + j, w) }
        }
        j += nc
    }
}

#if !arch(x86_64)
func f32ConvStripScalar(a: UnsafePointer<Float>, m: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, n: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                        residual: UnsafePointer<Float>?, lo: Float, hi: Float) {
    let mr = F32ConvGemm.panelRows
    for i in 0..<m {
        let panel = a + (i / mr) * k * mr + i % mr
        for j in 0..<n {
            var acc: Float = 0
            for kk in 0..<k { acc += panel[kk * mr] * b[kk * ldb + j] }
            acc += (bias?[i] ?? 0) + (residual?[i * ldc + j] ?? 0)
            c[i * ldc + j] = lo > -.infinity || hi < .infinity ? Swift.min(Swift.max(acc, lo), hi) : acc
        }
    }
}
#endif

/// A 1×1 (stride 1, no padding: B is the input planes) or im2col conv with packed weights, one
/// part of its work items: (image, column tile) pairs, `tile` output columns each. Where
/// f32ConvPackedDirect holds, B is read from the input at each tap instead of an im2col tile.
/// `im2col`: tile · patchSize floats (unused for 1×1 and direct convs), `pack`:
/// F32ConvGemm.packFloats(tile:), both this part's own.
public func f32ConvPacked(_ s: F32ConvShape, pointwise: Bool, input: UnsafePointer<Float>, packedWeight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, activation: F32Activation,
                          output: UnsafeMutablePointer<Float>, tile: Int, part: Int = 0, parts: Int = 1,
                          im2col: UnsafeMutablePointer<Float>, pack: UnsafeMutablePointer<Float>) {
    let hw = s.outPlane, cinG = s.inChannelsPerGroup, coutG = s.outChannelsPerGroup, k = s.patchSize
    let tilesPerImage = (hw + tile - 1) / tile
    let panelFloats = (coutG + F32ConvGemm.panelRows - 1) / F32ConvGemm.panelRows * F32ConvGemm.panelRows * k
    #if arch(x86_64)
    if !pointwise && f32ConvPackedDirect(s, tile: tile) {
        var geo = (s.inHeight, s.inWidth, s.outWidth, s.kernelH, s.kernelW, s.padTop, s.padLeft, s.dilationH, s.dilationW)
        let bounds = f32ClampBounds(activation)
        let lo = bounds?.0 ?? -.infinity, hi = bounds?.1 ?? .infinity
        withUnsafePointer(to: &geo) { gp in
            let g = UnsafeRawPointer(gp).assumingMemoryBound(to: Int.self)
            for item in f32PartRange(s.batch * tilesPerImage, part, parts) {
                let n = item / tilesPerImage
                let c0 = (item % tilesPerImage) * tile
                let cols = min(tile, hw - c0)
                for gi in 0..<s.groups {
                    let yOff = (n * s.outChannels + gi * coutG) * hw
                    var j = 0
                    while j < cols {
                        let w = min(F32ConvGemm.maxBlockCols, cols - j)   // 1 024: a multiple of 16
                        f32ConvDirectBlockAVX512(a: packedWeight + gi * panelFloats, m: coutG, k: k, kc: F32ConvGemm.kBlock(k),
                                                 input: input + (n * s.inChannels + gi * cinG) * s.inPlane, geometry: g,
                                                 col0: c0 + j, n: w, pack: pack, c: output + yOff + c0 + j, ldc: hw,
                                                 bias: bias.map { $0 + gi * coutG }, residual: residual.map { $0 + yOff + c0 + j },
                                                 lo: lo, hi: hi)
                        if bounds == nil {
                            for r in 0..<coutG { f32ApplyActivation(activation, output + yOff + r * hw + c0 + j, w) }
                        }
                        j += w
                    }
                }
            }
        }
        return
    }
    #endif
    for item in f32PartRange(s.batch * tilesPerImage, part, parts) {
        let n = item / tilesPerImage
        let c0 = (item % tilesPerImage) * tile
        let cols = min(tile, hw - c0)
        for g in 0..<s.groups {
            let groupInput = input + (n * s.inChannels + g * cinG) * s.inPlane
            let b: UnsafePointer<Float>
            let ldb: Int
            if pointwise {
                b = groupInput + c0; ldb = s.inPlane
            } else {
                f32Im2colTile(s, groupInput: groupInput, col0: c0, cols: cols, dst: im2col)
                b = UnsafePointer(im2col); ldb = cols
            }
            let yOff = (n * s.outChannels + g * coutG) * hw + c0
            f32ConvGemmPacked(a: packedWeight + g * panelFloats, m: coutG, k: k, b: b, ldb: ldb, n: cols,
                              c: output + yOff, ldc: hw, bias: bias.map { $0 + g * coutG },
                              residual: residual.map { $0 + yOff }, activation: activation, pack: pack)
        }
    }
}
