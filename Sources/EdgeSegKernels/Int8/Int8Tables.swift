// 256-entry lookup tables for the int8 activations (sigmoid, hard-swish, SiLU): every possible
// input byte is dequantized, the function evaluated in Double, and the result requantized once.
// exp() is computed here (no libm, no Foundation) so tables are identical on every platform.

public enum Int8TableActivation: Sendable { case sigmoid, hardSwish, silu, relu6, identity }

/// exp(x) in Double for |x| < 700: x = n·ln2 + r, |r| ≤ ln2/2, Taylor series to 1e-16 relative.
func int8TableExp(_ x: Double) -> Double {
  if x < -700 { return 0 }
  if x > 700 { return .infinity }
  let ln2 = 0.693147180559945309417232121458
  let n = (x / ln2).rounded()
  let r = x - n * ln2
  var term = 1.0, sum = 1.0
  for i in 1...22 { term *= r / Double(i); sum += term }
  return sum * Double(sign: .plus, exponent: Int(n), significand: 1)
}

func int8TableActivationValue(_ kind: Int8TableActivation, _ x: Double) -> Double {
  switch kind {
  case .sigmoid: return 1 / (1 + int8TableExp(-x))
  case .silu: return x / (1 + int8TableExp(-x))
  case .hardSwish: return x * min(max(x + 3, 0), 6) / 6
  case .relu6: return min(max(x, 0), 6)
  case .identity: return x
  }
}

/// Table for `int8ApplyTable`: index x + 128 → quantize(f(dequantize(x))), rounding half away.
public func int8ActivationTable(_ kind: Int8TableActivation, inputScale: Float, inputZeroPoint: Int32,
                                outputScale: Float, outputZeroPoint: Int32) -> [Int8] {
  var t = [Int8](repeating: 0, count: 256)
  for i in 0..<256 {
    let x = Double(Int32(i - 128) - inputZeroPoint) * Double(inputScale)
    let y = (int8TableActivationValue(kind, x) / Double(outputScale)).rounded() + Double(outputZeroPoint)
    t[i] = Int8(min(max(y, -128), 127))
  }
  return t
}
