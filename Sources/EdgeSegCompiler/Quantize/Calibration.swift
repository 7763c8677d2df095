// Calibration statistics for post-training int8 quantization of activations (asymmetric, per
// tensor). Two passes over the calibration images: pass 1 records each tensor's min/max, pass 2
// fills a fixed histogram over that range; `chooseRange` then picks the clipping range by
// min/max, percentile, entropy (KL) or MSE. The statistics are plain value types and free
// functions with no dependency beyond the standard library and libm, so the compiler can run one
// observer per tensor and per thread and merge them; only the `QuantParams` builders touch
// EdgeSegCore. The histogram has a fixed resolution (2048 bins over the observed range), so KL
// and MSE cannot resolve ranges much narrower than that grid: an outlier 10⁴× the bulk leaves
// the bulk in a few bins (TensorRT's entropy calibrator has the same limit).
import EdgeSegCore
#if canImport(Glibc)
import Glibc          // log, log10 (libm only, no Foundation)
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum CalibrationMethod: String, CaseIterable, Sendable {
    /// The observed range: no clipping, coarsest grid when there are outliers.
    case minMax = "minmax"
    /// Clip both tails: lo at the (100 − p)th percentile, hi at the pth (default p = 99.99).
    case percentile
    /// Entropy calibration (TensorRT-style), adapted to an asymmetric range.
    case kl
    /// The range minimising the expected squared quantization + clipping error.
    case mse
}

/// Range and histogram of one activation tensor over the calibration set.
public struct TensorRangeObserver: Sendable, Equatable {
    public static let defaultBinCount = 2048

    /// Observed extremes of the finite values (pass 1); +inf / −inf before any value.
    public private(set) var min: Float = .infinity
    public private(set) var max: Float = -.infinity
    /// Finite values seen in pass 1.
    public private(set) var count = 0
    /// NaN / ±Inf values seen in pass 1. They are ignored: an int8 tensor cannot hold them, and
    /// one Inf would make the whole range useless. The compiler can warn on a non-zero count.
    public private(set) var nonFiniteCount = 0

    /// Histogram (pass 2): `bins.count` equal bins over [histogramLo, histogramHi]. The span always
    /// includes zero because the quantization range will (zero must be exactly representable), so
    /// the histogram is never coarser than the widest candidate range needs.
    public private(set) var bins: [Int] = []
    public private(set) var histogramLo: Double = 0
    public private(set) var histogramHi: Double = 0
    /// Finite values binned in pass 2, and NaN / ±Inf skipped there.
    public private(set) var histogramCount = 0
    public private(set) var histogramNonFiniteCount = 0
    /// Exact zeros among the binned values (also counted in their bin). ReLU outputs and padding
    /// are often half zeros; that point mass is always exactly representable, and smearing it
    /// over a bin would make the KL and MSE searches clip far too much.
    public private(set) var zeroCount = 0

    public init() {}

    public var hasRange: Bool { count > 0 }
    public var hasHistogram: Bool { !bins.isEmpty }
    public var binWidth: Double { bins.isEmpty ? 0 : (histogramHi - histogramLo) / Double(bins.count) }

    /// Pass 1: track min/max.
    public mutating func observeRange(_ values: UnsafeBufferPointer<Float>) {
        var lo = min, hi = max, n = 0, bad = 0
        for v in values {
            if v.isFinite {
                lo = Swift.min(lo, v); hi = Swift.max(hi, v); n += 1
            } else {
                bad += 1
            }
        }
        min = lo; max = hi; count += n; nonFiniteCount += bad
    }

    public mutating func observeRange(_ values: [Float]) {
        values.withUnsafeBufferPointer { observeRange($0) }
    }

    /// Between the passes: fix the histogram grid over [min(min, 0), max(max, 0)]. With no value
    /// observed the grid is [0, 0] (every value lands in bin 0 and `chooseRange` answers [0, 0]).
    public mutating func beginHistogram(binCount: Int = TensorRangeObserver.defaultBinCount) {
        precondition(binCount >= 1, "a histogram needs at least one bin")
        bins = [Int](repeating: 0, count: binCount)
        histogramLo = hasRange ? Double(Swift.min(min, 0)) : 0
        histogramHi = hasRange ? Double(Swift.max(max, 0)) : 0
        histogramCount = 0; histogramNonFiniteCount = 0; zeroCount = 0
    }

