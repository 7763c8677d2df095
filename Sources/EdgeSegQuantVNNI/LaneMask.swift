// The mask of a vector's first lanes, shared by every kernel of this tier (channel, pixel and
// byte tails of 16-lane vectors).
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Lanes 0..<count of 16 (count clamped to 0...16).
@inline(__always)
func laneMask16(_ count: Int) -> __mmask16 {
  count >= 16 ? 0xFFFF : (count <= 0 ? 0 : __mmask16(truncatingIfNeeded: (1 << count) - 1))
}
#endif
