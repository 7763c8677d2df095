// Fixed-point requantization exactly as gemmlowp / TFLite (reference_ops, non-"double rounding
// off" branch): SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, both rounding half
// away from zero. Every int8 path funnels its int32 accumulators through `int8Requantize`, which
// is what makes the SIMD paths bit-exact with the scalar oracle.

/// A real multiplier 0 < m as (q31 multiplier, power-of-two shift): m ≈ multiplier·2^(shift−31).
public struct Int8Multiplier: Equatable, Sendable {
  public var multiplier: Int32
  public var shift: Int32      // > 0: left shift before the multiply, < 0: rounding right shift after
  public init(multiplier: Int32, shift: Int32) { self.multiplier = multiplier; self.shift = shift }

  /// TFLite's QuantizeMultiplier: frexp, round half away, renormalise 2^31, flush tiny scales to 0.
  public init(_ real: Double) {
    guard real > 0, real.isFinite else { self.init(multiplier: 0, shift: 0); return }
    // frexp: real = q · 2^e with q in [0.5, 1)
    var e = Int32(real.exponent) + 1
    let q = real.significand / 2
    var qFixed = Int64((q * 2147483648.0).rounded())   // .rounded() = half away from zero, like std::round
    if qFixed == 1 << 31 { qFixed /= 2; e += 1 }
    if e < -31 { self.init(multiplier: 0, shift: 0); return }
    if e > 30 { self.init(multiplier: Int32.max, shift: 30); return }
    self.init(multiplier: Int32(qFixed), shift: e)
  }

  /// The real value this multiplier stands for (for error reports).
  public var real: Double {
    Double(multiplier) * Double(sign: .plus, exponent: Int(shift) - 31, significand: 1)
  }
}

/// gemmlowp SaturatingRoundingDoublingHighMul: round(a·b / 2^31), written as gemmlowp does
/// (nudge ±2^30, truncating division). Ties: +1.5 → 2 but −1.5 → −1 (it is round half *up*).
@inline(__always)
public func int8SaturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
  if a == b && a == Int32.min { return Int32.max }
  let ab = Int64(a) * Int64(b)
  let nudge: Int64 = ab >= 0 ? (1 << 30) : (1 - (1 << 30))
  return Int32(truncatingIfNeeded: (ab + nudge) / (1 << 31))   // C division: truncates toward zero
}

/// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero.
@inline(__always)
public func int8RoundingDivideByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
  let mask = Int32((Int64(1) << Int64(exponent)) - 1)
  let remainder = x & mask
  let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
  return (x >> exponent) + (remainder > threshold ? 1 : 0)
}

/// TFLite MultiplyByQuantizedMultiplier (the left shift wraps on overflow, as the C++ would;
/// it only happens for real multipliers > 1 times huge accumulators).
@inline(__always)
public func int8MultiplyByQuantizedMultiplier(_ x: Int32, _ m: Int32, _ shift: Int32) -> Int32 {
  let left = shift > 0 ? shift : 0
  let right = shift > 0 ? 0 : -shift
  return int8RoundingDivideByPOT(int8SaturatingRoundingDoublingHighMul(x &<< left, m), right)
}

/// Why a model's quantized data cannot be used (values come from a file: a clear error, no crash).
public enum Int8KernelError: Error, Equatable, Sendable {
  case emptyShape(n: Int, k: Int)
  case weightOutOfRange(channel: Int, index: Int)        // −128: weights are symmetric, −127…127
  case int8PathUnavailable(Int8Path)                     // packing for an ISA this CPU lacks
  case fp16PathUnavailable(FP16Path)
  case channelCountMismatch(expected: Int, got: Int)
  case clampOutOfRange(min: Int32, max: Int32)
  case multiplierOutOfRange(channel: Int, multiplier: Int32, shift: Int32)
}

