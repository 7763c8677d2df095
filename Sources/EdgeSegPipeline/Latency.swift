import Foundation
import Histogram

// Per-frame timestamps and the latency histograms built from them. All times
// are CLOCK_MONOTONIC nanoseconds, the clock V4L2 stamps its buffers with, so
// "glass" (the driver's buffer time) and every later stage share one clock.

public struct FrameStamps: Sendable, Equatable {
    public var captureNs: UInt64 = 0      // V4L2 buffer timestamp (or the replay source's emit time)
    public var dequeueNs: UInt64 = 0      // capture thread got the buffer
    public var takenNs: UInt64 = 0        // inference thread took it from the newest-frame slot
    public var preprocessedNs: UInt64 = 0
    public var inferredNs: UInt64 = 0
    public var inspectedNs: UInt64 = 0
    public var sentNs: UInt64 = 0         // DETECTIONS (and any ALARM) handed to the transport
    public init() {}
}

public enum PipelineStage: Int, CaseIterable, Sendable {
    case dequeue, slotWait, preprocess, inference, inspect, send, glassToSent, glassToAlarm

    public var key: String {
        switch self {
        case .dequeue: return "dequeue"
        case .slotWait: return "slot_wait"
        case .preprocess: return "preprocess"
        case .inference: return "inference"
        case .inspect: return "inspect"
        case .send: return "send"
        case .glassToSent: return "glass_to_sent"
        case .glassToAlarm: return "glass_to_alarm"
        }
    }
}

public struct LatencySummary: Sendable, Equatable, Codable {
    public var count: UInt64
    public var p50Ms: Double, p90Ms: Double, p99Ms: Double, maxMs: Double, meanMs: Double
}

/// One HDR histogram per stage (1 µs … 60 s at 3 significant digits), allocated up front.
public struct LatencyBook {
    private var histograms: [Histogram<UInt64>]

    public init() {
        histograms = PipelineStage.allCases.map { _ in
            Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        }
    }

    /// Records every stage of one processed frame. Durations are in µs.
    public mutating func record(_ s: FrameStamps) {
        add(.dequeue, s.captureNs, s.dequeueNs)
        add(.slotWait, s.dequeueNs, s.takenNs)
        add(.preprocess, s.takenNs, s.preprocessedNs)
        add(.inference, s.preprocessedNs, s.inferredNs)
        add(.inspect, s.inferredNs, s.inspectedNs)
        add(.send, s.inspectedNs, s.sentNs)
        add(.glassToSent, s.captureNs, s.sentNs)
    }

    /// Records the glass→alarm latency of a frame that raised or changed an alarm.
    public mutating func recordAlarm(captureNs: UInt64, sentNs: UInt64) {
        add(.glassToAlarm, captureNs, sentNs)
    }

    private mutating func add(_ stage: PipelineStage, _ from: UInt64, _ to: UInt64) {
        guard from != 0, to >= from else { return }
        _ = histograms[stage.rawValue].record(max(1, (to - from) / 1000))
    }

    public func summary(_ stage: PipelineStage) -> LatencySummary {
        let h = histograms[stage.rawValue]
        func ms(_ us: UInt64) -> Double { Double(us) / 1000 }
        guard h.totalCount > 0 else { return LatencySummary(count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0) }
        return LatencySummary(count: h.totalCount, p50Ms: ms(h.valueAtPercentile(50)), p90Ms: ms(h.valueAtPercentile(90)),
                              p99Ms: ms(h.valueAtPercentile(99)), maxMs: ms(h.max), meanMs: h.mean / 1000)
    }
}
