import Foundation
import EdgeSegLink

// Faults the pipeline rides through (corrupt frames, garbage from the peer, refused sends,
// an absent PC) are counted where they happen and sent in every heartbeat. This file turns
// the same counters into log lines for whoever reads the board's journal: one line per kind
// per `interval`, only when a counter moved, so a stream of bad frames cannot flood the log.
// The link thread calls `FaultWatch.check` every cycle; with nothing new it only compares
// integers, so the steady state stays free of allocations.

/// The cumulative fault counters, as one snapshot.
struct FaultFigures: Sendable, Equatable {
    /// Damaged spans the source skipped (cut-off JPEGs, flagged V4L2 buffers).
    var corruptFrames: UInt64 = 0
    /// Frames the preprocessor could not decode (the JPEG decoder refused them).
    var undecodableFrames: UInt64 = 0
    var rxRejected = RejectCounters()
    var sendErrors: UInt64 = 0
    var queueOverflows: UInt64 = 0
    var alarmsAcked: UInt64 = 0
    var queueDepth = 0
}

/// Logs fault counters as they move, at most once per kind per interval, and notices when
/// alarms stay unacknowledged (the PC receiver is down or unreachable) and when ACKs resume.
struct FaultWatch {
    var interval: UInt64 = 1_000_000_000
    /// Alarms pending this long with no ACK progress is an outage (logged once per episode).
    var outageAfter: UInt64 = 1_000_000_000
    private(set) var outages = 0
    private var frames = Tally(), rx = Tally(), sends = Tally(), overflows = Tally()
    private var lastReasons = RejectCounters()
    private var lastAcked: UInt64 = 0
    private var ackProgressAt: UInt64
    private var outageSince: UInt64? = nil

    init(now: UInt64) { ackProgressAt = now }

    mutating func check(_ f: FaultFigures, now: UInt64, log: (String) -> Void) {
        let bad = f.corruptFrames &+ f.undecodableFrames
        if let d = frames.due(bad, now: now, interval: interval) {
            log("faults: \(d) bad frame\(d == 1 ? "" : "s") skipped (total \(f.corruptFrames) damaged at the source, \(f.undecodableFrames) undecodable)")
        }
        if let d = rx.due(f.rxRejected.total, now: now, interval: interval) {
            var reasons: [String] = []
            for r in RejectReason.allCases where f.rxRejected[r] > lastReasons[r] {
                reasons.append("\(r.name) \(f.rxRejected[r] - lastReasons[r])")
            }
            lastReasons = f.rxRejected
            log("link: \(d) incoming message\(d == 1 ? "" : "s") rejected (\(reasons.joined(separator: ", ")); total \(f.rxRejected.total))")
        }
        if let d = sends.due(f.sendErrors, now: now, interval: interval) {
            log("link: \(d) send\(d == 1 ? "" : "s") refused by the transport (total \(f.sendErrors))")
        }
        if let d = overflows.due(f.queueOverflows, now: now, interval: 0) {
            log("link: alarm queue full, \(d) alarm event\(d == 1 ? "" : "s") not queued (total \(f.queueOverflows)); the PC is told in the heartbeat")
        }

        // ACK progress: any new ACK, or nothing pending, restarts the clock.
        if f.alarmsAcked != lastAcked || f.queueDepth == 0 {
            if outageSince != nil, f.alarmsAcked != lastAcked {
                let s = Double(now &- ackProgressAt) / 1e9
                log("link: alarms acknowledged again after \(String(format: "%.1f", s)) s without ACKs (\(f.queueDepth) still pending)")
            }
            outageSince = nil
            lastAcked = f.alarmsAcked
            ackProgressAt = now
        } else if outageSince == nil, now &- ackProgressAt >= outageAfter {
            outageSince = now
            outages += 1
            log("link: \(f.queueDepth) alarm event\(f.queueDepth == 1 ? "" : "s") unacknowledged for \(String(format: "%.1f", Double(now &- ackProgressAt) / 1e9)) s; is the PC receiver running? (re-sending with backoff)")
        }
    }
}

/// One counter's last logged value and time.
private struct Tally {
    var logged: UInt64 = 0
    var at: UInt64 = 0
    /// The increase since the last log line, if there is one and the interval has passed.
    mutating func due(_ value: UInt64, now: UInt64, interval: UInt64) -> UInt64? {
        guard value > logged, at == 0 || now &- at >= interval else { return nil }
        defer { logged = value; at = now }
        return value - logged
    }
}
