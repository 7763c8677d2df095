// int8 GEMM: out[i][c] = requant(bias[c] + Σ_k a[i][k]·w[c][k]) with weights packed once at load
// into the layout of one micro-kernel. The driver packs MR rows of A into a small panel, runs the
// ISA micro-kernel on MR×NR tiles of int32 accumulators, and requantizes them with the scalar
// `int8Requantize` — so the paths differ only in how they sum exact integer products.
//
// Packed layouts (K zero-padded to K4 = 4·⌈K/4⌉, N to a multiple of NR, blocks of NR channels):
//   scalar, dot : [N/8][K4/4][8 ch][4 k]            int8   (sdot: one int8x16 = 4 ch × 4 k)
//   neon        : [N/8][K4/4][2][k01: 4 ch × 2][k23: 4 ch × 2]  int8 (smull lo + smlal hi → sadalp)
//   avx2        : [N/16][K4/2][16 ch][2 k]          int16  (vpmaddwd, no saturation possible)
//   vnni        : [N/16][K4/4][16 ch][4 k]          int8   (vpdpbusd with u8 = x + 128; A panels row-major)

#if arch(arm64)
import _Builtin_intrinsics.arm.neon
#endif

// ISA-tier micro-kernels, compiled in their own modules with their own feature flags and reached
// as C symbols (a Swift import would let the optimiser inline them into this baseline unit).
#if arch(x86_64)
@_extern(c, "edgeseg_int8_tile_avx2")
func int8TileAVX2(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kPairs: Int, acc: UnsafeMutablePointer<Int32>)
@_extern(c, "edgeseg_int8_tile_avx2_requant")
func int8TileAVX2Requant(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kPairs: Int,
                         biasTotal: UnsafeRawPointer, multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                         zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                         out: UnsafeMutableRawPointer, ldc: Int, rows: Int)
@_extern(c, "edgeseg_int8_tile_vnni")
func int8TileVNNI(panel: UnsafeRawPointer, panelStride: Int, weights: UnsafeRawPointer, kQuads: Int,
                  partial: UnsafeMutableRawPointer, mode: Int,
                  bias: UnsafeRawPointer, correction: UnsafeRawPointer,
                  multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                  zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                  out: UnsafeMutableRawPointer, ldc: Int, rows: Int, cols: Int)
@_extern(c, "edgeseg_int8_tile_vnni_wide")
func int8TileVNNIWide(panel: UnsafeRawPointer, panelStride: Int, weights: UnsafeRawPointer, blockStride: Int,
                      kQuads: Int, partial0: UnsafeMutableRawPointer, partial1: UnsafeMutableRawPointer, mode: Int,
                      bias: UnsafeRawPointer, correction: UnsafeRawPointer,
                      multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                      zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                      out: UnsafeMutableRawPointer, ldc: Int, rows: Int, cols0: Int, cols1: Int)
@_extern(c, "edgeseg_int8_tile_vnni_12")
func int8TileVNNI12(panel: UnsafeRawPointer, panelStride: Int, weights: UnsafeRawPointer, kQuads: Int,
                    partial: UnsafeMutableRawPointer, mode: Int,
                    bias: UnsafeRawPointer, correction: UnsafeRawPointer,
                    multiplier: UnsafeRawPointer, shift: UnsafeRawPointer,
                    zeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                    out: UnsafeMutableRawPointer, ldc: Int, rows: Int, cols: Int)
@_extern(c, "edgeseg_int8_im2col_long_vnni")
func int8Im2colLongVNNI(input: UnsafePointer<Int8>, geometry: UnsafePointer<Int>, zeroPoint: Int8,
                        first: Int, rows: Int, k4: Int, band: UnsafeMutableRawPointer)
@_extern(c, "edgeseg_int8_im2col_short_vnni")
func int8Im2colShortVNNI(input: UnsafePointer<Int8>, geometry: UnsafePointer<Int>, zeroPoint: Int8,
                         first: Int, rows: Int, k4: Int, band: UnsafeMutableRawPointer)
