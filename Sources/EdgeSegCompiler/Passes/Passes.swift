import EdgeSegCore
import Foundation

/// One line of the pass summary `edgeseg compile` prints.
public struct PassStat: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var nodesBefore: Int
    public var nodesAfter: Int
    /// How many rewrites the pass made (folds, fusions...).
    public var rewrites: Int
    public var description: String {
        let pad = name.padding(toLength: 26, withPad: " ", startingAt: 0)
        return "\(pad) \(nodesBefore) → \(nodesAfter) nodes (\(rewrites) rewrites)"
    }
}

/// The fixed pass order. Pattern recognition (SiLU, GELU) runs before fusion so the recognised
/// activations can fuse; residual fusion runs before activation fusion because the executor
/// applies a conv's activation *after* its residual add (Conv→Add→ReLU fuses whole, Conv→ReLU→Add
/// keeps the Add).
public func optimise(_ graph: inout Graph) -> [PassStat] {
    let passes: [(String, (inout Graph) -> Int)] = [
        ("constant folding", foldConstants),
        ("affine (BatchNorm) → conv", foldAffineIntoConv),
        ("zero pad → conv pads", foldPadIntoConv),
        ("SiLU / GELU patterns", recogniseActivationPatterns),
        ("decomposed LayerNorm", recogniseDecomposedLayerNorm),
        ("conv + add residual", fuseResidualAdd),
        ("activation → conv/gemm", fuseActivations),
        ("coordinate-attention gates", fuseAxisScales),
        ("reshape chains", collapseReshapes),
        ("dead-node removal", removeDeadNodes),
        ("topological sort", sortTopologically),
    ]
    var stats: [PassStat] = []
    for (name, pass) in passes {
        let before = graph.nodes.count
        let n = pass(&graph)
        stats.append(PassStat(name: name, nodesBefore: before, nodesAfter: graph.nodes.count, rewrites: n))
    }
    return stats
}

// MARK: - constant folding

/// Evaluates nodes whose inputs are all constants (the importer folds ONNX-level plumbing;
/// this catches what rewrites or unusual exports leave behind).
func foldConstants(_ g: inout Graph) -> Int {
    var count = 0
    var removed = Set<Int>()
    for (i, n) in g.nodes.enumerated() where n.outputs.count == 1 && !n.inputs.isEmpty {
        let ins = n.inputs.compactMap { g.constantTensor($0) }
        guard ins.count == n.inputs.count, ins.allSatisfy(\.isFloat) else { continue }
        let outShape = g.tensors[n.outputs[0]].shape
        var value: [Float]? = nil
        switch n.op {
        case .reshape, .identity: value = ins[0].floats
        case .transpose(let perm): value = ins[0].gathered(transposeIndex(ins[0].shape, perm: perm).index, shape: outShape).floats
        case .binary(let b):
            let ai = broadcastIndex(from: ins[0].shape, to: outShape), bi = broadcastIndex(from: ins[1].shape, to: outShape)
            let a = ins[0].floats, c = ins[1].floats
            value = (0..<ai.count).map { k in applyBinary(b, a[ai[k]], c[bi[k]]) }
        case .unary(let u):
            value = ins[0].floats.map { applyUnary(u, $0) }
        default: break
        }
        guard let value else { continue }
        g.constants[n.outputs[0]] = .float32(value)
        removed.insert(i); count += 1
    }
    g.removeNodes(removed)
    return count
}

func applyBinary(_ b: BinaryOp, _ x: Float, _ y: Float) -> Float {
    switch b {
    case .add: return x + y
    case .sub: return x - y
    case .mul: return x * y
    case .div: return x / y
    case .max: return Swift.max(x, y)
    case .min: return Swift.min(x, y)
    case .pow: return powf(x, y)
    }
}

/// Scalar definitions of the element-wise functions, as ONNX defines them.
public func applyUnary(_ u: UnaryOp, _ x: Float) -> Float {
    switch u {
    case .relu: return Swift.max(x, 0)
    case .clip(let lo, let hi): return Swift.min(Swift.max(x, lo), hi)
    case .sigmoid: return 1 / (1 + expf(-x))
    case .hardSigmoid(let a, let b): return Swift.max(0, Swift.min(1, a * x + b))
    case .hardSwish: return x * Swift.max(0, Swift.min(1, x / 6 + 0.5))
    case .silu: return x / (1 + expf(-x))
    case .gelu: return 0.5 * x * (1 + erff(x / 2.0.squareRoot().float))
    case .erf: return erff(x)
    case .sqrt: return x.squareRoot()
    case .exp: return expf(x)
    case .tanh: return tanhf(x)
    case .neg: return -x
    case .abs: return Swift.abs(x)
    case .reciprocal: return 1 / x
    case .pow(let e): return powf(x, e)
    }
}

private extension Double { var float: Float { Float(self) } }
