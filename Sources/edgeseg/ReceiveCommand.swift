import ArgumentParser
import EdgeSegLink
import EdgeSegReceiver
import Foundation

/// PC side of the link: verify, store alarms durably, acknowledge, log.
struct Receive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive detections, alarms, heartbeats and masks from boards (UDP or serial).",
        discussion: "Alarms are written to SQLite before they are acknowledged. See docs/protocol.md.")

    @Option(help: "Listen for UDP datagrams on HOST:PORT, e.g. 0.0.0.0:5600.") var udp: String?
    @Option(help: "Read COBS/CRC-32 frames from this serial device.") var serial: String?
    @Option(help: "Serial baud rate.") var baud: Int = 921_600
    @Option(help: "Shared HMAC-SHA256 key file (hex text or raw bytes). Required if boards sign.") var key: String?
    @Option(help: "Append one JSON object per event to this file.") var log: String?
    @Option(help: "SQLite file for alarms (default: in memory, deduplication only).") var db: String?
    @Option(help: "Save reassembled masks as palette PNG files in this directory.") var masks: String?
    @Option(help: "Stop after this many seconds (default: run until interrupted).") var duration: Double?
    @Flag(help: "Do not print heartbeat lines.") var quietHeartbeats = false

    func validate() throws {
        if (udp == nil) == (serial == nil) { throw ValidationError("give exactly one of --udp or --serial") }
        if termiosSpeed(baud: baud) == nil { throw ValidationError("unsupported baud rate \(baud)") }
    }

    func run() throws {
        let endpoint: ReceiverService.Endpoint = try udp.map { .udp(try IPv4Endpoint(parsing: $0)) }
            ?? .serial(path: serial!, baud: baud)
        var options = LinkReceiver.Options()
        if let key { options.authenticator = try loadKeyFile(key) }
        if let masks {
            try FileManager.default.createDirectory(atPath: masks, withIntermediateDirectories: true)
            options.masksDirectory = masks
        }
        var jsonHandle: FileHandle? = nil
        if let log {
            if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            guard let h = FileHandle(forWritingAtPath: log) else { throw ValidationError("cannot open log file \(log)") }
            h.seekToEndOfFile()
            jsonHandle = h
        }
        let json = jsonHandle.map { UncheckedHandle($0) }
        let quiet = quietHeartbeats
        let service = ReceiverService(endpoint: endpoint, options: options, storePath: db) { event in
            if !(quiet && event.kind == "heartbeat") {
                FileHandle.standardOutput.write(Data((event.logLine + "\n").utf8))
            }
            json?.handle.write(Data((event.jsonLine() + "\n").utf8))
        }
        try service.start()
        print("receiving on \(udp ?? "\(serial!) @ \(baud) baud")" + (key == nil ? "" : ", HMAC required")
              + (db.map { ", alarms -> \($0)" } ?? ""))
        let deadline = duration.map { Date().addingTimeInterval($0) }
        while deadline.map({ Date() < $0 }) ?? true { Thread.sleep(forTimeInterval: 0.1) }
        service.stop()
        let c = service.counters
        print("messages \(c.messages) accepted \(c.accepted) rejected \(c.rejected.total) gaps \(c.gaps) missing \(c.missing) "
              + "alarms \(c.alarmsNew) (+\(c.alarmsDuplicate) repeats) acks \(c.acksSent) masks \(c.masks)")
    }
}

struct UncheckedHandle: @unchecked Sendable { let handle: FileHandle; init(_ h: FileHandle) { handle = h } }
