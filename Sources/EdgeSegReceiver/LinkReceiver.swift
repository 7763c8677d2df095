#if canImport(Glibc)
import Glibc
#endif
import EdgeSegLink
import Foundation

public struct ReceiverCounters: Sendable, Equatable {
    public var messages: UInt64 = 0          // everything that arrived, valid or not
    public var accepted: UInt64 = 0
    public var rejected = RejectCounters()
    public var gaps: UInt64 = 0              // gap events
    public var missing: UInt64 = 0           // sequence numbers skipped (minus late arrivals)
    public var late: UInt64 = 0
    public var sessions: UInt64 = 0
    public var hellos: UInt64 = 0
    public var heartbeats: UInt64 = 0
    public var detections: UInt64 = 0
    public var alarmsNew: UInt64 = 0
    public var alarmsDuplicate: UInt64 = 0
    public var acksSent: UInt64 = 0
    public var ackSendErrors: UInt64 = 0
    public var storeErrors: UInt64 = 0
    public var masks: UInt64 = 0
    public var maskSaveErrors: UInt64 = 0
    public init() {}
}

/// Where ACKs go: back to the datagram's source, or down the serial line.
public enum ReplyPath {
    case udp(UDPSocket)
    case serial(SerialPort)
}

/// Receiver logic, independent of threads: feed it transport input, it verifies, detects
/// gaps and replays, stores alarms durably, acknowledges them, and reports events.
public final class LinkReceiver {
    public struct Options {
        public var authenticator: MessageAuthenticator?
        public var masksDirectory: String?
        /// A board is reported silent after this many heartbeat intervals without a message.
        public var silenceIntervals: UInt64 = 3
        public init(authenticator: MessageAuthenticator? = nil, masksDirectory: String? = nil) {
            self.authenticator = authenticator; self.masksDirectory = masksDirectory
        }
    }

    struct Board {
        var session: BoardSession
        var lastSeenNanos: UInt64
        var heartbeatNanos: UInt64 = 1_000_000_000
        var silentReported = false
        var lastOverflows: UInt32 = 0
    }

