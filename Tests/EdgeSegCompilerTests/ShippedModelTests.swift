import EdgeSegCompiler
import EdgeSegCore
import Foundation
import Testing

/// The real PyTorch exports the model branch commits under models/ (TorchScript exporter,
/// opset 17, BN folded, 134 Conv). Enabled once those files are in the tree.
@Suite("shipped models compile")
struct ShippedModelTests {
    static let models = Fixture.directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models")
    static let names = ["demo", "final-untrained"].filter {
        FileManager.default.fileExists(atPath: models.appendingPathComponent("\($0).onnx").path)
    }

    @Test(.enabled(if: !names.isEmpty), arguments: names)
    func compilesToTheExpectedStructure(name: String) throws {
        let data = try Data(contentsOf: Self.models.appendingPathComponent("\(name).onnx"))
        let (g, report) = try compileONNX(data)
        #expect(g.inputs.map { g.tensors[$0].shape } == [[1, 3, 512, 512]])
        #expect(g.outputs.map { g.tensors[$0].shape } == [[1, 3, 512, 512]])
        let h = opHistogram(g)
        #expect(h["conv"] == 134)
        // Every ReLU6 (34 Clip) is fused into its conv; SiLU recognised (5 per MViT block × 3).
        #expect(h["unary.clip"] == nil)
        #expect(report.passes.first { $0.name.hasPrefix("SiLU") }?.rewrites == 15)
        #expect(h["resize"] == 4 && h["softmax"] == 3 && h["layerNorm"] == 6 && h["instanceNorm"] == 1)
        #expect(g.nodes.allSatisfy { n in n.inputs.allSatisfy { g.tensors[$0].type == .float32 } })
        // The runtime accepts it (validation + model-file round trip).
        _ = try compiledModelBytes(g)
    }
}
