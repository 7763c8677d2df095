import Crypto

// Encoding and decoding of whole messages: header, payload, optional HMAC tag.

/// Authenticates messages with HMAC-SHA256 over header + payload.
public struct MessageAuthenticator: @unchecked Sendable {
    // The keyed state (inner/outer pads) is computed once; each message copies it.
    private let keyed: HMAC<SHA256>
    public init(key: SymmetricKey) { keyed = HMAC<SHA256>(key: key) }
    public init(keyBytes: [UInt8]) { self.init(key: SymmetricKey(data: keyBytes)) }

    /// Writes the 32-byte tag of `message` to `tag`.
    public func sign(_ message: UnsafeRawBufferPointer, tag: UnsafeMutableRawPointer) {
        var h = keyed
        h.update(data: message)
        let mac = h.finalize()
        mac.withUnsafeBytes { tag.copyMemory(from: $0.baseAddress!, byteCount: Wire.tagSize) }
    }

    /// Constant-time comparison of the tag carried after `message`.
    public func verify(_ message: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer) -> Bool {
        guard tag.count == Wire.tagSize else { return false }
        var h = keyed
        h.update(data: message)
        let mac = h.finalize()
        return mac.withUnsafeBytes { m -> Bool in
            var diff: UInt8 = 0
            for i in 0..<Wire.tagSize { diff |= m[i] ^ tag[i] }
            return diff == 0
        }
    }
}

/// Board-side message builder: owns the sequence counter and one preallocated message buffer.
/// `encode` returns a view into that buffer, valid until the next call.
public struct MessageEncoder {
    public let boardId: UInt32
    public let sessionId: UInt32
    public private(set) var nextSequence: UInt32
    public let authenticator: MessageAuthenticator?
    private let buffer: UnsafeMutableRawBufferPointer

    public init(boardId: UInt32, sessionId: UInt32, firstSequence: UInt32 = 1, authenticator: MessageAuthenticator?) {
        self.boardId = boardId; self.sessionId = sessionId; self.nextSequence = firstSequence
        self.authenticator = authenticator
        buffer = .allocate(byteCount: Wire.maxMessageSize, alignment: 8)
    }

    /// Buffers are owned by the value that created them; call once when done with it.
    public func deallocate() { buffer.deallocate() }

    /// Maximum payload bytes for this encoder (less when a tag is appended).
    public var maxPayload: Int { Wire.maxMessageSize - Wire.headerSize - (authenticator == nil ? 0 : Wire.tagSize) }

    /// Builds one message; `body` writes the payload. Returns nil (and consumes no sequence
    /// number) if the payload does not fit.
    public mutating func encode(_ type: MessageType, timestampMicros: UInt64,
                                body: (inout WireWriter) -> Void) -> (bytes: UnsafeRawBufferPointer, sequence: UInt32)? {
        let seq = nextSequence
        let limit = Wire.headerSize + maxPayload
        var w = WireWriter(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<limit]))
        writeHeader(&w, MessageHeader(type: type, flags: authenticator == nil ? [] : .hmac, payloadLength: 0,
                                      boardId: boardId, sessionId: sessionId, sequence: seq,
                                      timestampMicros: timestampMicros))
        body(&w)
        guard !w.overflowed else { return nil }
        let payloadLength = w.count - Wire.headerSize
        w.patchU16(at: 6, UInt16(payloadLength))
        var total = w.count
        if let auth = authenticator {
            auth.sign(UnsafeRawBufferPointer(start: buffer.baseAddress, count: total), tag: buffer.baseAddress! + total)
            total += Wire.tagSize
        }
        nextSequence &+= 1
        return (UnsafeRawBufferPointer(start: buffer.baseAddress, count: total), seq)
    }
}

public func writeHeader(_ w: inout WireWriter, _ h: MessageHeader) {
    w.u8(Wire.magic0); w.u8(Wire.magic1); w.u8(Wire.version); w.u8(h.type.rawValue)
    w.u8(h.flags.rawValue); w.u8(0); w.u16(h.payloadLength)
    w.u32(h.boardId); w.u32(h.sessionId); w.u32(h.sequence); w.u64(h.timestampMicros)
}

