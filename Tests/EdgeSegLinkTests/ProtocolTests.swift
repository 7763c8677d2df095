import EdgeSegLink
import EdgeSegReceiver
import Foundation
import Testing

// Wire format: round trips, golden bytes shared with the Python decoder, CRC/COBS/RLE vectors.

func decode(_ bytes: [UInt8], auth: MessageAuthenticator? = nil) -> Result<(MessageHeader, MessageBody), RejectReason> {
    bytes.withUnsafeBytes { raw in
        switch parseFrame(raw) {
        case .failure(let r): return .failure(r)
        case .success(let m):
            if let r = authenticate(m, auth) { return .failure(r) }
            guard let body = parseBody(m.header.type, m.payload) else { return .failure(.badPayload) }
            if case .mask(var f) = body {  // copy the chunk out of the temporary buffer
                let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: f.chunk.count, alignment: 1)
                copy.copyMemory(from: f.chunk)
                f.chunk = UnsafeRawBufferPointer(copy)
                return .success((m.header, .mask(f)))
            }
            return .success((m.header, body))
        }
    }
}

/// The golden message set. Board 0x01020304, session 0xA1B2C3D4, fixed times.
func goldenMessages(signed: Bool) -> [String: [[UInt8]]] {
    var config = LinkConfig(boardId: 0x0102_0304)
    config.sessionId = 0xA1B2_C3D4
    config.hello = HelloInfo(heartbeatIntervalMillis: 1000, maskWidth: UInt16(goldenMaskWidth), maskHeight: UInt16(goldenMaskHeight), classCount: 3, name: "rope-cam-1")
    if signed { config.authenticator = MessageAuthenticator(keyBytes: goldenKey) }
    let link = BoardLink(config: config, transport: RecordingTransport(), now: 5_000_000_000)
    var out: [String: [[UInt8]]] = [:]
    func take(_ name: String, _ f: () -> Void) {
        let before = link.transport.sent.count
        f()
        out[name] = Array(link.transport.sent[before...])
    }
    link.stats = sampleHeartbeat()
    take("hello") {
        link.start(now: 5_250_000_000)  // HELLO + heartbeat
    }
    out["heartbeat"] = [out["hello"]![1]]
    out["hello"] = [out["hello"]![0]]
    take("detections") {
        sampleDefects().withUnsafeBufferPointer {
            _ = link.sendDetections(frameId: 77, captureTimestampMicros: 5_200_000, defects: $0, now: 5_260_000_000)
        }
    }
    take("alarm") { link.raiseAlarm(sampleAlarm(9), now: 5_270_000_000) }
    take("mask") {
        let px = goldenMaskPixels(width: goldenMaskWidth, height: goldenMaskHeight)
        _ = px.withUnsafeBufferPointer {
            link.sendMask(frameId: 77, width: goldenMaskWidth, height: goldenMaskHeight, classCount: 3, pixels: $0, now: 5_280_000_000)
        }
    }
    // An ACK as the receiver would send it.
    var ack = [UInt8](repeating: 0, count: Wire.maxMessageSize)
    let n = ack.withUnsafeMutableBytes { buf in
        encodeMessage(MessageHeader(type: .ack, boardId: 0x0102_0304, sessionId: 0xA1B2_C3D4, sequence: 1,
                                    timestampMicros: 1_700_000_000_000_000),
                      authenticator: signed ? MessageAuthenticator(keyBytes: goldenKey) : nil, into: buf) {
            writeAck(&$0, AckInfo(alarmId: 9, revision: 0, ackedSequence: 4))
        }!
    }
    out["ack"] = [Array(ack[0..<n])]
    return out
}

/// Stream file: each message as u16 little-endian length + bytes.
func streamFile(_ messages: [[UInt8]]) -> [UInt8] {
    messages.flatMap { m in [UInt8(m.count & 0xFF), UInt8(m.count >> 8)] + m }
}

func goldenSerialStream() -> [UInt8] {
    let msgs = goldenMessages(signed: false)
    func frame(_ m: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Wire.maxSerialFrame + 1)
        var scratch = [UInt8](repeating: 0, count: m.count + 4)
        let n = m.withUnsafeBytes { src in
            scratch.withUnsafeMutableBytes { s in out.withUnsafeMutableBytes { encodeSerialFrame(src, scratch: s, into: $0)! } }
        }
        return [0] + Array(out[0..<n])  // leading delimiter, as SerialTransport sends
    }
    var corrupted = frame(msgs["alarm"]![0])
    corrupted[11] ^= 0x04  // one bit flip: CRC must reject it
    if corrupted[11] == 0 { corrupted[11] = 0x55 }
    // garbage, hello, flipped alarm, alarm, garbage without delimiter, heartbeat
    return [0x13, 0x37, 0xFF, 0x00] + frame(msgs["hello"]![0]) + corrupted + frame(msgs["alarm"]![0])
        + [0xAA, 0xBB, 0xCC] + frame(msgs["heartbeat"]![0])
}

