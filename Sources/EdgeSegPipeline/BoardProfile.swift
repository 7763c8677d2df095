import Foundation
import TOMLKit
import EdgeSegInspect

// A board profile (boards/*.toml): everything `edgeseg run` needs to know about
// one board. Every key is checked: an unknown key or a bad value is an error
// naming the file, the line and the key, because a typo in a profile must not
// silently fall back to a default on a board in the field.

public struct BoardProfile: Sendable, Equatable {
    public struct Board: Sendable, Equatable {
        public var name = "host"
        public var threads = 2
        public var affinity: [Int] = []           // CPU ids for the inference pool; empty = unpinned
        public var memoryCapMB = 0                 // 0 = no cap
    }
    public enum SourceKind: String, Sendable { case v4l2, mjpeg, folder, synthetic }
    public enum PixelFormat: String, Sendable { case mjpeg, yuyv }
    public struct Camera: Sendable, Equatable {
        public var source: SourceKind = .synthetic
        public var device = "/dev/video0"
        public var path = ""                       // replay file or folder
        public var format: PixelFormat = .yuyv
        public var width = 640
        public var height = 480
        public var fps = 10.0
        public var buffers = 4
        public var loop = true                     // replay sources restart at the end
    }
    public enum Precision: String, Sendable { case fp32, fp16, int8, mixed }
    public struct Model: Sendable, Equatable {
        public var path = "models/demo.onnx"       // .onnx is compiled at start-up, .edgeseg is loaded
        public var precision: Precision = .fp32
    }
    public enum Fit: String, Sendable { case letterbox, roi }
    public struct Preprocess: Sendable, Equatable {
        public var fit: Fit = .letterbox
        public var roi: [Int] = []                 // x, y, width, height in camera pixels
    }
    public struct Inspect: Sendable, Equatable {
        public var connectivity: Connectivity = .eight
        public var mmPerPixel: Double = 0          // camera pixel pitch on the rope; 0 = no mm² areas
        public var rules: [ClassRule] = []
    }
    public enum Transport: String, Sendable { case udp, serial, none }
    public struct Link: Sendable, Equatable {
        public var transport: Transport = .udp
        public var udpTarget = "127.0.0.1:5600"
        public var serialDevice = "/dev/ttyUSB0"
        public var baud = 921_600
        public var keyFile = ""
        public var boardID = 1
        public var heartbeatMs = 1000
        public var maskIntervalMs = 1000
    }
    public struct Report: Sendable, Equatable {
        public var summaryIntervalS = 5.0
        public var watchdogMs = 3000
        public var consoleSummary = true
    }

    public var board = Board()
    public var camera = Camera()
    public var model = Model()
    public var preprocess = Preprocess()
    public var inspect = Inspect()
    public var link = Link()
    public var report = Report()
    public init() {
        inspect.rules = BoardProfile.defaultRules
    }

    public static let defaultRules = [
        ClassRule(classIndex: 1, name: "wear", minPixels: 400, persistK: 3, persistN: 5, clearFrames: 5,
                  severityPixels: [2000, 8000]),
        ClassRule(classIndex: 2, name: "broken_wire", minPixels: 60, persistK: 2, persistN: 4, clearFrames: 5,
                  severityPixels: [300, 1200]),
    ]
}

public struct ProfileError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var key: String
    public var message: String
    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(key.isEmpty ? "" : key + ": ")\(message)"
    }
}

