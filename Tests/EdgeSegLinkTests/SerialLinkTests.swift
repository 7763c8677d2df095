#if canImport(Glibc)
import Glibc
#endif
import EdgeSegLink
import EdgeSegReceiver
import Foundation
import Testing

// Board ↔ PC over a real pseudo-terminal pair (a tty with termios, like a USB serial adapter).

struct PtyPair {
    let master: Int32, slave: Int32
    init() throws {
        var m: Int32 = -1, s: Int32 = -1
        guard openpty(&m, &s, nil, nil, nil) == 0 else { throw TransportError("openpty") }
        master = m; slave = s
    }
    func close() { _ = Glibc.close(master); _ = Glibc.close(slave) }
}

@Suite(.serialized) struct SerialLinkTests {
    @Test func garbageAndBitFlipsOnTheLineAreRejectedByCRCAndTheRestIsRecovered() throws {
        let pty = try PtyPair()
        defer { pty.close() }
        let events = EventBox()
        let service = ReceiverService(endpoint: .serialDescriptor(pty.slave, baud: 921_600)) { events.add($0) }
        try service.start()
        defer { service.stop() }
        _ = try SerialPort(descriptor: pty.master, baud: 921_600, takeOwnership: false)

        // 60 heartbeats from one session, framed by the real encoder; every 5th frame gets a
        // bit flip, every 7th is preceded by random garbage.
        var encoder = MessageEncoder(boardId: 3, sessionId: 0x5E55, authenticator: nil)
        defer { encoder.deallocate() }
        var rng = SeededRandom(seed: 42)
        var line: [UInt8] = []
        var intact = 0, flipped = 0
        let frameBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: Wire.maxSerialFrame + 1, alignment: 8)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Wire.maxMessageSize + 4, alignment: 8)
        defer { frameBuf.deallocate(); scratch.deallocate() }
        var stats = sampleHeartbeat()
        for i in 0..<60 {
            stats.framesProcessed = UInt32(i)
            let s = stats
            let (msg, _) = encoder.encode(.heartbeat, timestampMicros: UInt64(i)) { writeHeartbeat(&$0, s) }!
            var frame = Array(UnsafeRawBufferPointer(rebasing: frameBuf[0..<encodeSerialFrame(msg, scratch: scratch, into: frameBuf)!]))
            if i % 7 == 3 {
                line += (0..<Int.random(in: 1...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                line.append(0)  // the sender's leading delimiter ends the garbage
            }
            if i % 5 == 4 {
                let at = Int.random(in: 0..<(frame.count - 1), using: &rng)
                var flip = frame[at] ^ (1 << UInt8.random(in: 0...7, using: &rng))
                if flip == 0 { flip = 0x5A }  // keep the delimiter structure: a zero would split the frame
                frame[at] = flip
                flipped += 1
            } else { intact += 1 }
            line += frame
        }
        // Write in uneven pieces, as a UART would deliver them.
        var off = 0
        while off < line.count {
            let n = min(line.count - off, Int.random(in: 1...300, using: &rng))
            let w = line[off..<(off + n)].withUnsafeBytes { write(pty.master, $0.baseAddress, n) }
            if w > 0 { off += w } else { usleep(1000) }
        }
        #expect(waitUntil(10) { service.counters.heartbeats >= UInt64(intact) })
        usleep(100_000)
        let c = service.counters
        #expect(c.heartbeats == UInt64(intact))
        #expect(c.rejected[.badCRC] + c.rejected[.badFraming] >= UInt64(flipped))
        #expect(c.rejected[.badCRC] >= UInt64(flipped) - 2)  // a flip inside a COBS code byte may look like framing damage
        #expect(c.gaps >= UInt64(flipped) - 1)   // the rejected frames show as sequence gaps
    }

    @Test func alarmsAreAcknowledgedOverTheSerialLine() throws {
        let pty = try PtyPair()
        defer { pty.close() }
        let dir = makeTempDir("serial")
        let auth = MessageAuthenticator(keyBytes: goldenKey)
        let service = ReceiverService(endpoint: .serialDescriptor(pty.slave, baud: 115_200),
                                      options: .init(authenticator: auth, masksDirectory: dir), storePath: dir + "/a.sqlite")
        try service.start()
        defer { service.stop() }
        let port = try SerialPort(descriptor: pty.master, baud: 115_200, takeOwnership: false)
        var config = LinkConfig(boardId: 11)
        config.authenticator = auth
        config.retryInitialNanos = 50_000_000
        config.maskMinIntervalNanos = 0
        let link = BoardLink(config: config, transport: SerialTransport(port: port), now: monotonicNanos())
        defer { link.transport.deallocate() }
        link.start(now: monotonicNanos())
        for i in 0..<10 { link.raiseAlarm(sampleAlarm(UInt32(i), revision: 0), now: monotonicNanos()) }
        link.raiseAlarm(sampleAlarm(3, revision: 1, kind: .cleared), now: monotonicNanos())
        let px = goldenMaskPixels(width: goldenMaskWidth, height: goldenMaskHeight)
        let sent = px.withUnsafeBufferPointer {
            link.sendMask(frameId: 5, width: goldenMaskWidth, height: goldenMaskHeight, classCount: 3, pixels: $0, now: monotonicNanos())
        }
        #expect(sent == .sent(fragments: 3))
        #expect(drive(link, seconds: 10) { link.alarmQueueDepth == 0 })
        #expect(link.counters.alarmsAcked == 11)
        #expect(waitUntil(5) { service.counters.masks == 1 })
        let c = service.counters
        #expect(c.alarmsNew == 11 && c.rejected.total == 0)
        // The mask was saved as a PNG that decodes back to the same pixels (checked by pytest
        // for the golden one; here: exists and starts with the PNG signature).
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".png") }
        #expect(files.count == 1)
        let png = FileManager.default.contents(atPath: dir + "/" + files[0]).map { [UInt8]($0) } ?? []
        #expect(png.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(png == PNG.encodeMask(width: goldenMaskWidth, height: goldenMaskHeight, pixels: px))
    }
}