/// Per-output-channel output stage of a conv / GEMM: bias (with the input zero point already
/// folded in: bias − zpIn·Σw), multiplier + shift, output zero point, clamp. Fused ReLU / ReLU6
/// are just tighter clamp bounds (see `int8ClampBounds`).
public struct Int8OutputStage: Sendable {
  public var bias: [Int32]
  public var multiplier: [Int32]
  public var shift: [Int32]
  public var outputZeroPoint: Int32
  public var clampMin: Int32
  public var clampMax: Int32

  /// Checked: the values may come from a model file.
  public init(bias: [Int32], multiplier: [Int32], shift: [Int32], outputZeroPoint: Int32,
              clampMin: Int32 = -128, clampMax: Int32 = 127) throws(Int8KernelError) {
    guard bias.count == multiplier.count else {
      throw .channelCountMismatch(expected: bias.count, got: multiplier.count)
    }
    guard bias.count == shift.count else { throw .channelCountMismatch(expected: bias.count, got: shift.count) }
    guard -128 <= clampMin && clampMin <= clampMax && clampMax <= 127 else {
      throw .clampOutOfRange(min: clampMin, max: clampMax)
    }
    for c in 0..<multiplier.count where multiplier[c] < 0 || shift[c] < -31 || shift[c] > 30 {
      // q31 multipliers are positive (never INT32_MIN, the one saturating case); shifts as TFLite
      throw .multiplierOutOfRange(channel: c, multiplier: multiplier[c], shift: shift[c])
    }
    self.bias = bias; self.multiplier = multiplier; self.shift = shift
    self.outputZeroPoint = outputZeroPoint; self.clampMin = clampMin; self.clampMax = clampMax
  }

  /// From float quantization parameters: real multiplier = sIn·sW[c] / sOut per channel.
  /// `bias` is the float bias; it is quantized with scale sIn·sW[c] (round half away) and the
  /// input zero point is folded in with the weight row sums.
  public init(weights: UnsafePointer<Int8>, outputChannels n: Int, k: Int, bias: [Float]?,
              inputScale: Float, inputZeroPoint: Int32, weightScales: [Float],
              outputScale: Float, outputZeroPoint: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127)
    throws(Int8KernelError) {
    guard weightScales.count == n else { throw .channelCountMismatch(expected: n, got: weightScales.count) }
    if let bias, bias.count != n { throw .channelCountMismatch(expected: n, got: bias.count) }
    var b = [Int32](repeating: 0, count: n), m = b, s = b
    for c in 0..<n {
      let accScale = Double(inputScale) * Double(weightScales[c])
      var q: Int64 = 0
      if let bias, accScale > 0 {
        q = Int64((Double(bias[c]) / accScale).rounded())
        q = max(Int64(Int32.min / 2), min(Int64(Int32.max / 2), q))
      }
      var rowSum: Int64 = 0
      for i in 0..<k { rowSum += Int64(weights[c * k + i]) }
      b[c] = Int32(truncatingIfNeeded: q - Int64(inputZeroPoint) * rowSum)
      let mult = Int8Multiplier(accScale / Double(outputScale))
      m[c] = mult.multiplier; s[c] = mult.shift
    }
    try self.init(bias: b, multiplier: m, shift: s, outputZeroPoint: outputZeroPoint,
                  clampMin: clampMin, clampMax: clampMax)
  }
}

/// Requantize one int32 accumulator (bias already added) of output channel `c`.
@inline(__always)
public func int8Requantize(_ acc: Int32, _ multiplier: Int32, _ shift: Int32,
                           _ zeroPoint: Int32, _ lo: Int32, _ hi: Int32) -> Int8 {
  let v = int8MultiplyByQuantizedMultiplier(acc, multiplier, shift) &+ zeroPoint
  return Int8(truncatingIfNeeded: min(max(v, lo), hi))
}

