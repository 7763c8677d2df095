// FP16 kernels: FP16 storage everywhere; arithmetic in FP16 where the CPU has it (ARMv8.2-A
// FEAT_FP16, vfmaq_f16), otherwise widen to FP32 to compute (x86 F16C + FMA, or portable code).
// Not bit-exact across paths (FMA, accumulation width and order differ); the tolerance against
// the scalar reference is `fp16Tolerance` (docs/kernels.md).

#if arch(x86_64)
@_extern(c, "edgeseg_fp16_tile_f16c")
func fp16TileF16C(_ r0: UnsafeRawPointer, _ r1: UnsafeRawPointer, _ r2: UnsafeRawPointer, _ r3: UnsafeRawPointer,
                  weights: UnsafeRawPointer, k: Int, bias: UnsafePointer<Float>?, clampMin: Float, clampMax: Float,
                  out: UnsafeMutableRawPointer, ldc: Int, rows: Int, cols: Int)
@_extern(c, "edgeseg_fp16_dwpixel_f16c")
func fp16DepthwisePixelF16C(taps: UnsafeRawPointer, tapCount: Int, weights: UnsafeRawPointer,
                            bias: UnsafePointer<Float>, channels: Int, clampMin: Float, clampMax: Float,
                            out: UnsafeMutableRawPointer)
#elseif arch(arm64)
@_extern(c, "edgeseg_fp16_tile_fp16")
func fp16TileFP16Arith(_ r0: UnsafeRawPointer, _ r1: UnsafeRawPointer, _ r2: UnsafeRawPointer, _ r3: UnsafeRawPointer,
                       weights: UnsafeRawPointer, k: Int, acc: UnsafeMutablePointer<Float>)
@_extern(c, "edgeseg_fp16_dwpixel_fp16")
func fp16DepthwisePixelFP16Arith(taps: UnsafeRawPointer, tapCount: Int, weights: UnsafeRawPointer,
                                 bias: UnsafePointer<Float>, channels: Int, clampMin: Float, clampMax: Float,
                                 out: UnsafeMutableRawPointer)
#endif

public enum FP16Path: UInt8, Sendable, CaseIterable {
  case scalar   // portable: widen to Float, accumulate in Float
  case f16c     // x86: F16C conversion + AVX2 FMA in FP32
  case fp16     // ARMv8.2: FP16 FMA (vfmaq_f16), FP16 accumulators

  public var name: String {
    switch self { case .scalar: return "scalar"; case .f16c: return "f16c"; case .fp16: return "fp16" }
  }
  var staticName: StaticString {
    switch self { case .scalar: return "scalar"; case .f16c: return "f16c"; case .fp16: return "fp16" }
  }

  public func runs(on cpu: CPUFeatures) -> Bool {
    switch self {
    case .scalar: return true
    #if arch(x86_64)
    case .f16c: return cpu.avx2
    #elseif arch(arm64)
    case .fp16: return cpu.fp16Arith
    #endif
    default: return false
    }
  }

  public static func available(on cpu: CPUFeatures = .host) -> [FP16Path] {
    allCases.filter { $0.runs(on: cpu) }
  }

  /// The fastest path, unless EDGESEG_FP16_PATH names another one that runs here.
  public static func preferred(on cpu: CPUFeatures = .host) -> FP16Path {
    let paths = available(on: cpu)
    if let env = quantEnvironmentValue("EDGESEG_FP16_PATH") {
      for p in paths where quantAsciiEqual(env, p.staticName) { return p }
    }
    return paths[paths.count - 1]
  }

  /// Does this path accumulate in FP16 (larger, K-dependent error)?
  public var accumulatesInFP16: Bool { self == .fp16 }
}

/// Allowed |result − reference| for one GEMM / conv output: half an FP16 step of the result
/// plus the accumulation error, Σ|a·w| scaled by 2^-16 (FP32 accumulators) or by 2^-10·√K
/// (FP16 accumulators, round-off growing like a random walk).
public func fp16Tolerance(reference: Float, sumAbsProducts: Float, k: Int, path: FP16Path) -> Float {
  var kRoot: Float = 1
  while kRoot * kRoot < Float(k) { kRoot += 1 }
  let accumulation: Float = path.accumulatesInFP16 ? sumAbsProducts * kRoot / 1024 : sumAbsProducts / 65536
  return abs(reference) / 1024 + accumulation + 1e-6
}

