// Depthwise int8 convolution packed once at load. The portable path keeps the tap-major int8
// weights of `int8PackDepthwiseWeights` (Int8Conv.swift). The x86 paths (avx2, vnni) use
// vpmaddwd / vpdpwssd on pairs of vertically adjacent taps:
//
//   input, per thread: "pair rows" P_r[col][c] = (x[r][ix][c], x[r + dilH][ix][c]) as int16 pairs,
//                      built once per input row from NHWC int8, padding columns / rows = zp_in,
//                      channels padded to 16 (the kernel never tests a bound per tap);
//   weights:           [C16 blocks][kH/2 pair rows][kW][16 ch][2] int16 = (w[2j][kx], w[2j+1][kx] or 0);
//   params:            [C16 blocks][bias, multiplier, left, right, mask, mask/2][16] int32.
//
// |x·w| ≤ 128·127, so a pair sums to ≤ 32512 and vpmaddwd is exact; the int32 sums are the
// reference's (order-independent), and the requantization performs the integer steps of
// `int8Requantize` on 8 / 16 lanes. Output row r of a 3×3 stride-1 conv reads P_{r−1} (taps
// ky 0, 1) and P_{r+1} (ky 2, paired with a zero weight); every P_r is built once per band.
// The pair rows live in caller scratch (`int8DepthwiseScratchBytes`): nothing allocates per run.

#if arch(x86_64)
@_extern(c, "edgeseg_int8_dw_pairs_avx2")
func int8DepthwisePairsAVX2(input: UnsafePointer<Int8>, inputZeroPoint: Int32, geometry: UnsafePointer<Int>,
                            weights: UnsafeRawPointer, params: UnsafeRawPointer,
                            outputZeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                            output: UnsafeMutablePointer<Int8>, rowLo: Int, rowHi: Int,
                            scratch: UnsafeMutableRawPointer)
@_extern(c, "edgeseg_int8_dw_pairs_vnni")
func int8DepthwisePairsVNNI(input: UnsafePointer<Int8>, inputZeroPoint: Int32, geometry: UnsafePointer<Int>,
                            weights: UnsafeRawPointer, params: UnsafeRawPointer,
                            outputZeroPoint: Int32, clampMin: Int32, clampMax: Int32,
                            output: UnsafeMutablePointer<Int8>, rowLo: Int, rowHi: Int,
                            scratch: UnsafeMutableRawPointer)
#endif

/// Depthwise weights and output stage packed for one `Int8Path` (see the file comment).
public struct Int8PackedDepthwise: Sendable {
  public let path: Int8Path
  public let channels: Int, kH: Int, kW: Int
  /// Tap-major [kh·kw][C] int8 (portable paths); empty on the pair paths.
  let tapMajor: [Int8]
  /// Pair paths: int16 tap pairs and per-block requantization constants; empty otherwise.
  let pairs: [Int16]
  let params: [Int32]

  /// Bytes of weights held (what the memory budget counts).
  public var byteCount: Int { tapMajor.count + 2 * pairs.count + 4 * params.count }
  var usesPairs: Bool { !pairs.isEmpty }
}

/// The pair kernels run on the x86 paths.
@inline(__always) func int8DepthwiseUsesPairs(_ path: Int8Path) -> Bool { path == .avx2 || path == .vnni }

/// Packs tap-major weights ([kh·kw][C], from `int8PackDepthwiseWeights`) and the output stage
/// for `path`. Runs once at load.
public func int8PackDepthwise(tapMajor w: [Int8], channels C: Int, kH: Int, kW: Int, stage: Int8OutputStage,
                              path: Int8Path) -> Int8PackedDepthwise {
  precondition(w.count == C * kH * kW && stage.bias.count == C, "depthwise weights / stage do not match the shape")
  guard int8DepthwiseUsesPairs(path) else {
    return Int8PackedDepthwise(path: path, channels: C, kH: kH, kW: kW, tapMajor: w, pairs: [], params: [])
  }
  let blocks = (C + 15) / 16, pairRows = (kH + 1) / 2
  var pairs = [Int16](repeating: 0, count: blocks * pairRows * kW * 32)
  var params = [Int32](repeating: 0, count: blocks * 6 * 16)
  for b in 0..<blocks {
    for lane in 0..<16 where b * 16 + lane < C {
      let c = b * 16 + lane
      for j in 0..<pairRows {
        for kx in 0..<kW {
          let o = ((b * pairRows + j) * kW + kx) * 32 + 2 * lane
          pairs[o] = Int16(w[((2 * j) * kW + kx) * C + c])
          if 2 * j + 1 < kH { pairs[o + 1] = Int16(w[((2 * j + 1) * kW + kx) * C + c]) }
        }
      }
      let sh = stage.shift[c], left = max(sh, 0), right = max(-sh, 0)
      let mask = (Int32(1) &<< right) &- 1
      let p = b * 96 + lane
      params[p] = stage.bias[c]; params[p + 16] = stage.multiplier[c]
      params[p + 32] = left; params[p + 48] = right; params[p + 64] = mask; params[p + 80] = mask >> 1
    }
  }
  return Int8PackedDepthwise(path: path, channels: C, kH: kH, kW: kW, tapMajor: [], pairs: pairs, params: params)
}