@_extern(c, "edgeseg_int8_pack_vnni")
func int8PackVNNI(a: UnsafeRawPointer, lda: Int, rows: Int, k: Int, k4: Int,
                  into dst: UnsafeMutableRawPointer, panelRows: Int)
#elseif arch(arm64)
@_extern(c, "edgeseg_int8_tile_dot")
func int8TileDot(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kQuads: Int, acc: UnsafeMutablePointer<Int32>)
#endif

/// Weights of one GEMM (n output channels × k), packed for one `Int8Path`.
public struct Int8PackedWeights: Sendable {
  public let path: Int8Path
  public let n: Int
  public let k: Int
  /// Row sums Σ_k w[c][k], to fold the input zero point into the bias.
  public let rowSums: [Int32]
  let storage: [Int8]
  /// Added to each accumulator of channel c by the path itself (VNNI: −128·Σw undoes the +128).
  let correction: [Int32]

  var k4: Int { (k + 3) & ~3 }
  var blocks: Int { (n + path.nr - 1) / path.nr }
  var blockStride: Int { k4 / 4 * path.blockBytesPerK4 }
  /// Bytes of weights held (what the memory budget counts).
  public var byteCount: Int { storage.count + 4 * (rowSums.count + correction.count) }
}

/// Pack row-major weights [n][k] (values in −127…127, symmetric quantization) for `path`.
/// −128 is rejected: the NEON path's int16 pair sums are only exact for symmetric weights.
public func packInt8Weights(_ w: UnsafePointer<Int8>, n: Int, k: Int,
                            path: Int8Path = .preferred()) throws(Int8KernelError) -> Int8PackedWeights {
  guard n > 0 && k > 0 else { throw .emptyShape(n: n, k: k) }
  guard path.runs(on: .host) else { throw .int8PathUnavailable(path) }
  let nr = path.nr, k4 = (k + 3) & ~3, blocks = (n + nr - 1) / nr
  let blockStride = k4 / 4 * path.blockBytesPerK4
  var storage = [Int8](repeating: 0, count: blocks * blockStride)
  var rowSums = [Int32](repeating: 0, count: n)
  for c in 0..<n {
    for j in 0..<k {
      if w[c * k + j] == -128 { throw .weightOutOfRange(channel: c, index: j) }
      rowSums[c] += Int32(w[c * k + j])
    }
  }
  storage.withUnsafeMutableBufferPointer { dst in
    let raw = UnsafeMutableRawPointer(dst.baseAddress!)
    for c in 0..<n {
      let b = c / nr, lane = c % nr
      for j in 0..<k {
        let v = w[c * k + j], q = j / 4, kk = j % 4
        let base = b * blockStride + q * path.blockBytesPerK4
        switch path {
        case .avx2:
          // two int16 per (channel, k-pair); a K4 quad spans two k-pairs of 64 bytes each
          let pair = j / 2, half = j % 2
          raw.storeBytes(of: Int16(v), toByteOffset: b * blockStride + pair * 64 + (lane * 2 + half) * 2,
                         as: Int16.self)
        case .neon:
          let g = lane / 4, cl = lane % 4
          let off = base + g * 16 + (kk < 2 ? 0 : 8) + cl * 2 + (kk & 1)
          raw.storeBytes(of: v, toByteOffset: off, as: Int8.self)
        default:
          raw.storeBytes(of: v, toByteOffset: base + lane * 4 + kk, as: Int8.self)
        }
      }
    }
  }
  var correction = [Int32](repeating: 0, count: n)
  if path == .vnni { for c in 0..<n { correction[c] = -128 &* rowSums[c] } }
  return Int8PackedWeights(path: path, n: n, k: k, rowSums: rowSums, storage: storage, correction: correction)
}

/// Rows of A packed per band: the band's panels stay in L2 while every NR-block of weights is
/// streamed over them once, instead of once per MR rows.
let int8GemmBandRows = 32