    /// The bin a finite value falls in; outside the grid, the end bin on its side.
    public func binIndex(of v: Float) -> Int {
        let width = binWidth
        let t = (Double(v) - histogramLo) * (width > 0 ? 1 / width : 0)
        // The max itself (t == n) belongs to the last bin.
        return Int(Swift.min(Swift.max(t, 0), Double(bins.count - 1)))
    }

    /// Pass 2: accumulate counts. Values outside the pass-1 range (a different image set, or
    /// nondeterministic kernels) clamp into the end bins rather than being lost.
    public mutating func observeHistogram(_ values: UnsafeBufferPointer<Float>) {
        precondition(hasHistogram, "beginHistogram() must be called before observeHistogram")
        let n = bins.count
        let width = binWidth
        let inv = width > 0 ? 1 / width : 0
        let lo = histogramLo, top = Double(n - 1)
        var binned = 0, bad = 0, zeros = 0
        bins.withUnsafeMutableBufferPointer { b in
            for v in values {
                guard v.isFinite else { bad += 1; continue }
                if v == 0 { zeros += 1 }
                // Same arithmetic as binIndex(of:), hoisted.
                let t = (Double(v) - lo) * inv
                b[Int(Swift.min(Swift.max(t, 0), top))] += 1
                binned += 1
            }
        }
        histogramCount += binned; histogramNonFiniteCount += bad; zeroCount += zeros
    }

    public mutating func observeHistogram(_ values: [Float]) {
        values.withUnsafeBufferPointer { observeHistogram($0) }
    }

    /// Parallel calibration (one observer per thread, each over other images). Pass 1: merge
    /// the range counters. Then begin the histogram on the merged observer and hand each thread a
    /// copy; pass 2: merge their histograms (same grid by construction).
    public mutating func mergeRange(_ other: TensorRangeObserver) {
        min = Swift.min(min, other.min); max = Swift.max(max, other.max)
        count += other.count; nonFiniteCount += other.nonFiniteCount
    }

    public mutating func mergeHistogram(_ other: TensorRangeObserver) {
        precondition(bins.count == other.bins.count && histogramLo == other.histogramLo
                     && histogramHi == other.histogramHi, "histograms on different grids cannot merge")
        for i in bins.indices { bins[i] += other.bins[i] }
        histogramCount += other.histogramCount; histogramNonFiniteCount += other.histogramNonFiniteCount
        zeroCount += other.zeroCount
    }
}

// MARK: - choosing the range

/// The clipping range for `method`. Always contains 0. `percentile` (only for `.percentile`) is the
/// upper percentile; the lower one is 100 − percentile, so 99.99 clips 0.01 % from each tail;
/// values outside [50, 100] are clamped into it. The histogram methods fall back to min/max when
/// pass 2 did not run or saw no finite value.
public func chooseRange(_ obs: TensorRangeObserver, method: CalibrationMethod,
                        percentile: Double = 99.99) -> (lo: Float, hi: Float) {
    guard obs.hasRange else { return (0, 0) }
    let full = (lo: Swift.min(obs.min, 0), hi: Swift.max(obs.max, 0))
    // A constant tensor is known exactly: nothing to clip, and the histogram would only blur it.
    if method == .minMax || obs.min == obs.max || !obs.hasHistogram || obs.histogramCount == 0
        || obs.binWidth <= 0 || !obs.binWidth.isFinite { return full }

    let hist = RangeHistogram(obs)
    let n = hist.n
    // Candidate lo edges are ≤ 0 (k ≤ zLo), hi edges ≥ 0 (k ≥ zHi): ranges shrink towards zero.
    let z = Swift.min(Swift.max(-hist.base / hist.w, 0), Double(n))
    let zLo = Int(z.rounded(.down)), zHi = Int(z.rounded(.up))

    let range: (i: Int, j: Int)
    switch method {
    case .minMax: return full
    case .percentile:
        let tail = Swift.min(Swift.max((100 - percentile) / 100, 0), 0.5) * hist.total
        // Clip at most `tail` values from each side, at bin edges (exact zeros are never clipped).
        var i = 0
        while i < zLo && hist.below(i + 1) <= tail { i += 1 }
        var j = n
        while j > zHi && hist.above(j - 1) <= tail { j -= 1 }
        range = (i, j)
    case .kl:
        // TensorRT's narrowest candidate has one histogram bin per quantized level (128 for its
        // 128); the asymmetric analogue is 256 bins for 256 levels. Narrower, the histogram cannot
        // show what quantization loses and KL tends to zero, so KL shrinks the range to 1/8 at most.
        range = searchRange(n: n, zLo: zLo, zHi: zHi, minSpan: Swift.min(256, n)) { hist.klCost(i: $0, j: $1) }
    case .mse:
        range = searchRange(n: n, zLo: zLo, zHi: zHi, minSpan: 1) { hist.mseCost(i: $0, j: $1) }
    }
    return (Swift.min(Float(hist.edge(range.i)), 0), Swift.max(Float(hist.edge(range.j)), 0))
}