/// Builds a complete message in one call (receiver side: ACKs; tests: golden bytes).
public func encodeMessage(_ header: MessageHeader, authenticator: MessageAuthenticator?,
                          into out: UnsafeMutableRawBufferPointer, body: (inout WireWriter) -> Void) -> Int? {
    var h = header
    h.flags = authenticator == nil ? [] : .hmac
    let limit = min(out.count, Wire.maxMessageSize - (authenticator == nil ? 0 : Wire.tagSize))
    var w = WireWriter(UnsafeMutableRawBufferPointer(rebasing: out[0..<limit]))
    writeHeader(&w, h)
    body(&w)
    guard !w.overflowed else { return nil }
    w.patchU16(at: 6, UInt16(w.count - Wire.headerSize))
    var total = w.count
    if let auth = authenticator {
        guard total + Wire.tagSize <= out.count else { return nil }
        auth.sign(UnsafeRawBufferPointer(start: out.baseAddress, count: total), tag: out.baseAddress! + total)
        total += Wire.tagSize
    }
    return total
}

// MARK: payload writers (layouts in docs/protocol.md)

public func writeHello(_ w: inout WireWriter, _ h: HelloInfo) {
    w.u32(h.heartbeatIntervalMillis); w.u16(h.maskWidth); w.u16(h.maskHeight); w.u8(h.classCount)
    // Cut at a character boundary: never leave half a UTF-8 sequence. (HELLO is rare, so
    // the temporary array is acceptable.)
    let utf8 = Array(h.name.utf8)
    var n = min(utf8.count, Wire.maxNameBytes)
    while n > 0, n < utf8.count, utf8[n] & 0xC0 == 0x80 { n -= 1 }
    w.u8(UInt8(n))
    for i in 0..<n { w.u8(utf8[i]) }
}

public func writeHeartbeat(_ w: inout WireWriter, _ s: HeartbeatStats) {
    w.u64(s.uptimeMillis); w.f32(s.fps); w.u32(s.framesProcessed); w.u32(s.framesDropped)
    w.i16(s.temperatureCentiC); w.u16(s.alarmQueueDepth); w.u32(s.alarmQueueOverflows)
    w.u32(s.alarmRetransmissions); w.u32(s.sendErrors); w.u32(s.captureErrors); w.u32(s.decodeErrors)
    w.u32(s.inferenceOverruns); w.u32(s.rxRejected)
    let n = min(s.latencies.count, Wire.maxLatencyStages)
    w.u8(UInt8(n)); w.zeros(3)
    for i in 0..<n {
        let l = s.latencies[i]
        w.u8(l.stage); w.u32(l.p50Micros); w.u32(l.p99Micros); w.u32(l.maxMicros)
    }
}

public let heartbeatFixedSize = 52
public let stageLatencySize = 13
public let detectionsFixedSize = 20
public let defectRecordSize = 32
public let maskFragmentFixedSize = 20
public let alarmPayloadSize = 64
public let alarmSnapshotSize = 24
public let ackPayloadSize = 12
public let helloFixedSize = 10

public func writeDefect(_ w: inout WireWriter, _ d: DefectRecord) {
    w.u8(d.classId); w.u8(d.areaMm2.isNaN ? 0 : 1); w.u16(0)
    w.u32(d.areaPixels); w.f32(d.areaMm2)
    writeBox(&w, d.box)
    w.f32(d.centroidX); w.f32(d.centroidY); w.f32(d.meanConfidence)
}

public func writeDetectionsHeader(_ w: inout WireWriter, frameId: UInt32, captureTimestampMicros: UInt64,
                                  totalDefects: UInt16, firstIndex: UInt16, count: UInt8) {
    w.u32(frameId); w.u64(captureTimestampMicros); w.u16(totalDefects); w.u16(firstIndex); w.u8(count); w.zeros(3)
}

public func writeBox(_ w: inout WireWriter, _ b: BoxU16) { w.u16(b.x); w.u16(b.y); w.u16(b.width); w.u16(b.height) }

public func writeSnapshot(_ w: inout WireWriter, _ s: AlarmSnapshot) {
    w.u8(s.active ? 1 : 0); w.u8(s.severity); w.u16(0)
    w.u32(s.areaPixels); w.f32(s.areaMm2); w.f32(s.confidence); writeBox(&w, s.box)
}

public func writeAlarm(_ w: inout WireWriter, _ e: AlarmEvent, attempt: UInt16) {
    w.u32(e.alarmId); w.u16(e.revision); w.u8(e.kind.rawValue); w.u8(e.classId)
    w.u32(e.frameId); w.u16(attempt); w.u16(0)
    writeSnapshot(&w, e.before); writeSnapshot(&w, e.after)
}

