// The graph IR shared by the compiler (which builds it from ONNX and rewrites it)
// and the runtime (which plans, serialises and executes it).
// Shapes are static: every tensor's shape is known at compile time.

public typealias TensorID = Int

public enum ElementType: UInt8, Sendable, Equatable, CaseIterable {
    case float32 = 0, float16 = 1, int8 = 2, uint8 = 3, int32 = 4, int64 = 5

    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float16: return 2
        case .int8, .uint8: return 1
        case .int64: return 8
        }
    }
}

/// Affine quantization: real = scale * (q - zeroPoint).
/// Weights: symmetric per output channel (axis = 0, zeroPoint all 0).
/// Activations: asymmetric per tensor (one scale, one zero point, axis nil).
public struct QuantParams: Sendable, Equatable {
    public var scale: [Float]
    public var zeroPoint: [Int32]
    public var axis: Int?
    public init(scale: [Float], zeroPoint: [Int32], axis: Int? = nil) {
        self.scale = scale; self.zeroPoint = zeroPoint; self.axis = axis
    }
}

public struct TensorDesc: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var type: ElementType
    public var quant: QuantParams?
    public init(name: String, shape: [Int], type: ElementType = .float32, quant: QuantParams? = nil) {
        self.name = name; self.shape = shape; self.type = type; self.quant = quant
    }
    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * type.byteSize }
}

/// Constant payloads (weights, biases, folded constants), little-endian.
public enum ConstantData: Sendable, Equatable {
    case float32([Float])
    case float16([UInt16])
    case int8([Int8])
    case int32([Int32])
    case int64([Int64])

