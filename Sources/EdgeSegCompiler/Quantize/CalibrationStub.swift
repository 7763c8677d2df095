// TEMPORARY (lead): min/max only, replaced by the calib branch's Calibration.swift.
import Foundation
public enum CalibrationMethod: String, CaseIterable, Sendable { case minMax = "minmax", percentile, kl, mse }
public struct TensorRangeObserver {
    var lo: Float = 0, hi: Float = 0
    public init() {}
    public mutating func observeRange(_ v: UnsafeBufferPointer<Float>) { for x in v where x.isFinite { lo = min(lo, x); hi = max(hi, x) } }
    public mutating func beginHistogram() {}
    public mutating func observeHistogram(_ v: UnsafeBufferPointer<Float>) {}
}
public func chooseRange(_ o: TensorRangeObserver, method: CalibrationMethod, percentile: Double = 99.99) -> (lo: Float, hi: Float) { (o.lo, o.hi) }
public func asymmetricInt8Params(lo: Float, hi: Float) -> (scale: Float, zeroPoint: Int32) {
    let l = min(lo, 0), h = max(hi, 0)
    let s = max((h - l) / 255, 1e-8)
    return (s, Int32(max(-128, min(127, (-128 - l / s).rounded()))))
}
public func quantizationSQNR(reference: UnsafeBufferPointer<Float>, test: UnsafeBufferPointer<Float>) -> Double {
    var s = 0.0, n = 0.0
    for i in reference.indices { s += Double(reference[i]) * Double(reference[i]); let d = Double(reference[i]) - Double(test[i]); n += d * d }
    return n == 0 ? .infinity : 10 * log10(s / n)
}