@Suite struct ProtocolTests {
    @Test func crcCheckValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func cobsRoundTripsIncludingBlockBoundaries() {
        var rng = SeededRandom(seed: 7)
        for len in [0, 1, 2, 253, 254, 255, 256, 508, 509, 1000, 1204] {
            for zeroEvery in [0, 1, 3, 300] {
                let src = (0..<len).map { i -> UInt8 in zeroEvery > 0 && i % zeroEvery == 0 ? 0 : UInt8.random(in: 1...255, using: &rng) }
                var enc = [UInt8](repeating: 0, count: COBS.maxEncodedSize(len))
                let n = src.withUnsafeBytes { s in enc.withUnsafeMutableBytes { COBS.encode(s, into: $0)! } }
                #expect(!enc[0..<n].contains(0))
                var dec = Array(enc[0..<n])
                let m = dec.withUnsafeMutableBytes { COBS.decodeInPlace($0) }
                #expect(m == len)
                #expect(Array(dec[0..<(m ?? 0)]) == src)
            }
        }
    }

    @Test func rleRoundTripAndRejectsBadStreams() {
        let px = goldenMaskPixels(width: goldenMaskWidth, height: goldenMaskHeight)
        var enc = [UInt8](repeating: 0, count: MaskRLE.maxEncodedSize(pixels: px.count))
        let n = px.withUnsafeBufferPointer { p in enc.withUnsafeMutableBytes { MaskRLE.encode(p, into: $0)! } }
        var back = [UInt8](repeating: 9, count: px.count)
        let err = enc.withUnsafeBytes { e in back.withUnsafeMutableBufferPointer {
            MaskRLE.decode(UnsafeRawBufferPointer(rebasing: e[0..<n]), into: $0, classCount: 3) } }
        #expect(err == nil)
        #expect(back == px)
        // Long runs use multi-byte lengths.
        let flat = [UInt8](repeating: 1, count: 70000)
        let m = flat.withUnsafeBufferPointer { p in enc.withUnsafeMutableBytes { MaskRLE.encode(p, into: $0)! } }
        #expect(m == 4)  // value + 3-byte LEB128
        var out = [UInt8](repeating: 0, count: 10)
        #expect(([1, 11] as [UInt8]).withUnsafeBytes { s in out.withUnsafeMutableBufferPointer { MaskRLE.decode(s, into: $0, classCount: 3) } } == .wrongPixelCount)
        #expect(([1, 0x80] as [UInt8]).withUnsafeBytes { s in out.withUnsafeMutableBufferPointer { MaskRLE.decode(s, into: $0, classCount: 3) } } == .truncated)
        #expect(([7, 10] as [UInt8]).withUnsafeBytes { s in out.withUnsafeMutableBufferPointer { MaskRLE.decode(s, into: $0, classCount: 3) } } == .valueOutOfRange)
    }

