import EdgeSegCompiler
import EdgeSegCore
import Foundation
import Testing

/// Import + passes preserve each fixture's meaning: the compiled graph, evaluated by the scalar
/// reference interpreter, reproduces ONNX Runtime's outputs.
@Suite("compiled graphs match ONNX Runtime (reference interpreter)")
struct ReferenceParityTests {
    @Test("optimised graph vs ORT", arguments: Fixture.names)
    func optimisedMatchesORT(name: String) throws {
        let f = Fixture.named(name)
        let (g, _) = try f.compiled()
        let outs = ReferenceEvaluator.run(g, f.inputValues)
        for (k, (got, want)) in zip(outs, f.referenceOutputs).enumerated() {
            let d = maxAbsDiff(got, want)
            #expect(d <= 1e-3, "\(name) output \(k): max |Δ| = \(d)")
            if f.argmaxAxis == 1 {
                #expect(argmaxChannels(got, shape: f.outputs[k]) == argmaxChannels(want, shape: f.outputs[k]))
            }
        }
    }

    @Test("BN folding and fusions change nothing numerically: unoptimised vs optimised")
    func foldedMatchesUnfolded() throws {
        for name in ["mbv2_block", "ggca", "conv_pads", "activations"] {
            let f = Fixture.named(name)
            let raw = try f.imported()
            let (opt, _) = try f.compiled()
            #expect(opt.nodes.count < raw.nodes.count || name == "conv_pads")
            let a = ReferenceEvaluator.run(raw, f.inputValues), b = ReferenceEvaluator.run(opt, f.inputValues)
            for (x, y) in zip(a, b) { #expect(maxAbsDiff(x, y) <= 1e-4, "\(name)") }
        }
    }
}
