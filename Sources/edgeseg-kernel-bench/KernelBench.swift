// edgeseg-kernel-bench: int8 GEMM paths (scalar / AVX2 / VNNI, or NEON / sdot) and FP16 paths
// against an FP32 GEMM baseline (OpenBLAS sgemm), single thread, at the decoder's heaviest shape
// (cat_conv 3×3 304→256 at 128×128 as im2col GEMM: K = 9·304 = 2736, N = 256, M = pixels).
// Variants run interleaved, round after round, and the best round of each is reported, so a
// noisy shared machine hurts them alike. Usage: edgeseg-kernel-bench [--m M] [--n N] [--k K] [--rounds R] [--quick 1]
// Then a second table for the decoder's 1×1 shortcut conv (K = 56, N = 48, M = 128·128).
// --quick 1: only the given shape and only the fast variants (the scalar ones take seconds a
// round at the model's shapes), for comparing kernel changes at many shapes.
import CBLAS
import EdgeSegKernels
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

struct Variant { var name: String; var run: () -> Void; var best = Double.infinity }

@main struct KernelBench {
  static func main() {
    var m = 2048, n = 256, k = 2736, rounds = 5, quick = false
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
      guard let v = args.next().flatMap({ Int($0) }), v > 0 else { print("usage: edgeseg-kernel-bench [--m M] [--n N] [--k K] [--rounds R] [--quick 1]"); exit(2) }
      switch a { case "--m": m = v; case "--n": n = v; case "--k": k = v; case "--rounds": rounds = v
      case "--quick": quick = v != 0
      default: print("unknown option \(a)"); exit(2) }
    }
    openblas_set_num_threads(1)
    // the decoder's dense 3×3 (or --m/--n/--k), then its 1×1 shortcut conv 56→48 at 128×128
    // (small K: packing and requantization weigh more)
    runShape(m: m, n: n, k: k, rounds: rounds, quick: quick)
    if !quick { runShape(m: 16384, n: 48, k: 56, rounds: rounds, quick: false) }
  }

  static func runShape(m: Int, n: Int, k: Int, rounds: Int, quick: Bool) {
    var seed: UInt64 = 1
    func rnd() -> Int {
      seed = seed &* 6364136223846793005 &+ 1442695040888963407
      return Int(truncatingIfNeeded: seed >> 33)
    }
    let a8 = (0..<(m * k)).map { _ in Int8(truncatingIfNeeded: rnd() % 256) }
    let w8 = (0..<(n * k)).map { _ in Int8(rnd() % 255 - 127) }
    let af = a8.map { Float($0) / 64 }, wf = w8.map { Float($0) / 256 }
    let ah = af.map { Float16($0) }, wh = wf.map { Float16($0) }
    var mult = [Int32](repeating: 0, count: n), shift = mult
    for c in 0..<n { let q = Int8Multiplier(1.0 / Double(1 << 16) * Double(1 + c % 3)); mult[c] = q.multiplier; shift[c] = q.shift }
    let stage = try! Int8OutputStage(bias: [Int32](repeating: 0, count: n), multiplier: mult, shift: shift, outputZeroPoint: 0)


    var variants: [Variant] = []
    var cf = [Float](repeating: 0, count: m * n)
    variants.append(Variant(name: "fp32 OpenBLAS sgemm", run: {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, af, Int32(k), wf, Int32(k), 0, &cf, Int32(n))
    }))
    var out8 = [Int8](repeating: 0, count: m * n)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: int8GemmScratchBytes(k: k), alignment: 64)
    for path in Int8Path.available() where !(quick && path == .scalar) {
      let packed = try! packInt8Weights(w8, n: n, k: k, path: path)
      variants.append(Variant(name: "int8 " + path.name, run: {
        int8Gemm(a: a8, lda: k, m: m, packed: packed, stage: stage, out: &out8, ldc: n, scratch: scratch)
      }))
    }
    var outh = [Float16](repeating: 0, count: m * n)
    for path in FP16Path.available() where !quick {
      let packed = try! packFP16Weights(wh, n: n, k: k, path: path)
      variants.append(Variant(name: "fp16 " + path.name, run: {
        fp16Gemm(a: ah, lda: k, m: m, packed: packed, bias: nil, out: &outh, ldc: n)
      }))
    }

    let ops = 2.0 * Double(m) * Double(n) * Double(k)
    print("GEMM M=\(m) N=\(n) K=\(k) (\(Int(ops / 1e6)) MOP), 1 thread, best of \(rounds) interleaved rounds")
    for _ in 0..<rounds {
      for i in variants.indices {
        let t0 = now(); variants[i].run(); let t = now() - t0
        variants[i].best = min(variants[i].best, t)
      }
    }
    // the int8 paths must agree byte for byte (the unit tests check this against the reference;
    // here it guards the benchmark itself against timing a broken kernel)
    var reference = [Int8](repeating: 0, count: m * n), exact = true
    int8Gemm(a: a8, lda: k, m: m, packed: try! packInt8Weights(w8, n: n, k: k, path: .scalar), stage: stage,
             out: &reference, ldc: n)
    for path in Int8Path.available() {
      int8Gemm(a: a8, lda: k, m: m, packed: try! packInt8Weights(w8, n: n, k: k, path: path), stage: stage,
               out: &out8, ldc: n)
      if out8 != reference { exact = false; print("MISMATCH: int8 \(path.name) differs from scalar") }
    }
    print("int8 paths byte-identical: \(exact ? "yes" : "NO")")
    let base = variants[0].best
    func fmt(_ x: Double, _ d: Int) -> String {
      var s = String(Int((x * pow(10, Double(d))).rounded()))
      while s.count <= d { s = "0" + s }
      return d == 0 ? s : String(s.dropLast(d)) + "." + String(s.suffix(d))
    }
    func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    print(pad("variant", 22) + pad("ms", 10) + pad("GOP/s", 9) + "speed vs fp32")
    for v in variants {
      print(pad(v.name, 22) + pad(fmt(v.best * 1e3, 1), 10) + pad(fmt(ops / v.best / 1e9, 1), 9) + fmt(base / v.best, 2) + "x")
    }
    print("")
  }
}
