import Foundation

/// What `edgeseg run` prints at exit and writes with `--report FILE.json`.
public struct RunReport: Codable, Sendable {
    public var board: String
    public var model: String
    public var precision: String
    public var threads: Int
    public var seconds: Double
    public var cameraFps: Double
    public var processedFps: Double
    public var framesCaptured: UInt64
    public var framesProcessed: UInt64
    /// Frames replaced in the newest-frame slot before inference took them.
    public var framesStale: UInt64
    /// Frames skipped as bad: framesCorrupt + framesUndecodable (the heartbeat's decode errors).
    public var framesRejected: UInt64
    /// Damaged frames the source skipped (cut-off JPEG spans, V4L2 error buffers).
    public var framesCorrupt: UInt64
    /// Frames the preprocessor could not decode (JPEG decoder errors and warnings).
    public var framesUndecodable: UInt64
    public var captureStalls: UInt64
    public var cameraDisconnects: UInt64
    public var cameraReopens: UInt64
    public var alarmsRaised: Int
    public var alarmsUpdated: Int
    public var alarmsCleared: Int
    public var alarmsAcked: UInt64
    public var alarmsPendingAtExit: Int
    public var alarmQueueOverflows: UInt64
    public var alarmRetransmissions: UInt64
    /// Most alarm events unacknowledged at once (the queue holds 32).
    public var alarmQueuePeak: Int
    /// Times alarms went unacknowledged for over a second (PC receiver down or unreachable).
    public var ackOutages: Int
    public var messagesSent: UInt64
    public var heartbeatsSent: UInt64
    public var sendErrors: UInt64
    /// Incoming messages (ACKs) the board rejected: garbage on a serial line, bad HMAC, …
    public var rxRejected: UInt64
    public var rxRejectedByReason: [String: UInt64]
    public var watchdogReports: Int
    public var arenaBytes: Int
    public var weightBytes: Int
    public var peakRSSBytes: Int
    /// Per stage: dequeue, slot_wait, preprocess, inference, inspect, send, glass_to_sent, glass_to_alarm.
    public var latencyMs: [String: LatencySummary]

    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Peak resident set size of this process (VmHWM), in bytes.
public func peakRSSBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

/// The SoC temperature from the first thermal zone, read without allocating
/// (the link thread reads it for every heartbeat).
public struct ThermalZone: ~Copyable {
    private let fd: Int32
    private let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
    public init(path: String = "/sys/class/thermal/thermal_zone0/temp") { fd = open(path, O_RDONLY) }
    deinit { if fd >= 0 { close(fd) }; buffer.deallocate() }

    /// 0.01 °C, or nil where the board has no thermal zone.
    public func centiCelsius() -> Int16? {
        guard fd >= 0 else { return nil }
        let n = pread(fd, buffer, 16, 0)
        guard n > 0 else { return nil }
        var milli = 0, digits = 0, negative = false
        for i in 0..<n {
            let c = buffer[i]
            if c == UInt8(ascii: "-") && digits == 0 { negative = true }
            else if c >= 48 && c <= 57 { milli = milli * 10 + Int(c - 48); digits += 1 }
            else { break }
        }
        guard digits > 0 else { return nil }
        return Int16(clamping: (negative ? -milli : milli) / 10)
    }
}
