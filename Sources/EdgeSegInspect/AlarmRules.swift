// Per-class alarm state machine: a class raises an alarm when a qualifying
// defect is seen in K of the last N frames, updates it when the severity
// changes, and clears it after `clearFrames` consecutive frames without one.
// Severity goes up at once and down only below `severityHysteresis` × its
// threshold, so an area hovering at a threshold does not flap.

public struct ClassRule: Sendable, Equatable {
    public var classIndex: Int
    public var name: String
    /// The largest component must reach this many mask pixels to count as a hit.
    public var minPixels: Int
    public var persistK: Int
    public var persistN: Int
    public var clearFrames: Int
    /// Ascending pixel areas: severity = 1 + the number of thresholds reached.
    public var severityPixels: [Int]
    public var severityHysteresis: Float
    public init(classIndex: Int, name: String, minPixels: Int, persistK: Int = 3, persistN: Int = 5,
                clearFrames: Int = 5, severityPixels: [Int] = [], severityHysteresis: Float = 0.8) {
        precondition(persistK >= 1 && persistN >= persistK && persistN <= 64 && clearFrames >= 1)
        self.classIndex = classIndex; self.name = name; self.minPixels = minPixels
        self.persistK = persistK; self.persistN = persistN; self.clearFrames = clearFrames
        self.severityPixels = severityPixels.sorted(); self.severityHysteresis = severityHysteresis
    }
}

public enum AlarmTransition: UInt8, Sendable { case raised = 1, updated = 2, cleared = 3 }

public struct AlarmState: Sendable, Equatable {
    public var active: Bool
    public var severity: Int
    public var pixelArea: Int
    public init(active: Bool = false, severity: Int = 0, pixelArea: Int = 0) {
        self.active = active; self.severity = severity; self.pixelArea = pixelArea
    }
}

public struct AlarmChange: Sendable, Equatable {
    public var alarmID: UInt32
    /// 0 for the raise, then +1 for each update and the clear of the same alarm.
    public var revision: UInt16
    public var classIndex: Int
    public var transition: AlarmTransition
    public var before: AlarmState
    public var after: AlarmState
    public var frameID: UInt64
    /// The frame's capture time (ns, CLOCK_MONOTONIC) that caused the transition.
    public var captureNs: UInt64
}

public struct AlarmTracker: ~Copyable {
    private struct Track {
        var rule: ClassRule
        var history: UInt64 = 0        // bit i = hit i frames ago
        var seen = 0                   // frames observed, capped at N
        var misses = 0
        var state = AlarmState()
        var alarmID: UInt32 = 0
        var revision: UInt16 = 0
    }
    private var tracks: [Track]
    private let eventStore: UnsafeMutableBufferPointer<AlarmChange>
    public private(set) var eventCount = 0
    private var nextID: UInt32 = 1

    public init(rules: [ClassRule]) {
        tracks = rules.map { Track(rule: $0) }
        eventStore = .allocate(capacity: max(1, rules.count))
    }
    deinit { eventStore.deallocate() }

    /// The transitions produced by the last `update`.
    public var events: UnsafeBufferPointer<AlarmChange> { UnsafeBufferPointer(rebasing: eventStore[0..<eventCount]) }

    public func state(ofClass c: Int) -> AlarmState? {
        tracks.first { $0.rule.classIndex == c }?.state
    }

    /// Feeds one frame's defects; returns the number of transitions (read them from `events`).
    @discardableResult
    public mutating func update(defects: UnsafeBufferPointer<Defect>, frameID: UInt64, captureNs: UInt64) -> Int {
        eventCount = 0
        for t in tracks.indices {
            let rule = tracks[t].rule
            var largest = 0
            for d in defects where d.classIndex == rule.classIndex { largest = max(largest, d.pixelArea) }
            let hit = largest >= rule.minPixels
            let mask: UInt64 = rule.persistN == 64 ? ~0 : (1 << UInt64(rule.persistN)) - 1
            tracks[t].history = ((tracks[t].history << 1) | (hit ? 1 : 0)) & mask
            tracks[t].seen = min(rule.persistN, tracks[t].seen + 1)
            tracks[t].misses = hit ? 0 : tracks[t].misses + 1
            let before = tracks[t].state
            var after = before
            if !before.active {
                if tracks[t].history.nonzeroBitCount >= rule.persistK {
                    after = AlarmState(active: true, severity: severity(rule, area: largest, current: 0), pixelArea: largest)
                    tracks[t].alarmID = nextID; nextID &+= 1
                    tracks[t].revision = 0
                    emit(t, .raised, before, after, frameID, captureNs)
                }
            } else if tracks[t].misses >= rule.clearFrames {
                after = AlarmState()
                emit(t, .cleared, before, after, frameID, captureNs)
                tracks[t].history = 0
            } else if hit {
                after.pixelArea = largest
                after.severity = severity(rule, area: largest, current: before.severity)
                if after.severity != before.severity { emit(t, .updated, before, after, frameID, captureNs) }
            }
            tracks[t].state = after
        }
        return eventCount
    }

    private mutating func emit(_ t: Int, _ transition: AlarmTransition, _ before: AlarmState, _ after: AlarmState,
                               _ frameID: UInt64, _ captureNs: UInt64) {
        if transition != .raised { tracks[t].revision &+= 1 }
        eventStore[eventCount] = AlarmChange(alarmID: tracks[t].alarmID, revision: tracks[t].revision,
                                             classIndex: tracks[t].rule.classIndex,
                                            transition: transition, before: before, after: after,
                                            frameID: frameID, captureNs: captureNs)
        eventCount += 1
    }
}

/// Severity for `area`: up as soon as a threshold is reached, down only once
/// the area falls below `hysteresis` × the threshold of the current level.
func severity(_ rule: ClassRule, area: Int, current: Int) -> Int {
    var level = 1
    // Indexed: a debug build's `for x in array` mallocs per element (the pipeline's
    // zero-allocation test runs debug code; see `heartbeatStages` in EdgeSegPipeline).
    for i in rule.severityPixels.indices where area >= rule.severityPixels[i] { level += 1 }
    if level >= current { return level }
    var kept = level
    for s in stride(from: current, to: level, by: -1) {
        let threshold = Float(rule.severityPixels[s - 2])
        if Float(area) >= threshold * rule.severityHysteresis { kept = s; break }
    }
    return kept
}
