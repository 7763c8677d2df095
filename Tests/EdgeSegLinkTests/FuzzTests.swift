#if canImport(Glibc)
import Glibc
#endif
import EdgeSegLink
import EdgeSegReceiver
import Foundation
import Testing

// Seeded random fuzzing of every decoder entry point. Reproducible (fixed seeds), bounded in
// count and time; the property is "never crashes, never reads out of bounds, and only accepts
// what re-encodes to a valid message".

@Suite struct FuzzTests {
    /// Mutates valid messages (bit flips, byte sets, truncation, extension, splices) and also
    /// throws purely random bytes at parseFrame → authenticate → parseBody → reassembler.
    @Test func messageDecoderSurvivesMutations() {
        var rng = SeededRandom(seed: 0xED6E_5E6)
        let auth = MessageAuthenticator(keyBytes: goldenKey)
        let seeds = goldenMessages(signed: false).values.joined().map { $0 } + goldenMessages(signed: true).values.joined().map { $0 }
        let reassembler = MaskReassembler()
        var accepted = 0, rejected = 0
        let deadline = Date().addingTimeInterval(10)
        var cases = 0
        while cases < 40_000 && Date() < deadline {
            cases += 1
            var m = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: for _ in 0..<Int.random(in: 1...4, using: &rng) { let i = Int.random(in: 0..<m.count, using: &rng); m[i] ^= 1 << UInt8.random(in: 0...7, using: &rng) }
            case 1: m[Int.random(in: 0..<m.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 2: m = Array(m.prefix(Int.random(in: 0..<m.count, using: &rng)))
            case 3: m += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 4: m = (0..<Int.random(in: 0...1300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            default:
                // Keep the frame consistent but corrupt payload fields (targets parseBody):
                // rewrite header flags to unsigned and fix the length.
                if m.count > Wire.headerSize + 4 {
                    let payloadLen = Int(UInt16(m[6]) | UInt16(m[7]) << 8)
                    m = Array(m.prefix(Wire.headerSize + payloadLen)); m[4] = 0
                    for _ in 0..<3 { let i = Int.random(in: Wire.headerSize..<m.count, using: &rng); m[i] = UInt8.random(in: 0...255, using: &rng) }
                }
            }
            let signed = m.count > 4 && m[4] & 1 == 1
            switch decode(m, auth: signed ? auth : nil) {
            case .failure: rejected += 1
            case .success(let (h, body)):
                accepted += 1
                #expect(m.count <= Wire.maxMessageSize)
                #expect(Int(h.payloadLength) + Wire.headerSize + (signed ? Wire.tagSize : 0) == m.count)
                if case .mask(let f) = body {
                    _ = reassembler.add(f, boardId: h.boardId, sessionId: h.sessionId)
                    f.chunk.deallocate()
                }
            }
        }
        #expect(cases >= 10_000)
        #expect(accepted > 0 && rejected > 0)
    }

    @Test func serialDeframerSurvivesRandomLines() {
        var rng = SeededRandom(seed: 99)
        var d = SerialDeframer()
        defer { d.deallocate() }
        var frames = 0
        let good = goldenSerialStream()
        for round in 0..<3_000 {
            var line: [UInt8]
            if round % 3 == 0 {
                line = good
                for _ in 0..<Int.random(in: 0...6, using: &rng) { line[Int.random(in: 0..<line.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            } else {
                // Random bytes with a controllable share of zeros, including >maxFrame runs.
                let zeroOdds = [2, 50, 5000][round % 3]
                line = (0..<Int.random(in: 0...3000, using: &rng)).map { _ in Int.random(in: 0..<zeroOdds, using: &rng) == 0 ? 0 : UInt8.random(in: 1...255, using: &rng) }
            }
            line.withUnsafeBytes { d.push($0) { if case .frame(let m) = $0 { frames += 1; _ = parseFrame(m) } } }
        }
        #expect(frames > 0)
        #expect(d.counters.badCRC > 0 && d.counters.badFraming > 0)
    }

    @Test func reassemblerSurvivesHostileFragments() {
        var rng = SeededRandom(seed: 5)
        var limits = MaskReassembler.Limits()
        limits.slots = 3
        let r = MaskReassembler(limits: limits)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1200, alignment: 8)
        defer { chunk.deallocate() }
        for i in 0..<chunk.count { chunk[i] = UInt8.random(in: 0...255, using: &rng) }
        for _ in 0..<30_000 {
            let size = UInt16.random(in: 1...1100, using: &rng)
            let count = UInt16.random(in: 1...20, using: &rng)
            let total = UInt32(Int(size) * (Int(count) - 1) + Int.random(in: 1...Int(size), using: &rng))
            let index = UInt16.random(in: 0..<count, using: &rng)
            let len = min(Int(size), Int(total) - Int(index) * Int(size))
            let f = MaskFragment(frameId: UInt32.random(in: 0...5, using: &rng), width: UInt16.random(in: 1...4096, using: &rng),
                                 height: UInt16.random(in: 1...64, using: &rng), encoding: 1, classCount: UInt8.random(in: 0...4, using: &rng),
                                 index: index, count: count, chunkSize: size, totalLength: total,
                                 chunk: UnsafeRawBufferPointer(rebasing: chunk[0..<len]))
            if let m = r.add(f, boardId: UInt32.random(in: 0...1, using: &rng), sessionId: 1) {
                #expect(m.pixels.count == m.width * m.height)
                #expect(m.pixels.allSatisfy { Int($0) < m.classCount })
            }
        }
        #expect(r.counters.fragments == 30_000)
    }
}

// Zero-allocation check. Needs tools/protocol/malloc_count.so preloaded (tools/ci.d/link.sh
// does that); without it the counter symbol is absent and the test is skipped.
typealias CountFn = @convention(c) () -> UInt
let mallocCounter: CountFn? = dlsym(dlopen(nil, RTLD_NOW), "edgeseg_malloc_count")
    .map { unsafeBitCast($0, to: CountFn.self) }

@Suite struct AllocationTests {
    @Test(.enabled(if: mallocCounter != nil, "LD_PRELOAD tools/protocol/malloc_count.so to measure"))
    func boardLinkSendsWithoutAllocating() throws {
        let count = mallocCounter!
        let pc = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        for signed in [false, true] {
            var config = LinkConfig(boardId: 1)
            config.authenticator = signed ? MessageAuthenticator(keyBytes: goldenKey) : nil
            config.alarmQueueCapacity = 8
            config.maskMinIntervalNanos = 0
            let boardSocket = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
            let link = BoardLink(config: config, transport: UDPTransport(socket: boardSocket, peer: pc.localEndpoint), now: 0)
            defer { link.transport.deallocate() }
            link.stats = sampleHeartbeat()
            let defects = sampleDefects()
            let px = goldenMaskPixels(width: goldenMaskWidth, height: goldenMaskHeight)
            // Warm up (first-use lazies: CRC table, socket paths).
            link.start(now: 0)
            let n = 200
            let before = count()
            var messages: UInt64 = link.counters.messagesSent
            defects.withUnsafeBufferPointer { d in
                px.withUnsafeBufferPointer { p in
                    for i in 0..<n {
                        let now = UInt64(i + 1) * 10_000_000
                        link.sendDetections(frameId: UInt32(i), captureTimestampMicros: now / 1000, defects: d, now: now)
                        if i % 20 == 0 { link.raiseAlarm(sampleAlarm(UInt32(i)), now: now) }
                        if i % 50 == 0 { _ = link.sendMask(frameId: UInt32(i), width: goldenMaskWidth, height: goldenMaskHeight, classCount: 3, pixels: p, now: now) }
                        link.sendHeartbeat(now: now)
                        link.poll(now: now)
                    }
                }
            }
            let allocs = count() - before
            messages = link.counters.messagesSent - messages
            print("[alloc] hmac=\(signed) messages=\(messages) mallocs=\(allocs) per message=\(Double(allocs) / Double(messages))")
            if !signed { #expect(allocs == 0) }
            var buf = [UInt8](repeating: 0, count: 2048)
            while buf.withUnsafeMutableBytes({ pc.receive(into: $0) }) != nil {}
        }
    }
}
