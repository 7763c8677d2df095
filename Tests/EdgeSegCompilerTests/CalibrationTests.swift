@testable import EdgeSegCompiler
import EdgeSegCore
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Deterministic generator (SplitMix64) so the distributions, and therefore the chosen ranges,
/// are the same on every run.
private struct CalibRNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Double {
        let u = Swift.max(unit(), 1e-300), v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

/// Both passes over `data`, fed in chunks as the compiler would feed images.
private func observe(_ data: [Float], chunk: Int = 4096) -> TensorRangeObserver {
    var o = TensorRangeObserver()
    for s in Swift.stride(from: 0, to: data.count, by: chunk) { o.observeRange(Array(data[s..<Swift.min(s + chunk, data.count)])) }
    o.beginHistogram()
    for s in Swift.stride(from: 0, to: data.count, by: chunk) { o.observeHistogram(Array(data[s..<Swift.min(s + chunk, data.count)])) }
    return o
}

/// Mean squared error of quantizing `data` to int8 on the grid of [lo, hi] and back.
private func quantMSE(_ data: [Float], lo: Float, hi: Float) -> Double {
    let (s, zp) = asymmetricInt8Params(lo: lo, hi: hi)
    var e = 0.0
    for x in data {
        let d = Double(x) - Double(dequantizeAsymmetricInt8(quantizeAsymmetricInt8(x, scale: s, zeroPoint: zp), scale: s, zeroPoint: zp))
        e += d * d
    }
    return e / Double(data.count)
}

private let histogramMethods: [CalibrationMethod] = [.percentile, .kl, .mse]

@Suite("int8 calibration statistics")
struct CalibrationTests {
    @Test func uniformDataKeepsNearlyTheWholeRange() {
        var rng = CalibRNG(state: 1)
        let data = (0..<100_000).map { _ in Float(-1 + 4 * rng.unit()) }
        let o = observe(data)
        let mm = chooseRange(o, method: .minMax)
        #expect(mm.lo == data.min()! && mm.hi == data.max()!)
        let span = mm.hi - mm.lo
        let p = chooseRange(o, method: .percentile)
        #expect(abs(p.lo - mm.lo) < 0.01 * span && abs(p.hi - mm.hi) < 0.01 * span)
        // Nothing to gain from clipping a flat distribution: KL and MSE stay close to min/max.
        for m in [CalibrationMethod.kl, .mse] {
            let r = chooseRange(o, method: m)
            #expect(abs(r.lo - mm.lo) < 0.05 * span && abs(r.hi - mm.hi) < 0.05 * span, "\(m): \(r)")
        }
    }

    /// 2 M Gaussian inliers (a few images of one tensor) plus huge outliers.
    static func gaussianWithOutliers(_ outliers: [Float]) -> (inliers: [Float], data: [Float]) {
        var rng = CalibRNG(state: 2)
        let inliers = (0..<2_000_000).map { _ in Float(0.5 + rng.gaussian()) }
        return (inliers, inliers + outliers)
    }

    @Test func outliersAreClippedAndInliersQuantizeBetter() {
        // Five outliers: fewer than the 0.01 % percentile tail.
        let (inliers, data) = Self.gaussianWithOutliers([60, 58, 61, -40, -41])
        let o = observe(data, chunk: 65536)
        let mm = chooseRange(o, method: .minMax)
        #expect(mm.lo == -41 && mm.hi == 61)
        let sample = Array(inliers.prefix(200_000))
        let mmError = quantMSE(sample, lo: mm.lo, hi: mm.hi)
        for m in [CalibrationMethod.percentile, .kl] {
            let r = chooseRange(o, method: m)
            // Much tighter than min/max, yet still covering the bulk of the Gaussian.
            #expect(r.hi - r.lo < 0.25 * (mm.hi - mm.lo), "\(m): \(r)")
            #expect(r.lo < -2 && r.hi > 3, "\(m): \(r)")
            let e = quantMSE(sample, lo: r.lo, hi: r.hi)
            #expect(e < mmError / 4, "\(m): inlier MSE \(e) vs min/max \(mmError)")
        }
        // MSE counts the outliers' clipping error too: clipping three values by ~55 costs more
        // than the coarse grid costs the inliers, so it clips only the side where that pays. It
        // must still have the lowest total error of all methods (its objective), and beat
        // min/max on the inliers.
        let mse = chooseRange(o, method: .mse)
        #expect(mse.hi - mse.lo < mm.hi - mm.lo && mse.lo < -2 && mse.hi > 3, "\(mse)")
        #expect(quantMSE(sample, lo: mse.lo, hi: mse.hi) < mmError)
        let best = quantMSE(data, lo: mse.lo, hi: mse.hi)
        for m in CalibrationMethod.allCases where m != .mse {
            let r = chooseRange(o, method: m)
            #expect(best <= quantMSE(data, lo: r.lo, hi: r.hi), "\(m) beats mse on total error")
        }
    }

