// Fuzz target: a hostile `.edgeseg` file through the board's load path — readModelFile
// (which ends in validateGraph), then an FP32 Executor under a small memory limit, then one run.
// Part of edgeseg-fuzz (Fuzz.swift picks the target).
import EdgeSegCore

/// Small enough that a file claiming huge tensors is refused instead of allocating GBs.
let memoryLimit = 4 << 20
/// Larger models load but are not run: one run must stay well under libFuzzer's timeout.
let runLimit = 256 << 10

func fuzzModel(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The raw file first (header, lengths, checksum checks) ...
    _ = try? readModelFile(bytes)
    // ... then as an attacker would send it: FNV-1a is no MAC, so a hostile file has a valid
    // checksum and consistent lengths. Re-stamp both so mutations reach the graph decoder.
    if bytes.count >= 64 {
        patch64(&bytes, at: 48, UInt64(bytes.count))
        let weightsOffset = read64(bytes, at: 32)
        if weightsOffset <= UInt64(bytes.count) { patch64(&bytes, at: 40, UInt64(bytes.count) - weightsOffset) }
        resealModelFile(&bytes)
    }
    guard let graph = try? readModelFile(bytes) else { return 0 }
    guard let executor = try? Executor(graph: graph, threads: 1, memoryLimit: memoryLimit) else { return 0 }
    if executor.arenaBytes + executor.weightBytes + executor.scratchBytes <= runLimit {
        for i in 0..<executor.inputCount {
            let x = executor.input(i)
            for k in x.indices { x[k] = Float(k % 7) - 3 }
        }
        executor.run()
    }
    return 0
}

func read64(_ b: [UInt8], at o: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(b[o + $1]) << (8 * UInt64($1)) }
}

func patch64(_ b: inout [UInt8], at o: Int, _ v: UInt64) {
    for i in 0..<8 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
}
