@testable import EdgeSegCompiler
import EdgeSegCore
import Foundation
import SwiftProtobuf
import Testing

/// Builds small ModelProtos directly so each test controls exactly what is wrong.
private func model(nodes: [Onnx_NodeProto], inputShape: [Int64] = [1, 2, 4, 4], initializers: [Onnx_TensorProto] = [],
                   output: String = "y", opset: Int64 = 17) -> Data {
    var m = Onnx_ModelProto()
    m.irVersion = 8
    m.opsetImport = [Onnx_OperatorSetIdProto.with { $0.version = opset }]
    m.graph = Onnx_GraphProto.with { g in
        g.node = nodes
        g.initializer = initializers
        g.input = [Onnx_ValueInfoProto.with { v in
            v.name = "x"
            v.type.tensorType.elemType = 1
            v.type.tensorType.shape.dim = inputShape.map { d in Onnx_TensorShapeProto.Dimension.with { $0.dimValue = d } }
        }]
        g.output = [Onnx_ValueInfoProto.with { $0.name = output }]
    }
    return try! m.serializedData()
}

private func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", attrs: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
    Onnx_NodeProto.with { $0.opType = op; $0.input = inputs; $0.output = outputs; $0.name = name; $0.attribute = attrs }
}

private func floatTensor(_ name: String, dims: [Int64], count: Int) -> Onnx_TensorProto {
    Onnx_TensorProto.with { $0.name = name; $0.dataType = 1; $0.dims = dims; $0.floatData = .init(repeating: 0.5, count: count) }
}

@Suite("import errors: clear messages, never a crash")
struct ErrorTests {
    @Test func unsupportedOperatorNamesNodeOpAndOpset() throws {
        let bytes = model(nodes: [node("Relu", ["x"], ["a"]), node("Celu", ["a"], ["y"], name: "head/celu")], opset: 16)
        #expect(throws: ImportError.unsupportedOperator(node: "head/celu", opType: "Celu", domain: "", opset: 16)) { try compileONNX(bytes) }
        let message = "\(ImportError.unsupportedOperator(node: "head/celu", opType: "Celu", domain: "", opset: 16))"
        #expect(message.contains("Celu") && message.contains("head/celu") && message.contains("opset 16"))
    }

    @Test func customDomainIsUnsupported() throws {
        var n = node("Relu", ["x"], ["y"], name: "r")
        n.domain = "com.microsoft"
        #expect(throws: ImportError.unsupportedOperator(node: "r", opType: "Relu", domain: "com.microsoft", opset: 17)) { try compileONNX(model(nodes: [n])) }
    }

    @Test("truncated files are rejected at (almost) every cut, never crash")
    func truncatedProtobuf() throws {
        let full = Fixture.named("mbv2_block").onnx
        let cuts = Array(stride(from: 1, to: full.count, by: max(1, full.count / 97)))
        var rejected = 0
        for cut in cuts {
            do { _ = try compileONNX(full.prefix(cut)) } catch is ImportError { rejected += 1 } catch is GraphValidationError { rejected += 1 }
        }
        // A cut exactly between two top-level fields is still a well-formed (smaller) message;
        // every other cut must fail to decode or leave an unusable graph.
        #expect(rejected >= cuts.count - 2)
        #expect(throws: ImportError.self) { try compileONNX(full.prefix(full.count / 2)) }
    }