/// `int8Requantize` on 8 lanes at once, giving the same bytes (tested against the scalar one over
/// extreme accumulators and shifts), written with SIMD types that lower to NEON / SSE everywhere. Multipliers must not
/// be Int32.min (the one case where SaturatingRoundingDoublingHighMul saturates).
@inline(__always)
func int8RequantizeLanes(_ acc: SIMD8<Int32>, _ mult: SIMD8<Int32>, _ shift: SIMD8<Int32>,
                         _ zeroPoint: Int32, _ lo: Int32, _ hi: Int32) -> SIMD8<Int8> {
  let zero = SIMD8<Int32>(repeating: 0)
  let left = pointwiseMax(shift, zero), right = pointwiseMax(zero &- shift, zero)
  let x = acc &<< left
  // gemmlowp's nudge-then-truncate equals floor((a·b + 2^30) / 2^31) for every a, b (for a·b < 0:
  // trunc((y + 1 − 2^30)/2^31) = floor((y + 2^30)/2^31)), i.e. round half up — what vqrdmulh does.
  // One add and an arithmetic shift: no 64-bit lane compares, which SSE2 would do lane by lane.
  @inline(__always) func highMul(_ a: SIMD4<Int32>, _ b: SIMD4<Int32>) -> SIMD4<Int32> {
    let ab = SIMD4<Int64>(truncatingIfNeeded: a) &* SIMD4<Int64>(truncatingIfNeeded: b)
    return SIMD4<Int32>(truncatingIfNeeded: (ab &+ (1 << 30)) &>> 31)
  }
  let h = SIMD8<Int32>(lowHalf: highMul(x.lowHalf, mult.lowHalf), highHalf: highMul(x.highHalf, mult.highHalf))
  let mask = (SIMD8<Int32>(repeating: 1) &<< right) &- 1
  let remainder = h & mask
  let threshold = (mask &>> 1) &+ SIMD8<Int32>(repeating: 0).replacing(with: 1, where: h .< zero)
  let rounded = (h &>> right) &+ SIMD8<Int32>(repeating: 0).replacing(with: 1, where: remainder .> threshold)
  let v = (rounded &+ SIMD8<Int32>(repeating: zeroPoint))
    .clamped(lowerBound: SIMD8<Int32>(repeating: lo), upperBound: SIMD8<Int32>(repeating: hi))
  return SIMD8<Int8>(truncatingIfNeeded: v)
}

/// Clamp bounds of a fused activation in the quantized domain (TFLite CalculateActivationRangeQuantized).
public enum Int8FusedActivation: Sendable { case none, relu, relu6 }

public func int8ClampBounds(_ act: Int8FusedActivation, outputScale: Float, outputZeroPoint: Int32)
  -> (min: Int32, max: Int32) {
  func q(_ x: Float) -> Int32 {
    let v = Double(outputZeroPoint) + (Double(x) / Double(outputScale)).rounded()
    return Int32(max(-128, min(127, v)))
  }
  switch act {
  case .none: return (-128, 127)
  case .relu: return (max(-128, outputZeroPoint), 127)
  case .relu6: return (max(-128, outputZeroPoint), q(6))
  }
}

/// Symmetric per-output-channel weight quantization (weights row-major [n][k]): scale = max|w| / 127,
/// values in [−127, 127] so every SIMD product pair fits its int16 / int32 lanes.
public func int8QuantizeWeightsPerChannel(_ w: [Float], outputChannels n: Int) -> (weights: [Int8], scales: [Float]) {
  precondition(n > 0 && w.count % n == 0)
  let k = w.count / n
  var q = [Int8](repeating: 0, count: w.count)
  var scales = [Float](repeating: 1, count: n)
  for c in 0..<n {
    var amax: Float = 0
    for i in 0..<k { amax = max(amax, abs(w[c * k + i])) }
    let s = amax > 0 ? amax / 127 : 1
    scales[c] = s
    for i in 0..<k { q[c * k + i] = Int8(max(-127, min(127, (w[c * k + i] / s).rounded()))) }
  }
  return (q, scales)
}
