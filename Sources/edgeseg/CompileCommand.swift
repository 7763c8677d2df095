import ArgumentParser
import EdgeSegCompiler
import EdgeSegCore
import Foundation

struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile a PyTorch-exported ONNX model into a .edgeseg file (static shapes, folded BN, fused activations).")

    @Argument(help: "The ONNX model (opset 11-18, exported with torch.onnx.export).")
    var model: String

    @Option(name: .shortAndLong, help: "Output .edgeseg file.")
    var output: String?

    @Option(name: .customLong("input-shape"), parsing: .singleValue,
            help: "Shape for an input with symbolic dims, e.g. input=1,3,512,512 (repeatable).")
    var inputShapes: [String] = []

    func run() throws {
        var options = ImportOptions()
        for spec in inputShapes {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let dims = Optional(parts[1].split(separator: ",").compactMap { Int($0) }),
                  !dims.isEmpty, dims.count == parts[1].split(separator: ",").count else {
                throw ValidationError("--input-shape expects name=d0,d1,...; got '\(spec)'")
            }
            options.inputShapes[String(parts[0])] = dims
        }
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: model)) } catch {
            throw CompileFailure(description: "cannot read \(model): \(error.localizedDescription)")
        }
        let graph: Graph, report: CompileReport
        do { (graph, report) = try compileONNX(bytes, options: options) } catch {
            throw CompileFailure(description: "\(model): \(error)")
        }
        for line in report.lines { print(line) }
        let ops = opHistogram(graph).sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }
        print("ops: " + ops.joined(separator: ", "))
        for (kind, ids) in [("input", graph.inputs), ("output", graph.outputs)] {
            for id in ids { print("\(kind) \(graph.tensors[id].name) \(graph.tensors[id].shape)") }
        }
        if let output {
            try writeCompiledModel(graph, to: output)
            print("wrote \(output)")
        }
    }
}

/// A compile error is about the model, not the command line: no usage text after it.
struct CompileFailure: Error, CustomStringConvertible {
    var description: String
}