    public let options: Options
    public let store: AlarmStore
    public private(set) var counters = ReceiverCounters()
    public var onEvent: (ReceivedEvent) -> Void
    private var boards: [UInt32: Board] = [:]
    private let reassembler = MaskReassembler()
    private let ackBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Wire.maxMessageSize, alignment: 8)
    private let frameScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Wire.maxMessageSize + 4, alignment: 8)
    private let frameBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Wire.maxSerialFrame + 1, alignment: 8)
    private var ackSequence: UInt32 = 1

    public init(options: Options, store: AlarmStore, onEvent: @escaping (ReceivedEvent) -> Void) {
        self.options = options; self.store = store; self.onEvent = onEvent
    }
    deinit { ackBuffer.deallocate(); frameScratch.deallocate(); frameBuffer.deallocate() }

    public var maskCounters: MaskReassembler.Counters { reassembler.counters }

    /// Handles one transport input; ACKs are sent through `reply`.
    public func handle(_ input: TransportInput, reply: ReplyPath, now: UInt64) {
        counters.messages += 1
        switch input {
        case .rejected(let r): reject(r, from: nil)
        case .message(let bytes, let from): handleMessage(bytes, from: from, reply: reply, now: now)
        }
    }

    private func reject(_ r: RejectReason, from: IPv4Endpoint?) {
        counters.rejected.count(r)
        onEvent(.rejected(r, from: from?.description))
    }

    private func handleMessage(_ bytes: UnsafeRawBufferPointer, from: IPv4Endpoint?, reply: ReplyPath, now: UInt64) {
        let m: FramedMessage
        switch parseFrame(bytes) {
        case .failure(let r): return reject(r, from: from)
        case .success(let f): m = f
        }
        if let r = authenticate(m, options.authenticator) { return reject(r, from: from) }
        // ACKs travel board-ward only.
        guard m.header.type != .ack else { return reject(.unknownType, from: from) }
        guard let body = parseBody(m.header.type, m.payload) else { return reject(.badPayload, from: from) }

        let h = m.header
        var board = boards[h.boardId] ?? Board(session: BoardSession(sessionId: h.sessionId), lastSeenNanos: now)
        let isFirst = boards[h.boardId] == nil
        let verdict = board.session.check(session: h.sessionId, sequence: h.sequence)
        switch verdict {
        case .rejected(let r):
            boards[h.boardId] = board
            return reject(r, from: from)
        case .accepted(let seqVerdict, let newSession, let previous):
            if isFirst || newSession {
                counters.sessions += 1
                board.lastOverflows = 0
                onEvent(.sessionStarted(board: h.boardId, session: h.sessionId, previous: isFirst ? nil : previous))
            }
            switch seqVerdict {
            case .fresh(let missing) where missing > 0:
                counters.gaps += 1
                counters.missing += UInt64(missing)
                onEvent(.gap(board: h.boardId, session: h.sessionId, from: h.sequence - missing, to: h.sequence - 1))
            case .late:
                counters.late += 1
                if counters.missing > 0 { counters.missing -= 1 }
            default: break
            }
        }
        board.lastSeenNanos = now
        board.silentReported = false
        counters.accepted += 1

        switch body {
        case .hello(let info):
            counters.hellos += 1
            if info.heartbeatIntervalMillis > 0 { board.heartbeatNanos = UInt64(info.heartbeatIntervalMillis) * 1_000_000 }
            boards[h.boardId] = board
            onEvent(.hello(board: h.boardId, session: h.sessionId, info))
        case .heartbeat(let s):
            counters.heartbeats += 1
            let newOverflows = s.alarmQueueOverflows &- board.lastOverflows
            board.lastOverflows = s.alarmQueueOverflows
            boards[h.boardId] = board
            onEvent(.heartbeat(board: h.boardId, session: h.sessionId, sequence: h.sequence, s))
            if newOverflows > 0 && newOverflows < 0x8000_0000 {
                onEvent(.alarmQueueOverflow(board: h.boardId, session: h.sessionId, total: s.alarmQueueOverflows, new: newOverflows))
            }
        case .detections(let d):
            counters.detections += 1
            boards[h.boardId] = board
            onEvent(.detections(board: h.boardId, session: h.sessionId, sequence: h.sequence, d))
        case .alarm(let e, let attempt):
            boards[h.boardId] = board
            let isNew: Bool
            do {
                isNew = try store.record(boardId: h.boardId, sessionId: h.sessionId, sequence: h.sequence,
                                         boardTimeMicros: h.timestampMicros, event: e)
            } catch {
                // Not stored, so not acknowledged: the board keeps the alarm and resends it.
                counters.storeErrors += 1
                onEvent(.storeFailed(board: h.boardId, "\(error)"))
                return
            }
            if isNew { counters.alarmsNew += 1 } else { counters.alarmsDuplicate += 1 }
            sendAck(for: h, AckInfo(alarmId: e.alarmId, revision: e.revision, ackedSequence: h.sequence), to: from, reply: reply, now: now)
            onEvent(.alarm(board: h.boardId, session: h.sessionId, sequence: h.sequence, e, attempt: attempt, duplicate: !isNew))
        case .mask(let f):
            boards[h.boardId] = board
            if let mask = reassembler.add(f, boardId: h.boardId, sessionId: h.sessionId) {
                counters.masks += 1
                var saved: String? = nil
                if let dir = options.masksDirectory {
                    let path = "\(dir)/board\(h.boardId)_s\(String(h.sessionId, radix: 16))_f\(mask.frameId).png"
                    let png = PNG.encodeMask(width: mask.width, height: mask.height, pixels: mask.pixels)
                    if FileManager.default.createFile(atPath: path, contents: Data(png)) { saved = path }
                    else { counters.maskSaveErrors += 1 }
                }
                onEvent(.mask(board: h.boardId, session: h.sessionId, frameId: mask.frameId, width: mask.width,
                              height: mask.height, pixels: mask.pixels, savedTo: saved))
            }
        case .ack:
            break  // rejected above
        }
    }

    private func sendAck(for h: MessageHeader, _ ack: AckInfo, to: IPv4Endpoint?, reply: ReplyPath, now: UInt64) {
        let header = MessageHeader(type: .ack, boardId: h.boardId, sessionId: h.sessionId, sequence: ackSequence,
                                   timestampMicros: now / 1000)
        guard let n = encodeMessage(header, authenticator: options.authenticator, into: ackBuffer, body: { writeAck(&$0, ack) })
        else { counters.ackSendErrors += 1; return }
        ackSequence &+= 1
        let msg = UnsafeRawBufferPointer(rebasing: ackBuffer[0..<n])
        var ok = false
        switch reply {
        case .udp(let socket):
            if let to { ok = socket.send(msg, to: to) == n }
        case .serial(let port):
            frameBuffer[0] = 0
            if let len = encodeSerialFrame(msg, scratch: frameScratch,
                                           into: UnsafeMutableRawBufferPointer(rebasing: frameBuffer[1...])) {
                // Non-blocking; a short write leaves a broken frame the board's CRC rejects,
                // and the board simply resends the alarm.
                ok = write(port.fd, frameBuffer.baseAddress, len + 1) == len + 1
            }
        }
        if ok { counters.acksSent += 1 } else { counters.ackSendErrors += 1 }
    }

    /// Reports boards that went quiet for `silenceIntervals` heartbeat intervals (once each).
    public func checkSilence(now: UInt64) {
        for (id, var b) in boards where !b.silentReported {
            let quiet = now &- b.lastSeenNanos
            if quiet > b.heartbeatNanos * options.silenceIntervals {
                b.silentReported = true
                boards[id] = b
                onEvent(.boardSilent(board: id, session: b.session.sessionId, silentMillis: quiet / 1_000_000))
            }
        }
    }
}
