// Shared helpers for the int8 / FP16 kernel tests: a seeded generator and random tensors.
@testable import EdgeSegKernels

struct QuantTestRNG {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E3779B97F4A7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
    return z ^ (z >> 31)
  }
  mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.count))
  }
  mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
  mutating func int8s(_ count: Int, _ range: ClosedRange<Int> = -128...127) -> [Int8] {
    (0..<count).map { _ in Int8(int(range)) }
  }
  /// int8 activations with a share of exact extremes (the saturation corners).
  mutating func activations(_ count: Int) -> [Int8] {
    (0..<count).map { _ in
      switch int(0...9) { case 0: return -128; case 1: return 127; default: return Int8(int(-128...127)) }
    }
  }
  mutating func weights(_ count: Int) -> [Int8] {
    (0..<count).map { _ in
      switch int(0...9) { case 0: return -127; case 1: return 127; default: return Int8(int(-127...127)) }
    }
  }
  /// A plausible output stage: multipliers from real scales 1e-5…0.5, some channels > 1.
  mutating func stage(channels n: Int, k: Int, clamp: Bool = false) -> Int8OutputStage {
    var bias: [Int32] = [], mult: [Int32] = [], shift: [Int32] = []
    for c in 0..<n {
      bias.append(Int32(int(-200_000...200_000)))
      let real: Double = c % 7 == 3 ? 1.5 : Double(unit()) * 0.02 / Double(max(1, k / 64)) + 1e-5
      let m = Int8Multiplier(real)
      mult.append(m.multiplier); shift.append(m.shift)
    }
    let zp = Int32(int(-128...127))
    let lo: Int32 = clamp ? Int32(int(-128...0)) : -128
    let hi: Int32 = clamp ? Int32(int(1...127)) : 127
    return try! Int8OutputStage(bias: bias, multiplier: mult, shift: shift, outputZeroPoint: zp,
                           clampMin: min(lo, hi), clampMax: hi)
  }
}

func int8FirstMismatch(_ a: [Int8], _ b: [Int8]) -> Int? {
  for i in 0..<min(a.count, b.count) where a[i] != b[i] { return i }
  return a.count == b.count ? nil : min(a.count, b.count)
}
