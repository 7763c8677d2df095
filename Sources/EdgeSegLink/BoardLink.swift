// Board side of the link. One instance per board, driven by the pipeline's link thread:
// call `poll(now:)` regularly (every few ms, or when `transport.fileDescriptor` is readable);
// BoardLink starts no threads and allocates nothing per message after init unless HMAC is on
// (swift-crypto's HMAC copies its keyed state per message; see docs/protocol.md).

public struct LinkConfig: Sendable {
    public var boardId: UInt32
    /// Random per boot so the PC can tell a reboot from a replay (see docs/protocol.md).
    public var sessionId: UInt32 = UInt32.random(in: 1...UInt32.max)
    public var hello = HelloInfo(heartbeatIntervalMillis: 1000, maskWidth: 0, maskHeight: 0, classCount: 3, name: "edgeseg")
    public var heartbeatIntervalNanos: UInt64 = 1_000_000_000
    public var alarmQueueCapacity = 32
    public var retryInitialNanos: UInt64 = 100_000_000
    public var retryMaxNanos: UInt64 = 5_000_000_000
    /// At most one mask per interval; masks are never needed for alarm delivery.
    public var maskMinIntervalNanos: UInt64 = 1_000_000_000
    public var maxMaskPixels = 512 * 512
    public var authenticator: MessageAuthenticator?

    public init(boardId: UInt32) { self.boardId = boardId }
}

public struct BoardLinkCounters: Sendable, Equatable {
    public var messagesSent: UInt64 = 0
    public var sendErrors: UInt64 = 0
    public var alarmsQueued: UInt64 = 0
    public var alarmsAcked: UInt64 = 0
    public var alarmRetransmissions: UInt64 = 0
    public var alarmQueueOverflows: UInt64 = 0
    public var acksForUnknownAlarms: UInt64 = 0
    public var heartbeatsSent: UInt64 = 0
    public var masksSent: UInt64 = 0
    public var maskFragmentsSent: UInt64 = 0
    public var masksRateLimited: UInt64 = 0
    public var masksTooLarge: UInt64 = 0
    public var rxRejected = RejectCounters()
}

/// Bounded set of unacknowledged alarm events, each with its own retry timer.
struct AlarmRetryQueue {
    struct Entry {
        var used = false
        var event = AlarmEvent(alarmId: 0, revision: 0, kind: .raised, classId: 0, frameId: 0,
                               before: AlarmSnapshot(), after: AlarmSnapshot())
        var order: UInt64 = 0
        var dueNanos: UInt64 = 0
        var backoffNanos: UInt64 = 0
        var attempts: UInt16 = 0
    }
    var entries: [Entry]
    var depth = 0
    var nextOrder: UInt64 = 0

    init(capacity: Int) { entries = [Entry](repeating: Entry(), count: capacity) }

    mutating func insert(_ e: AlarmEvent, due: UInt64, backoff: UInt64) -> Int? {
        guard let i = entries.firstIndex(where: { !$0.used }) else { return nil }
        entries[i] = Entry(used: true, event: e, order: nextOrder, dueNanos: due, backoffNanos: backoff, attempts: 0)
        nextOrder += 1
        depth += 1
        return i
    }

    mutating func remove(alarmId: UInt32, revision: UInt16) -> Bool {
        for i in entries.indices where entries[i].used && entries[i].event.alarmId == alarmId
            && entries[i].event.revision == revision {
            entries[i].used = false
            depth -= 1
            return true
        }
        return false
    }

    /// Oldest entry due at `now`, so retransmissions keep the order alarms were raised in.
    func nextDue(_ now: UInt64) -> Int? {
        var best: Int? = nil
        for i in entries.indices where entries[i].used && entries[i].dueNanos <= now {
            if best == nil || entries[i].order < entries[best!].order { best = i }
        }
        return best
    }
}

public enum MaskSendResult: Equatable, Sendable {
    case sent(fragments: Int)
    case rateLimited
    case tooLarge
    case sendFailed
}

public final class BoardLink<Transport: LinkTransport> {
    public let config: LinkConfig
    public var transport: Transport
    /// Pipeline-owned figures (fps, drops, latencies, faults). BoardLink overwrites uptime,
    /// queue depth/overflows, retransmissions, send errors and rxRejected when it sends.
    public var stats = HeartbeatStats()
    public private(set) var counters = BoardLinkCounters()