/// VNNI: K is consumed in chunks of at most this many quads (4 bytes) per row, so the band's
/// panel chunk (32 rows × ≤ 768 bytes) and one block's weight chunk (16 × ≤ 768) stay in L1
/// (48 KB here) while the other blocks' weight chunks stream past. 192 beat 128 at K = 1 170 and
/// 2 880 in the kernel bench and leaves K ≤ 768 (the 1×1 convs) in one chunk, no partial sums.
/// The wide tile (36 rows × 768 + 32 channels × 768 bytes) measured 128 and 192 alike.
let int8VNNIChunkQuads = 192
/// VNNI: channel blocks whose partial sums are kept between K chunks (band rows × 16 int32 each).
let int8VNNIGroupBlocks = 16

/// VNNI: K (in quads) from which the 12 × 32 tile (`int8TileVNNIWide`) runs instead of the
/// 16 × 16 one. Kernel bench, M = 4096…16384: the wide tile 1.45× at K = 128 (N = 256), 1.1…1.2×
/// at K = 320…2 880, a tie at K = 96, 0.9× at K = 16…64 (N = 48…256), where the output stage
/// and its setup per tile, not vpdpbusd, bound the tile.
let int8VNNIWideMinQuads = 32
/// VNNI wide tile: rows per band, three tiles of 12 (24 and 48 measured alike, 32 would leave
/// a 8-row tile of padding in every band).
let int8VNNIWideBandRows = 36

/// Rows of the largest band any path packs (scratch sizing): 32, or 36 for the wide VNNI tile.
let int8GemmMaxBandRows = 36

/// Rows per band `int8GemmVNNI` (and the VNNI im2col that prepacks for it) uses at this K.
func int8VNNIBandRows(k4: Int) -> Int {
  k4 / 4 >= int8VNNIWideMinQuads ? int8VNNIWideBandRows : int8GemmBandRows
}

/// Bytes of int32 partial sums the VNNI path keeps when K spans more than one chunk (one group of
/// blocks of the widest band).
func int8VNNIPartialBytes(k4: Int) -> Int {
  k4 / 4 > int8VNNIChunkQuads ? int8VNNIGroupBlocks * int8GemmMaxBandRows * 64 : 0
}

/// Scratch bytes `int8Gemm` needs for a given K (one band of A panels + one accumulator tile,
/// and for VNNI with a long K the partial sums of a group of channel blocks).
public func int8GemmScratchBytes(k: Int) -> Int {
  let k4 = (k + 3) & ~3
  return int8GemmMaxBandRows * k4 * 4 + 8 * 16 * 4 + 64 + int8VNNIPartialBytes(k4: k4)
}

/// out[i][c] for i < m, c < n (row stride ldc). Allocation-free when given `scratch`
/// (≥ int8GemmScratchBytes(k:) bytes, 64-byte aligned preferred).
public func int8Gemm(a: UnsafePointer<Int8>, lda: Int, m: Int, packed: Int8PackedWeights,
                     stage: Int8OutputStage, out: UnsafeMutablePointer<Int8>, ldc: Int,
                     scratch: UnsafeMutableRawPointer) {
  int8GemmChannels(a: a, lda: lda, m: m, packed: packed, stage: stage, stageOffset: 0,
                   out: out, ldc: ldc, scratch: scratch)
}

/// Convenience for tests and tools: allocates its own scratch.
public func int8Gemm(a: UnsafePointer<Int8>, lda: Int, m: Int, packed: Int8PackedWeights,
                     stage: Int8OutputStage, out: UnsafeMutablePointer<Int8>, ldc: Int) {
  let bytes = int8GemmScratchBytes(k: packed.k)
  let scratch = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
  defer { scratch.deallocate() }
  int8Gemm(a: a, lda: lda, m: m, packed: packed, stage: stage, out: out, ldc: ldc, scratch: scratch)
}

