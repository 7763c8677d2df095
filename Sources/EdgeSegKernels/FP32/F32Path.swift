// Which implementation of the FP32 fast kernels (depthwise 3x3, small GEMM) runs: the portable
// vector code in this module, or its twin compiled with AVX2 + FMA in EdgeSegQuantAVX2 (this
// module is built for baseline x86-64, SSE2 without FMA). `.avx512` runs the same AVX2 twins and
// also moves the executor's 1×1 / im2col convs from OpenBLAS to the packed-weight AVX-512 GEMM
// (F32ConvGemm.swift). Chosen once per process from the CPU features;
// `EDGESEG_F32_PATH=portable|avx2|avx512` overrides it when that path runs here (portable and
// avx2 keep OpenBLAS for the convs: the A/B comparison).

public enum F32Path: UInt8, Sendable, CaseIterable {
    case portable
    case avx2
    case avx512

    public var name: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    /// Depthwise (AVX-512 twin on .avx512) and small GEMM run the AVX2 + FMA twins (every x86 path but portable).
    @inline(__always) var usesAVX2Twins: Bool { self != .portable }

    /// Convs that go through a GEMM use weights packed at load for the AVX-512 tier, not OpenBLAS.
    public var packsConvWeights: Bool { self == .avx512 }

    public func runs(on cpu: CPUFeatures) -> Bool {
        switch self {
        case .portable: return true
        case .avx2:
            #if arch(x86_64)
            return cpu.avx2
            #else
            return false
            #endif
        case .avx512:
            // the tier module is built with AVX-512 F/BW/VL/VNNI: all of them must be there
            #if arch(x86_64)
            return cpu.avx512vnni
            #else
            return false
            #endif
        }
    }

    /// Paths this CPU runs, portable first.
    public static var available: [F32Path] {
        let cpu = CPUFeatures.host
        return allCases.filter { $0.runs(on: cpu) }
    }

    /// The fastest available path (or the one named by EDGESEG_F32_PATH). A stored static: the
    /// environment and CPUID are read once, on first use (the executor touches it at load).
    public static let preferred: F32Path = {
        let paths = available
        if let env = quantEnvironmentValue("EDGESEG_F32_PATH") {
            if quantAsciiEqual(env, "portable") { return .portable }
            if quantAsciiEqual(env, "avx2") && paths.contains(.avx2) { return .avx2 }
            if quantAsciiEqual(env, "avx512") && paths.contains(.avx512) { return .avx512 }
        }
        return paths.last ?? .portable
    }()
}

#if arch(x86_64)
@_extern(c, "edgeseg_f32_dw3x3_plane_avx2")
func f32DwPlaneAVX2(input: UnsafePointer<Float>, geometry: UnsafePointer<Int>, weights: UnsafePointer<Float>,
                    bias: Float, residual: UnsafePointer<Float>?, lo: Float, hi: Float,
                    pad: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>)
@_extern(c, "edgeseg_f32_dw3x3_plane_avx512")
func f32DwPlaneAVX512(input: UnsafePointer<Float>, geometry: UnsafePointer<Int>, weights: UnsafePointer<Float>,
                      bias: Float, residual: UnsafePointer<Float>?, lo: Float, hi: Float,
                      pad: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>)
@_extern(c, "edgeseg_f32_blend_rows_avx2")
func f32BlendRowsAVX2(r0: UnsafePointer<Float>, r1: UnsafePointer<Float>, g: Float, f: Float,
                      out: UnsafeMutablePointer<Float>, count: Int)
@_extern(c, "edgeseg_f32_sigmoid_avx512")
func f32SigmoidAVX512(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, count: Int, silu: Bool)
@_extern(c, "edgeseg_f32_gemm_avx2")
func f32GemmAVX2(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int)
#endif

/// c[m×n] = a[m×k] · b[k×n] (row-major, leading dimensions given): the GEMM for products too small
/// for OpenBLAS (see Executor.blasMinMNK). No allocation, no packing; any m, n, k.
public func f32GemmSmall(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, path: F32Path = .preferred) {
    #if arch(x86_64)
    if path.usesAVX2Twins {
        f32GemmAVX2(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
        return
    }
    #endif
    f32GemmBody(SIMD8<Float>.self, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
}