    private var encoder: MessageEncoder
    private var queue: AlarmRetryQueue
    private let startNanos: UInt64
    private var nextHeartbeatNanos: UInt64
    private var lastMaskNanos: UInt64? = nil
    private let rle: UnsafeMutableRawBufferPointer

    public init(config: LinkConfig, transport: Transport, now: UInt64) {
        self.config = config
        self.transport = transport
        encoder = MessageEncoder(boardId: config.boardId, sessionId: config.sessionId, authenticator: config.authenticator)
        queue = AlarmRetryQueue(capacity: config.alarmQueueCapacity)
        startNanos = now
        nextHeartbeatNanos = now
        rle = .allocate(byteCount: MaskRLE.maxEncodedSize(pixels: config.maxMaskPixels), alignment: 8)
        stats.latencies.reserveCapacity(Wire.maxLatencyStages)
    }
    deinit { encoder.deallocate(); rle.deallocate() }

    public var sessionId: UInt32 { config.sessionId }
    public var alarmQueueDepth: Int { queue.depth }
    public var nextSequence: UInt32 { encoder.nextSequence }

    @discardableResult
    private func emit(_ type: MessageType, now: UInt64, _ body: (inout WireWriter) -> Void) -> UInt32? {
        guard let (bytes, seq) = encoder.encode(type, timestampMicros: now / 1000, body: body) else {
            counters.sendErrors += 1; return nil
        }
        guard transport.send(bytes) else { counters.sendErrors += 1; return nil }
        counters.messagesSent += 1
        return seq
    }

    /// HELLO, then a heartbeat. Call once the transport is ready (and again after a reconnect).
    public func start(now: UInt64) {
        let hello = config.hello
        emit(.hello, now: now) { writeHello(&$0, hello) }
        sendHeartbeat(now: now)
    }

    public func sendHeartbeat(now: UInt64) {
        stats.uptimeMillis = (now &- startNanos) / 1_000_000
        stats.alarmQueueDepth = UInt16(clamping: queue.depth)
        stats.alarmQueueOverflows = UInt32(truncatingIfNeeded: counters.alarmQueueOverflows)
        stats.alarmRetransmissions = UInt32(truncatingIfNeeded: counters.alarmRetransmissions)
        stats.sendErrors = UInt32(truncatingIfNeeded: counters.sendErrors)
        stats.rxRejected = UInt32(truncatingIfNeeded: counters.rxRejected.total)
        let s = stats
        if emit(.heartbeat, now: now, { writeHeartbeat(&$0, s) }) != nil { counters.heartbeatsSent += 1 }
        nextHeartbeatNanos = now + config.heartbeatIntervalNanos
    }

    /// Sends one frame's defects (several messages if more than `Wire.maxDefectsPerMessage`).
    @discardableResult
    public func sendDetections(frameId: UInt32, captureTimestampMicros: UInt64,
                               defects: UnsafeBufferPointer<DefectRecord>, now: UInt64) -> Bool {
        let total = min(defects.count, Int(UInt16.max))
        var first = 0
        var ok = true
        repeat {
            let n = min(Wire.maxDefectsPerMessage, total - first)
            let start = first
            let sent = emit(.detections, now: now) { w in
                writeDetectionsHeader(&w, frameId: frameId, captureTimestampMicros: captureTimestampMicros,
                                      totalDefects: UInt16(total), firstIndex: UInt16(start), count: UInt8(n))
                for i in start..<(start + n) { writeDefect(&w, defects[i]) }
            }
            ok = ok && sent != nil
            first += n
        } while first < total
        return ok
    }

    /// Queues an alarm event and sends it at once. Returns false if the queue is full: the
    /// event is not queued, the overflow is counted and a heartbeat reporting it goes out now.
    @discardableResult
    public func raiseAlarm(_ event: AlarmEvent, now: UInt64) -> Bool {
        guard let i = queue.insert(event, due: now, backoff: config.retryInitialNanos) else {
            counters.alarmQueueOverflows += 1
            sendHeartbeat(now: now)
            return false
        }
        counters.alarmsQueued += 1
        transmitAlarm(at: i, now: now)
        return true
    }