/// Minimise cost(lo edge i, hi edge j) over i ≤ zLo, j ≥ zHi, j − i ≥ minSpan. A full 2-D search
/// costs O(bins³); instead a coarse 2-D grid (≤ 32 × 32) picks the basin, then coordinate descent
/// (the best hi for the current lo, the best lo for that hi, repeated) refines it. The grid
/// matters for KL, whose cost is bumpy enough that descent from the full range alone can stall
/// in a poor local minimum.
func searchRange(n: Int, zLo: Int, zHi: Int, minSpan: Int, cost: (Int, Int) -> Double) -> (i: Int, j: Int) {
    var i = 0, j = n
    guard j - i >= minSpan else { return (i, j) }
    var best = cost(i, j)
    // Candidates are visited widest first and only a strictly better cost wins: ties keep the
    // wider range (nothing clipped that need not be).
    func consider(_ a: Int, _ b: Int) {
        guard b - a >= minSpan, a != i || b != j else { return }
        let c = cost(a, b)
        if c < best * (1 - 1e-12) { i = a; j = b; best = c }
    }
    let loStep = Swift.max(1, (zLo + 1) / 32), hiStep = Swift.max(1, (n - zHi + 1) / 32)
    for a in Swift.stride(from: 0, through: zLo, by: loStep) {
        for b in Swift.stride(from: n, through: zHi, by: -hiStep) { consider(a, b) }
    }
    for _ in 0..<8 {
        let (oldI, oldJ) = (i, j)
        let fixedI = i
        search1D(from: n, to: Swift.max(zHi, fixedI + minSpan)) { consider(fixedI, $0); return j == $0 && i == fixedI }
        let fixedJ = j
        search1D(from: 0, to: Swift.min(zLo, fixedJ - minSpan)) { consider($0, fixedJ); return i == $0 && j == fixedJ }
        if i == oldI && j == oldJ { break }
    }
    // Pattern search on both ends at once, for valleys that run diagonally (moving one end alone
    // only goes uphill).
    var step = 16
    while step >= 1 {
        let (oldI, oldJ) = (i, j)
        for (di, dj) in [(-1, 1), (1, -1), (1, 1), (-1, -1), (-1, 0), (1, 0), (0, 1), (0, -1)] {
            let a = i + di * step, b = j + dj * step
            if a >= 0 && a <= zLo && b >= zHi && b <= n { consider(a, b) }
        }
        if i == oldI && j == oldJ { step /= 2 }
    }
    return (i, j)
}

