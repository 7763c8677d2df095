// Lowered execution steps: every pointer and size resolved at load, only trivial
// payloads, so running a step touches no reference counts and allocates nothing.

import EdgeSegKernels

enum ConvMode: Sendable { case gemm1x1, im2col, depthwise3x3, direct }

struct ConvStep {
    var shape: F32ConvShape
    var x: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>
    var bias: UnsafeMutablePointer<Float>?, residual: UnsafeMutablePointer<Float>?
    var y: UnsafeMutablePointer<Float>
    var act: F32Activation
    var mode: ConvMode
    var tile: Int            // output columns per work item (GEMM modes)
    var tilesPerImage: Int
    /// `w` holds F32ConvGemm panels (packed at load) and the AVX-512 GEMM runs it, not OpenBLAS.
    var packed = false
    /// Set for a dense 3×3 stride-1 conv run as Winograd F(2×2, 3×3): `w` holds its transformed
    /// weights (f32WinogradWeights), `tile` / `tilesPerImage` are the plan's chunks.
    var winograd: F32WinogradPlan? = nil
}

struct GemmStep {
    var m: Int, n: Int, k: Int
    var a: UnsafeMutablePointer<Float>, lda: Int, transA: Bool
    var b: UnsafeMutablePointer<Float>, ldb: Int, transB: Bool
    var c: UnsafeMutablePointer<Float>?, cRowStride: Int, cColStride: Int
    var alpha: Float, beta: Float
    var y: UnsafeMutablePointer<Float>
    var act: F32Activation
    var useBLAS: Bool
}

struct MatMulStep {
    var desc: F32MatMul
    var a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
    var useBLAS: Bool
    var reference: Bool      // scalar reference GEMM per matrix (the parity oracle)
}

enum StepKind {
    case conv(ConvStep)
    case int8Conv(Int)                     // index into the executor's int8 kernels
    case quantize(Int8BoundaryStep)
    case dequantize(Int8BoundaryStep)
    case int8Table(Int8TableStep)
    case int8StripReduce(Int8StripReduceStep)
    case int8AxisScale(Int8AxisScaleStep)
    case int8Add(Int8AddStep)
    case int8Concat(Int8ConcatStep)
    case int8Resize(Int8ResizeStep)
    case axisScale(x: UnsafeMutablePointer<Float>, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>,
                   y: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int)
    case gemm(GemmStep)
    case matMul(MatMulStep)
    case binary(F32BinaryOp, F32Broadcast, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
    case unary(F32Activation, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int)
    case copy(F32StridedCopy, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
    case fill(UnsafeMutablePointer<Float>, Int, Float)
    case reduce(F32ReduceOp, F32Reduce, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
    case globalPool(Bool, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, planes: Int, planeSize: Int)
    case pool(F32PoolShape, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
    case resize(F32ResizeShape, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
    case softmax(UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, outer: Int, len: Int, inner: Int)
    case layerNorm(UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, rows: Int, len: Int,
                   scale: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?, eps: Float)
    case instanceNorm(UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, planes: Int, channels: Int, planeSize: Int,
                      scale: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>, eps: Float)
}

struct Step {
    var kind: StepKind
    var node: Int
    var parallel: Bool
}

func kernelTransform(_ t: CoordinateTransform) -> F32CoordinateTransform {
    switch t {
    case .halfPixel: return .halfPixel
    case .alignCorners: return .alignCorners
    case .asymmetric: return .asymmetric
    case .pytorchHalfPixel: return .pytorchHalfPixel
    }
}

func kernelActivation(_ u: UnaryOp?) -> F32Activation {
    guard let u else { return .none }
    switch u {
    case .relu: return .relu
    case .clip(let lo, let hi): return .clip(min: lo, max: hi)
    case .sigmoid: return .sigmoid
    case .hardSigmoid(let a, let b): return .hardSigmoid(alpha: a, beta: b)
    case .hardSwish: return .hardSwish
    case .silu: return .silu
    case .gelu: return .gelu
    case .erf: return .erf
    case .sqrt: return .sqrt
    case .exp: return .exp
    case .tanh: return .tanh
    case .neg: return .neg
    case .abs: return .abs
    case .reciprocal: return .reciprocal
    case .pow(let e): return .pow(e)
    }
}

func kernelBinary(_ b: BinaryOp) -> F32BinaryOp {
    switch b {
    case .add: return .add
    case .sub: return .sub
    case .mul: return .mul
    case .div: return .div
    case .max: return .max
    case .min: return .min
    case .pow: return .pow
    }
}