    public var count: Int {
        switch self {
        case .float32(let v): return v.count
        case .float16(let v): return v.count
        case .int8(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        }
    }
}

/// Element-wise functions; also the activation fused into Conv/Gemm.
public enum UnaryOp: Sendable, Equatable {
    case relu
    case clip(min: Float, max: Float)
    case sigmoid
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish
    case silu
    case gelu            // exact (erf) form
    case erf, sqrt, exp, tanh, neg, abs, reciprocal
    case pow(Float)      // x ** constant exponent
}

/// Numpy-broadcasting element-wise binaries.
public enum BinaryOp: UInt8, Sendable, Equatable { case add, sub, mul, div, max, min, pow }

public enum ReduceOp: UInt8, Sendable, Equatable { case mean, max, min, sum }
public enum PoolKind: UInt8, Sendable, Equatable { case average, max }

public struct ConvAttrs: Sendable, Equatable {
    public var kernel: [Int]          // [kh, kw]
    public var strides: [Int]         // [sh, sw]
    public var pads: [Int]            // [top, left, bottom, right]
    public var dilations: [Int]       // [dh, dw]
    public var group: Int
    /// inputs: x, weight [Cout, Cin/group, kh, kw], bias? [Cout] (always present after import), residual? (same shape as output)
    public var hasResidual: Bool
    /// Applied after bias and residual.
    public var activation: UnaryOp?
    public init(kernel: [Int], strides: [Int], pads: [Int], dilations: [Int], group: Int,
                hasResidual: Bool = false, activation: UnaryOp? = nil) {
        self.kernel = kernel; self.strides = strides; self.pads = pads; self.dilations = dilations
        self.group = group; self.hasResidual = hasResidual; self.activation = activation
    }
}

public struct PoolAttrs: Sendable, Equatable {
    public var kind: PoolKind
    public var kernel: [Int]
    public var strides: [Int]
    public var pads: [Int]            // [top, left, bottom, right]
    public var ceilMode: Bool
    public var countIncludePad: Bool
    public init(kind: PoolKind, kernel: [Int], strides: [Int], pads: [Int], ceilMode: Bool, countIncludePad: Bool) {
        self.kind = kind; self.kernel = kernel; self.strides = strides; self.pads = pads
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
    }
}

public enum ResizeMode: UInt8, Sendable, Equatable { case nearest, linear }
public enum CoordinateTransform: UInt8, Sendable, Equatable {
    case halfPixel, alignCorners, asymmetric, pytorchHalfPixel
}

/// ONNX `nearest_mode` (only used when mode == .nearest). PyTorch exports `floor`.
public enum NearestMode: UInt8, Sendable, Equatable { case floor, ceil, roundPreferFloor, roundPreferCeil }

public struct ResizeAttrs: Sendable, Equatable {
    public var mode: ResizeMode
    public var transform: CoordinateTransform
    public var nearestMode: NearestMode
    public init(mode: ResizeMode, transform: CoordinateTransform, nearestMode: NearestMode = .floor) {
        self.mode = mode; self.transform = transform; self.nearestMode = nearestMode
    }
}

public struct GemmAttrs: Sendable, Equatable {
    public var transA: Bool, transB: Bool
    public var alpha: Float, beta: Float
    public var activation: UnaryOp?
    public init(transA: Bool, transB: Bool, alpha: Float, beta: Float, activation: UnaryOp? = nil) {
        self.transA = transA; self.transB = transB; self.alpha = alpha; self.beta = beta; self.activation = activation
    }
}

/// One operator. Output shapes live in the graph's tensor table, so shape-only
/// ops (reshape, flatten, squeeze, unsqueeze) are all `.reshape`.
public enum Op: Sendable, Equatable {
    case conv(ConvAttrs)
    case gemm(GemmAttrs)                  // inputs: a, b, c?
    case matMul                            // batched, numpy broadcast on leading dims
    case unary(UnaryOp)
    case binary(BinaryOp)
    case concat(axis: Int)
    case split(axis: Int, sizes: [Int])
    case slice(starts: [Int], ends: [Int], axes: [Int], steps: [Int])   // normalised, non-negative axes
    case reshape
    case transpose(perm: [Int])
    case reduce(ReduceOp, axes: [Int], keepDims: Bool)
    case globalPool(PoolKind)
    case pool(PoolAttrs)
    case resize(ResizeAttrs)               // output size from the output tensor's shape
    case softmax(axis: Int)
    case layerNorm(axis: Int, epsilon: Float)   // inputs: x, scale, bias?
    case instanceNorm(epsilon: Float)           // inputs: x, scale, bias
    case pad(pads: [Int], value: Float)         // ONNX order: begins then ends, per axis
    case identity
    /// int8 boundary ops inserted by quantization.
    case quantize, dequantize
    /// y = (x · a) · b with x [N,C,H,W], a [N,C,H,1] (broadcast along W), b [N,C,1,W] (along H):
    /// coordinate attention's two gates in one pass. The quantize pass emits it for int8 x and y
    /// (dequantize → Mul → Mul → quantize, the float arithmetic unchanged, no float copy of x).
    case axisScale
}

public struct Node: Sendable, Equatable {
    public var name: String
    public var op: Op
    public var inputs: [TensorID]
    public var outputs: [TensorID]
    public init(name: String, op: Op, inputs: [TensorID], outputs: [TensorID]) {
        self.name = name; self.op = op; self.inputs = inputs; self.outputs = outputs
    }
}

/// A whole model: tensor table, constants by tensor id, nodes in a valid
/// topological order, graph inputs and outputs.
public struct Graph: Sendable, Equatable {
    public var tensors: [TensorDesc]
    public var constants: [TensorID: ConstantData]
    public var nodes: [Node]
    public var inputs: [TensorID]
    public var outputs: [TensorID]
    public init(tensors: [TensorDesc] = [], constants: [TensorID: ConstantData] = [:],
                nodes: [Node] = [], inputs: [TensorID] = [], outputs: [TensorID] = []) {
        self.tensors = tensors; self.constants = constants; self.nodes = nodes
        self.inputs = inputs; self.outputs = outputs
    }

    @discardableResult
    public mutating func addTensor(_ desc: TensorDesc, constant: ConstantData? = nil) -> TensorID {
        tensors.append(desc)
        let id = tensors.count - 1
        if let constant { constants[id] = constant }
        return id
    }
}

extension Graph {
    /// What `edgeseg compile --precision` made of this graph: "int8" (every conv int8), "mixed"
    /// (some), "fp16" (half weights), "fp32".
    public var precision: String {
        var convs = 0, int8 = 0
        for n in nodes {
            guard case .conv = n.op else { continue }
            convs += 1
            if tensors[n.inputs[1]].type == .int8 { int8 += 1 }
        }
        if int8 > 0 { return int8 == convs ? "int8" : "mixed" }
        return tensors.contains { $0.type == .float16 } ? "fp16" : "fp32"
    }
}
