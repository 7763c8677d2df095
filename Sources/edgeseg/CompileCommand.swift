import ArgumentParser
import EdgeSegCompiler
import EdgeSegCapture
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

    @Option(help: "Precision: fp32, fp16 (half weights), int8 (convs int8, calibrated), mixed (int8 except the layers that miss --target-sqnr).")
    var precision: Precision = .fp32

    @Option(help: "Folder of calibration images (PNG/JPEG, preprocessed as the runtime does). Needed for int8 and mixed.")
    var calib: String?

    @Option(name: .customLong("calib-method"), help: "Activation range: minmax, percentile, kl (entropy) or mse.")
    var calibMethod: CalibrationMethod = .mse

    @Option(help: "Two-sided percentile for --calib-method percentile.") var percentile: Double = 99.99
    @Option(name: .customLong("calib-limit"), help: "Use at most this many calibration images.") var calibLimit: Int = 32
    @Option(name: .customLong("target-sqnr"), help: "Mixed precision: output SQNR (dB vs FP32) to reach.") var targetSQNR: Double = 30
    @Option(name: .customLong("keep-float"), parsing: .singleValue, help: "Conv node kept in float (repeatable).")
    var keepFloat: [String] = []
    @Option(help: "Threads for calibration runs.") var threads: Int = 2
    @Option(name: .customLong("int8-min-macs"), help: "Convs with fewer MACs and outputs under 65 536 values stay float (each int8 island costs a quantize/dequantize).")
    var int8MinMACs: Int = 2_000_000

    func run() throws {
        if (precision == .int8 || precision == .mixed) && calib == nil {
            throw ValidationError("--precision \(precision.rawValue) needs --calib DIR (a folder of images like the camera's)")
        }
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
        var graph: Graph, report: CompileReport
        do { (graph, report) = try compileONNX(bytes, options: options) } catch {
            throw CompileFailure(description: "\(model): \(error)")
        }
        for line in report.lines { print(line) }
        if precision != .fp32 {
            let samples = try calibrationSamples(for: graph)
            let q: QuantizeReport
            do {
                (graph, q) = try quantizeGraph(graph, samples: samples, options: QuantizeOptions(
                    precision: precision, method: calibMethod, percentile: percentile, targetSQNR: targetSQNR,
                    keepFloat: Set(keepFloat), threads: threads, minMACs: int8MinMACs))
            } catch { throw CompileFailure(description: "\(model): quantization: \(error)") }
            for line in q.lines { print(line) }
        }
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

extension CompileCommand {
    /// The calibration folder's images, preprocessed for the model's input (sorted by name, capped).
    func calibrationSamples(for graph: Graph) throws -> [[Float]] {
        guard let calib else { return [] }
        let shape = graph.tensors[graph.inputs[0]].shape
        guard shape.count == 4, shape[1] == 3 else { throw CompileFailure(description: "calibration needs a 1×3×H×W image input, model has \(shape)") }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: calib) } catch {
            throw CompileFailure(description: "cannot read calibration folder \(calib): \(error.localizedDescription)")
        }
        let images = names.filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        guard !images.isEmpty else { throw CompileFailure(description: "no PNG/JPEG images in \(calib)") }
        let spec = InputSpec(width: shape[3], height: shape[2])
        var samples: [[Float]] = []
        for name in images.prefix(max(1, calibLimit)) {
            let path = (calib as NSString).appendingPathComponent(name)
            var x = [Float](repeating: 0, count: shape.reduce(1, *))
            do {
                let img = try loadImage(path: path)
                try x.withUnsafeMutableBufferPointer { try preprocess(img, spec: spec, into: $0) }
            } catch {
                print("calibration: skipping \(path): \(error)")
                continue
            }
            samples.append(x)
        }
        guard !samples.isEmpty else { throw CompileFailure(description: "no readable calibration image in \(calib)") }
        return samples
    }
}

extension Precision: ExpressibleByArgument {}
extension CalibrationMethod: ExpressibleByArgument {}

/// A compile error is about the model, not the command line: no usage text after it.
struct CompileFailure: Error, CustomStringConvertible {
    var description: String
}