// MARK: - reference

/// out[i][c] = clamp(bias[c] + Σ_k a[i][k]·w[c][k]) in Float, rounded once to FP16.
public func fp16GemmReference(a: UnsafePointer<Float16>, lda: Int, m: Int, weights w: UnsafePointer<Float16>,
                              n: Int, k: Int, bias: UnsafePointer<Float>?, clampMin: Float = -.infinity,
                              clampMax: Float = .infinity, out: UnsafeMutablePointer<Float16>, ldc: Int) {
  for i in 0..<m {
    for c in 0..<n {
      var acc: Float = bias?[c] ?? 0
      for j in 0..<k { acc += Float(a[i * lda + j]) * Float(w[c * k + j]) }
      out[i * ldc + c] = Float16(min(max(acc, clampMin), clampMax))
    }
  }
}

/// Depthwise reference, weights tap-major [kh·kw][C], padding = 0.
public func fp16DepthwiseReference(input: UnsafePointer<Float16>, shape s: Int8ConvShape,
                                   weights: UnsafePointer<Float16>, bias: UnsafePointer<Float>?,
                                   clampMin: Float = -.infinity, clampMax: Float = .infinity,
                                   output: UnsafeMutablePointer<Float16>) {
  let C = s.inC
  for oy in 0..<s.outH { for ox in 0..<s.outW { for c in 0..<C {
    var acc: Float = bias?[c] ?? 0
    for ky in 0..<s.kH { for kx in 0..<s.kW {
      let iy = oy * s.strideH - s.padTop + ky * s.dilationH, ix = ox * s.strideW - s.padLeft + kx * s.dilationW
      if iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW { continue }
      acc += Float(input[(iy * s.inW + ix) * C + c]) * Float(weights[(ky * s.kW + kx) * C + c])
    } }
    output[(oy * s.outW + ox) * C + c] = Float16(min(max(acc, clampMin), clampMax))
  } } }
}

// MARK: - packed GEMM

/// FP16 weights [n][k] packed as [⌈n/16⌉][k][16 ch] (one or two vectors of channels per K step).
public struct FP16PackedWeights: Sendable {
  public let path: FP16Path
  public let n: Int, k: Int
  let storage: [Float16]
  var blocks: Int { (n + 15) / 16 }
  public var byteCount: Int { storage.count * 2 }
}

public func packFP16Weights(_ w: UnsafePointer<Float16>, n: Int, k: Int,
                            path: FP16Path = .preferred()) throws(Int8KernelError) -> FP16PackedWeights {
  guard n > 0 && k > 0 else { throw .emptyShape(n: n, k: k) }
  guard path.runs(on: .host) else { throw .fp16PathUnavailable(path) }
  let blocks = (n + 15) / 16
  var s = [Float16](repeating: 0, count: blocks * k * 16)
  for c in 0..<n { for j in 0..<k { s[((c / 16) * k + j) * 16 + c % 16] = w[c * k + j] } }
  return FP16PackedWeights(path: path, n: n, k: k, storage: s)
}

