#if canImport(Glibc)
import Glibc
#endif
import EdgeSegLink
import EdgeSegReceiver
import Foundation

// Shared fixtures for the link tests. Everything here drives real sockets and ttys.

let goldenKey: [UInt8] = (0..<32).map { UInt8($0) }

func repoRoot() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

func makeTempDir(_ tag: String) -> String {
    let dir = NSTemporaryDirectory() + "edgeseg-link-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Polls `cond` until true or `seconds` pass.
func waitUntil(_ seconds: Double, _ cond: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if cond() { return true }
        usleep(2000)
    }
    return cond()
}

/// Thread-safe event recorder for ReceiverService callbacks.
final class EventBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [ReceivedEvent] = []
    func add(_ e: ReceivedEvent) { lock.withLock { items.append(e) } }
    var events: [ReceivedEvent] { lock.withLock { items } }
    func count(_ kind: String) -> Int { events.filter { $0.kind == kind }.count }
}

func sampleAlarm(_ id: UInt32, revision: UInt16 = 0, kind: AlarmKind = .raised) -> AlarmEvent {
    AlarmEvent(alarmId: id, revision: revision, kind: kind, classId: 2, frameId: 1000 + id,
               before: AlarmSnapshot(),
               after: AlarmSnapshot(active: true, severity: 3, areaPixels: 420 + id, areaMm2: 12.5,
                                    confidence: 0.875, box: BoxU16(x: 10, y: 20, width: 30, height: 40)))
}

func sampleDefects() -> [DefectRecord] {
    [DefectRecord(classId: 1, areaPixels: 1234, areaMm2: 5.5, box: BoxU16(x: 1, y: 2, width: 3, height: 4),
                  centroidX: 2.5, centroidY: 4.0, meanConfidence: 0.75),
     DefectRecord(classId: 2, areaPixels: 77, box: BoxU16(x: 100, y: 200, width: 9, height: 8),
                  centroidX: 104.25, centroidY: 203.5, meanConfidence: 0.5)]
}

func sampleHeartbeat() -> HeartbeatStats {
    var s = HeartbeatStats()
    s.fps = 29.5; s.framesProcessed = 1000; s.framesDropped = 3; s.temperatureCentiC = 5125
    s.captureErrors = 1; s.decodeErrors = 2; s.inferenceOverruns = 4
    s.latencies = [StageLatency(.inference, p50Micros: 21000, p99Micros: 35000, maxMicros: 41000),
                   StageLatency(.glassToSent, p50Micros: 48000, p99Micros: 70000, maxMicros: 90000)]
    return s
}

/// The pattern the golden mask uses; tools/protocol/test_decode.py computes the same.
func goldenMaskPixels(width: Int, height: Int) -> [UInt8] {
    var p = [UInt8](repeating: 0, count: width * height)
    for y in 0..<height { for x in 0..<width {
        p[y * width + x] = (x * 7 + y * 13) % 11 == 0 ? 2 : (x > 20 && y < 10 ? 1 : 0)
    } }
    return p
}

/// A transport that keeps what is sent (for golden bytes); receives nothing.
struct RecordingTransport: LinkTransport {
    var sent: [[UInt8]] = []
    mutating func send(_ message: UnsafeRawBufferPointer) -> Bool { sent.append(Array(message)); return true }
    mutating func receive(_ handle: (TransportInput) -> Void) {}
    mutating func flush() {}
    var fileDescriptor: Int32 { -1 }
}

/// A UDP relay between a board and a receiver that drops every k-th datagram in each direction.
final class LossyRelay: @unchecked Sendable {
    let boardSide: UDPSocket      // the board sends here
    let receiverSide: UDPSocket   // talks to the receiver
    let receiver: IPv4Endpoint
    let dropEvery: Int
    private let lock = NSLock()
    private var board: IPv4Endpoint?
    private var stop = false
    private(set) var droppedUp = 0, droppedDown = 0, forwardedUp = 0, forwardedDown = 0
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    init(receiver: IPv4Endpoint, dropEvery: Int) throws {
        boardSide = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        receiverSide = try UDPSocket(bind: IPv4Endpoint(parsing: "127.0.0.1:0"))
        self.receiver = receiver; self.dropEvery = dropEvery
    }

    func start() {
        let t = Thread { [self] in run() }
        thread = t
        t.start()
    }

    private func run() {
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer { buf.deallocate(); done.signal() }
        var up = 0, down = 0
        var fds = [pollfd(fd: boardSide.fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: receiverSide.fd, events: Int16(POLLIN), revents: 0)]
        while !lock.withLock({ stop }) {
            _ = poll(&fds, 2, 10)
            while let (n, from) = boardSide.receive(into: buf) {
                lock.withLock { board = from }
                up += 1
                if up % dropEvery == 0 { lock.withLock { droppedUp += 1 }; continue }
                _ = receiverSide.send(UnsafeRawBufferPointer(rebasing: buf[0..<n]), to: receiver)
                lock.withLock { forwardedUp += 1 }
            }
            while let (n, _) = receiverSide.receive(into: buf) {
                down += 1
                if down % dropEvery == 0 { lock.withLock { droppedDown += 1 }; continue }
                if let b = lock.withLock({ board }) {
                    _ = boardSide.send(UnsafeRawBufferPointer(rebasing: buf[0..<n]), to: b)
                    lock.withLock { forwardedDown += 1 }
                }
            }
        }
    }

    func shutdown() {
        lock.withLock { stop = true }
        done.wait()
        thread = nil   // the thread's closure holds self: break the cycle (LeakSanitizer, tools/sanitize.sh)
    }
    var counts: (droppedUp: Int, droppedDown: Int) { lock.withLock { (droppedUp, droppedDown) } }
}

let goldenMaskWidth = 96
let goldenMaskHeight = 80