    @Test func everyMessageTypeRoundTrips() throws {
        for signed in [false, true] {
            let auth = signed ? MessageAuthenticator(keyBytes: goldenKey) : nil
            let msgs = goldenMessages(signed: signed)
            guard case .success(let (h, .hello(hello))) = decode(msgs["hello"]![0], auth: auth) else { Issue.record("hello"); return }
            #expect(h.boardId == 0x0102_0304 && h.sessionId == 0xA1B2_C3D4 && h.sequence == 1)
            #expect(h.timestampMicros == 5_250_000)
            #expect(hello.name == "rope-cam-1" && Int(hello.maskWidth) == goldenMaskWidth && hello.classCount == 3)
            guard case .success(let (hb, .heartbeat(stats))) = decode(msgs["heartbeat"]![0], auth: auth) else { Issue.record("hb"); return }
            var expected = sampleHeartbeat()
            expected.uptimeMillis = 250
            #expect(stats == expected)
            #expect(hb.sequence == 2)
            guard case .success(let (_, .detections(d))) = decode(msgs["detections"]![0], auth: auth) else { Issue.record("det"); return }
            #expect(d.frameId == 77 && d.captureTimestampMicros == 5_200_000 && d.totalDefects == 2)
            #expect(d.defects == sampleDefects())
            guard case .success(let (_, .alarm(a, attempt))) = decode(msgs["alarm"]![0], auth: auth) else { Issue.record("alarm"); return }
            #expect(a == sampleAlarm(9) && attempt == 0)
            guard case .success(let (_, .ack(ack))) = decode(msgs["ack"]![0], auth: auth) else { Issue.record("ack"); return }
            #expect(ack == AckInfo(alarmId: 9, revision: 0, ackedSequence: 4))
            // Mask: several fragments, reassembled in reverse order.
            let frags = msgs["mask"]!
            #expect(frags.count >= 2)
            let r = MaskReassembler()
            var mask: MaskReassembler.Mask? = nil
            for f in frags.reversed() {
                guard case .success(let (_, .mask(frag))) = decode(f, auth: auth) else { Issue.record("mask"); return }
                mask = r.add(frag, boardId: 1, sessionId: 2) ?? mask
                frag.chunk.deallocate()
            }
            #expect(mask?.pixels == goldenMaskPixels(width: goldenMaskWidth, height: goldenMaskHeight))
            for m in msgs.values.joined() { #expect(m.count <= Wire.maxMessageSize) }
        }
    }

    /// The committed golden files are what the Python decoder's tests read. If the encoder
    /// changes, this fails; regenerate deliberately with EDGESEG_UPDATE_GOLDEN=1 (and bump
    /// the protocol version if the change is incompatible).
    @Test func encoderMatchesGoldenFiles() throws {
        let dir = repoRoot() + "/tools/protocol/golden"
        var files: [String: [UInt8]] = [:]
        for signed in [false, true] {
            for (name, msgs) in goldenMessages(signed: signed) {
                files[name + (signed ? "_hmac" : "") + ".bin"] = streamFile(msgs)
            }
        }
        files["serial.bin"] = goldenSerialStream()
        files["mask.png"] = PNG.encodeMask(width: goldenMaskWidth, height: goldenMaskHeight, pixels: goldenMaskPixels(width: goldenMaskWidth, height: goldenMaskHeight))
        files["key.hex"] = Array((goldenKey.map { String(format: "%02x", $0) }.joined() + "\n").utf8)
        let update = ProcessInfo.processInfo.environment["EDGESEG_UPDATE_GOLDEN"] == "1"
        for (name, bytes) in files.sorted(by: { $0.key < $1.key }) {
            let path = dir + "/" + name
            if update { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
            let onDisk = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
            #expect(onDisk == bytes, "golden file \(name) differs from the encoder's output")
        }
        // The committed key file parses to the same key.
        #expect(parseKey(files["key.hex"]!) == goldenKey)
    }

    @Test func serialDeframerRecoversAfterGarbageAndRejectsFlippedFrame() {
        let stream = goldenSerialStream()
        var d = SerialDeframer()
        defer { d.deallocate() }
        var types: [MessageType] = []
        var rejects: [RejectReason] = []
        // Feed in awkward pieces to exercise partial frames.
        var i = 0, step = 1
        while i < stream.count {
            let j = min(stream.count, i + step)
            Array(stream[i..<j]).withUnsafeBytes { chunk in
                d.push(chunk) { ev in
                    switch ev {
                    case .frame(let m): if case .success(let f) = parseFrame(m) { types.append(f.header.type) }
                    case .rejected(let r): rejects.append(r)
                    }
                }
            }
            i = j; step = step % 97 + 13
        }
        #expect(types == [.hello, .alarm, .heartbeat])
        #expect(rejects.contains(.badCRC))
        #expect(d.counters.badCRC == 1)
    }

    @Test func sequenceWindowDetectsGapsLateArrivalsAndReplays() {
        var w = SequenceWindow()
        #expect(w.check(10) == .fresh(missing: 0))
        #expect(w.check(11) == .fresh(missing: 0))
        #expect(w.check(15) == .fresh(missing: 3))
        #expect(w.check(13) == .late)
        #expect(w.check(13) == .replay)
        #expect(w.check(15) == .replay)
        #expect(w.check(200) == .fresh(missing: 184))
        #expect(w.check(136) == .replay)  // older than the 64-wide window
        #expect(w.check(137) == .late)
        var s = BoardSession(sessionId: 1)
        #expect(s.check(session: 1, sequence: 5) == .accepted(.fresh(missing: 0), newSession: false, previousSession: nil))
        #expect(s.check(session: 2, sequence: 1) == .accepted(.fresh(missing: 0), newSession: true, previousSession: 1))
        #expect(s.check(session: 1, sequence: 6) == .rejected(.staleSession))
        #expect(s.check(session: 2, sequence: 1) == .rejected(.replayed))
    }

    @Test func keyFilesInHexOrRaw() {
        #expect(parseKey(Array("00112233445566778899aabbccddeeff\n".utf8)) == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        let raw: [UInt8] = (0..<32).map { UInt8(200 - $0) }
        #expect(parseKey(raw) == raw)
        let dir = makeTempDir("key")
        _ = FileManager.default.createFile(atPath: dir + "/short", contents: Data("abcd".utf8))
        #expect(throws: KeyFileError.self) { try loadKeyFile(dir + "/short") }
        #expect(throws: KeyFileError.self) { try loadKeyFile(dir + "/missing") }
    }

    @Test func longBoardNamesAreCutAtCharacterBoundary() {
        let name = String(repeating: "é", count: 40)  // 80 bytes
        var buf = [UInt8](repeating: 0, count: 200)
        let n = buf.withUnsafeMutableBytes { b -> Int in
            var w = WireWriter(b)
            writeHello(&w, HelloInfo(heartbeatIntervalMillis: 1, maskWidth: 1, maskHeight: 1, classCount: 1, name: name))
            return w.count
        }
        guard case .hello(let h)? = buf.withUnsafeBytes({ parseBody(.hello, UnsafeRawBufferPointer(rebasing: $0[0..<n])) })
        else { Issue.record("hello did not parse"); return }
        #expect(h.name == String(repeating: "é", count: 32))
    }
}

/// SplitMix64: a small seeded generator so fuzz and property tests are reproducible.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
