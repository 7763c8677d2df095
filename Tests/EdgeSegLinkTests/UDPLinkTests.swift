#if canImport(Glibc)
import Glibc
#endif
import EdgeSegLink
import EdgeSegReceiver
import Foundation
import Testing

// Board ↔ PC over real UDP sockets on loopback.

/// Drives a BoardLink on the calling thread in real time until `done` or timeout.
func drive<T>(_ link: BoardLink<T>, seconds: Double, every: UInt32 = 2000, _ done: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        link.poll(now: monotonicNanos())
        if done() { return true }
        usleep(every)
    }
    return done()
}

@Suite(.serialized) struct UDPLinkTests {
    @Test(arguments: [false, true])
    func lossyRelayLosesNoAlarmAndReportsGaps(signed: Bool) throws {
        let dir = makeTempDir("udp")
        let auth = signed ? MessageAuthenticator(keyBytes: goldenKey) : nil
        let events = EventBox()
        let service = ReceiverService(endpoint: .udp(try IPv4Endpoint(parsing: "127.0.0.1:0")),
                                      options: .init(authenticator: auth), storePath: dir + "/alarms.sqlite") { events.add($0) }
        try service.start()
        defer { service.stop() }
        let relay = try LossyRelay(receiver: service.localEndpoint!, dropEvery: 4)
        relay.start()
        defer { relay.shutdown() }

        var config = LinkConfig(boardId: 42)
        config.authenticator = auth
        config.retryInitialNanos = 20_000_000
        config.retryMaxNanos = 200_000_000
        config.heartbeatIntervalNanos = 50_000_000
        config.alarmQueueCapacity = 64
        let socket = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        let transport = UDPTransport(socket: socket, peer: relay.boardSide.localEndpoint)
        let link = BoardLink(config: config, transport: transport, now: monotonicNanos())
        defer { link.transport.deallocate() }
        link.start(now: monotonicNanos())

        let alarmCount = 40
        let defects = sampleDefects()
        for i in 0..<alarmCount {
            let now = monotonicNanos()
            #expect(link.raiseAlarm(sampleAlarm(UInt32(i)), now: now))
            defects.withUnsafeBufferPointer { _ = link.sendDetections(frameId: UInt32(i), captureTimestampMicros: now / 1000, defects: $0, now: now) }
            link.poll(now: now)
        }
        let t0 = Date()
        let allAcked = drive(link, seconds: 15) { link.alarmQueueDepth == 0 }
        print("[lossy] hmac=\(signed) all \(alarmCount) alarms acked after \(String(format: "%.2f", Date().timeIntervalSince(t0))) s; "
              + "relay dropped \(relay.counts.droppedUp) up / \(relay.counts.droppedDown) down; "
              + "retransmissions \(link.counters.alarmRetransmissions); gaps \(service.counters.gaps), missing \(service.counters.missing), "
              + "duplicates \(service.counters.alarmsDuplicate)")
        #expect(allAcked, "alarms still unacknowledged: \(link.alarmQueueDepth)")
        // Everything acknowledged is on disk, exactly once per event.
        let stored = try AlarmStore(path: dir + "/alarms.sqlite").all()
        #expect(Set(stored.map(\.alarmId)) == Set((0..<alarmCount).map(UInt32.init)))
        #expect(stored.count == alarmCount)
        #expect(waitUntil(2) { service.counters.alarmsNew == UInt64(alarmCount) })
        let c = service.counters
        #expect(c.alarmsNew == UInt64(alarmCount))
        #expect(c.gaps > 0 && c.missing > 0)            // the relay's drops were noticed
        #expect(events.count("gap") > 0)
        #expect(c.rejected.total == 0)
        #expect(relay.counts.droppedUp > 0 && relay.counts.droppedDown > 0)
        #expect(link.counters.alarmRetransmissions > 0)  // lost alarms / lost ACKs were retried
        #expect(link.counters.alarmsAcked == UInt64(alarmCount))
    }