/// The driver; `stageOffset` selects the output-stage channels (grouped convolution).
/// `prepacked`: `a` already holds the band's panels (VNNI only: rows of x ^ 0x80 at stride K4,
/// which is what int8Conv2D's im2col writes), m ≤ int8GemmBandRows.
func int8GemmChannels(a: UnsafePointer<Int8>, lda: Int, m: Int, packed: Int8PackedWeights,
                      stage: Int8OutputStage, stageOffset: Int, out: UnsafeMutablePointer<Int8>,
                      ldc: Int, scratch: UnsafeMutableRawPointer, prepacked: Bool = false) {
  let path = packed.path, mr = path.mr, nr = path.nr, k = packed.k, k4 = packed.k4
  precondition(!prepacked || (path == .vnni && m <= int8VNNIBandRows(k4: k4) && lda == k4))
  // panel bytes per row per K: int16 pairs (avx2) 2, expanded pairs (neon) 4, otherwise 1
  let panelBytes = mr * k4 * (path == .neon ? 4 : (path == .avx2 ? 2 : 1))
  let panels = prepacked ? UnsafeMutableRawPointer(mutating: a) : scratch
  let tile = (scratch + int8GemmMaxBandRows * k4 * 4).alignedUp(toMultipleOf: 64).assumingMemoryBound(to: Int32.self)
  let zp = stage.outputZeroPoint, lo = stage.clampMin, hi = stage.clampMax
  #if arch(x86_64)
  if path == .vnni {
    int8GemmVNNI(a: a, lda: lda, m: m, packed: packed, stage: stage, stageOffset: stageOffset, out: out, ldc: ldc,
                 panels: panels, partial: (scratch + int8GemmMaxBandRows * k4 * 4 + 8 * 16 * 4).alignedUp(toMultipleOf: 64),
                 prepacked: prepacked)
    return
  }
  #endif
  packed.storage.withUnsafeBufferPointer { wbuf in
  packed.correction.withUnsafeBufferPointer { correctionBuf in
  stage.bias.withUnsafeBufferPointer { biasBuf in
  stage.multiplier.withUnsafeBufferPointer { multBuf in
  stage.shift.withUnsafeBufferPointer { shiftBuf in
    let w = UnsafeRawPointer(wbuf.baseAddress!), correction = correctionBuf.baseAddress!
    let bias = biasBuf.baseAddress!, mult = multBuf.baseAddress!, shift = shiftBuf.baseAddress!
    var band0 = 0
    while band0 < m {
      let bandRows = min(int8GemmBandRows, m - band0)
      var i0 = prepacked ? bandRows : 0
      while i0 < bandRows {
        int8PackPanel(path, a + (band0 + i0) * lda, lda: lda, rows: min(mr, bandRows - i0), k: k, k4: k4,
                  into: panels + i0 / mr * panelBytes)
        i0 += mr
      }
      for b in 0..<packed.blocks {
        let c0 = b * nr, cols = min(nr, packed.n - c0)
        #if arch(x86_64)
        if path == .avx2 {
          // The tier requantizes 16 channels in its own vector lanes. A partial block (pruned
          // widths are rarely multiples of 16) runs the same tile on zero-padded weights with
          // padded stage values into a 16-wide staging tile, then copies its `cols` channels out.
          withUnsafeTemporaryAllocation(of: Int32.self, capacity: 48) { stageBuf in
          withUnsafeTemporaryAllocation(of: Int8.self, capacity: 16 * 16) { staging in   // MR ≤ 16 rows × 16
            let biasTotal = stageBuf.baseAddress!, mp = biasTotal + 16, sp = biasTotal + 32
            for j in 0..<16 {
              let inside = j < cols
              biasTotal[j] = inside ? bias[stageOffset + c0 + j] &+ correction[c0 + j] : 0
              mp[j] = inside ? mult[stageOffset + c0 + j] : 0
              sp[j] = inside ? shift[stageOffset + c0 + j] : 0
            }
            var r0 = 0
            while r0 < bandRows {
              let pp = UnsafeRawPointer(panels + r0 / mr * panelBytes), wp = w + b * packed.blockStride
              let rows = min(mr, bandRows - r0)
              let direct = cols == 16
              let op = direct ? out + (band0 + r0) * ldc + c0 : staging.baseAddress!
              let ld = direct ? ldc : 16
              int8TileAVX2Requant(panel: pp, weights: wp, kPairs: k4 / 2, biasTotal: biasTotal, multiplier: mp, shift: sp,
                                  zeroPoint: zp, clampMin: lo, clampMax: hi, out: op, ldc: ld, rows: rows)
              if !direct {
                for r in 0..<rows {
                  (out + (band0 + r0 + r) * ldc + c0).update(from: staging.baseAddress! + r * 16, count: cols)
                }
              }
              r0 += mr
            }
          }
          }
          continue
        }
        #endif
        i0 = 0
        while i0 < bandRows {
          int8RunTile(path, panel: UnsafeRawPointer(panels + i0 / mr * panelBytes),
                  weights: w + b * packed.blockStride, k4: k4, acc: tile)
          for r in 0..<min(mr, bandRows - i0) {
            let dst = out + (band0 + i0 + r) * ldc + c0
            var j = 0
            while j + 8 <= cols {   // 8 channels at a time, same integer ops as int8Requantize
              let c = c0 + j, sc = stageOffset + c
              let acc = UnsafeRawPointer(tile + r * nr + j).loadUnaligned(as: SIMD8<Int32>.self)
                &+ UnsafeRawPointer(correction + c).loadUnaligned(as: SIMD8<Int32>.self)
                &+ UnsafeRawPointer(bias + sc).loadUnaligned(as: SIMD8<Int32>.self)
              let q = int8RequantizeLanes(acc, UnsafeRawPointer(mult + sc).loadUnaligned(as: SIMD8<Int32>.self),
                                          UnsafeRawPointer(shift + sc).loadUnaligned(as: SIMD8<Int32>.self), zp, lo, hi)
              UnsafeMutableRawPointer(dst + j).storeBytes(of: q, as: SIMD8<Int8>.self)
              j += 8
            }
            while j < cols {
              let c = c0 + j, sc = stageOffset + c
              dst[j] = int8Requantize(tile[r * nr + j] &+ correction[c] &+ bias[sc], mult[sc], shift[sc], zp, lo, hi)
              j += 1
            }
          }
          i0 += mr
        }
      }
      band0 += bandRows
    }
  } } } } }
}