/// Probe k from `from` (widest) to `to`, inclusive, in either direction: every stride-th
/// candidate (≤ 128 probes), then every candidate within a stride of the best one. `probe`
/// evaluates k and answers whether k is now the best.
func search1D(from: Int, to: Int, _ probe: (Int) -> Bool) {
    let dir = to >= from ? 1 : -1
    let count = abs(to - from) + 1
    let stride = Swift.max(1, count / 128)
    var bestOff: Int? = nil
    var off = 0
    while off < count { if probe(from + dir * off) { bestOff = off }; off += stride }
    guard stride > 1, let centre = bestOff else { return }
    for o in Swift.max(0, centre - stride + 1)...Swift.min(count - 1, centre + stride - 1) where o != centre {
        _ = probe(from + dir * o)
    }
}

/// The pass-2 histogram as the range search reads it: counts with the exact zeros split off as a
/// point mass, and prefix sums so the clipped tails of a candidate cost O(1).
struct RangeHistogram {
    let n: Int
    let base: Double, w: Double, top: Double
    /// Counts without the exact zeros.
    let h: [Double]
    let zeros: Double
    /// Prefix sums over bins 0..<k (k = 0...n) of count, count·E[x], count·E[x²], values read as
    /// uniform within their bin.
    let s0: [Double], s1: [Double], s2: [Double]
    /// log of each non-empty bin's count: the KL search would otherwise spend most of its time in log.
    let logH: [Double]

    init(_ obs: TensorRangeObserver) {
        n = obs.bins.count; base = obs.histogramLo; top = obs.histogramHi; w = obs.binWidth
        var counts = obs.bins.map(Double.init)
        counts[obs.binIndex(of: 0)] -= Double(obs.zeroCount)
        h = counts; zeros = Double(obs.zeroCount)
        var a = [0.0], b = [0.0], c = [0.0]
        a.reserveCapacity(n + 1); b.reserveCapacity(n + 1); c.reserveCapacity(n + 1)
        for k in 0..<n {
            let mid = base + (Double(k) + 0.5) * w
            a.append(a[k] + counts[k]); b.append(b[k] + counts[k] * mid)
            c.append(c[k] + counts[k] * (mid * mid + w * w / 12))
        }
        s0 = a; s1 = b; s2 = c
        logH = counts.map { $0 > 0 ? log($0) : 0 }
    }

    var total: Double { s0[n] + zeros }
    /// Bin edge k; the extreme edges are the exact observed range.
    func edge(_ k: Int) -> Double { k == 0 ? base : (k == n ? top : base + Double(k) * w) }
    /// Non-zero values in bins below edge k / at or above edge k.
    func below(_ k: Int) -> Double { s0[k] }
    func above(_ k: Int) -> Double { s0[n] - s0[k] }

