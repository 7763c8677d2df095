@testable import EdgeSegCompiler
import EdgeSegCore
import Testing

/// Passes on hand-built graphs, for rules the fixtures do not reach.
@Suite("graph passes on hand-built graphs")
struct PassTests {
    /// x → reshape → reshape → relu, plus an optional second consumer of the middle tensor.
    func chain(extraConsumer: Bool) -> Graph {
        var g = Graph()
        let x = g.addTensor(TensorDesc(name: "x", shape: [1, 4, 2, 2]))
        let a = g.addTensor(TensorDesc(name: "a", shape: [4, 4]))
        let b = g.addTensor(TensorDesc(name: "b", shape: [16]))
        let y = g.addTensor(TensorDesc(name: "y", shape: [16]))
        g.inputs = [x]; g.outputs = [y]
        g.nodes = [Node(name: "r1", op: .reshape, inputs: [x], outputs: [a]),
                   Node(name: "r2", op: .reshape, inputs: [a], outputs: [b]),
                   Node(name: "relu", op: .unary(.relu), inputs: [b], outputs: [y])]
        if extraConsumer {
            let z = g.addTensor(TensorDesc(name: "z", shape: [4, 4]))
            g.nodes.append(Node(name: "neg", op: .unary(.neg), inputs: [a], outputs: [z]))
            g.outputs.append(z)
        }
        return g
    }

    @Test func reshapeChainsCollapseOnlyWhenUnshared() throws {
        var g = chain(extraConsumer: false)
        #expect(collapseReshapes(&g) == 1)
        _ = removeDeadNodes(&g)
        #expect(g.nodes.map(\.name) == ["r2", "relu"])
        #expect(g.nodes[0].inputs == g.inputs)
        try validate(g)

        var shared = chain(extraConsumer: true)
        #expect(collapseReshapes(&shared) == 0)
    }

    @Test func residualFusionRestoresTopologicalOrder() throws {
        // y = conv(x) + t where t is computed after the conv in file order.
        var g = Graph()
        let x = g.addTensor(TensorDesc(name: "x", shape: [1, 2, 3, 3]))
        let w = g.addTensor(TensorDesc(name: "w", shape: [2, 2, 1, 1]), constant: .float32([1, 0, 0, 1]))
        let b = g.addTensor(TensorDesc(name: "b", shape: [2]), constant: .float32([0, 0]))
        let c = g.addTensor(TensorDesc(name: "c", shape: [1, 2, 3, 3]))
        let t = g.addTensor(TensorDesc(name: "t", shape: [1, 2, 3, 3]))
        let y = g.addTensor(TensorDesc(name: "y", shape: [1, 2, 3, 3]))
        let r = g.addTensor(TensorDesc(name: "r", shape: [1, 2, 3, 3]))
        g.inputs = [x]; g.outputs = [r]
        g.nodes = [Node(name: "conv", op: .conv(ConvAttrs(kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1)), inputs: [x, w, b], outputs: [c]),
                   Node(name: "neg", op: .unary(.neg), inputs: [x], outputs: [t]),
                   Node(name: "add", op: .binary(.add), inputs: [c, t], outputs: [y]),
                   Node(name: "relu", op: .unary(.relu), inputs: [y], outputs: [r])]
        let before = ReferenceEvaluator.run(g, [(0..<18).map { Float($0) - 9 }])
        _ = optimise(&g)
        try validate(g)
        #expect(g.nodes.map(\.name) == ["neg", "conv"])
        guard case .conv(let a) = g.nodes[1].op else { Issue.record("no conv"); return }
        #expect(a.hasResidual && a.activation == .relu)
        #expect(ReferenceEvaluator.run(g, [(0..<18).map { Float($0) - 9 }]) == before)
    }

    @Test func zeroPadFoldsIntoConvPadsNonZeroPadStays() throws {
        for value: Float in [0, 1.5] {
            var g = Graph()
            let x = g.addTensor(TensorDesc(name: "x", shape: [1, 2, 4, 5]))
            let p = g.addTensor(TensorDesc(name: "p", shape: [1, 2, 7, 6]))
            let w = g.addTensor(TensorDesc(name: "w", shape: [3, 2, 3, 3]), constant: .float32((0..<54).map { Float($0 % 7) - 3 }))
            let b = g.addTensor(TensorDesc(name: "b", shape: [3]), constant: .float32([0.5, -1, 2]))
            let y = g.addTensor(TensorDesc(name: "y", shape: [1, 3, 5, 5]))
            g.inputs = [x]; g.outputs = [y]
            g.nodes = [Node(name: "pad", op: .pad(pads: [0, 0, 1, 0, 0, 0, 2, 1], value: value), inputs: [x], outputs: [p]),
                       Node(name: "conv", op: .conv(ConvAttrs(kernel: [3, 3], strides: [1, 1], pads: [0, 0, 0, 1], dilations: [1, 1], group: 1)), inputs: [p, w, b], outputs: [y])]
            let input: [[Float]] = [(0..<40).map { Float($0) / 7 - 2 }]
            try validateGraph(g)
            let before = ReferenceEvaluator.run(g, input)
            _ = optimise(&g)
            try validate(g)
            try validateGraph(g)
            #expect(g.nodes.count == (value == 0 ? 1 : 2))
            if value == 0, case .conv(let a) = g.nodes[0].op { #expect(a.pads == [1, 0, 2, 2]) }
            #expect(maxAbsDiff(ReferenceEvaluator.run(g, input)[0], before[0]) <= 1e-5)
        }
    }
}