#if arch(x86_64)
/// The VNNI driver. Per band of rows (`int8VNNIBandRows`): panels packed by the tier (unless
/// prepacked), then K in balanced chunks, each chunk run over every channel block of a group of
/// int8VNNIGroupBlocks before the next, int32 partial sums in `partial` between chunks; the last
/// chunk requantizes. One chunk is the plain tile, no partial sums. Stage values are read in
/// place (the tiles mask a partial last block): nothing is staged per band. Long K runs the
/// 12 × 32 tile on pairs of blocks (an odd last block of a group on its 12 × 16 twin), short K
/// the 16 × 16 one.
func int8GemmVNNI(a: UnsafePointer<Int8>, lda: Int, m: Int, packed: Int8PackedWeights,
                  stage: Int8OutputStage, stageOffset: Int, out: UnsafeMutablePointer<Int8>, ldc: Int,
                  panels: UnsafeMutableRawPointer, partial: UnsafeMutableRawPointer, prepacked: Bool) {
  let k = packed.k, k4 = packed.k4, kQuads = k4 / 4, blocks = packed.blocks, n = packed.n
  let wide = kQuads >= int8VNNIWideMinQuads
  let bandMax = int8VNNIBandRows(k4: k4)
  let tileRows = wide ? 12 : 16
  let chunks = (kQuads + int8VNNIChunkQuads - 1) / int8VNNIChunkQuads
  let chunkQuads = (kQuads + chunks - 1) / chunks
  let groupBlocks = chunks > 1 ? int8VNNIGroupBlocks : blocks
  let zp = stage.outputZeroPoint, lo = stage.clampMin, hi = stage.clampMax
  let blockStride = packed.blockStride
  packed.storage.withUnsafeBufferPointer { wbuf in
  packed.correction.withUnsafeBufferPointer { correctionBuf in
  stage.bias.withUnsafeBufferPointer { biasBuf in
  stage.multiplier.withUnsafeBufferPointer { multBuf in
  stage.shift.withUnsafeBufferPointer { shiftBuf in
    let w = UnsafeRawPointer(wbuf.baseAddress!), correction = UnsafeRawPointer(correctionBuf.baseAddress!)
    let bias = UnsafeRawPointer(biasBuf.baseAddress! + stageOffset), mult = UnsafeRawPointer(multBuf.baseAddress! + stageOffset)
    let shift = UnsafeRawPointer(shiftBuf.baseAddress! + stageOffset)
    var band0 = 0
    while band0 < m {
      let bandRows = min(bandMax, m - band0)
      if !prepacked {
        int8PackVNNI(a: a + band0 * lda, lda: lda, rows: bandRows, k: k, k4: k4, into: panels,
                     panelRows: (bandRows + tileRows - 1) / tileRows * tileRows)
      }
      // the partial sums of block b - g0 (of this group), row r0
      @inline(__always) func partialAt(_ bi: Int, _ r0: Int) -> UnsafeMutableRawPointer {
        partial + (bi * bandMax + r0) * 64
      }
      var g0 = 0
      while g0 < blocks {
        let g1 = min(blocks, g0 + groupBlocks)
        var q0 = 0
        while q0 < kQuads {
          let quads = min(chunkQuads, kQuads - q0)
          let mode = (q0 > 0 ? 1 : 0) | (q0 + quads == kQuads ? 2 : 0)
          if wide {
            var b = g0
            while b + 1 < g1 {
              let c0 = b * 16, wp = w + b * blockStride + q0 * 64
              var r0 = 0
              while r0 < bandRows {
                int8TileVNNIWide(panel: panels + r0 * k4 + q0 * 4, panelStride: k4, weights: wp,
                                 blockStride: blockStride, kQuads: quads,
                                 partial0: partialAt(b - g0, r0), partial1: partialAt(b + 1 - g0, r0), mode: mode,
                                 bias: bias + c0 * 4, correction: correction + c0 * 4, multiplier: mult + c0 * 4,
                                 shift: shift + c0 * 4, zeroPoint: zp, clampMin: lo, clampMax: hi,
                                 out: out + (band0 + r0) * ldc + c0, ldc: ldc, rows: min(12, bandRows - r0),
                                 cols0: min(16, n - c0), cols1: min(16, n - c0 - 16))
                r0 += 12
              }
              b += 2
            }
            if b < g1 {   // an odd last block: the 12 × 16 twin on the same bands
              let c0 = b * 16, wp = w + b * blockStride + q0 * 64
              var r0 = 0
              while r0 < bandRows {
                int8TileVNNI12(panel: panels + r0 * k4 + q0 * 4, panelStride: k4, weights: wp, kQuads: quads,
                               partial: partialAt(b - g0, r0), mode: mode,
                               bias: bias + c0 * 4, correction: correction + c0 * 4, multiplier: mult + c0 * 4,
                               shift: shift + c0 * 4, zeroPoint: zp, clampMin: lo, clampMax: hi,
                               out: out + (band0 + r0) * ldc + c0, ldc: ldc, rows: min(12, bandRows - r0),
                               cols: min(16, n - c0))
                r0 += 12
              }
            }
            q0 += quads
            continue
          }
          for b in g0..<g1 {
            let c0 = b * 16, cols = min(16, n - c0), wp = w + b * blockStride + q0 * 64
            var r0 = 0
            while r0 < bandRows {
              int8TileVNNI(panel: panels + r0 * k4 + q0 * 4, panelStride: k4, weights: wp, kQuads: quads,
                           partial: partialAt(b - g0, r0), mode: mode,
                           bias: bias + c0 * 4, correction: correction + c0 * 4, multiplier: mult + c0 * 4,
                           shift: shift + c0 * 4, zeroPoint: zp, clampMin: lo, clampMax: hi,
                           out: out + (band0 + r0) * ldc + c0, ldc: ldc, rows: min(16, bandRows - r0), cols: cols)
              r0 += 16
            }
          }
          q0 += quads
        }
        g0 = g1
      }
      band0 += bandRows
    }
  } } } } }
}
#endif