public func writeAck(_ w: inout WireWriter, _ a: AckInfo) {
    w.u32(a.alarmId); w.u16(a.revision); w.u16(0); w.u32(a.ackedSequence)
}

public func writeMaskFragmentHeader(_ w: inout WireWriter, frameId: UInt32, width: UInt16, height: UInt16,
                                    classCount: UInt8, index: UInt16, count: UInt16, chunkSize: UInt16,
                                    totalLength: UInt32) {
    w.u32(frameId); w.u16(width); w.u16(height); w.u8(Wire.maskEncodingRLE); w.u8(classCount)
    w.u16(index); w.u16(count); w.u16(chunkSize); w.u32(totalLength)
}

// MARK: decoding

/// A message whose framing is valid: header parsed, lengths consistent. Not yet authenticated.
public struct FramedMessage {
    public var header: MessageHeader
    public var payload: UnsafeRawBufferPointer
    /// Header + payload: what the tag covers.
    public var signed: UnsafeRawBufferPointer
    public var tag: UnsafeRawBufferPointer?
}

/// Checks magic, version, type, flags and lengths. Never reads outside `bytes`.
public func parseFrame(_ bytes: UnsafeRawBufferPointer) -> Result<FramedMessage, RejectReason> {
    if bytes.count > Wire.maxMessageSize { return .failure(.oversized) }
    if bytes.count < Wire.headerSize { return .failure(.truncated) }
    var r = WireReader(bytes)
    guard r.u8() == Wire.magic0, r.u8() == Wire.magic1 else { return .failure(.badMagic) }
    guard r.u8() == Wire.version else { return .failure(.badVersion) }
    guard let type = MessageType(rawValue: r.u8()) else { return .failure(.unknownType) }
    let flags = MessageFlags(rawValue: r.u8())
    let reserved = r.u8()
    guard flags.isSubset(of: .known), reserved == 0 else { return .failure(.badFlags) }
    let len = r.u16()
    let header = MessageHeader(type: type, flags: flags, payloadLength: len, boardId: r.u32(), sessionId: r.u32(),
                               sequence: r.u32(), timestampMicros: r.u64())
    let tagLen = flags.contains(.hmac) ? Wire.tagSize : 0
    let expected = Wire.headerSize + Int(len) + tagLen
    if bytes.count < expected { return .failure(.truncated) }
    if bytes.count > expected { return .failure(.oversized) }
    let signedEnd = Wire.headerSize + Int(len)
    return .success(FramedMessage(
        header: header,
        payload: UnsafeRawBufferPointer(rebasing: bytes[Wire.headerSize..<signedEnd]),
        signed: UnsafeRawBufferPointer(rebasing: bytes[0..<signedEnd]),
        tag: tagLen == 0 ? nil : UnsafeRawBufferPointer(rebasing: bytes[signedEnd..<expected])))
}

/// Checks the tag against the receiver's key policy: with a key every message must carry a
/// valid tag; without one, tagged messages are refused rather than accepted unverified.
public func authenticate(_ m: FramedMessage, _ auth: MessageAuthenticator?) -> RejectReason? {
    switch (auth, m.tag) {
    case (nil, nil): return nil
    case (nil, _?): return .unexpectedHMAC
    case (_?, nil): return .missingHMAC
    case (let a?, let t?): return a.verify(m.signed, tag: t) ? nil : .badHMAC
    }
}

public struct DetectionsBatch: Sendable, Equatable {
    public var frameId: UInt32
    public var captureTimestampMicros: UInt64
    public var totalDefects: UInt16
    public var firstIndex: UInt16
    public var defects: [DefectRecord]
}

public enum MessageBody {
    case hello(HelloInfo)
    case heartbeat(HeartbeatStats)
    case detections(DetectionsBatch)
    case mask(MaskFragment)
    case alarm(AlarmEvent, attempt: UInt16)
    case ack(AckInfo)
}

func readBox(_ r: inout WireReader) -> BoxU16 { BoxU16(x: r.u16(), y: r.u16(), width: r.u16(), height: r.u16()) }

func readSnapshot(_ r: inout WireReader) -> AlarmSnapshot? {
    let active = r.u8(); let severity = r.u8(); r.skip(2)
    guard active <= 1 else { return nil }
    return AlarmSnapshot(active: active == 1, severity: severity, areaPixels: r.u32(), areaMm2: r.f32(),
                         confidence: r.f32(), box: readBox(&r))
}