    @Test func garbageBytes() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let junk = Data((0..<Int.random(in: 1...400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            #expect(throws: (any Error).self) { try compileONNX(junk) }
        }
    }

    @Test func bitFlipsNeverCrash() throws {
        let full = Fixture.named("conv_variants").onnx
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var d = full
            for _ in 0..<3 { let i = Int.random(in: 0..<d.count, using: &rng); d[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng)) }
            _ = try? compileONNX(d)   // must return or throw, never trap
        }
    }

    @Test func hostileInitializerDims() throws {
        let huge = floatTensor("w", dims: [1 << 40, 1 << 40, 3, 3], count: 4)
        let bytes = model(nodes: [node("Conv", ["x", "w"], ["y"])], initializers: [huge])
        #expect(throws: ImportError.self) { try compileONNX(bytes) }
        let negative = floatTensor("w", dims: [-4, 2, 1, 1], count: 4)
        #expect(throws: ImportError.self) { try compileONNX(model(nodes: [node("Conv", ["x", "w"], ["y"])], initializers: [negative])) }
        // Header says 8 values, payload holds 4.
        let short = floatTensor("w", dims: [4, 2, 1, 1], count: 4)
        #expect(throws: ImportError.invalidTensor(name: "w", reason: "holds 4 values, shape [4, 2, 1, 1] needs 8")) {
            try compileONNX(model(nodes: [node("Conv", ["x", "w"], ["y"])], initializers: [short]))
        }
    }

    @Test func hostileInputAndReshapeDims() throws {
        #expect(throws: ImportError.self) { try compileONNX(model(nodes: [node("Relu", ["x"], ["y"])], inputShape: [1, 1 << 40, 1 << 40])) }
        #expect(throws: ImportError.self) { try compileONNX(model(nodes: [node("Relu", ["x"], ["y"])], inputShape: [1, -3, 4])) }
        let shape = Onnx_TensorProto.with { $0.name = "s"; $0.dataType = 7; $0.dims = [2]; $0.int64Data = [Int64.max, -1] }
        #expect(throws: ImportError.self) { try compileONNX(model(nodes: [node("Reshape", ["x", "s"], ["y"])], initializers: [shape])) }
        // Eight dims of 2^28: the element count overflows Int; must be an error, not a trap.
        let huge = Onnx_TensorProto.with { $0.name = "s"; $0.dataType = 7; $0.dims = [8]; $0.int64Data = .init(repeating: 1 << 28, count: 8) }
        #expect(throws: ImportError.self) { try compileONNX(model(nodes: [node("Reshape", ["x", "s"], ["y"])], initializers: [huge])) }
        // Gathering with 2^20 indices from rows of 2^10 would build a 2^30-element tensor.
        let data = Onnx_TensorProto.with { $0.name = "d"; $0.dataType = 7; $0.dims = [4, 1 << 10]; $0.int64Data = .init(repeating: 0, count: 1 << 12) }
        let ind = Onnx_TensorProto.with { $0.name = "i"; $0.dataType = 7; $0.dims = [1 << 10, 1 << 10]; $0.int64Data = .init(repeating: 0, count: 1 << 20) }
        #expect(throws: ImportError.self) {
            try compileONNX(model(nodes: [node("Gather", ["d", "i"], ["g"]), node("Reshape", ["x", "g"], ["y"])], initializers: [data, ind]))
        }
        let pads = Onnx_TensorProto.with { $0.name = "p"; $0.dataType = 7; $0.dims = [8]; $0.int64Data = [0, 0, 0, 0, 0, 0, 1 << 40, 0] }
        #expect(throws: ImportError.self) { try compileONNX(model(nodes: [node("Pad", ["x", "p"], ["y"])], initializers: [pads])) }
        let big = Onnx_TensorProto.with { $0.name = "n"; $0.dataType = 7; $0.dims = [3]; $0.int64Data = [1 << 20, 1 << 20, 1 << 20] }
        #expect(throws: ImportError.self) { try compileONNX(model(nodes: [node("ConstantOfShape", ["n"], ["c"]), node("Add", ["x", "c"], ["y"])], initializers: [big])) }
    }

    @Test func externalDataStringsAndIntInputsAreRefusedClearly() throws {
        var ext = floatTensor("w", dims: [2, 2, 1, 1], count: 0)
        ext.dataLocation = .external
        ext.externalData = [.with { $0.key = "location"; $0.value = "weights.bin" }]
        #expect(throws: ImportError.invalidTensor(name: "w", reason: "external data is not supported; re-export with the weights inside the .onnx file")) {
            try compileONNX(model(nodes: [node("Conv", ["x", "w"], ["y"])], initializers: [ext]))
        }
        let str = Onnx_TensorProto.with { $0.name = "s"; $0.dataType = 8; $0.dims = [1]; $0.stringData = [Data("a".utf8)] }
        #expect(throws: ImportError.invalidTensor(name: "s", reason: "string tensors are not supported")) {
            try compileONNX(model(nodes: [node("Relu", ["x"], ["y"])], initializers: [str]))
        }
        var m = try Onnx_ModelProto(serializedBytes: model(nodes: [node("Relu", ["x"], ["y"])]))
        m.graph.input[0].type.tensorType.elemType = 7
        #expect(throws: ImportError.self) { try compileONNX(try m.serializedData()) }
        // A conv whose weight is computed at run time cannot be packed at load.
        #expect(throws: ImportError.invalidNode(node: "c", opType: "Conv", reason: "weight must be a constant [M, C/group, kh, kw]")) {
            try compileONNX(model(nodes: [node("Relu", ["x"], ["w"]), node("Conv", ["x", "w"], ["y"], name: "c")]))
        }
    }

    @Test func symbolicInputNeedsAnExplicitShape() throws {
        var m = try Onnx_ModelProto(serializedBytes: model(nodes: [node("Relu", ["x"], ["y"])]))
        m.graph.input[0].type.tensorType.shape.dim[0] = .with { $0.dimParam = "batch" }
        let bytes = try m.serializedData()
        #expect(throws: ImportError.self) { try compileONNX(bytes) }
        let (g, _) = try compileONNX(bytes, options: ImportOptions(inputShapes: ["x": [2, 2, 4, 4]]))
        #expect(g.tensors[g.outputs[0]].shape == [2, 2, 4, 4])
    }

    @Test func undefinedInputAndMissingOutput() throws {
        #expect(throws: ImportError.invalidNode(node: "Relu_1", opType: "Relu", reason: "input 'nope' is not defined before this node")) {
            try compileONNX(model(nodes: [node("Relu", ["nope"], ["y"])]))
        }
        #expect(throws: ImportError.invalidModel("graph output 'y' is never produced")) {
            try compileONNX(model(nodes: [node("Relu", ["x"], ["z"])]))
        }
    }

    @Test func dynamicShapeArgumentsAreRejectedClearly() throws {
        // Reshape whose target shape is computed from data cannot have a static shape.
        let bytes = model(nodes: [node("Relu", ["x"], ["s"]), node("Reshape", ["x", "s"], ["y"], name: "dyn")])
        #expect(throws: ImportError.invalidNode(node: "dyn", opType: "Reshape", reason: "shape must be a compile-time constant")) { try compileONNX(bytes) }
    }
}