/// Pack `rows` (≤ MR) rows of A into the panel layout of `path`; missing rows and the K tail are
/// zero (the matching weights are zero too, so the padding adds nothing).
@inline(__always)
func int8PackPanel(_ path: Int8Path, _ a: UnsafePointer<Int8>, lda: Int, rows: Int, k: Int, k4: Int,
               into p: UnsafeMutableRawPointer) {
  let mr = path.mr
  @inline(__always) func at(_ r: Int, _ j: Int) -> Int8 { r < rows && j < k ? a[r * lda + j] : 0 }
  switch path {
  case .avx2:
    // [k4/2][MR] × (int16 x_j, int16 x_j+1)
    let out = p.assumingMemoryBound(to: Int16.self)
    let fullPairs = k / 2
    for r in 0..<rows {
      let src = a + r * lda
      for q in 0..<fullPairs {
        let lo = UInt32(UInt16(bitPattern: Int16(src[2 * q]))), hi = UInt32(UInt16(bitPattern: Int16(src[2 * q + 1])))
        (p + (q * mr + r) * 4).storeBytes(of: lo | hi << 16, as: UInt32.self)
      }
    }
    // padding: the K tail of every row, then whole missing rows (visiting only those entries:
    // a scan of every (pair, row) with a filter cost more than the packing itself)
    for q in fullPairs..<(k4 / 2) {
      for r in 0..<mr {
        out[(q * mr + r) * 2] = Int16(at(r, 2 * q))
        out[(q * mr + r) * 2 + 1] = Int16(at(r, 2 * q + 1))
      }
    }
    for r in rows..<mr {
      for q in 0..<fullPairs { (p + (q * mr + r) * 4).storeBytes(of: 0, as: UInt32.self) }
    }
  case .neon:
    // [k4/4][MR][ (x0,x1)×4, (x2,x3)×4 ]
    let out = p.assumingMemoryBound(to: Int8.self)
    for q in 0..<(k4 / 4) {
      for r in 0..<mr {
        let d = out + (q * mr + r) * 16
        let x0 = at(r, 4 * q), x1 = at(r, 4 * q + 1), x2 = at(r, 4 * q + 2), x3 = at(r, 4 * q + 3)
        for t in 0..<4 { d[2 * t] = x0; d[2 * t + 1] = x1; d[8 + 2 * t] = x2; d[8 + 2 * t + 1] = x3 }
      }
    }
  case .vnni:
    preconditionFailure("VNNI panels are packed by the tier (int8PackVNNI, in int8GemmVNNI)")
  default:
    // [k4/4][MR][4] (scalar, sdot): whole 4-byte groups of real rows move as one word, the K
    // tail and missing rows byte by byte
    let out = p.assumingMemoryBound(to: Int8.self)
    let fullQuads = k / 4
    for r in 0..<rows {
      let src = UnsafeRawPointer(a + r * lda)
      for q in 0..<fullQuads {
        (p + (q * mr + r) * 4).storeBytes(of: src.loadUnaligned(fromByteOffset: 4 * q, as: UInt32.self), as: UInt32.self)
      }
    }
    for q in fullQuads..<(k4 / 4) {
      for r in 0..<mr {
        for t in 0..<4 { out[(q * mr + r) * 4 + t] = at(r, 4 * q + t) }
      }
    }
    for r in rows..<mr {
      for q in 0..<fullQuads { (p + (q * mr + r) * 4).storeBytes(of: 0, as: UInt32.self) }
    }
  }
}