    private func transmitAlarm(at i: Int, now: UInt64) {
        let e = queue.entries[i].event, attempt = queue.entries[i].attempts
        if attempt > 0 { counters.alarmRetransmissions += 1 }
        emit(.alarm, now: now) { writeAlarm(&$0, e, attempt: attempt) }
        // Whether or not the OS took it, try again after the backoff: an unsent alarm is
        // just an alarm whose ACK has not come yet.
        queue.entries[i].attempts &+= 1
        queue.entries[i].dueNanos = now + queue.entries[i].backoffNanos
        queue.entries[i].backoffNanos = min(queue.entries[i].backoffNanos * 2, config.retryMaxNanos)
    }

    /// Run-length encodes `pixels` (row-major class ids) and sends it as MASK fragments, at
    /// most once per `maskMinIntervalNanos`.
    public func sendMask(frameId: UInt32, width: Int, height: Int, classCount: UInt8,
                         pixels: UnsafeBufferPointer<UInt8>, now: UInt64) -> MaskSendResult {
        if let last = lastMaskNanos, now &- last < config.maskMinIntervalNanos {
            counters.masksRateLimited += 1; return .rateLimited
        }
        guard width > 0, height > 0, width <= Int(UInt16.max), height <= Int(UInt16.max),
              pixels.count == width * height, pixels.count <= config.maxMaskPixels,
              let total = MaskRLE.encode(pixels, into: rle)
        else { counters.masksTooLarge += 1; return .tooLarge }
        lastMaskNanos = now
        let chunk = Wire.maskChunkSize
        let count = (total + chunk - 1) / chunk
        guard count <= Int(UInt16.max) else { counters.masksTooLarge += 1; return .tooLarge }
        for index in 0..<count {
            let off = index * chunk
            let piece = UnsafeRawBufferPointer(rebasing: rle[off..<min(total, off + chunk)])
            let sent = emit(.mask, now: now) { w in
                writeMaskFragmentHeader(&w, frameId: frameId, width: UInt16(width), height: UInt16(height),
                                        classCount: classCount, index: UInt16(index), count: UInt16(count),
                                        chunkSize: UInt16(chunk), totalLength: UInt32(total))
                w.bytes(piece)
            }
            if sent == nil { return .sendFailed }
            counters.maskFragmentsSent += 1
        }
        counters.masksSent += 1
        return .sent(fragments: count)
    }

    /// Reads ACKs, retransmits due alarms, sends the heartbeat when due, drains serial output.
    public func poll(now: UInt64) {
        transport.receive { input in
            switch input {
            case .rejected(let r): counters.rxRejected.count(r)
            case .message(let bytes, _): handleIncoming(bytes)
            }
        }
        while let i = queue.nextDue(now) { transmitAlarm(at: i, now: now) }
        if now >= nextHeartbeatNanos { sendHeartbeat(now: now) }
        transport.flush()
    }

    /// Earliest time poll has work to do (for the link thread's sleep).
    public func nextDeadline() -> UInt64 {
        var t = nextHeartbeatNanos
        for e in queue.entries where e.used { t = min(t, e.dueNanos) }
        return t
    }

    private func handleIncoming(_ bytes: UnsafeRawBufferPointer) {
        let m: FramedMessage
        switch parseFrame(bytes) {
        case .failure(let r): counters.rxRejected.count(r); return
        case .success(let f): m = f
        }
        if let r = authenticate(m, config.authenticator) { counters.rxRejected.count(r); return }
        // ACKs are bound to this board and this boot; replaying one can only repeat an
        // acknowledgement already given, so no sequence window is kept on this side.
        guard m.header.type == .ack else { counters.rxRejected.count(.unknownType); return }
        guard m.header.boardId == config.boardId else { counters.rxRejected.count(.wrongBoard); return }
        guard m.header.sessionId == config.sessionId else { counters.rxRejected.count(.wrongSession); return }
        guard case .ack(let a)? = parseBody(.ack, m.payload) else { counters.rxRejected.count(.badPayload); return }
        if queue.remove(alarmId: a.alarmId, revision: a.revision) { counters.alarmsAcked += 1 }
        else { counters.acksForUnknownAlarms += 1 }
    }
}
