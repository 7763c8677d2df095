import Testing
@testable import EdgeSegCore

@Suite struct PlannerTests {
    /// No two tensors that are alive at the same time may share bytes (aliases share a root on purpose).
    @Test func liveTensorsNeverOverlap() {
        for g in [allOpsGraph(seed: 1), chain(layers: 12)] {
            let p = planMemory(g)
            let roots = (0..<g.tensors.count).filter { p.offset[$0] != nil }
            for i in roots {
                for j in roots where j > i {
                    let li = p.lifetime[i]!, lj = p.lifetime[j]!
                    guard li.overlaps(lj) else { continue }
                    let a = p.offset[i]!..<(p.offset[i]! + g.tensors[i].byteCount)
                    let b = p.offset[j]!..<(p.offset[j]! + g.tensors[j].byteCount)
                    #expect(!a.overlaps(b), "tensors \(i) and \(j) overlap")
                }
            }
            for r in roots { #expect(p.offset[r]! % 64 == 0 && p.offset[r]! + g.tensors[r].byteCount <= p.arenaBytes) }
        }
    }

    @Test func chainReusesMemoryAndRunsInPlace() {
        let g = chain(layers: 12)
        let p = planMemory(g)
        // 1x8x32x32 floats = 32 KiB per tensor: input + ping-pong pair, activations in place.
        #expect(p.arenaBytes <= 3 * 32768)
        #expect(p.noReuseBytes >= 12 * 2 * 32768)
        #expect(p.inPlaceNodes == 12)
    }

    @Test func graphInputsAreNeverOverwritten() throws {
        let g = chain(layers: 3)
        let exe = try Executor(graph: g)
        fill(exe.input(0), seed: 5)
        let before = Array(exe.input(0))
        exe.run(); exe.run()
        #expect(Array(exe.input(0)) == before)
    }

    /// A concat's parts that die there are written straight into their slices (no copy): the
    /// result equals the same graph with the parts kept alive (graph outputs), where it copies.
    @Test func concatPartsAreWrittenInPlace() throws {
        var b = GraphBuilder(seed: 4)
        let x = b.input([1, 3, 9, 7])
        let a = b.conv(x, cout: 5, k: [3, 3], pads: [1, 1, 1, 1])
        let r = b.node1(.unary(.relu), [b.conv(x, cout: 4, k: [1, 1])], [1, 4, 9, 7])   // in place on its conv, then moved
        let cat = b.node1(.concat(axis: 1), [a, x, r], [1, 12, 9, 7])                     // x (a graph input) must stay put
        let cat2 = b.node1(.concat(axis: 1), [cat, b.conv(x, cout: 2, k: [1, 1])], [1, 14, 9, 7])   // nested
        let y = b.conv(cat2, cout: 3, k: [3, 3], pads: [1, 1, 1, 1])
        b.g.outputs = [y]
        let p = planMemory(b.g)
        #expect(p.root[a] == p.root[cat2] && p.root[r] == p.root[cat2] && p.root[cat] == p.root[cat2])
        #expect(p.sub[a] == 0 && p.sub[r] == 8 * 63 * 4 && p.root[x] == x)
        var kept = b.g
        kept.outputs = [y, a, r, cat]
        #expect(planMemory(kept).root[a] == a)
        var outs: [[Float]] = []
        for g in [b.g, kept] {
            let exe = try Executor(graph: g, threads: 2)
            fill(exe.input(0), seed: 11)
            exe.run()
            outs.append(Array(exe.output(0)))
        }
        #expect(outs[0] == outs[1])
    }

    func chain(layers: Int) -> Graph {
        var b = GraphBuilder(seed: 2)
        var x = b.input([1, 8, 32, 32])
        for _ in 0..<layers {
            x = b.conv(x, cout: 8, k: [3, 3], pads: [1, 1, 1, 1])
            x = b.node1(.unary(.relu), [x], [1, 8, 32, 32])
        }
        b.g.outputs = [x]
        return b.g
    }
}