    @Test func overflowIsReportedInTheNextHeartbeatAndBackoffDoubles() throws {
        // Capture what the board sends with a plain socket that never answers.
        let pc = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        var config = LinkConfig(boardId: 7)
        config.alarmQueueCapacity = 4
        config.retryInitialNanos = 100_000_000
        config.retryMaxNanos = 1_000_000_000
        config.heartbeatIntervalNanos = 1_000_000_000_000  // only the forced one
        config.retryJitter = 0  // exact doubling, so the schedule below is exact
        let boardSocket = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        let link = BoardLink(config: config, transport: UDPTransport(socket: boardSocket, peer: pc.localEndpoint), now: 0)
        defer { link.transport.deallocate() }
        link.start(now: 0)
        for i in 0..<4 { #expect(link.raiseAlarm(sampleAlarm(UInt32(i)), now: 0)) }
        #expect(!link.raiseAlarm(sampleAlarm(99), now: 0))
        #expect(link.counters.alarmQueueOverflows == 1)

        var received: [(MessageHeader, MessageBody)] = []
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer { buf.deallocate() }
        func drain() {
            usleep(20000)
            while let (n, _) = pc.receive(into: buf) {
                if case .success(let r) = decode(Array(buf[0..<n])) { received.append(r) }
            }
        }
        drain()
        let kinds = received.map { $0.0.type }
        #expect(kinds == [.hello, .heartbeat, .alarm, .alarm, .alarm, .alarm, .heartbeat])
        if case .heartbeat(let s) = received.last!.1 {
            #expect(s.alarmQueueOverflows == 1 && s.alarmQueueDepth == 4)
        } else { Issue.record("last message is not a heartbeat") }

        // Retransmission times with no ACK: 100, 300, 700, 1500, 2500, 3500 ms (doubling, cap 1 s).
        received.removeAll()
        var sendTimes: [UInt64] = []
        for ms in stride(from: UInt64(0), through: 3600, by: 50) {
            link.poll(now: ms * 1_000_000)
            drain()
            for (h, b) in received { if case .alarm(let e, _) = b, e.alarmId == 0 { sendTimes.append(h.timestampMicros / 1000) } }
            received.removeAll()
        }
        #expect(sendTimes == [100, 300, 700, 1500, 2500, 3500])
        // Sequence numbers stay contiguous even for retransmissions.
        #expect(link.nextSequence > 7)
    }

    @Test func hostileDatagramsAreRejectedWithCountedReasons() throws {
        let auth = MessageAuthenticator(keyBytes: goldenKey)
        let events = EventBox()
        let service = ReceiverService(endpoint: .udp(try IPv4Endpoint(parsing: "127.0.0.1:0")),
                                      options: .init(authenticator: auth)) { events.add($0) }
        try service.start()
        defer { service.stop() }
        let to = service.localEndpoint!
        let sock = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        func send(_ b: [UInt8]) { _ = b.withUnsafeBytes { sock.send($0, to: to) } }

        let good = goldenMessages(signed: true)
        let plain = goldenMessages(signed: false)
        let alarm = good["alarm"]![0]
        send(good["hello"]![0])                     // accepted, starts the session
        send(alarm)                                 // accepted, stored, acked
        send(alarm)                                 // replayed (same sequence)
        send(Array(alarm[0..<20]))                  // truncated header
        send(Array(alarm.dropLast()))               // truncated tag
        send(alarm + [0])                           // trailing byte
        send([UInt8](repeating: 0x45, count: 1500)) // oversized datagram
        var v = alarm; v[2] = 9; send(v)            // wrong version
        var t = alarm; t[3] = 200; send(t)          // unknown type
        var f = alarm; f[4] = 0x81; send(f)         // unknown flag bit
        var m = alarm; m[0] = 0x00; send(m)         // bad magic
        var tag = alarm; tag[tag.count - 1] ^= 1; send(tag)        // bad HMAC (tag)
        var body = alarm; body[40] ^= 0x10; send(body)             // bad HMAC (payload changed)
        send(plain["heartbeat"]![0])                // unauthenticated while a key is set
        send(good["ack"]![0])                       // ACK sent to the PC
        // A validly signed message with a malformed payload (alarm kind 0).
        var bad = [UInt8](repeating: 0, count: 200)
        let n = bad.withUnsafeMutableBytes { b in
            encodeMessage(MessageHeader(type: .alarm, boardId: 0x0102_0304, sessionId: 0xA1B2_C3D4, sequence: 100,
                                        timestampMicros: 1), authenticator: auth, into: b) { $0.zeros(alarmPayloadSize) }!
        }
        send(Array(bad[0..<n]))
        // A new session (reboot), then traffic from the old one: stale.
        var reboot = [UInt8](repeating: 0, count: 200)
        let rn = reboot.withUnsafeMutableBytes { b in
            encodeMessage(MessageHeader(type: .hello, boardId: 0x0102_0304, sessionId: 0x0BAD_F00D, sequence: 1,
                                        timestampMicros: 1), authenticator: auth, into: b) {
                writeHello(&$0, HelloInfo(heartbeatIntervalMillis: 1000, maskWidth: 1, maskHeight: 1, classCount: 3, name: "x"))
            }!
        }
        send(Array(reboot[0..<rn]))
        send(good["detections"]![0])               // old session → stale

        #expect(waitUntil(5) { service.counters.messages >= 18 })
        let c = service.counters
        #expect(c.accepted == 3)  // hello, alarm, reboot hello
        #expect(c.alarmsNew == 1 && c.acksSent == 1)
        let r = c.rejected
        #expect(r[.replayed] == 1)
        #expect(r[.truncated] == 2)
        #expect(r[.oversized] == 2)
        #expect(r[.badVersion] == 1)
        #expect(r[.unknownType] == 2)  // type 200 and the ACK
        #expect(r[.badFlags] == 1)
        #expect(r[.badMagic] == 1)
        #expect(r[.badHMAC] == 2)
        #expect(r[.missingHMAC] == 1)
        #expect(r[.badPayload] == 1)
        #expect(r[.staleSession] == 1)
        #expect(r.total == 15)
        #expect(events.count("rejected") == 15)

        // A receiver without a key refuses signed traffic rather than trusting it.
        let open = ReceiverService(endpoint: .udp(try IPv4Endpoint(parsing: "127.0.0.1:0")))
        try open.start()
        defer { open.stop() }
        _ = alarm.withUnsafeBytes { sock.send($0, to: open.localEndpoint!) }
        #expect(waitUntil(5) { open.counters.messages == 1 })
        #expect(open.counters.rejected[.unexpectedHMAC] == 1)
    }

    @Test func alarmsSurviveAReceiverRestartAndRepeatsAreDeduplicated() throws {
        let dir = makeTempDir("restart")
        let db = dir + "/alarms.sqlite"
        // Pick a free port, release it, and use it for both receiver runs.
        var probe: UDPSocket? = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        let ep = probe!.localEndpoint
        probe = nil
        var config = LinkConfig(boardId: 5)
        config.retryInitialNanos = 30_000_000
        config.retryMaxNanos = 60_000_000
        let boardSocket = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        let link = BoardLink(config: config, transport: UDPTransport(socket: boardSocket, peer: ep), now: monotonicNanos())
        defer { link.transport.deallocate() }
        // First PC run: gets alarm 1, stores it, acks it.
        do {
            let s1 = ReceiverService(endpoint: .udp(ep), storePath: db)
            try s1.start()
            link.raiseAlarm(sampleAlarm(1), now: monotonicNanos())
            #expect(drive(link, seconds: 5) { link.alarmQueueDepth == 0 })
            s1.stop()
        }
        // PC is down: alarm 2 is raised and retried into the void.
        link.raiseAlarm(sampleAlarm(2), now: monotonicNanos())
        _ = drive(link, seconds: 0.3) { false }
        #expect(link.alarmQueueDepth == 1)
        // PC back (new process, same database): alarm 2 arrives; a replayed copy of alarm 1's
        // event (e.g. its ACK was lost) is recognised as already stored.
        let s2 = ReceiverService(endpoint: .udp(ep), storePath: db)
        try s2.start()
        defer { s2.stop() }
        #expect(drive(link, seconds: 5) { link.alarmQueueDepth == 0 })
        link.raiseAlarm(sampleAlarm(1), now: monotonicNanos())  // same (id, revision) again
        #expect(drive(link, seconds: 5) { link.alarmQueueDepth == 0 })
        // The receiver publishes its counters after it has answered: the ACK can reach the board first.
        #expect(waitUntil(5) { s2.counters.alarmsDuplicate >= 1 })
        let stored = try AlarmStore(path: db).all()
        #expect(stored.map(\.alarmId).sorted() == [1, 2])
    }

    @Test func aBoardThatStopsTalkingIsReportedSilent() throws {
        let events = EventBox()
        let service = ReceiverService(endpoint: .udp(try IPv4Endpoint(parsing: "127.0.0.1:0"))) { events.add($0) }
        try service.start()
        defer { service.stop() }
        var config = LinkConfig(boardId: 8)
        config.hello.heartbeatIntervalMillis = 50
        config.heartbeatIntervalNanos = 50_000_000
        let link = BoardLink(config: config, transport: UDPTransport(socket: try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0")),
                                                                     peer: service.localEndpoint), now: monotonicNanos())
        defer { link.transport.deallocate() }
        link.start(now: monotonicNanos())
        _ = drive(link, seconds: 0.3) { false }  // alive: heartbeats every 50 ms
        #expect(events.count("board_silent") == 0)
        #expect(events.count("heartbeat") >= 3)
        // The board dies; after 3 missed intervals the PC says so, once.
        #expect(waitUntil(3) { events.count("board_silent") == 1 })
        usleep(300_000)
        #expect(events.count("board_silent") == 1)
    }
}