/// dst[i] = src[i] ^ 0x80 (x + 128 as u8, VNNI's unsigned operand), one SSE/NEON register at a
/// time (wider Swift SIMD types spill here).
@inline(__always)
func int8CopyFlipped(from src: UnsafePointer<Int8>, to dst: UnsafeMutableRawPointer, count n: Int) {
  let s = UnsafeRawPointer(src), flip = SIMD16<UInt8>(repeating: 0x80)
  var j = 0
  while j + 16 <= n {
    dst.storeBytes(of: s.loadUnaligned(fromByteOffset: j, as: SIMD16<UInt8>.self) ^ flip, toByteOffset: j, as: SIMD16<UInt8>.self)
    j += 16
  }
  while j + 8 <= n {
    dst.storeBytes(of: s.loadUnaligned(fromByteOffset: j, as: UInt64.self) ^ 0x8080_8080_8080_8080, toByteOffset: j, as: UInt64.self)
    j += 8
  }
  while j < n { dst.storeBytes(of: s.load(fromByteOffset: j, as: UInt8.self) ^ 0x80, toByteOffset: j, as: UInt8.self); j += 1 }
}

@inline(__always)
func int8RunTile(_ path: Int8Path, panel: UnsafeRawPointer, weights: UnsafeRawPointer, k4: Int,
             acc: UnsafeMutablePointer<Int32>) {
  switch path {
  #if arch(x86_64)
  case .avx2: int8TileAVX2(panel: panel, weights: weights, kPairs: k4 / 2, acc: acc)
  #elseif arch(arm64)
  case .neon: int8TileNEON(panel: panel, weights: weights, kQuads: k4 / 4, acc: acc)
  case .dot: int8TileDot(panel: panel, weights: weights, kQuads: k4 / 4, acc: acc)
  #endif
  default: int8TileScalar(panel: panel, weights: weights, kQuads: k4 / 4, acc: acc)
  }
}

