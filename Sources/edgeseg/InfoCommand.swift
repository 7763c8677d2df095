import ArgumentParser
import EdgeSegCompiler
import EdgeSegCore
import Foundation

/// `edgeseg info model.edgeseg`: what the compiled model holds and what it will cost to run.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a compiled .edgeseg model.")

    @Argument(help: "The .edgeseg file.") var model: String

    func run() throws {
        let g = try loadModel(model)
        let summary = ModelSummary(g)
        print("model        \(model)")
        for i in g.inputs { print("input        \(g.tensors[i].name) \(g.tensors[i].shape) \(g.tensors[i].type)") }
        for o in g.outputs { print("output       \(g.tensors[o].name) \(g.tensors[o].shape) \(g.tensors[o].type)") }
        print("precision    \(g.precision)")
        print("nodes        \(g.nodes.count)")
        print("params       \(summary.params)")
        print("MACs         \(summary.macs) (\(String(format: "%.2f", Double(summary.macs) / 1e9)) GMAC)")
        print("weight bytes \(summary.weightBytes)")
        print("arena bytes  \(summary.plan.arenaBytes) (no reuse: \(summary.plan.noReuseBytes), \(summary.plan.inPlaceNodes) nodes in place)")
        print("ops:")
        for (op, count) in summary.histogram.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            print("  \(op.padding(toLength: 22, withPad: " ", startingAt: 0)) \(count)")
        }
    }
}

struct ModelSummary {
    var params = 0, weightBytes = 0, macs = 0
    var histogram: [String: Int] = [:]
    var plan: MemoryPlan
    init(_ g: Graph) {
        for (id, c) in g.constants { params += c.count; weightBytes += g.tensors[id].byteCount }
        for n in g.nodes { macs += nodeMACs(n, g); histogram[opName(n.op), default: 0] += 1 }
        plan = planMemory(g)
    }
}

/// Reads a `.edgeseg` file; an `.onnx` file is compiled in memory first and still goes through
/// the model-file writer and reader, so both paths load exactly what a compiled file would hold.
func loadModel(_ path: String) throws -> Graph {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
    var bytes = [UInt8](data)
    if path.hasSuffix(".onnx") {
        do { bytes = writeModelFile(try compileONNX(data).0) } catch { throw ValidationError("\(path): \(error)") }
    }
    do { return try readModelFile(bytes) } catch let e as ModelFileError { throw ValidationError("\(path): \(e)") }
}
