import Testing
@testable import EdgeSegCore

@Suite struct ModelFileTests {
    @Test func roundTripKeepsEveryOp() throws {
        var g = allOpsGraph()
        let bytes = writeModelFile(g)
        let back = try readModelFile(bytes)
        #expect(writeModelFile(back) == bytes)
        // The writer clamps ONNX's INT64_MAX slice ends to 2^31 (same meaning, dims <= 2^28).
        for i in g.nodes.indices {
            if case .slice(let s, let e, let a, let st) = g.nodes[i].op {
                g.nodes[i].op = .slice(starts: s, ends: e.map { min($0, 1 << 31) }, axes: a, steps: st)
            }
        }
        let same = back == g
        #expect(same, "decoded graph differs from the written one")
    }

    @Test func weightsAre64ByteAligned() throws {
        let bytes = writeModelFile(allOpsGraph())
        var r = ByteReader(bytes, from: 32, to: 40)
        #expect(try r.u64() % 64 == 0)
    }

    @Test func truncationIsRejected() {
        let bytes = writeModelFile(allOpsGraph())
        var cuts = Array(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)))
        cuts += [1, 7, 8, 63, 64, 65, bytes.count - 1]
        for cut in cuts {
            #expect(throws: ModelFileError.self) { _ = try readModelFile(Array(bytes[0..<cut])) }
        }
    }

    @Test func bitFlipsAreCaughtByTheChecksum() {
        let bytes = writeModelFile(allOpsGraph())
        var rng = SplitMix64(seed: 3)
        for _ in 0..<200 {
            var b = bytes
            let i = rng.int(0...(b.count - 1))
            if (48..<56).contains(i) { continue }   // file length: caught too, but by another check
            b[i] ^= UInt8(1 << rng.int(0...7))
            #expect(throws: ModelFileError.self) { _ = try readModelFile(b) }
        }
    }

    @Test func badMagicAndVersion() {
        var bytes = writeModelFile(allOpsGraph())
        var m = bytes; m[0] = UInt8(ascii: "X")
        #expect(throws: ModelFileError("not an .edgeseg file (bad magic)")) { _ = try readModelFile(m) }
        bytes[8] = 9; resealModelFile(&bytes)
        #expect(throws: ModelFileError("format version 9; this runtime reads version 1")) { _ = try readModelFile(bytes) }
    }

    /// Seeded random mutations of the graph section, re-checksummed so they reach the decoder:
    /// each must be rejected with an error, or load, pass the executor's checks and run.
    @Test func resealedGraphMutationsNeverCrash() throws {
        let g = allOpsGraph()
        let bytes = writeModelFile(g)
        var h = ByteReader(bytes, from: 24, to: 32)
        let graphLen = Int(try h.u64())
        var rng = SplitMix64(seed: 11)
        var rejected = 0, ran = 0
        for trial in 0..<3000 {
            var b = bytes
            let edits = 1 + trial % 3
            for _ in 0..<edits {
                let i = 64 + rng.int(0...(graphLen - 1))
                switch rng.int(0...2) {
                case 0: b[i] ^= UInt8(1 << rng.int(0...7))
                case 1: b[i] = UInt8(truncatingIfNeeded: rng.next())
                default: b[i] = [0, 1, 0xff, 0x7f, 0x80][rng.int(0...4)]
                }
            }
            resealModelFile(&b)
            do {
                let m = try readModelFile(b)
                let exe = try Executor(graph: m, threads: 1, memoryLimit: 64 << 20)
                fill(exe.input(0), seed: 1)
                exe.run()
                ran += 1
            } catch is ModelFileError { rejected += 1 } catch is ExecutorError { rejected += 1 }
        }
        #expect(rejected > 2000)
        #expect(rejected + ran == 3000)
    }
}
