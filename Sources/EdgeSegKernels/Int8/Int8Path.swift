// Which int8 GEMM micro-kernel runs, chosen once at model load from the CPU features
// (overridable with EDGESEG_INT8_PATH=scalar|avx2|vnni|neon|dot for tests and benchmarks).

public enum Int8Path: UInt8, Sendable, CaseIterable {
  case scalar   // portable Swift, any CPU
  case avx2     // x86 AVX2: int8 widened to int16, vpmaddwd (vpmaddubsw would saturate)
  case vnni     // x86 AVX-512 VNNI: vpdpbusd on (x + 128) u8 × s8, −128·Σw folded back
  case neon     // ARMv8.0 NEON: smull + smlal + sadalp (Cortex-A53/A72)
  case dot      // ARMv8.2 dot product: sdot (Cortex-A55/A76, Neoverse-N1)

  public var name: String {
    switch self {
    case .scalar: return "scalar"
    case .avx2: return "avx2"
    case .vnni: return "vnni"
    case .neon: return "neon"
    case .dot: return "dot"
    }
  }

  /// Can this path run on `cpu`? (Tier modules for the other architecture are empty.)
  public func runs(on cpu: CPUFeatures) -> Bool {
    switch self {
    case .scalar: return true
    #if arch(x86_64)
    case .avx2: return cpu.avx2
    case .vnni: return cpu.avx512vnni
    #elseif arch(arm64)
    case .neon: return true
    case .dot: return cpu.asimdDot
    #endif
    default: return false
    }
  }

  /// Every path this CPU can run, slowest first.
  public static func available(on cpu: CPUFeatures = .host) -> [Int8Path] {
    allCases.filter { $0.runs(on: cpu) }
  }

  /// The fastest path, unless EDGESEG_INT8_PATH names another one that runs here.
  public static func preferred(on cpu: CPUFeatures = .host) -> Int8Path {
    let paths = available(on: cpu)
    if let env = quantEnvironmentValue("EDGESEG_INT8_PATH") {
      for p in paths where quantAsciiEqual(env, p.staticName) { return p }
    }
    return paths[paths.count - 1]
  }

  var staticName: StaticString {
    switch self {
    case .scalar: return "scalar"
    case .avx2: return "avx2"
    case .vnni: return "vnni"
    case .neon: return "neon"
    case .dot: return "dot"
    }
  }

  // Micro-kernel geometry: MR rows of A × NR output channels per tile, K consumed in steps of
  // kStep (zero-padded to a multiple of 4 for every path).
  var mr: Int { self == .vnni ? 16 : 4 }
  var nr: Int { (self == .avx2 || self == .vnni) ? 16 : 8 }
  /// Bytes of packed weights per NR-block per 4 values of K.
  var blockBytesPerK4: Int {
    switch self {
    case .avx2: return 16 * 4 * 2   // int16
    case .vnni: return 16 * 4
    default: return 8 * 4
    }
  }
}
