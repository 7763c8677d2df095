// Replay protection and gap detection on the receiving side (RFC 4303 §3.4.3 style window).

/// Sliding window over one session's sequence numbers: the highest seen plus a 64-bit map of
/// the 64 numbers below it.
public struct SequenceWindow: Sendable {
    public enum Verdict: Equatable, Sendable {
        /// Newer than anything seen; `missing` numbers were skipped (0 when contiguous).
        case fresh(missing: UInt32)
        /// Inside the window and not seen before: a reordered message filling an earlier gap.
        case late
        case replay
    }
    public static let width: UInt32 = 64
    public private(set) var highest: UInt32 = 0
    private var seen: UInt64 = 0  // bit i set: highest - i was seen
    private var started = false

    public init() {}

    public mutating func check(_ seq: UInt32) -> Verdict {
        guard started else { started = true; highest = seq; seen = 1; return .fresh(missing: 0) }
        if seq > highest {
            let shift = seq - highest
            seen = shift >= 64 ? 1 : (seen << UInt64(shift)) | 1
            highest = seq
            return .fresh(missing: shift - 1)
        }
        let back = highest - seq
        if back >= Self.width { return .replay }
        let bit: UInt64 = 1 << UInt64(back)
        if seen & bit != 0 { return .replay }
        seen |= bit
        return .late
    }
}

/// Per-board session state: current session, its window, and recently ended sessions
/// (a message from an ended session is a replay of old traffic, not a reboot).
public struct BoardSession: Sendable {
    public static let retiredCapacity = 8
    public private(set) var sessionId: UInt32
    public private(set) var window = SequenceWindow()
    public private(set) var retired: [UInt32] = []

    public init(sessionId: UInt32) { self.sessionId = sessionId }

    public enum Verdict: Equatable, Sendable {
        case accepted(SequenceWindow.Verdict, newSession: Bool, previousSession: UInt32?)
        case rejected(RejectReason)
    }

    /// Call only for authenticated messages: an unauthenticated forger could otherwise
    /// move the window or retire a live session.
    public mutating func check(session: UInt32, sequence: UInt32) -> Verdict {
        if session != sessionId {
            if retired.contains(session) { return .rejected(.staleSession) }
            let previous = sessionId
            retired.append(previous)
            if retired.count > Self.retiredCapacity { retired.removeFirst() }
            sessionId = session
            window = SequenceWindow()
            return .accepted(window.check(sequence), newSession: true, previousSession: previous)
        }
        let v = window.check(sequence)
        if v == .replay { return .rejected(.replayed) }
        return .accepted(v, newSession: false, previousSession: nil)
    }
}
