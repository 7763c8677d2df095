import EdgeSegCompiler
import EdgeSegCore
import Foundation
import Testing

@Suite("ONNX import and passes on the op fixtures")
struct ImportTests {
    @Test("every fixture compiles to a valid graph with the reference output shapes", arguments: Fixture.names)
    func compilesWithShapes(name: String) throws {
        let f = Fixture.named(name)
        let (g, report) = try f.compiled()
        #expect(g.inputs.map { g.tensors[$0].shape } == f.inputs)
        #expect(g.outputs.map { g.tensors[$0].shape } == f.outputs)
        #expect(report.passes.count >= 6)
        try validate(g)
        // Shape plumbing never survives: no int64 tensors feed compute nodes.
        for n in g.nodes { for i in n.inputs { #expect(g.tensors[i].type == .float32, "node \(n.name) reads int tensor") } }
    }

    @Test func mobilenetBlockFoldsBatchNormAndFusesEverything() throws {
        let (g, report) = try Fixture.named("mbv2_block").compiled()
        let h = opHistogram(g)
        // 1 stem + 2 blocks × 3 convs + classifier; every BN folded, every ReLU6 and both residual adds fused.
        #expect(h["conv"] == 8)
        #expect(h["binary.add"] == nil && h["binary.mul"] == nil && h["unary.clip"] == nil)
        #expect(h["resize"] == 1)
        #expect(g.nodes.count == 9)
        let convs = g.nodes.compactMap { n -> ConvAttrs? in if case .conv(let a) = n.op { return a } else { return nil } }
        #expect(convs.filter(\.hasResidual).count == 2)
        #expect(convs.filter { $0.activation == .clip(min: 0, max: 6) }.count == 5)
        #expect(convs.contains { $0.dilations == [2, 2] && $0.pads == [2, 2, 2, 2] && $0.group == 32 })
        let bnFold = report.passes.first { $0.name.hasPrefix("affine") }!
        #expect(bnFold.rewrites == 14)   // 7 BN × (mul + add)
    }

    @Test func ggcaFoldsBatchNormIntoEachSharedConvCall() throws {
        let (g, _) = try Fixture.named("ggca").compiled()
        let h = opHistogram(g)
        #expect(h["conv"] == 8)                    // shared MLP: 2 convs × 4 calls
        #expect(h["reduce.mean"] == 2 && h["reduce.max"] == 2)
        // sigmoid(conv(avg) + conv(max)): the add becomes the second conv's residual and the
        // sigmoid its activation.
        #expect(h["unary.sigmoid"] == nil)
        let gates = g.nodes.filter { if case .conv(let a) = $0.op { return a.hasResidual && a.activation == .sigmoid } else { return false } }
        #expect(gates.count == 2)
        // the two broadcast gate multiplies are one axisScale; BN muls are gone
        #expect(h["binary.mul"] == nil && h["axisScale"] == 1)
        // BN folded into the first conv of each call: four distinct folded weights.
        let firstConvWeights = Set(g.nodes.filter { if case .conv(let a) = $0.op { return a.activation == .relu } else { return false } }.map { $0.inputs[1] })
        #expect(firstConvWeights.count == 4)
    }

    @Test func activationPatternsAreRecognised() throws {
        let (g, _) = try Fixture.named("activations").compiled()
        let h = opHistogram(g)
        #expect(h["unary.gelu"] == 1)
        #expect(h["unary.erf"] == nil)
        let acts = g.nodes.compactMap { n -> UnaryOp? in if case .conv(let a) = n.op { return a.activation } else { return nil } }
        #expect(acts == [.silu, .hardSwish, .sigmoid])
    }

    @Test func plumbingFoldsAway() throws {
        let f = Fixture.named("plumbing")
        let (g, report) = try f.compiled()
        #expect(report.importSummary.foldedNodes > 10)
        let h = opHistogram(g)
        #expect(h["split"] == 1 && h["pad"] == 1 && h["slice"] == 2 && h["softmax"] == 1 && h["instanceNorm"] == 1)
    }

    @Test func attentionKeepsRankSixTransposesAndRankFiveMatMul() throws {
        let (g, _) = try Fixture.named("attention").compiled()
        let transposes = g.nodes.compactMap { n -> [Int]? in if case .transpose(let p) = n.op { return p } else { return nil } }
        #expect(transposes.contains([0, 2, 4, 3, 5, 1]) && transposes.contains([0, 5, 1, 3, 2, 4]))
        let mm = g.nodes.filter { $0.op == .matMul }
        #expect(mm.contains { g.tensors[$0.outputs[0]].shape.count == 5 })
        #expect(opHistogram(g)["layerNorm"] == 2)
        #expect(opHistogram(g)["unary.silu"] == 1)
    }

    @Test func opset12LayerNormIsRecognised() throws {
        let (g, report) = try Fixture.named("attention_op12").compiled()
        #expect(report.passes.first { $0.name == "decomposed LayerNorm" }?.rewrites == 2)
        let h = opHistogram(g)
        #expect(h["layerNorm"] == 2 && h["unary.sqrt"] == nil && h["unary.pow"] == nil)
    }

    @Test func dynamicGatherAndExpandLowerToSliceAndBroadcast() throws {
        let (g, _) = try Fixture.named("window_attention").compiled()
        let h = opHistogram(g)
        // qkv[0..2] on a computed tensor: three axis-0 slices (+ reshapes dropping the axis).
        let axis0 = g.nodes.filter { if case .slice(_, _, let axes, _) = $0.op { return axes == [0] } else { return false } }
        #expect(axis0.count == 3)
        #expect(h["binary.max"] == 1)
        // Expand(g, [1,1,H,W]) is g × ones[1,1,H,W].
        #expect(g.nodes.contains { $0.op == .binary(.mul) && $0.inputs.contains { g.constants[$0] == .float32(.init(repeating: 1, count: 24)) } })
    }

    @Test func convFormsFromOnnxHelper() throws {
        let (g, _) = try Fixture.named("conv_pads").compiled()
        let convs = g.nodes.compactMap { n -> ConvAttrs? in if case .conv(let a) = n.op { return a } else { return nil } }
        // SAME_UPPER, stride 2, k 3 on 5×8: H pads (1,1), W total 1 → (0 before, 1 after).
        #expect(convs.map(\.pads) == [[0, 1, 2, 1], [1, 0, 1, 1], [1, 1, 0, 0]])
        // conv 3's output feeds both the BN and the Add, so neither BN may fold: both stay Mul+Add.
        #expect(opHistogram(g)["binary.mul"] == 2)
    }

    @Test func passesReportNodeCounts() throws {
        let (g, report) = try Fixture.named("mbv2_block").compiled()
        #expect(report.passes.last!.nodesAfter == g.nodes.count)
        #expect(report.passes.first!.nodesBefore == report.importedNodes)
        for (a, b) in zip(report.passes, report.passes.dropFirst()) { #expect(a.nodesAfter == b.nodesBefore) }
    }
}
