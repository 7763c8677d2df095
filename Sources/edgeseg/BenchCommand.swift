import ArgumentParser
import EdgeSegCore
import EdgeSegKernels
import EdgeSegPipeline
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `edgeseg bench model.edgeseg --threads N --runs R [--json FILE]`: load, first run, warm-up and
/// steady-state latency (p50/p90/p99/max), a per-layer profile, peak RSS and the memory budget.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmark a compiled model (fp32, fp16 weights, int8 or mixed) on the executor.")

    @Argument(help: "The .edgeseg file.") var model: String
    @Option(help: "Threads (the calling thread counts as one).") var threads = 1
    @Option(help: "Timed runs.") var runs = 20
    @Option(help: "Warm-up runs (not timed).") var warmup = 3
    @Option(help: "Runs profiled per layer (after the timed runs).") var profileRuns = 3
    @Option(help: "Comma-separated CPU ids to pin worker threads to.") var affinity: String?
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Option(help: "Rows of the per-layer table (slowest first).") var top = 25
    @Option(help: "Raw little-endian float32 file holding every input, concatenated in order (default: seeded noise in [-1, 1)).")
    var inputBin: String?
    @Option(help: "Write every output of the last run, concatenated in order, as raw float32 (parity checks).") var outputBin: String?
    @Flag(help: "Run every conv/gemm/matmul with the scalar reference kernels.") var reference = false

    func run() throws {
        let t0 = monotonicNanos()
        if let advice = openBLASCoreAdvice() { print("warning: \(advice)") }
        let pins = affinity.map { $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        // a temporary: the executor releases the file's weights once they are copied and packed
        let exe = try Executor(graph: loadModel(model), threads: threads, affinity: pins, reference: reference)
        let loadMs = ms(monotonicNanos() - t0)
        for i in 0..<exe.inputCount {
            var s: UInt64 = 0x2545F4914F6CDD1D &+ UInt64(i)
            let buf = exe.input(i)
            for k in buf.indices { s = s &* 6364136223846793005 &+ 1; buf[k] = Float(Int64(bitPattern: s) >> 40) / Float(1 << 23) }
        }
        if let inputBin {
            let total = (0..<exe.inputCount).reduce(0) { $0 + exe.input($1).count }
            guard let d = FileManager.default.contents(atPath: inputBin), d.count == total * 4 else {
                throw ValidationError("\(inputBin) must hold exactly \(total) float32 values (all inputs, in order)")
            }
            d.withUnsafeBytes { raw in
                var at = 0
                for i in 0..<exe.inputCount {
                    let buf = exe.input(i)
                    for k in buf.indices { buf[k] = raw.loadUnaligned(fromByteOffset: 4 * (at + k), as: Float.self) }
                    at += buf.count
                }
            }
        }
        var t = monotonicNanos()
        exe.run()
        let firstMs = ms(monotonicNanos() - t)
        t = monotonicNanos()
        for _ in 0..<warmup { exe.run() }
        let warmMs = warmup > 0 ? ms(monotonicNanos() - t) / Double(warmup) : 0
        var lat = [Double](repeating: 0, count: max(1, runs))
        for r in 0..<runs { let s = monotonicNanos(); exe.run(); lat[r] = ms(monotonicNanos() - s) }
        lat.sort()
        func pct(_ p: Double) -> Double {
            let rank = Int((p / 100 * Double(lat.count)).rounded(.up)) - 1   // nearest-rank percentile
            return lat[min(lat.count - 1, max(0, rank))]
        }

        exe.profiling = true
        exe.resetProfile()
        for _ in 0..<max(1, profileRuns) { exe.run() }
        exe.profiling = false
        let prof = exe.profile()
        let total = prof.reduce(0) { $0 + $1.seconds }
        let macs = prof.reduce(0) { $0 + $1.macs }
        let peakRSS = peakRSSBytes()

        print("model \(model) (\(exe.graph.precision)\(exe.graph.precision == "fp32" || exe.graph.precision == "fp16" ? "" : ", int8 path " + Int8Path.preferred().name), f32 path \(F32Path.preferred.name)\(exe.packedConvCount > 0 ? " (\(exe.packedConvCount) packed convs)" : "")): \(exe.graph.nodes.count) nodes, \(String(format: "%.2f", Double(macs) / 1e9)) GMAC, threads \(threads)\(pins.map { " pinned \($0)" } ?? "")")
        print(String(format: "load %.1f ms   first run %.2f ms   warm-up %.2f ms/run", loadMs, firstMs, warmMs))
        print(String(format: "steady state over %d runs: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms  (%.2f GMAC/s at p50)",
                     runs, pct(50), pct(90), pct(99), lat.last!, Double(macs) / 1e9 / (pct(50) / 1000)))
        print("memory: arena \(exe.arenaBytes) B (no reuse \(exe.plan.noReuseBytes) B), weights \(exe.weightBytes) B, scratch \(exe.scratchBytes) B, peak RSS \(peakRSS) B")
        print("per layer (mean of \(max(1, profileRuns)) profiled runs, slowest \(top)):")
        print("  node                                 op               ms      MMAC   GMAC/s  share")
        for p in prof.sorted(by: { $0.seconds > $1.seconds }).prefix(top) {
            let gmacs = p.seconds > 0 ? Double(p.macs) / 1e9 / p.seconds : 0
            print("  " + pad(p.name, 36) + " " + pad(p.op, 14) + String(format: " %7.3f %9.1f %8.2f %5.1f%%", p.seconds * 1000,
                         Double(p.macs) / 1e6, gmacs, total > 0 ? 100 * p.seconds / total : 0))
        }
        if let outputBin {
            var out = Data()
            for i in 0..<exe.outputCount { out.append(Data(buffer: exe.output(i))) }
            try out.write(to: URL(fileURLWithPath: outputBin))
        }
        if let json {
            let layers: [[String: Any]] = prof.map { ["node": $0.name, "op": $0.op, "ms": $0.seconds * 1000, "macs": $0.macs,
                                                      "share": total > 0 ? $0.seconds / total : 0] }
            let obj: [String: Any] = [
                "model": model, "precision": exe.graph.precision, "int8_path": Int8Path.preferred().name, "f32_path": F32Path.preferred.name, "packed_convs": exe.packedConvCount, "threads": threads, "runs": runs, "affinity": pins ?? [],
                "load_ms": loadMs, "first_run_ms": firstMs, "warmup_ms": warmMs,
                "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": lat.last!, "latencies_ms": lat,
                "macs": macs, "arena_bytes": exe.arenaBytes, "no_reuse_bytes": exe.plan.noReuseBytes,
                "weight_bytes": exe.weightBytes, "scratch_bytes": exe.scratchBytes, "peak_rss_bytes": peakRSS, "layers": layers,
            ]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
        }
    }

    private func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
    private func pad(_ s: String, _ n: Int) -> String {
        s.count > n ? String(s.suffix(n)) : s.padding(toLength: n, withPad: " ", startingAt: 0)
    }
}