/// Packed FP16 GEMM; tiles of 4 rows × 16 channels, sums handed back in Float, then bias,
/// clamp and one rounding to FP16 here (shared by every path).
public func fp16Gemm(a: UnsafePointer<Float16>, lda: Int, m: Int, packed: FP16PackedWeights,
                     bias: UnsafePointer<Float>?, clampMin: Float = -.infinity, clampMax: Float = .infinity,
                     out: UnsafeMutablePointer<Float16>, ldc: Int) {
  let k = packed.k
  withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { tileBuf in
    let tile = tileBuf.baseAddress!
    packed.storage.withUnsafeBufferPointer { wbuf in
      var i0 = 0
      while i0 < m {
        let rows = min(4, m - i0)
        // rows past the end re-read the last row; their sums are dropped
        let r0 = a + i0 * lda, r1 = a + (i0 + min(1, rows - 1)) * lda
        let r2 = a + (i0 + min(2, rows - 1)) * lda, r3 = a + (i0 + min(3, rows - 1)) * lda
        for b in 0..<packed.blocks {
          let wb = wbuf.baseAddress! + b * k * 16
          let c0 = b * 16, cols = min(16, packed.n - c0)
          switch packed.path {
          #if arch(x86_64)
          case .f16c:   // the tier does its own epilogue (hardware FP16 conversion)
            fp16TileF16C(r0, r1, r2, r3, weights: wb, k: k, bias: bias.map { $0 + c0 }, clampMin: clampMin,
                         clampMax: clampMax, out: out + i0 * ldc + c0, ldc: ldc, rows: rows, cols: cols)
            continue
          #elseif arch(arm64)
          case .fp16: fp16TileFP16Arith(r0, r1, r2, r3, weights: wb, k: k, acc: tile)
          #endif
          default: fp16TileScalar(r0, r1, r2, r3, weights: wb, k: k, acc: tile)
          }
          for r in 0..<rows {
            let dst = out + (i0 + r) * ldc + c0
            for j in 0..<cols {
              let v = tile[r * 16 + j] + (bias?[c0 + j] ?? 0)
              dst[j] = Float16(min(max(v, clampMin), clampMax))
            }
          }
        }
        i0 += 4
      }
    }
  }
}

func fp16TileScalar(_ r0: UnsafePointer<Float16>, _ r1: UnsafePointer<Float16>, _ r2: UnsafePointer<Float16>,
                    _ r3: UnsafePointer<Float16>, weights: UnsafePointer<Float16>, k: Int,
                    acc: UnsafeMutablePointer<Float>) {
  for i in 0..<64 { acc[i] = 0 }
  for j in 0..<k {
    let w = weights + j * 16
    let x0 = Float(r0[j]), x1 = Float(r1[j]), x2 = Float(r2[j]), x3 = Float(r3[j])
    for c in 0..<16 {
      let wc = Float(w[c])
      acc[c] += x0 * wc; acc[16 + c] += x1 * wc; acc[32 + c] += x2 * wc; acc[48 + c] += x3 * wc
    }
  }
}

// MARK: - depthwise

/// Depthwise convolution in FP16 storage (weights tap-major [kh·kw][C], padding = 0), one
/// output pixel at a time across all channels.
public func fp16DepthwiseConv2D(input: UnsafePointer<Float16>, shape s: Int8ConvShape,
                                weights: UnsafePointer<Float16>, bias: UnsafePointer<Float>,
                                clampMin: Float = -.infinity, clampMax: Float = .infinity,
                                output: UnsafeMutablePointer<Float16>, path: FP16Path = .preferred()) {
  precondition(s.groups == s.inC && s.inC == s.outC, "depthwise needs groups == inC == outC")
  let C = s.inC, taps = s.kH * s.kW
  withUnsafeTemporaryAllocation(of: UnsafePointer<Float16>?.self, capacity: taps) { tapBuf in
    let tapPtrs = tapBuf.baseAddress!
    for oy in 0..<s.outH {
      for ox in 0..<s.outW {
        for ky in 0..<s.kH {
          let iy = oy * s.strideH - s.padTop + ky * s.dilationH
          for kx in 0..<s.kW {
            let ix = ox * s.strideW - s.padLeft + kx * s.dilationW
            let inside = iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW
            tapPtrs[ky * s.kW + kx] = inside ? input + (iy * s.inW + ix) * C : nil
          }
        }
        let dst = output + (oy * s.outW + ox) * C
        switch path {
        #if arch(x86_64)
        case .f16c: fp16DepthwisePixelF16C(taps: tapPtrs, tapCount: taps, weights: weights, bias: bias,
                                           channels: C, clampMin: clampMin, clampMax: clampMax, out: dst)
        #elseif arch(arm64)
        case .fp16: fp16DepthwisePixelFP16Arith(taps: tapPtrs, tapCount: taps, weights: weights, bias: bias,
                                                channels: C, clampMin: clampMin, clampMax: clampMax, out: dst)
        #endif
        default:
          for c in 0..<C {
            var acc = bias[c]
            for t in 0..<taps { if let p = tapPtrs[t] { acc += Float(p[c]) * Float(weights[t * C + c]) } }
            dst[c] = Float16(min(max(acc, clampMin), clampMax))
          }
        }
      }
    }
  }
}