    @Test func rareOutliersAreClippedByMSE() {
        // One outlier per side among 2 M values: now clipping them is cheaper than the coarse grid.
        let (inliers, data) = Self.gaussianWithOutliers([60, -40])
        let o = observe(data, chunk: 65536)
        let mm = chooseRange(o, method: .minMax)
        let sample = Array(inliers.prefix(200_000))
        let mmError = quantMSE(sample, lo: mm.lo, hi: mm.hi)
        for m in [CalibrationMethod.percentile, .kl, .mse] {
            let r = chooseRange(o, method: m)
            #expect(r.hi - r.lo < 0.25 * (mm.hi - mm.lo), "\(m): \(r)")
            #expect(r.lo < -2 && r.hi > 3, "\(m): \(r)")
            #expect(quantMSE(sample, lo: r.lo, hi: r.hi) < mmError / 4, "\(m)")
        }
    }

    @Test func mseAndKLBeatMinMaxOnHeavyTails() {
        // Laplace-like data (no single outliers): clipping the sparse tails still pays off.
        var rng = CalibRNG(state: 3)
        let data = (0..<200_000).map { _ -> Float in
            let u = rng.unit() - 0.5
            return Float(-(u < 0 ? -1.0 : 1.0) * log(1 - 2 * abs(u)) * 0.5)
        }
        let o = observe(data)
        let mm = chooseRange(o, method: .minMax)
        let mse = chooseRange(o, method: .mse)
        #expect(quantMSE(data, lo: mse.lo, hi: mse.hi) < quantMSE(data, lo: mm.lo, hi: mm.hi))
        let kl = chooseRange(o, method: .kl)
        #expect(kl.hi - kl.lo < mm.hi - mm.lo)
        #expect(quantMSE(data, lo: kl.lo, hi: kl.hi) < quantMSE(data, lo: mm.lo, hi: mm.hi))
    }

    @Test func mseModelPredictsTheMeasuredError() {
        // The histogram-integral error of a range must match quantizing the data itself, for
        // ranges that clip a lot, a little, and not at all.
        var rng = CalibRNG(state: 12)
        let data = (0..<200_000).map { _ in Float(rng.gaussian() * 1.5 - 0.3) }
        let o = observe(data)
        let h = RangeHistogram(o)
        for (i, j) in [(0, h.n), (300, 1800), (700, 1300), (900, 1100)] {
            let lo = Float(h.edge(i)), hi = Float(h.edge(j))
            let predicted = h.mseCost(i: i, j: j) / Double(data.count)
            let measured = quantMSE(data, lo: Swift.min(lo, 0), hi: Swift.max(hi, 0))
            #expect(abs(predicted - measured) <= 0.03 * measured, "\(i)..<\(j): \(predicted) vs \(measured)")
        }
    }

    @Test func oneSidedDataKeepsZeroExact() {
        var rng = CalibRNG(state: 4)
        let data = (0..<100_000).map { _ in Float(Swift.max(0, rng.gaussian() * 2)) } + [40]
        let o = observe(data)
        for m in CalibrationMethod.allCases {
            let r = chooseRange(o, method: m)
            #expect(r.lo == 0, "\(m): \(r)")
            #expect(r.hi > 4, "\(m): \(r)")
            let (s, zp) = asymmetricInt8Params(lo: r.lo, hi: r.hi)
            #expect(zp == -128)
            #expect(dequantizeAsymmetricInt8(quantizeAsymmetricInt8(0, scale: s, zeroPoint: zp), scale: s, zeroPoint: zp) == 0)
        }
        // All-negative data mirrors it: hi is 0.
        let neg = observe(data.map { -$0 })
        for m in CalibrationMethod.allCases {
            let r = chooseRange(neg, method: m)
            #expect(r.hi == 0 && r.lo < -4, "\(m): \(r)")
            #expect(asymmetricInt8Params(lo: r.lo, hi: r.hi).zeroPoint == 127)
        }
    }