/// Portable micro-kernel, MR = 4 × NR = 8, on the [k4/4][8][4] layout.
func int8TileScalar(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kQuads: Int,
                    acc: UnsafeMutablePointer<Int32>) {
  let a = panel.assumingMemoryBound(to: Int8.self), w = weights.assumingMemoryBound(to: Int8.self)
  for i in 0..<32 { acc[i] = 0 }
  for q in 0..<kQuads {
    for r in 0..<4 {
      let ar = a + (q * 4 + r) * 4
      for c in 0..<8 {
        let wc = w + (q * 8 + c) * 4
        var s: Int32 = 0
        for t in 0..<4 { s &+= Int32(ar[t]) &* Int32(wc[t]) }
        acc[r * 8 + c] &+= s
      }
    }
  }
}

#if arch(arm64)
/// ARMv8.0 NEON micro-kernel, MR = 4 × NR = 8: per 4 K values and 4 channels one smull (k0,k1),
/// one smlal (k2,k3) — |x·w| ≤ 128·127, so two products fit int16 — and one sadalp into int32.
func int8TileNEON(panel: UnsafeRawPointer, weights: UnsafeRawPointer, kQuads: Int,
                  acc: UnsafeMutablePointer<Int32>) {
  var c00 = int32x4_t(repeating: 0), c01 = c00, c10 = c00, c11 = c00
  var c20 = c00, c21 = c00, c30 = c00, c31 = c00
  var p = panel, w = weights
  for _ in 0..<kQuads {
    let w0 = w.loadUnaligned(as: int8x16_t.self), w1 = (w + 16).loadUnaligned(as: int8x16_t.self)
    let w0l = vget_low_s8(w0), w1l = vget_low_s8(w1)
    @inline(__always) func step(_ a: int8x16_t, _ x0: inout int32x4_t, _ x1: inout int32x4_t) {
      let al = vget_low_s8(a)
      x0 = vpadalq_s16(x0, vmlal_high_s8(vmull_s8(w0l, al), w0, a))
      x1 = vpadalq_s16(x1, vmlal_high_s8(vmull_s8(w1l, al), w1, a))
    }
    step(p.loadUnaligned(as: int8x16_t.self), &c00, &c01)
    step((p + 16).loadUnaligned(as: int8x16_t.self), &c10, &c11)
    step((p + 32).loadUnaligned(as: int8x16_t.self), &c20, &c21)
    step((p + 48).loadUnaligned(as: int8x16_t.self), &c30, &c31)
    p += 64; w += 32
  }
  let o = UnsafeMutableRawPointer(acc)
  o.storeBytes(of: c00, toByteOffset: 0, as: int32x4_t.self); o.storeBytes(of: c01, toByteOffset: 16, as: int32x4_t.self)
  o.storeBytes(of: c10, toByteOffset: 32, as: int32x4_t.self); o.storeBytes(of: c11, toByteOffset: 48, as: int32x4_t.self)
  o.storeBytes(of: c20, toByteOffset: 64, as: int32x4_t.self); o.storeBytes(of: c21, toByteOffset: 80, as: int32x4_t.self)
  o.storeBytes(of: c30, toByteOffset: 96, as: int32x4_t.self); o.storeBytes(of: c31, toByteOffset: 112, as: int32x4_t.self)
}
#endif