    /// KL(P‖Q) for the candidate [edge i, edge j): P is the histogram restricted to the range with
    /// the clipped outliers folded into the end bins; Q quantizes the unclipped in-range histogram
    /// onto the real int8 grid of that range: each quantization cell's mass is spread evenly over
    /// the non-empty bins it covers (TensorRT's expansion of merged bins), a bin that straddles
    /// two cells taking from each by its overlap. TensorRT merges whole bins per level instead;
    /// that makes the cost jump with every change of the bins-per-level pattern, and the jumps,
    /// not the data, then decide the range. The outliers missing from Q's end bins are what
    /// penalises clipping; the coarser cells of a wide range penalise not clipping. Exact zeros
    /// are the same point mass in P and Q.
    func klCost(i: Int, j: Int) -> Double {
        let (scale, zp) = asymmetricInt8Params(lo: Float(edge(i)), hi: Float(edge(j)))
        let s = Double(scale), zpd = Double(zp)
        let below = s0[i], above = s0[n] - s0[j], inside = s0[j] - s0[i]
        guard inside + zeros > 0 else { return .infinity }
        let pTotal = total, qTotal = inside + zeros
        // Cell q (index q + 128) covers [v − s/2, v + s/2) around v = s·(q − zp); the end cells
        // extend to ±∞.
        @inline(__always) func cellTop(_ q: Int) -> Double { q == 127 ? .infinity : s * (Double(q) - zpd + 0.5) }
        let firstCell = Int(Swift.min(Swift.max(zpd + ((base + Double(i) * w) / s).rounded(), -128), 127))
        // TensorRT smooths Q's empty bins with ε = 1e-4 counts so the divergence stays finite.
        let logEps = log(1e-4)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 512) { buf -> Double in
            let mass = buf.baseAddress!, support = mass + 256
            buf.initialize(repeating: 0)
            // Pass 1: each cell's mass and its non-empty width (in bins) over the range.
            var q = firstCell
            for k in i..<j {
                let a = base + Double(k) * w, b = a + w
                while a >= cellTop(q) { q += 1 }
                var x0 = a
                while true {
                    let top = cellTop(q), x1 = Swift.min(b, top), f = (x1 - x0) / w
                    mass[q + 128] += f * h[k]
                    if h[k] > 0 { support[q + 128] += f }
                    if top >= b { break }
                    q += 1; x0 = x1
                }
            }
            // Pass 2: KL = Σ (p/P)·log((p/P)/(q/Q)) = log(Q/P) + (1/P)·Σ p·(log p − log q), the
            // exact-zero point mass (p = q) included; log p comes from the table except in the two
            // end bins, log q once per cell unless a bin straddles cells.
            var sum = 0.0
            q = firstCell
            var logCell = 0.0, logCellOf = Int.min
            for k in i..<j {
                let folded = (k == i ? below : 0) + (k == j - 1 ? above : 0)
                let p = h[k] + folded
                let a = base + Double(k) * w, b = a + w
                while a >= cellTop(q) { q += 1 }
                guard p > 0 else { continue }
                let logP = folded > 0 ? log(p) : logH[k]
                guard h[k] > 0 else { sum += p * (logP - logEps); continue }
                let top = cellTop(q)
                if top >= b {
                    if logCellOf != q { logCell = log(mass[q + 128] / support[q + 128]); logCellOf = q }
                    sum += p * (logP - logCell)
                } else {
                    var qk = 0.0, x0 = a, c = q
                    while true {
                        let t = cellTop(c), x1 = Swift.min(b, t)
                        qk += (x1 - x0) / w * mass[c + 128] / support[c + 128]
                        if t >= b { break }
                        c += 1; x0 = x1
                    }
                    sum += p * (logP - log(qk))
                }
            }
            return log(qTotal / pTotal) + sum / pTotal
        }
    }

    /// Expected squared error Σ count · E[(x − deq(q(x)))²], the histogram read as piecewise
    /// uniform and q the real int8 quantizer of [edge i, edge j] (zero-point nudge and clamping
    /// included), so rounding and clipping error are measured by the same integral. Exact zeros
    /// cost nothing.
    func mseCost(i: Int, j: Int) -> Double {
        let (scale, zp) = asymmetricInt8Params(lo: Float(edge(i)), hi: Float(edge(j)))
        let s = Double(scale), zpd = Double(zp)
        let loQ = s * (-128 - zpd), hiQ = s * (127 - zpd)
        // Bins wholly at or beyond the end levels are pure clipping: Σ c·E[(x − e)²] from the
        // prefix sums. Only the bins in between need the per-cell integral.
        let kLo = Int(Swift.min(Swift.max(((loQ - base) / w).rounded(.down), 0), Double(n)))
        let kHi = Swift.max(kLo, Int(Swift.min(Swift.max(((hiQ - base) / w).rounded(.up), 0), Double(n))))
        var total = (s2[kLo] - 2 * loQ * s1[kLo] + loQ * loQ * s0[kLo])
            + ((s2[n] - s2[kHi]) - 2 * hiQ * (s1[n] - s1[kHi]) + hiQ * hiQ * (s0[n] - s0[kHi]))
        // Walk bins and quantization cells together: cell q covers [v − s/2, v + s/2) around its
        // level v = s·(q − zp), and the end cells extend to ±∞ (clipping).
        @inline(__always) func cellTop(_ q: Int) -> Double { q == 127 ? .infinity : s * (Double(q) - zpd + 0.5) }
        var q = Int(Swift.min(Swift.max(zpd + ((base + Double(kLo) * w) / s).rounded(), -128), 127))
        for k in kLo..<kHi where h[k] > 0 {
            let a = base + Double(k) * w, b = a + w
            while a >= cellTop(q) { q += 1 }
            var integral = 0.0, x0 = a
            while true {
                let v = s * (Double(q) - zpd), top = cellTop(q)
                let x1 = Swift.min(b, top)
                integral += ((x1 - v) * (x1 - v) * (x1 - v) - (x0 - v) * (x0 - v) * (x0 - v)) / 3
                if top >= b { break }
                q += 1; x0 = x1
            }
            total += h[k] * integral / w
        }
        return total
    }
}