/// Parses a payload by type. nil means the payload is malformed (`badPayload`).
public func parseBody(_ type: MessageType, _ payload: UnsafeRawBufferPointer) -> MessageBody? {
    var r = WireReader(payload)
    switch type {
    case .hello:
        guard payload.count >= helloFixedSize else { return nil }
        let interval = r.u32(), w = r.u16(), h = r.u16(), classes = r.u8(), n = Int(r.u8())
        guard n <= Wire.maxNameBytes, r.remaining == n else { return nil }
        let name = String(decoding: r.slice(n), as: UTF8.self)
        return .hello(HelloInfo(heartbeatIntervalMillis: interval, maskWidth: w, maskHeight: h, classCount: classes, name: name))
    case .heartbeat:
        guard payload.count >= heartbeatFixedSize else { return nil }
        var s = HeartbeatStats()
        s.uptimeMillis = r.u64(); s.fps = r.f32(); s.framesProcessed = r.u32(); s.framesDropped = r.u32()
        s.temperatureCentiC = r.i16(); s.alarmQueueDepth = r.u16(); s.alarmQueueOverflows = r.u32()
        s.alarmRetransmissions = r.u32(); s.sendErrors = r.u32(); s.captureErrors = r.u32()
        s.decodeErrors = r.u32(); s.inferenceOverruns = r.u32(); s.rxRejected = r.u32()
        let n = Int(r.u8()); r.skip(3)
        guard n <= Wire.maxLatencyStages, r.remaining == n * stageLatencySize else { return nil }
        for _ in 0..<n {
            s.latencies.append(StageLatency(stage: r.u8(), p50Micros: r.u32(), p99Micros: r.u32(), maxMicros: r.u32()))
        }
        return r.failed ? nil : .heartbeat(s)
    case .detections:
        guard payload.count >= detectionsFixedSize else { return nil }
        let frame = r.u32(), ts = r.u64(), total = r.u16(), first = r.u16(), n = Int(r.u8()); r.skip(3)
        guard n <= Wire.maxDefectsPerMessage, r.remaining == n * defectRecordSize,
              Int(first) + n <= Int(total) else { return nil }
        var defects: [DefectRecord] = []
        defects.reserveCapacity(n)
        for _ in 0..<n {
            let cls = r.u8(), flags = r.u8(); r.skip(2)
            guard flags <= 1 else { return nil }
            let area = r.u32(), mm2 = r.f32(), box = readBox(&r)
            defects.append(DefectRecord(classId: cls, areaPixels: area, areaMm2: flags == 1 ? mm2 : .nan, box: box,
                                        centroidX: r.f32(), centroidY: r.f32(), meanConfidence: r.f32()))
        }
        return r.failed ? nil : .detections(DetectionsBatch(frameId: frame, captureTimestampMicros: ts,
                                                             totalDefects: total, firstIndex: first, defects: defects))
    case .mask:
        guard payload.count >= maskFragmentFixedSize else { return nil }
        var f = MaskFragment(frameId: r.u32(), width: r.u16(), height: r.u16(), encoding: r.u8(), classCount: r.u8(),
                             index: r.u16(), count: r.u16(), chunkSize: r.u16(), totalLength: r.u32(),
                             chunk: UnsafeRawBufferPointer(start: nil, count: 0))
        guard f.encoding == Wire.maskEncodingRLE, f.width > 0, f.height > 0, f.chunkSize > 0, f.count > 0,
              f.index < f.count, f.totalLength > 0 else { return nil }
        let size = Int(f.chunkSize), total = Int(f.totalLength)
        guard (total + size - 1) / size == Int(f.count) else { return nil }
        let offset = Int(f.index) * size
        guard r.remaining == min(size, total - offset) else { return nil }
        f.chunk = r.slice(r.remaining)
        return .mask(f)
    case .alarm:
        guard payload.count == alarmPayloadSize else { return nil }
        let id = r.u32(), rev = r.u16(), kindRaw = r.u8(), cls = r.u8(), frame = r.u32(), attempt = r.u16(); r.skip(2)
        guard let kind = AlarmKind(rawValue: kindRaw), let before = readSnapshot(&r), let after = readSnapshot(&r)
        else { return nil }
        return .alarm(AlarmEvent(alarmId: id, revision: rev, kind: kind, classId: cls, frameId: frame,
                                 before: before, after: after), attempt: attempt)
    case .ack:
        guard payload.count == ackPayloadSize else { return nil }
        let id = r.u32(), rev = r.u16(); r.skip(2)
        return .ack(AckInfo(alarmId: id, revision: rev, ackedSequence: r.u32()))
    }
}
