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