/// Pair-row ring of the x86 kernels: slots chosen so the kH/2 pair rows one output row reads
/// never share a slot (r mod slots), and consecutive output rows reuse what is built.
@inline(__always) func int8DepthwiseSlots(kH: Int, dilationH: Int) -> Int { 2 * ((kH + 1) / 2 - 1) * dilationH + 1 }

/// Per-thread scratch bytes for `int8DepthwiseConv2D(packed:)` on `shape` (0 on portable paths).
public func int8DepthwiseScratchBytes(_ p: Int8PackedDepthwise, shape s: Int8ConvShape) -> Int {
  guard p.usesPairs else { return 0 }
  let cp = (s.inC + 15) / 16 * 16
  let cols = (s.outW - 1) * s.strideW + (s.kW - 1) * s.dilationW + 1
  let rowBytes = (cols * cp * 4 + 63) & ~63
  let slots = int8DepthwiseSlots(kH: s.kH, dilationH: s.dilationH)
  // header: slot tags (Int each), then one zero-point row of cp bytes; then the slots.
  let header = (slots * 8 + cp + 63) & ~63
  return header + slots * rowBytes
}

/// Depthwise convolution with weights packed by `int8PackDepthwise`; `scratch` holds
/// `int8DepthwiseScratchBytes` bytes (per thread, 64-byte aligned). Byte-identical with
/// `int8Conv2DReference` on every path. `outputRows` limits the work to a band of output rows.
public func int8DepthwiseConv2D(input: UnsafePointer<Int8>, inputZeroPoint: Int32, shape s: Int8ConvShape,
                                packed p: Int8PackedDepthwise, stage: Int8OutputStage,
                                output: UnsafeMutablePointer<Int8>, scratch: UnsafeMutableRawPointer?,
                                outputRows: Range<Int>? = nil) {
  precondition(s.groups == s.inC && s.inC == s.outC && s.inC == p.channels && s.kH == p.kH && s.kW == p.kW,
               "packed depthwise weights do not match the shape")
  let rows = outputRows ?? 0..<s.outH
  precondition(rows.lowerBound >= 0 && rows.upperBound <= s.outH)
  #if arch(x86_64)
  if p.usesPairs {
    if rows.isEmpty || s.outW <= 0 { return }
    guard let scratch else { preconditionFailure("the pair kernels need scratch") }
    var geo = (s.inH, s.inW, s.inC, s.outW, s.kH, s.kW, s.strideH, s.strideW, s.padTop, s.padLeft, s.dilationH, s.dilationW)
    withUnsafePointer(to: &geo) { tuple in
      tuple.withMemoryRebound(to: Int.self, capacity: 12) { g in
        p.pairs.withUnsafeBytes { w in p.params.withUnsafeBytes { prm in
          if p.path == .vnni {
            int8DepthwisePairsVNNI(input: input, inputZeroPoint: inputZeroPoint, geometry: g, weights: w.baseAddress!,
                                   params: prm.baseAddress!, outputZeroPoint: stage.outputZeroPoint,
                                   clampMin: stage.clampMin, clampMax: stage.clampMax, output: output,
                                   rowLo: rows.lowerBound, rowHi: rows.upperBound, scratch: scratch)
          } else {
            int8DepthwisePairsAVX2(input: input, inputZeroPoint: inputZeroPoint, geometry: g, weights: w.baseAddress!,
                                   params: prm.baseAddress!, outputZeroPoint: stage.outputZeroPoint,
                                   clampMin: stage.clampMin, clampMax: stage.clampMax, output: output,
                                   rowLo: rows.lowerBound, rowHi: rows.upperBound, scratch: scratch)
          }
        } }
      }
    }
    return
  }
  #endif
  p.tapMajor.withUnsafeBufferPointer { w in
    int8DepthwiseConv2D(input: input, inputZeroPoint: inputZeroPoint, shape: s, weights: w.baseAddress!,
                        stage: stage, output: output, outputRows: rows, path: p.path)
  }
}
