// Run-time CPU feature detection for the int8 / FP16 kernel dispatch.
// x86: CPUID (clang's cpuid.h, reached through the compiler's builtin intrinsics module).
// ARM: getauxval(AT_HWCAP), declared with @_extern(c) so this file stays standard-library-only
// and also builds as Embedded Swift for aarch64 (tools/arm64-check.sh).

#if arch(x86_64)
import _Builtin_intrinsics.intel.cpuid
#endif

@_extern(c, "getenv") private func cGetenv(_ name: UnsafePointer<CChar>) -> UnsafeMutablePointer<CChar>?
#if arch(arm64)
@_extern(c, "getauxval") private func cGetauxval(_ type: UInt) -> UInt
#endif

/// The instruction-set extensions the quantized kernels care about.
public struct CPUFeatures: Equatable, Sendable {
  public var avx2 = false          // x86: AVX2 + FMA + F16C (the EdgeSegQuantAVX2 tier needs all three)
  public var avx512vnni = false    // x86: AVX-512 F/BW/VL + VNNI (vpdpbusd)
  public var asimdDot = false      // ARM: ARMv8.2 dot product (sdot)
  public var fp16Arith = false     // ARM: ARMv8.2 FP16 scalar + vector arithmetic

  public init() {}

  /// What this process runs on (read once; cheap enough to call at model load).
  public static var host: CPUFeatures {
    var f = CPUFeatures()
    #if arch(x86_64)
    var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
    guard __get_cpuid_count(1, 0, &a, &b, &c, &d) != 0 else { return f }
    let fma = c & (1 << 12) != 0, osxsave = c & (1 << 27) != 0, avx = c & (1 << 28) != 0
    let f16c = c & (1 << 29) != 0
    guard __get_cpuid_count(7, 0, &a, &b, &c, &d) != 0 else { return f }
    let avx2 = b & (1 << 5) != 0
    let avx512f = b & (1 << 16) != 0, avx512bw = b & (1 << 30) != 0, avx512vl = b & (1 << 31) != 0
    let vnni = c & (1 << 11) != 0
    // OSXSAVE says the kernel manages extended state; Linux enables AVX/AVX-512 state whenever the
    // CPU has it unless booted with noxsave, in which case it also clears these CPUID bits.
    f.avx2 = osxsave && avx && avx2 && fma && f16c
    f.avx512vnni = f.avx2 && avx512f && avx512bw && avx512vl && vnni
    #elseif arch(arm64)
    let hwcap = cGetauxval(16)  // AT_HWCAP
    f.asimdDot = hwcap & (1 << 20) != 0                       // HWCAP_ASIMDDP
    f.fp16Arith = hwcap & ((1 << 9) | (1 << 10)) == (1 << 9) | (1 << 10)  // HWCAP_FPHP | HWCAP_ASIMDHP
    #endif
    return f
  }
}

/// Value of an environment variable as ASCII bytes (no Foundation); nil if unset.
func quantEnvironmentValue(_ name: StaticString) -> [UInt8]? {
  let p = name.utf8Start.withMemoryRebound(to: CChar.self, capacity: name.utf8CodeUnitCount + 1) { cGetenv($0) }
  guard let p else { return nil }
  var bytes: [UInt8] = []
  var i = 0
  while p[i] != 0 { bytes.append(UInt8(bitPattern: p[i])); i += 1 }
  return bytes
}

func quantAsciiEqual(_ bytes: [UInt8], _ s: StaticString) -> Bool {
  guard bytes.count == s.utf8CodeUnitCount else { return false }
  for i in 0..<bytes.count where bytes[i] != s.utf8Start[i] { return false }
  return true
}
