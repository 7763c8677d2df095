// aarch64 check driver (Embedded Swift, run under qemu-aarch64 by tools/arm64-check.sh):
// detects the emulated CPU's features with getauxval, then runs every int8 path this CPU has
// against the scalar reference (byte-identical) and every FP16 path against the FP16 reference
// (within fp16Tolerance). Exit status 0 = all match.
import EdgeSegKernels

@_extern(c, "exit") func cExit(_ code: Int32)

struct Rng {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E3779B97F4A7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
    return z ^ (z >> 31)
  }
  mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
  mutating func act() -> Int8 {
    switch int(0, 9) { case 0: return -128; case 1: return 127; default: return Int8(int(-128, 127)) }
  }
  mutating func wgt() -> Int8 {
    switch int(0, 9) { case 0: return -127; case 1: return 127; default: return Int8(int(-127, 127)) }
  }
  mutating func half() -> Float16 { Float16(Float(int(-1000, 1000)) / 1000) }
  mutating func stage(_ n: Int, _ k: Int) -> Int8OutputStage {
    var b: [Int32] = [], m: [Int32] = [], s: [Int32] = []
    for c in 0..<n {
      b.append(Int32(int(-200_000, 200_000)))
      let real = c % 7 == 3 ? 1.5 : Double(int(1, 20_000)) / 1_000_000 / Double(max(1, k / 64))
      let q = Int8Multiplier(real)
      m.append(q.multiplier); s.append(q.shift)
    }
    return try! Int8OutputStage(bias: b, multiplier: m, shift: s, outputZeroPoint: Int32(int(-128, 127)),
                           clampMin: Int32(int(-128, -20)), clampMax: Int32(int(20, 127)))
  }
}

var failures = 0
func check(_ ok: Bool, _ what: String) {
  if !ok { failures += 1; print("FAIL: " + what) }
}

