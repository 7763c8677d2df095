import EdgeSegCore
import Foundation
import SwiftProtobuf

public struct ImportOptions: Sendable {
    /// Shapes for graph inputs whose ONNX shape is symbolic (e.g. a dynamic batch): name → dims.
    public var inputShapes: [String: [Int]]
    public init(inputShapes: [String: [Int]] = [:]) { self.inputShapes = inputShapes }
}

public struct ImportSummary: Sendable, Equatable {
    public var opset: Int
    public var producer: String
    /// ONNX nodes in the file (If branches included when inlined).
    public var onnxNodes: Int
    /// ONNX nodes evaluated at compile time (shape plumbing, constant arithmetic), Constant nodes included.
    public var foldedNodes: Int
    /// ONNX nodes that became pure aliases (Identity, Dropout).
    public var aliasedNodes: Int
}

/// Decodes an ONNX ModelProto and turns it into a static-shape `Graph`.
public func importONNX(_ bytes: Data, options: ImportOptions = .init()) throws -> (Graph, ImportSummary) {
    let model: Onnx_ModelProto
    do {
        var decode = BinaryDecodingOptions()
        decode.messageDepthLimit = 64
        model = try Onnx_ModelProto(serializedBytes: bytes, options: decode)
    } catch {
        throw ImportError.malformedModel("protobuf decoding failed (\(error)); the file is truncated, corrupted or not ONNX")
    }
    guard model.hasGraph else { throw ImportError.invalidModel("the model has no graph") }
    let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int(clamping: $0.version) } ?? 1
    var importer = Importer(opset: opset, options: options)
    try importer.run(model.graph)
    let summary = ImportSummary(opset: opset, producer: "\(model.producerName) \(model.producerVersion)".trimmingCharacters(in: .whitespaces),
                                onnxNodes: importer.onnxNodes, foldedNodes: importer.folded, aliasedNodes: importer.aliased)
    return (importer.graph, summary)
}

/// What an ONNX value name refers to while importing.
enum Value {
    case constant(ConstTensor)
    case tensor(TensorID)
}

struct Importer {
    let opset: Int
    let options: ImportOptions
    var graph = Graph()
    var values: [String: Value] = [:]
    /// Constants already materialised as graph tensors, by ONNX name (shared weights stay shared).
    var materialised: [String: TensorID] = [:]
    var onnxNodes = 0, folded = 0, aliased = 0
    var nodeIndex = 0

    init(opset: Int, options: ImportOptions) { self.opset = opset; self.options = options }

    mutating func run(_ g: Onnx_GraphProto) throws {
        for t in g.initializer {
            guard !t.name.isEmpty else { throw ImportError.invalidModel("an initializer has no name") }
            values[t.name] = .constant(try decodeTensor(t, name: t.name))
        }
        for vi in g.input where values[vi.name] == nil {
            graph.inputs.append(try addGraphInput(vi))
        }
        guard !graph.inputs.isEmpty else { throw ImportError.invalidModel("the graph has no non-constant input") }
        try importNodes(g.node)
        for vi in g.output {
            guard let v = values[vi.name] else { throw ImportError.invalidModel("graph output '\(vi.name)' is never produced") }
            var id = tensorID(v, name: vi.name)
            // An output must be produced by a node (the executor writes outputs, it does not alias
            // constants or inputs); copy through an identity in those rare graphs.
            if graph.constants[id] != nil || graph.inputs.contains(id) || graph.outputs.contains(id) {
                let out = graph.addTensor(TensorDesc(name: vi.name, shape: graph.tensors[id].shape, type: graph.tensors[id].type))
                graph.nodes.append(Node(name: vi.name + "/copy", op: .identity, inputs: [id], outputs: [out]))
                id = out
            }
            graph.outputs.append(id)
        }
    }

    mutating func addGraphInput(_ vi: Onnx_ValueInfoProto) throws -> TensorID {
        let tt = vi.type.tensorType
        guard vi.type.tensorType.elemType == ONNXDataType.float.rawValue else {
            throw ImportError.invalidModel("graph input '\(vi.name)' has element type \(tt.elemType); only float32 inputs are supported")
        }
        var shape: [Int]
        if let forced = options.inputShapes[vi.name] {
            shape = forced
        } else {
            shape = try tt.shape.dim.map { d -> Int in
                guard case .dimValue(let v)? = d.value, v > 0 else {
                    throw ImportError.invalidModel("graph input '\(vi.name)' has a symbolic or non-positive dimension; pass --input-shape \(vi.name)=N,C,H,W")
                }
                return Int(clamping: v)
            }
        }
        guard !shape.isEmpty, checkedElementCount(shape, allowZero: false) != nil else {
            throw ImportError.invalidModel("graph input '\(vi.name)' has an unusable shape \(shape)")
        }
        let id = graph.addTensor(TensorDesc(name: vi.name, shape: shape))
        values[vi.name] = .tensor(id)
        return id
    }