extension BoardProfile {
    public static func load(path: String) throws -> BoardProfile {
        guard let text = readTextFile(path) else {
            throw ProfileError(file: path, line: nil, key: "", message: "cannot read the file")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> BoardProfile {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ProfileError(file: file, line: e.source.begin.line, key: "", message: "TOML syntax: \(e.description)")
        }
        var r = TableReader(file: file, lines: KeyLines(text))
        var p = BoardProfile()
        try r.sections(root, allowed: ["board", "camera", "model", "preprocess", "inspect", "link", "report"])

        if let t = try r.table(root, "board") {
            p.board.name = try r.string(t, "board", "name") ?? p.board.name
            p.board.threads = try r.int(t, "board", "threads", 1...64) ?? p.board.threads
            p.board.affinity = try r.ints(t, "board", "affinity", 0...1023) ?? p.board.affinity
            p.board.memoryCapMB = try r.int(t, "board", "memory_cap_mb", 0...1_000_000) ?? p.board.memoryCapMB
            try r.finish(t, "board")
        }
        if let t = try r.table(root, "camera") {
            p.camera.source = try r.choice(t, "camera", "source") ?? p.camera.source
            p.camera.device = try r.string(t, "camera", "device") ?? p.camera.device
            p.camera.path = try r.string(t, "camera", "path") ?? p.camera.path
            p.camera.format = try r.choice(t, "camera", "format") ?? p.camera.format
            p.camera.width = try r.int(t, "camera", "width", 16...8192) ?? p.camera.width
            p.camera.height = try r.int(t, "camera", "height", 16...8192) ?? p.camera.height
            p.camera.fps = try r.double(t, "camera", "fps", 0.1...1000) ?? p.camera.fps
            p.camera.buffers = try r.int(t, "camera", "buffers", 2...8) ?? p.camera.buffers
            p.camera.loop = try r.bool(t, "camera", "loop") ?? p.camera.loop
            try r.finish(t, "camera")
        }
        if let t = try r.table(root, "model") {
            p.model.path = try r.string(t, "model", "path") ?? p.model.path
            p.model.precision = try r.choice(t, "model", "precision") ?? p.model.precision
            try r.finish(t, "model")
        }
        if let t = try r.table(root, "preprocess") {
            p.preprocess.fit = try r.choice(t, "preprocess", "fit") ?? p.preprocess.fit
            if let roi = try r.ints(t, "preprocess", "roi", 0...65535) {
                guard roi.count == 4, roi[2] > 0, roi[3] > 0 else {
                    throw r.error("preprocess", "roi", "must be [x, y, width, height] with width, height > 0")
                }
                p.preprocess.roi = roi
            }
            if p.preprocess.fit == .roi && p.preprocess.roi.isEmpty {
                throw r.error("preprocess", "fit", "fit = \"roi\" needs roi = [x, y, width, height]")
            }
            try r.finish(t, "preprocess")
        }
        if let t = try r.table(root, "inspect") {
            if let c = try r.int(t, "inspect", "connectivity", 4...8) {
                guard let conn = Connectivity(rawValue: c) else { throw r.error("inspect", "connectivity", "must be 4 or 8") }
                p.inspect.connectivity = conn
            }
            p.inspect.mmPerPixel = try r.double(t, "inspect", "mm_per_pixel", 0...1000) ?? p.inspect.mmPerPixel
            if let rules = try r.table(t, "inspect", "rules") {
                p.inspect.rules = []
                for name in rules.keys.sorted() {
                    let section = "inspect.rules.\(name)"
                    guard let rt = try r.table(rules, "inspect.rules", name) else { continue }
                    let k = try r.int(rt, section, "persist_k", 1...64) ?? 3
                    let n = try r.int(rt, section, "persist_n", 1...64) ?? max(k, 5)
                    guard n >= k else { throw r.error(section, "persist_n", "must be ≥ persist_k (\(k))") }
                    guard let cls = try r.int(rt, section, "class", 1...255) else {
                        throw r.error(section, "class", "missing (the class index this rule watches)")
                    }
                    p.inspect.rules.append(ClassRule(
                        classIndex: cls, name: name,
                        minPixels: try r.int(rt, section, "min_area_px", 1...100_000_000) ?? 1,
                        persistK: k, persistN: n,
                        clearFrames: try r.int(rt, section, "clear_frames", 1...10_000) ?? 5,
                        severityPixels: try r.ints(rt, section, "severity_px", 1...100_000_000) ?? []))
                    try r.finish(rt, section)
                }
            }
            try r.finish(t, "inspect")
        }
        if let t = try r.table(root, "link") {
            p.link.transport = try r.choice(t, "link", "transport") ?? p.link.transport
            p.link.udpTarget = try r.string(t, "link", "udp_target") ?? p.link.udpTarget
            if p.link.transport == .udp && !isHostPort(p.link.udpTarget) {
                throw r.error("link", "udp_target", "expected HOST:PORT, got \"\(p.link.udpTarget)\"")
            }
            p.link.serialDevice = try r.string(t, "link", "serial_device") ?? p.link.serialDevice
            p.link.baud = try r.int(t, "link", "baud", 1200...4_000_000) ?? p.link.baud
            p.link.keyFile = try r.string(t, "link", "key_file") ?? p.link.keyFile
            p.link.boardID = try r.int(t, "link", "board_id", 0...65535) ?? p.link.boardID
            p.link.heartbeatMs = try r.int(t, "link", "heartbeat_ms", 50...600_000) ?? p.link.heartbeatMs
            p.link.maskIntervalMs = try r.int(t, "link", "mask_interval_ms", 0...600_000) ?? p.link.maskIntervalMs
            try r.finish(t, "link")
        }
        if let t = try r.table(root, "report") {
            p.report.summaryIntervalS = try r.double(t, "report", "summary_interval_s", 0...86400) ?? p.report.summaryIntervalS
            p.report.watchdogMs = try r.int(t, "report", "watchdog_ms", 100...600_000) ?? p.report.watchdogMs
            p.report.consoleSummary = try r.bool(t, "report", "console_summary") ?? p.report.consoleSummary
            try r.finish(t, "report")
        }
        if (p.camera.source == .mjpeg || p.camera.source == .folder) && p.camera.path.isEmpty {
            throw r.error("camera", "path", "source = \"\(p.camera.source.rawValue)\" needs a path")
        }
        return p
    }
}

func isHostPort(_ s: String) -> Bool {
    guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]) else { return false }
    return colon != s.startIndex && (1...65535).contains(port)
}