@main struct ARM64Check {
  static func main() {
    let cpu = CPUFeatures.host
    let i8 = Int8Path.available(), f16 = FP16Path.available()
    var names = ""
    for p in i8 { names += " " + p.name }
    var fnames = ""
    for p in f16 { fnames += " " + p.name }
    print("features: asimddp=\(cpu.asimdDot) fp16=\(cpu.fp16Arith) | int8 paths:" + names + " | fp16 paths:" + fnames)
    var rng = Rng(state: 2026)

    // int8 GEMM, random shapes incl. K and N not multiples of the vector width
    var gemmCases = 0
    for _ in 0..<40 {
      let m = rng.int(1, 45), n = rng.int(1, 37), k = rng.int(1, 71)
      var a = [Int8](repeating: 0, count: m * k), w = [Int8](repeating: 0, count: n * k)
      for i in 0..<a.count { a[i] = rng.act() }
      for i in 0..<w.count { w[i] = rng.wgt() }
      let st = rng.stage(n, k)
      var want = [Int8](repeating: 0, count: m * n)
      int8GemmReference(a: a, lda: k, m: m, weights: w, n: n, k: k, stage: st, out: &want, ldc: n)
      for p in i8 {
        var got = [Int8](repeating: 0, count: m * n)
        int8Gemm(a: a, lda: k, m: m, packed: try! packInt8Weights(w, n: n, k: k, path: p), stage: st, out: &got, ldc: n)
        check(got == want, "int8 gemm path=" + p.name + " m=\(m) n=\(n) k=\(k)")
        gemmCases += 1
      }
    }

    // int8 conv: 3×3 pad 1, stride 2, dilation 2, grouped, 1×1 grouped; and depthwise 3×3 s1/s2
    var convCases = 0
    for t in 0..<8 {
      let groups = t % 4 == 3 ? 2 : 1
      let cin = groups * rng.int(1, 9), cout = groups * rng.int(1, 11)
      let k1 = t == 5
      let sh = Int8ConvShape(inH: rng.int(3, 7), inW: rng.int(3, 8), inC: cin, outC: cout,
                             kH: k1 ? 1 : 3, kW: k1 ? 1 : 3, stride: (t % 2 + 1, t % 2 + 1),
                             pad: k1 ? (0, 0, 0, 0) : (t % 3 == 1 ? 2 : 1, 1, 1, t % 3 == 1 ? 2 : 1),
                             dilation: t % 3 == 1 ? (2, 2) : (1, 1), groups: groups)
      let zp = Int32(rng.int(-128, 127))
      var x = [Int8](repeating: 0, count: sh.inH * sh.inW * cin), w = [Int8](repeating: 0, count: cout * sh.gemmK)
      for i in 0..<x.count { x[i] = rng.act() }
      for i in 0..<w.count { w[i] = rng.wgt() }
      let st = rng.stage(cout, sh.gemmK)
      var want = [Int8](repeating: 0, count: sh.outH * sh.outW * cout)
      int8Conv2DReference(input: x, inputZeroPoint: zp, shape: sh, weights: w, stage: st, output: &want)
      for p in i8 {
        var got = [Int8](repeating: 0, count: want.count)
        int8Conv2D(input: x, inputZeroPoint: zp, conv: try! packInt8Conv(w, shape: sh, path: p), stage: st, output: &got)
        check(got == want, "int8 conv path=" + p.name + " t=\(t)")
        convCases += 1
      }
      // depthwise on the same input
      let dsh = Int8ConvShape(inH: sh.inH, inW: sh.inW, inC: cin, outC: cin, kH: 3, kW: 3,
                              stride: (t % 2 + 1, t % 2 + 1), pad: (1, 1, 1, 1), groups: cin)
      var dw = [Int8](repeating: 0, count: cin * 9)
      for i in 0..<dw.count { dw[i] = rng.wgt() }
      let dst = rng.stage(cin, 9)
      var dwant = [Int8](repeating: 0, count: dsh.outH * dsh.outW * cin), dgot = dwant
      int8Conv2DReference(input: x, inputZeroPoint: zp, shape: dsh, weights: dw, stage: dst, output: &dwant)
      int8DepthwiseConv2D(input: x, inputZeroPoint: zp, shape: dsh,
                          weights: int8PackDepthwiseWeights(dw, channels: cin, taps: 9), stage: dst, output: &dgot)
      check(dgot == dwant, "int8 depthwise t=\(t)")
    }

    // FP16 GEMM and depthwise within the stated tolerance
    var fp16Cases = 0, worstPermille = 0
    for _ in 0..<12 {
      let m = rng.int(1, 9), n = rng.int(1, 35), k = rng.int(1, 90)
      var a = [Float16](repeating: 0, count: m * k), w = [Float16](repeating: 0, count: n * k)
      for i in 0..<a.count { a[i] = rng.half() }
      for i in 0..<w.count { w[i] = rng.half() }
      var bias = [Float](repeating: 0, count: n)
      for i in 0..<n { bias[i] = Float(rng.int(-100, 100)) / 100 }
      var want = [Float16](repeating: 0, count: m * n)
      fp16GemmReference(a: a, lda: k, m: m, weights: w, n: n, k: k, bias: bias, out: &want, ldc: n)
      for p in f16 {
        var got = [Float16](repeating: 0, count: m * n)
        fp16Gemm(a: a, lda: k, m: m, packed: try! packFP16Weights(w, n: n, k: k, path: p), bias: bias, out: &got, ldc: n)
        for i in 0..<m { for c in 0..<n {
          var sabs: Float = abs(bias[c])
          for j in 0..<k { sabs += abs(Float(a[i * k + j]) * Float(w[c * k + j])) }
          let ref = Float(want[i * n + c]), d = abs(Float(got[i * n + c]) - ref)
          let tol = fp16Tolerance(reference: ref, sumAbsProducts: sabs, k: k, path: p)
          worstPermille = max(worstPermille, Int(d / tol * 1000))
          check(d <= tol, "fp16 gemm path=" + p.name + " m=\(m) n=\(n) k=\(k)")
        } }
        fp16Cases += 1
      }
    }
    for t in 0..<4 {
      let C = rng.int(1, 27)
      let sh = Int8ConvShape(inH: 6, inW: 5, inC: C, outC: C, kH: 3, kW: 3, stride: (t % 2 + 1, t % 2 + 1),
                             pad: (1, 1, 1, 1), groups: C)
      var x = [Float16](repeating: 0, count: 30 * C), w = [Float16](repeating: 0, count: 9 * C)
      for i in 0..<x.count { x[i] = rng.half() }
      for i in 0..<w.count { w[i] = rng.half() }
      var bias = [Float](repeating: 0, count: C)
      for i in 0..<C { bias[i] = Float(rng.int(-100, 100)) / 100 }
      var want = [Float16](repeating: 0, count: sh.outH * sh.outW * C)
      fp16DepthwiseReference(input: x, shape: sh, weights: w, bias: bias, output: &want)
      for p in f16 {
        var got = want
        fp16DepthwiseConv2D(input: x, shape: sh, weights: w, bias: bias, output: &got, path: p)
        for i in 0..<want.count {
          let ref = Float(want[i]), d = abs(Float(got[i]) - ref)
          check(d <= fp16Tolerance(reference: ref, sumAbsProducts: 10, k: 9, path: p), "fp16 depthwise path=" + p.name)
        }
        fp16Cases += 1
      }
    }
    // FP32 fast kernels in their portable form (what ARM boards run: Swift SIMD8 on NEON, fused
    // multiply-add): depthwise 3×3 and the small GEMM against the references within 1e-4 (inputs
    // in ±2, sums of ≤ 9 or ≤ 40 products), exp lanes bit-identical with the scalar exp, resize
    // with its row cache bit-identical with the per-pixel walk.
    var fp32Cases = 0
    func floats(_ n: Int) -> [Float] { var v: [Float] = []; for _ in 0..<n { v.append(Float(rng.int(-1000, 1000)) / 500) }; return v }
    for (h, w, c, st) in [(9, 13, 5, 1), (10, 7, 3, 2), (17, 33, 4, 1), (16, 16, 2, 2), (1, 1, 3, 1), (2, 19, 9, 2)] {
      let oh = (h + 2 - 3) / st + 1, ow = (w + 2 - 3) / st + 1
      let s = F32ConvShape(batch: 1, inChannels: c, inHeight: h, inWidth: w, outChannels: c, outHeight: oh, outWidth: ow,
                           kernelH: 3, kernelW: 3, strideH: st, strideW: st, padTop: 1, padLeft: 1,
                           dilationH: 1, dilationW: 1, groups: c)
      let x = floats(c * h * w), wt = floats(9 * c), b = floats(c)
      var want = [Float](repeating: 0, count: c * oh * ow), got = want
      var scratch = [Float](repeating: .nan, count: f32Depthwise3x3ScratchFloats(s))
      f32ConvReference(s, input: x, weight: wt, bias: b, residual: nil, activation: .relu, output: &want)
      f32Depthwise3x3(s, input: x, weight: wt, bias: b, residual: nil, activation: .relu, output: &got,
                      scratch: &scratch, path: .portable)
      var ok = true
      for i in 0..<want.count where !(abs(want[i] - got[i]) <= 1e-4) { ok = false }
      check(ok, "fp32 depthwise \(h)x\(w)x\(c) stride \(st)")
      fp32Cases += 1
    }
    for (m, n, k) in [(1, 1, 1), (5, 17, 9), (13, 70, 40), (4, 8, 0), (7, 3, 33)] {
      let a = floats(m * k), bm = floats(k * n)
      var want = [Float](repeating: 0, count: m * n), got = want
      f32GemmReference(m: m, n: n, k: k, alpha: 1, a: a, lda: k, transA: false, b: bm, ldb: n, transB: false, out: &want, ldo: n)
      f32GemmSmall(m: m, n: n, k: k, a: a, lda: k, b: bm, ldb: n, c: &got, ldc: n, path: .portable)
      var ok = true
      for i in 0..<want.count where !(abs(want[i] - got[i]) <= 1e-4) { ok = false }
      check(ok, "fp32 small gemm \(m)x\(n)x\(k)")
      fp32Cases += 1
    }
    var expOK = true
    for i in 0..<400 {
      let base = Float(i - 200) * 0.61
      var v = SIMD8<Float>(repeating: 0)
      for l in 0..<8 { v[l] = base + Float(l) * 0.077 }
      if i == 0 { v[1] = .infinity; v[2] = -.infinity; v[3] = .nan; v[4] = 89; v[5] = -104 }
      let e = f32ExpLanes(v)
      for l in 0..<8 where e[l].bitPattern != f32Exp(v[l]).bitPattern && !(e[l].isNaN && v[l].isNaN) { expOK = false }
    }
    check(expOK, "fp32 exp lanes vs scalar")
    fp32Cases += 1
    for (ih, iw, oh, ow) in [(5, 7, 20, 28), (32, 32, 128, 128), (6, 9, 3, 4), (1, 5, 4, 17)] {
      let rs = F32ResizeShape(planes: 2, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow, linear: true, transform: .halfPixel)
      let src = floats(2 * ih * iw)
      var want = [Float](repeating: 0, count: 2 * oh * ow), got = want
      var scratch = [Float](repeating: 0, count: f32ResizeScratchFloats(outWidth: ow))
      f32ResizeReference(rs, src, &want)
      f32Resize(rs, src, &got, scratch: &scratch)
      var ok = true
      for i in 0..<want.count where want[i].bitPattern != got[i].bitPattern { ok = false }
      check(ok, "fp32 resize \(ih)x\(iw)->\(oh)x\(ow)")
      fp32Cases += 1
    }
    // int8 coordinate attention and residual adds (portable loops, what ARM runs) against the
    // graph they replace, written out per element: strip pools (max exact, mean within 1e-5),
    // axis scale and add (bytes equal QuantizeLinear of the float arithmetic); FP32 axis scale exact.
    var attentionCases = 0
    func quantizeLinear(_ v: Float, _ scale: Float, _ zp: Int32) -> Int8 {
      let t = v / scale
      let c = t.isNaN ? -1_048_576 : max(-1_048_576, min(1_048_576, t))
      return Int8(max(-128, min(127, c.rounded(.toNearestOrEven) + Float(zp))))
    }
    for (C, H, W) in [(5, 3, 7), (19, 9, 11), (16, 4, 4), (1, 1, 1)] {
      var x: [Int8] = []
      for _ in 0..<(C * H * W) { x.append(Int8(rng.int(-128, 127))) }
      let sx: Float = 0.037, zx = Int32(rng.int(-20, 20)), sy: Float = 0.021, zy = Int32(rng.int(-20, 20))
      var scratch = [UInt8](repeating: 0, count: max(4 * C, int8AxisScaleScratchBytes(width: W, channels: C)))
      var ok = true
      for overWidth in [true, false] {
        for isMax in [true, false] {
          let kept = overWidth ? H : W, count = overWidth ? W : H
          var got = [Float](repeating: 0, count: C * kept)
          scratch.withUnsafeMutableBytes { sp in
            int8StripReduce(x, height: H, width: W, channels: C, overWidth: overWidth, isMax: isMax, scale: sx, zeroPoint: zx,
                            out: &got, scratch: sp.baseAddress!, part: 0, parts: 1)
          }
          for c in 0..<C {
            for o in 0..<kept {
              var m: Float = -.infinity, sum: Float = 0
              for r in 0..<count {
                let q = overWidth ? x[(o * W + r) * C + c] : x[(r * W + o) * C + c]
                let v = Float(Int32(q) - zx) * sx
                m = max(m, v); sum += v
              }
              let want = isMax ? m : sum / Float(count)
              if isMax ? got[c * kept + o] != want : !(abs(got[c * kept + o] - want) <= 1e-5 * max(1, abs(want))) { ok = false }
            }
          }
        }
      }
      check(ok, "int8 strip pools \(C)x\(H)x\(W)")
      var a: [Float] = [], b: [Float] = []
      for _ in 0..<(C * H) { a.append(Float(rng.int(0, 1000)) / 700) }
      for _ in 0..<(C * W) { b.append(Float(rng.int(0, 1000)) / 700) }
      var y = [Int8](repeating: 0, count: x.count), want = y
      for h in 0..<H { for w in 0..<W { for c in 0..<C {
        let i = (h * W + w) * C + c
        want[i] = quantizeLinear(Float(Int32(x[i]) - zx) * sx * a[c * H + h] * b[c * W + w], sy, zy)
      } } }
      scratch.withUnsafeMutableBytes { sp in
        int8AxisScale(x, height: H, width: W, channels: C, a: a, b: b, inScale: sx, inZeroPoint: zx, outScale: sy,
                      outZeroPoint: zy, y: &y, scratch: sp.baseAddress!, part: 0, parts: 1)
      }
      check(y == want, "int8 axis scale \(C)x\(H)x\(W)")
      var x2: [Int8] = []
      for _ in 0..<x.count { x2.append(Int8(rng.int(-128, 127))) }
      for i in 0..<x.count { want[i] = quantizeLinear(Float(Int32(x[i]) - zx) * sx + Float(Int32(x2[i]) - zy) * 0.029, sy, 3) }
      int8Add(x, x2, &y, count: x.count, aScale: sx, aZeroPoint: zx, bScale: 0.029, bZeroPoint: zy, outScale: sy,
              outZeroPoint: 3, part: 0, parts: 1)
      check(y == want, "int8 add \(x.count)")
      let xf = floats(C * H * W)
      var yf = [Float](repeating: 0, count: xf.count), wantF = yf
      for i in 0..<xf.count { wantF[i] = xf[i] * a[i / W] * b[(i / (H * W)) * W + i % W] }
      f32AxisScale(xf, a: a, b: b, &yf, channels: C, height: H, width: W, part: 0, parts: 1)
      var same = true
      for i in 0..<yf.count where yf[i].bitPattern != wantF[i].bitPattern { same = false }
      check(same, "fp32 axis scale \(C)x\(H)x\(W)")
      attentionCases += 4
    }
    print("int8 gemm cases=\(gemmCases) conv cases=\(convCases) (+8 depthwise), fp16 cases=\(fp16Cases), " +
          "worst fp16 error = \(worstPermille)/1000 of tolerance, fp32 cases=\(fp32Cases), attention/add cases=\(attentionCases)")
    print(failures == 0 ? "PASS" : "FAIL \(failures)")
    cExit(failures == 0 ? 0 : 1)
  }
}