// MARK: - int8 parameters

/// Asymmetric int8 parameters for [lo, hi] ∪ {0}: q ∈ [−128, 127], x ≈ scale · (q − zeroPoint).
/// Zero is exact (zeroPoint is an integer), so padding and ReLU outputs carry no error; the range
/// shifts by at most scale/2 for it. A degenerate range (all zeros) gets scale 1, never 0, so
/// requantization multipliers stay finite.
public func asymmetricInt8Params(lo: Float, hi: Float) -> (scale: Float, zeroPoint: Int32) {
    let l = lo.isFinite ? Double(Swift.min(lo, 0)) : 0
    let u = hi.isFinite ? Double(Swift.max(hi, 0)) : 0
    // Double: hi − lo can overflow Float for ranges near ±Float.greatestFiniteMagnitude.
    let s = Float((u - l) / 255)
    guard s.isNormal else { return (1, -128) }
    let zp = -128 - (Double(l) / Double(s)).rounded()
    return (s, Int32(Swift.min(Swift.max(zp, -128), 127)))
}

/// Per-tensor `QuantParams` for the range.
public func asymmetricInt8QuantParams(lo: Float, hi: Float) -> QuantParams {
    let (s, zp) = asymmetricInt8Params(lo: lo, hi: hi)
    return QuantParams(scale: [s], zeroPoint: [zp])
}

/// Calibrated per-tensor `QuantParams` in one call.
public func calibratedQuantParams(_ obs: TensorRangeObserver, method: CalibrationMethod,
                                  percentile: Double = 99.99) -> QuantParams {
    let r = chooseRange(obs, method: method, percentile: percentile)
    return asymmetricInt8QuantParams(lo: r.lo, hi: r.hi)
}

/// x → int8 as the runtime does it: zeroPoint + round-half-away(x / scale), saturated.
public func quantizeAsymmetricInt8(_ x: Float, scale: Float, zeroPoint: Int32) -> Int8 {
    guard !x.isNaN else { return Int8(truncatingIfNeeded: Swift.min(Swift.max(zeroPoint, -128), 127)) }
    let q = Double(zeroPoint) + (Double(x) / Double(scale)).rounded()
    return Int8(Swift.min(Swift.max(q, -128), 127))
}

public func dequantizeAsymmetricInt8(_ q: Int8, scale: Float, zeroPoint: Int32) -> Float {
    scale * Float(Int32(q) - zeroPoint)
}

// MARK: - error measure

/// Signal-to-quantization-noise ratio in dB: 10·log10(Σ ref² / Σ (ref − test)²); +inf when the
/// buffers are equal, −inf when the reference is all zeros and the test is not. NaN in either
/// buffer propagates (the mixed-precision pass must treat it as the worst layer).
public func quantizationSQNR(reference: UnsafeBufferPointer<Float>, test: UnsafeBufferPointer<Float>) -> Double {
    precondition(reference.count == test.count, "SQNR compares buffers of the same size")
    var signal = 0.0, noise = 0.0
    for k in 0..<reference.count {
        let r = Double(reference[k]), d = r - Double(test[k])
        signal += r * r; noise += d * d
    }
    if noise.isNaN || signal.isNaN { return .nan }
    if noise == 0 { return .infinity }
    return 10 * log10(signal / noise)
}

public func quantizationSQNR(reference: [Float], test: [Float]) -> Double {
    reference.withUnsafeBufferPointer { r in test.withUnsafeBufferPointer { quantizationSQNR(reference: r, test: $0) } }
}