/// Where each `section.key` sits in the source, for error messages (TOMLKit keeps no positions).
struct KeyLines {
    private var lines: [String: Int] = [:]
    init(_ text: String) {
        var section = ""
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.hasPrefix("[") {
                section = String(line.drop { $0 == "[" }.prefix { $0 != "]" }).trimmingCharacters(in: .whitespaces)
                lines[section] = lines[section] ?? i + 1
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = line[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: " \t\""))
                let full = section.isEmpty ? key : "\(section).\(key)"
                lines[full] = lines[full] ?? i + 1
            }
        }
    }
    func line(_ section: String, _ key: String?) -> Int? {
        if let key, let l = lines["\(section).\(key)"] { return l }
        return lines[section]
    }
}

/// Reads typed values from TOML tables and remembers which keys were read, so
/// that `finish` can reject the rest as unknown.
struct TableReader {
    let file: String
    let lines: KeyLines
    private var used: Set<String> = []
    init(file: String, lines: KeyLines) { self.file = file; self.lines = lines }

    func error(_ section: String, _ key: String?, _ message: String) -> ProfileError {
        ProfileError(file: file, line: lines.line(section, key), key: key.map { "\(section).\($0)" } ?? section, message: message)
    }

    func sections(_ root: TOMLTable, allowed: Set<String>) throws {
        for k in root.keys where !allowed.contains(k) {
            throw ProfileError(file: file, line: lines.line(k, nil), key: k,
                               message: "unknown section (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    mutating func table(_ root: TOMLTable, _ name: String) throws -> TOMLTable? {
        guard let v = root[name] else { return nil }
        guard let t = v.table else { throw error(name, nil, "must be a table") }
        return t
    }
    mutating func table(_ t: TOMLTable, _ section: String, _ key: String) throws -> TOMLTable? {
        used.insert("\(section).\(key)")
        guard let v = t[key] else { return nil }
        guard let sub = v.table else { throw error(section, key, "must be a table") }
        return sub
    }
    mutating func finish(_ t: TOMLTable, _ section: String) throws {
        for k in t.keys.sorted() where !used.contains("\(section).\(k)") {
            throw error(section, k, "unknown key in [\(section)]")
        }
    }
    mutating func string(_ t: TOMLTable, _ s: String, _ k: String) throws -> String? {
        used.insert("\(s).\(k)")
        guard let v = t[k] else { return nil }
        guard let x = v.string else { throw error(s, k, "must be a string") }
        return x
    }
    mutating func bool(_ t: TOMLTable, _ s: String, _ k: String) throws -> Bool? {
        used.insert("\(s).\(k)")
        guard let v = t[k] else { return nil }
        guard let x = v.bool else { throw error(s, k, "must be true or false") }
        return x
    }
    mutating func int(_ t: TOMLTable, _ s: String, _ k: String, _ range: ClosedRange<Int>) throws -> Int? {
        used.insert("\(s).\(k)")
        guard let v = t[k] else { return nil }
        guard let x = v.int else { throw error(s, k, "must be an integer") }
        guard range.contains(x) else { throw error(s, k, "\(x) is outside \(range.lowerBound)…\(range.upperBound)") }
        return x
    }
    mutating func double(_ t: TOMLTable, _ s: String, _ k: String, _ range: ClosedRange<Double>) throws -> Double? {
        used.insert("\(s).\(k)")
        guard let v = t[k] else { return nil }
        guard let x = v.double ?? v.int.map(Double.init) else { throw error(s, k, "must be a number") }
        guard range.contains(x) else { throw error(s, k, "\(x) is outside \(range.lowerBound)…\(range.upperBound)") }
        return x
    }
    mutating func ints(_ t: TOMLTable, _ s: String, _ k: String, _ range: ClosedRange<Int>) throws -> [Int]? {
        used.insert("\(s).\(k)")
        guard let v = t[k] else { return nil }
        guard let a = v.array else { throw error(s, k, "must be an array of integers") }
        var out: [Int] = []
        for e in a {
            guard let x = e.int else { throw error(s, k, "must be an array of integers") }
            guard range.contains(x) else { throw error(s, k, "\(x) is outside \(range.lowerBound)…\(range.upperBound)") }
            out.append(x)
        }
        return out
    }
    mutating func choice<E: RawRepresentable>(_ t: TOMLTable, _ s: String, _ k: String) throws -> E?
    where E.RawValue == String, E: CaseIterableByName {
        guard let raw = try string(t, s, k) else { return nil }
        guard let e = E(rawValue: raw) else {
            throw error(s, k, "\"\(raw)\" is not one of \(E.names.joined(separator: ", "))")
        }
        return e
    }
}

protocol CaseIterableByName { static var names: [String] { get } }
extension BoardProfile.SourceKind: CaseIterableByName, CaseIterable { static var names: [String] { allCases.map(\.rawValue) } }
extension BoardProfile.PixelFormat: CaseIterableByName, CaseIterable { static var names: [String] { allCases.map(\.rawValue) } }
extension BoardProfile.Precision: CaseIterableByName, CaseIterable { static var names: [String] { allCases.map(\.rawValue) } }
extension BoardProfile.Fit: CaseIterableByName, CaseIterable { static var names: [String] { allCases.map(\.rawValue) } }
extension BoardProfile.Transport: CaseIterableByName, CaseIterable { static var names: [String] { allCases.map(\.rawValue) } }

func readTextFile(_ path: String) -> String? {
    try? String(contentsOfFile: path, encoding: .utf8)
}
