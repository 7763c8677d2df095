import EdgeSegCore
import Foundation

/// What `edgeseg compile` reports besides the graph.
public struct CompileReport: Sendable {
    public var importSummary: ImportSummary
    /// Graph nodes right after import (ONNX nodes minus folded and aliased ones, plus expansions).
    public var importedNodes: Int
    public var passes: [PassStat]

    public var lines: [String] {
        var l = ["opset \(importSummary.opset), producer \(importSummary.producer.isEmpty ? "?" : importSummary.producer)",
                 "import: \(importSummary.onnxNodes) ONNX nodes → \(importedNodes) graph nodes (\(importSummary.foldedNodes) folded at compile time, \(importSummary.aliasedNodes) aliased)"]
        l += passes.map(\.description)
        return l
    }
}

/// ONNX bytes → optimised, validated static graph. The one entry point the CLI and tests use.
public func compileONNX(_ bytes: Data, options: ImportOptions = .init()) throws -> (Graph, CompileReport) {
    var (graph, summary) = try importONNX(bytes, options: options)
    let imported = graph.nodes.count
    let passes = optimise(&graph)
    try validate(graph)
    // The runtime's own checks (rank ≤ 6, per-op shape rules): fail at compile time, not on the board.
    do { try validateGraph(graph) } catch {
        throw GraphValidationError(description: "the compiled graph is not executable: \(error)")
    }
    return (graph, CompileReport(importSummary: summary, importedNodes: imported, passes: passes))
}

public struct GraphValidationError: Error, CustomStringConvertible {
    public var description: String
}

/// Checks the invariants the executor relies on: nodes in topological order, every input
/// defined, every tensor static and non-empty, conv inputs shaped as ConvAttrs documents.
public func validate(_ g: Graph) throws {
    var defined = Set(g.inputs).union(g.constants.keys)
    for t in g.tensors where checkedElementCount(t.shape, allowZero: false) == nil {
        throw GraphValidationError(description: "tensor '\(t.name)' has unusable shape \(t.shape)")
    }
    for n in g.nodes {
        for i in n.inputs where !defined.contains(i) {
            throw GraphValidationError(description: "node '\(n.name)' reads '\(g.tensors[i].name)' before it is produced")
        }
        if case .conv(let a) = n.op {
            guard n.inputs.count == (a.hasResidual ? 4 : 3) else {
                throw GraphValidationError(description: "conv '\(n.name)' has \(n.inputs.count) inputs")
            }
        }
        defined.formUnion(n.outputs)
    }
    for o in g.outputs where !defined.contains(o) {
        throw GraphValidationError(description: "graph output '\(g.tensors[o].name)' is never produced")
    }
}

/// Node count per operator kind ("conv", "binary.add"...), for reports and structural tests.
public func opHistogram(_ g: Graph) -> [String: Int] {
    var h: [String: Int] = [:]
    for n in g.nodes { h[opKind(n.op), default: 0] += 1 }
    return h
}

public func opKind(_ op: Op) -> String {
    switch op {
    case .conv: return "conv"
    case .gemm: return "gemm"
    case .matMul: return "matMul"
    case .unary(let u):
        switch u {
        case .clip: return "unary.clip"
        case .hardSigmoid: return "unary.hardSigmoid"
        case .pow: return "unary.pow"
        default: return "unary.\(u)"
        }
    case .binary(let b): return "binary.\(b)"
    case .concat: return "concat"
    case .split: return "split"
    case .slice: return "slice"
    case .reshape: return "reshape"
    case .transpose: return "transpose"
    case .reduce(let r, _, _): return "reduce.\(r)"
    case .globalPool(let k): return "globalPool.\(k)"
    case .pool(let a): return "pool.\(a.kind)"
    case .resize: return "resize"
    case .softmax: return "softmax"
    case .layerNorm: return "layerNorm"
    case .instanceNorm: return "instanceNorm"
    case .pad: return "pad"
    case .identity: return "identity"
    case .quantize: return "quantize"
    case .dequantize: return "dequantize"
    case .axisScale: return "axisScale"
    }
}