    @Test func zeroSpikeDoesNotDriveClipping() {
        // ReLU of N(0, 1): half the values are exact zeros. Smeared over a bin, that spike made
        // KL's grouped Q look worst for wide ranges and clip at ~1.9 σ; as a point mass it does not.
        var rng = CalibRNG(state: 10)
        let data = (0..<200_000).map { _ in Float(Swift.max(0, rng.gaussian())) }
        let o = observe(data)
        #expect(o.zeroCount > 90_000 && o.zeroCount < 110_000)
        let mm = chooseRange(o, method: .minMax)
        let mmError = quantMSE(data, lo: mm.lo, hi: mm.hi)
        for m in histogramMethods {
            let r = chooseRange(o, method: m)
            #expect(r.lo == 0 && r.hi > 3, "\(m): \(r)")
            // Percentile clips its 0.01 % regardless of cost; the error-driven methods must not
            // lose to min/max.
            if m != .percentile { #expect(quantMSE(data, lo: r.lo, hi: r.hi) < 1.05 * mmError, "\(m): \(r)") }
        }
    }

    /// Exhaustive search over every (lo edge, hi edge) pair of a small histogram: the coordinate
    /// descent must land within 1 % of the true optimum of the same cost.
    static func bruteForce(_ h: RangeHistogram, minSpan: Int, _ cost: (Int, Int) -> Double) -> Double {
        let z = -h.base / h.w
        let zLo = Int(z.rounded(.down)), zHi = Int(z.rounded(.up))
        var best = Double.infinity
        for i in 0...zLo { for j in Swift.max(zHi, i + minSpan)...h.n where j <= h.n { best = Swift.min(best, cost(i, j)) } }
        return best
    }

    @Test func rangeSearchFindsTheOptimum() {
        var rng = CalibRNG(state: 11)
        // Skewed, two-sided, with a sparse far tail on one side.
        let data = (0..<100_000).map { _ -> Float in
            let g = rng.gaussian()
            return Float(g < 0 ? 0.7 * g : g * g)
        } + [30, 28, -9]
        var o = TensorRangeObserver()
        o.observeRange(data)
        o.beginHistogram(binCount: 256)
        o.observeHistogram(data)
        var h = RangeHistogram(o)
        let z = -h.base / h.w
        let mse = searchRange(n: h.n, zLo: Int(z.rounded(.down)), zHi: Int(z.rounded(.up)), minSpan: 1) { h.mseCost(i: $0, j: $1) }
        let mseBest = Self.bruteForce(h, minSpan: 1) { h.mseCost(i: $0, j: $1) }
        #expect(h.mseCost(i: mse.i, j: mse.j) <= mseBest * 1.01, "\(mse)")

        o.beginHistogram(binCount: 512)
        o.observeHistogram(data)
        h = RangeHistogram(o)
        let z2 = -h.base / h.w
        let kl = searchRange(n: h.n, zLo: Int(z2.rounded(.down)), zHi: Int(z2.rounded(.up)), minSpan: 256) { h.klCost(i: $0, j: $1) }
        let klBest = Self.bruteForce(h, minSpan: 256) { h.klCost(i: $0, j: $1) }
        #expect(h.klCost(i: kl.i, j: kl.j) <= klBest * 1.01 + 1e-6, "\(kl)")
    }

    @Test func rangeAlwaysContainsZero() {
        let o = observe((0..<1000).map { 2 + Float($0) / 1000 })
        for m in CalibrationMethod.allCases {
            let r = chooseRange(o, method: m)
            #expect(r.lo == 0 && r.hi >= 2.9, "\(m): \(r)")
        }
    }

    @Test func constantTensors() {
        for c: Float in [2.5, -3, 0] {
            let o = observe([Float](repeating: c, count: 5000))
            #expect(o.min == c && o.max == c)
            for m in CalibrationMethod.allCases {
                let r = chooseRange(o, method: m)
                #expect(r.lo == Swift.min(c, 0) && r.hi == Swift.max(c, 0), "\(c) \(m): \(r)")
                let (s, zp) = asymmetricInt8Params(lo: r.lo, hi: r.hi)
                #expect(s > 0 && s.isFinite)
                #expect(dequantizeAsymmetricInt8(quantizeAsymmetricInt8(0, scale: s, zeroPoint: zp), scale: s, zeroPoint: zp) == 0)
                let back = dequantizeAsymmetricInt8(quantizeAsymmetricInt8(c, scale: s, zeroPoint: zp), scale: s, zeroPoint: zp)
                #expect(abs(back - c) <= s / 2)
            }
        }
    }

    @Test func nonFiniteValuesAreIgnoredAndCounted() {
        var rng = CalibRNG(state: 5)
        let clean = (0..<50_000).map { _ in Float(rng.gaussian()) }
        var dirty = clean
        for k in Swift.stride(from: 0, to: 50_000, by: 997) { dirty.insert(k % 3 == 0 ? .nan : (k % 3 == 1 ? .infinity : -.infinity), at: k) }
        let bad = dirty.count - clean.count
        let c = observe(clean), d = observe(dirty)
        #expect(d.nonFiniteCount == bad && d.histogramNonFiniteCount == bad)
        #expect(d.count == clean.count && d.histogramCount == clean.count)
        #expect(d.min == c.min && d.max == c.max && d.bins == c.bins)
        for m in CalibrationMethod.allCases {
            let a = chooseRange(c, method: m), b = chooseRange(d, method: m)
            #expect(a == b, "\(m)")
            #expect(b.lo.isFinite && b.hi.isFinite)
        }
        // Nothing but NaN and Inf: no range.
        let only = observe([.nan, .infinity, -.infinity])
        #expect(!only.hasRange && only.nonFiniteCount == 3)
        for m in CalibrationMethod.allCases { #expect(chooseRange(only, method: m) == (0, 0)) }
    }

    @Test func emptyInput() {
        var o = TensorRangeObserver()
        o.observeRange([])
        #expect(!o.hasRange && o.count == 0)
        o.beginHistogram()
        o.observeHistogram([])
        #expect(o.bins.count == TensorRangeObserver.defaultBinCount && o.histogramCount == 0)
        for m in CalibrationMethod.allCases { #expect(chooseRange(o, method: m) == (0, 0)) }
        // Histogram methods without pass 2 fall back to the observed range.
        var r = TensorRangeObserver()
        r.observeRange([-1, 2])
        for m in CalibrationMethod.allCases { #expect(chooseRange(r, method: m) == (-1, 2)) }
    }

    @Test func passTwoValuesOutsideTheRangeClampIntoEndBins() {
        var o = TensorRangeObserver()
        o.observeRange([0, 1])
        o.beginHistogram(binCount: 16)
        o.observeHistogram([-5, 7, 0.5, 1, 0])
        #expect(o.histogramCount == 5)
        #expect(o.bins[0] == 2 && o.bins[15] == 2 && o.bins[8] == 1 && o.zeroCount == 1)
        #expect(o.bins.reduce(0, +) == 5)
    }

    @Test func mergedObserversMatchOneObserver() {
        var rng = CalibRNG(state: 6)
        let a = (0..<10_000).map { _ in Float(rng.gaussian()) }, b = (0..<7_000).map { _ in Float(3 * rng.gaussian() + 1) }
        var oa = TensorRangeObserver(), ob = TensorRangeObserver()
        oa.observeRange(a); ob.observeRange(b)
        var merged = oa; merged.mergeRange(ob)
        merged.beginHistogram()
        var ha = merged, hb = merged
        ha.observeHistogram(a); hb.observeHistogram(b)
        var total = ha; total.mergeHistogram(hb)
        #expect(total.bins == observe(a + b).bins)
        #expect(total.histogramCount == a.count + b.count)
        #expect(total.min == observe(a + b).min && total.max == observe(a + b).max)
    }

    @Test func percentileParameterControlsTheTail() {
        var rng = CalibRNG(state: 7)
        let data = (0..<100_000).map { _ in Float(rng.gaussian()) }
        let o = observe(data)
        let p9999 = chooseRange(o, method: .percentile)
        let p99 = chooseRange(o, method: .percentile, percentile: 99)
        #expect(p99.hi < p9999.hi && p99.lo > p9999.lo)
        // N(0, 1): the 99th percentile is 2.326 σ; bin width here is ~0.004.
        #expect(abs(p99.hi - 2.326) < 0.05 && abs(p99.lo + 2.326) < 0.05, "\(p99)")
        #expect(chooseRange(o, method: .percentile, percentile: 100) == chooseRange(o, method: .minMax))
    }

    @Test func asymmetricParamsRoundTrip() {
        let ranges: [(Float, Float)] = [(-1, 1), (-0.3, 5.7), (0, 6), (-6, 0), (-1e-3, 2e-3), (-100, 0.01),
                                        (3, 7), (-7, -3), (-3e38, 3e38), (0, 0), (-Float.leastNonzeroMagnitude * 8, Float.leastNonzeroMagnitude * 8)]
        for (lo, hi) in ranges {
            let (s, zp) = asymmetricInt8Params(lo: lo, hi: hi)
            #expect(s > 0 && s.isFinite && s.isNormal, "\(lo) \(hi)")
            #expect((-128...127).contains(zp))
            func rt(_ x: Float) -> Float { dequantizeAsymmetricInt8(quantizeAsymmetricInt8(x, scale: s, zeroPoint: zp), scale: s, zeroPoint: zp) }
            #expect(rt(0) == 0, "\(lo) \(hi)")
            let l = Swift.min(lo, 0), h = Swift.max(hi, 0)
            if h > l && (h - l) / 255 >= Float.leastNormalMagnitude {
                // The ends move by at most half a step to put zero on the grid.
                #expect(abs(Double(rt(l)) - Double(l)) <= Double(s) * 0.5001, "lo of \(lo) \(hi)")
                #expect(abs(Double(rt(h)) - Double(h)) <= Double(s) * 0.5001, "hi of \(lo) \(hi)")
                #expect(abs(Double(s) - (Double(h) - Double(l)) / 255) <= 1e-6 * Double(s))
            }
            let qp = asymmetricInt8QuantParams(lo: lo, hi: hi)
            #expect(qp == QuantParams(scale: [s], zeroPoint: [zp]))
        }
        #expect(asymmetricInt8Params(lo: 0, hi: 6).zeroPoint == -128)
        #expect(asymmetricInt8Params(lo: -6, hi: 0).zeroPoint == 127)
        #expect(asymmetricInt8Params(lo: -1.28, hi: 1.27).zeroPoint == 0)   // scale 0.01: -128 - round(-128)
        // Saturation at the ends of the grid.
        let (s, zp) = asymmetricInt8Params(lo: -1, hi: 1)
        #expect(quantizeAsymmetricInt8(1000, scale: s, zeroPoint: zp) == 127)
        #expect(quantizeAsymmetricInt8(-1000, scale: s, zeroPoint: zp) == -128)
        #expect(calibratedQuantParams(observe([-1, 1]), method: .minMax) == QuantParams(scale: [s], zeroPoint: [zp]))
    }

    @Test func sqnrOfKnownNoise() {
        // Sine of amplitude 2 over whole periods (power 2) plus ±0.02 alternating noise (power 4e-4).
        let n = 100_000
        let ref = (0..<n).map { Float(2 * sin(2 * Double.pi * Double($0) / 1000)) }
        let noisy = ref.enumerated().map { $0.element + ($0.offset % 2 == 0 ? 0.02 : -0.02) }
        #expect(abs(quantizationSQNR(reference: ref, test: noisy) - 10 * log10(2 / 4e-4)) < 0.1)
        // Gaussian noise of σ = 0.1 on the same signal: 10·log10(2 / 0.01) ≈ 23.01 dB.
        var rng = CalibRNG(state: 8)
        let g = ref.map { $0 + Float(0.1 * rng.gaussian()) }
        #expect(abs(quantizationSQNR(reference: ref, test: g) - 10 * log10(2 / 0.01)) < 0.1)
        // The uniform rounding noise of int8 on a full-scale uniform signal: 6.02·8 dB ≈ 48.2 dB.
        var rng2 = CalibRNG(state: 9)
        let u = (0..<n).map { _ in Float(-1 + 2 * rng2.unit()) }
        let (s, zp) = asymmetricInt8Params(lo: -1, hi: 1)
        let q = u.map { dequantizeAsymmetricInt8(quantizeAsymmetricInt8($0, scale: s, zeroPoint: zp), scale: s, zeroPoint: zp) }
        #expect(abs(quantizationSQNR(reference: u, test: q) - 10 * log10((1.0 / 3) / (Double(s) * Double(s) / 12))) < 0.1)
        #expect(quantizationSQNR(reference: ref, test: ref) == .infinity)
        #expect(quantizationSQNR(reference: [0, 0], test: [0, 1]) == -.infinity)
        #expect(quantizationSQNR(reference: [1, 2], test: [1, .nan]).isNaN)
    }
}