    mutating func importNodes(_ nodes: [Onnx_NodeProto]) throws {
        for proto in nodes {
            nodeIndex += 1; onnxNodes += 1
            let node = NodeView(proto, index: nodeIndex)
            guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
                throw ImportError.unsupportedOperator(node: node.name, opType: node.op, domain: proto.domain, opset: opset)
            }
            var inputs: [Value?] = []
            for i in 0..<proto.input.count {
                guard let name = node.inputName(i) else { inputs.append(nil); continue }
                guard let v = values[name] else { throw node.fail("input '\(name)' is not defined before this node") }
                inputs.append(v)
            }
            // Secondary outputs we do not produce (BatchNorm training stats, Dropout mask) stay
            // undefined: a later use fails with "not defined", naming the consumer.
            try importNode(node, inputs)
        }
    }

    mutating func importNode(_ node: NodeView, _ inputs: [Value?]) throws {
        // Shape is always constant: every tensor's shape is static.
        if node.op == "Shape" || node.op == "Size" {
            guard let x = inputs.first ?? nil else { throw node.fail("missing input") }
            let s = shape(x)
            folded += 1
            if node.op == "Size" { return define(node, 0, .constant(.scalarInt(s.reduce(1, *)))) }
            let r = s.count
            var a = node.int("start", default: 0), b = node.int("end", default: r)
            a = a < 0 ? max(a + r, 0) : min(a, r); b = b < 0 ? max(b + r, 0) : min(b, r)
            return define(node, 0, .constant(.vector(s[a..<max(a, b)].map { Int64($0) })))
        }
        if node.op == "Constant" {
            folded += 1
            return define(node, 0, .constant(try constantAttribute(node)))
        }
        if node.op == "If" {
            return try inlineIf(node, inputs)
        }
        if node.op == "Identity" || (node.op == "Dropout" && node.proto.output.count <= 1) ||
           (node.op == "Dropout" && node.proto.output.count == 2 && node.proto.output[1].isEmpty) {
            guard let x = inputs.first ?? nil else { throw node.fail("missing input") }
            aliased += 1
            return define(node, 0, x)
        }
        let consts = inputs.map { v -> ConstTensor? in if case .constant(let c)? = v { return c } else { return nil } }
        let allConstant = zip(inputs, consts).allSatisfy { $0.0 == nil || $0.1 != nil }
        if allConstant, let outs = try foldConstantNode(node, consts, opset: opset) {
            folded += 1
            for (i, t) in outs.enumerated() { define(node, i, .constant(t)) }
            return
        }
        try lower(node, inputs)
    }

    mutating func define(_ node: NodeView, _ output: Int, _ v: Value) {
        guard output < node.proto.output.count, !node.proto.output[output].isEmpty else { return }
        values[node.proto.output[output]] = v
    }

    func shape(_ v: Value) -> [Int] {
        switch v {
        case .constant(let c): return c.shape
        case .tensor(let id): return graph.tensors[id].shape
        }
    }

    /// The graph tensor for a value, materialising constants on first use.
    mutating func tensorID(_ v: Value, name: String) -> TensorID {
        switch v {
        case .tensor(let id): return id
        case .constant(let c):
            if let id = materialised[name], graph.tensors[id].shape == c.shape, graph.constants[id] == c.constantData { return id }
            let id = graph.addTensor(TensorDesc(name: name, shape: c.shape, type: c.elementType), constant: c.constantData)
            materialised[name] = id
            return id
        }
    }

    mutating func constantAttribute(_ node: NodeView) throws -> ConstTensor {
        if let a = node.attr("value") { return try decodeTensor(a.t, name: node.name) }
        if let a = node.attr("value_float") { return .scalar(a.f) }
        if let a = node.attr("value_floats") { return ConstTensor(shape: [a.floats.count], floats: a.floats) }
        if let a = node.attr("value_int") { return ConstTensor(shape: [], ints: [a.i]) }
        if let a = node.attr("value_ints") { return .vector(a.ints) }
        throw node.fail("Constant without a supported value attribute (sparse/string constants are not supported)")
    }

    /// `If` with a compile-time condition (exporters emit it for squeeze-of-maybe-1 dims):
    /// import the taken branch in place.
    mutating func inlineIf(_ node: NodeView, _ inputs: [Value?]) throws {
        guard case .constant(let c)?? = inputs.first, c.count == 1 else {
            throw node.fail("If with a data-dependent condition cannot be compiled to a static graph")
        }
        let branch = c.ints[0] != 0 ? "then_branch" : "else_branch"
        guard let g = node.attr(branch)?.g else { throw node.fail("missing \(branch)") }
        for t in g.initializer { values[t.name] = .constant(try decodeTensor(t, name: t.name)) }
        try importNodes(g.node)
        guard g.output.count == node.proto.output.count else { throw node.fail("\(branch) has \(g.output.count) outputs, If has \(node.proto.output.count)") }
        for (i, o) in g.output.enumerated() {
            guard let v = values[o.name] else { throw node.fail("\(branch) output '\(o.name)' is never produced") }
            define(node, i, v)
        }
        folded += 1
    }
}

extension ConstTensor {
    static func scalarInt(_ v: Int) -> ConstTensor { ConstTensor(shape: [], ints: [Int64(v)]) }
}
