import EdgeSegLink
import Foundation

/// Everything the receiver reports, one value per event (log line, JSON line, callback).
public enum ReceivedEvent: Sendable {
    case sessionStarted(board: UInt32, session: UInt32, previous: UInt32?)
    case hello(board: UInt32, session: UInt32, HelloInfo)
    case heartbeat(board: UInt32, session: UInt32, sequence: UInt32, HeartbeatStats)
    case detections(board: UInt32, session: UInt32, sequence: UInt32, DetectionsBatch)
    /// `duplicate`: a retransmission of an event already stored (acknowledged again).
    case alarm(board: UInt32, session: UInt32, sequence: UInt32, AlarmEvent, attempt: UInt16, duplicate: Bool)
    case mask(board: UInt32, session: UInt32, frameId: UInt32, width: Int, height: Int, pixels: [UInt8], savedTo: String?)
    /// Sequence numbers `from...to` never arrived (so far).
    case gap(board: UInt32, session: UInt32, from: UInt32, to: UInt32)
    /// The board's heartbeat reports alarm events it could not queue.
    case alarmQueueOverflow(board: UInt32, session: UInt32, total: UInt32, new: UInt32)
    case boardSilent(board: UInt32, session: UInt32, silentMillis: UInt64)
    case rejected(RejectReason, from: String?)
    case storeFailed(board: UInt32, String)

    public var kind: String {
        switch self {
        case .sessionStarted: "session"
        case .hello: "hello"
        case .heartbeat: "heartbeat"
        case .detections: "detections"
        case .alarm: "alarm"
        case .mask: "mask"
        case .gap: "gap"
        case .alarmQueueOverflow: "alarm_queue_overflow"
        case .boardSilent: "board_silent"
        case .rejected: "rejected"
        case .storeFailed: "store_failed"
        }
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16); return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
private func num(_ f: Float) -> String { f.isFinite ? String(format: "%.3f", Double(f)) : "null" }
private func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
private func box(_ b: BoxU16) -> String { "[\(b.x),\(b.y),\(b.width),\(b.height)]" }
private func snapshot(_ s: AlarmSnapshot) -> String {
    "{\"active\":\(s.active),\"severity\":\(s.severity),\"area_px\":\(s.areaPixels),\"area_mm2\":\(num(s.areaMm2)),"
        + "\"confidence\":\(num(s.confidence)),\"bbox\":\(box(s.box))}"
}

extension ReceivedEvent {
    /// One human-readable line for the live console log.
    public var logLine: String {
        switch self {
        case let .sessionStarted(b, s, prev):
            return "SESSION  board \(b) session \(hex(s))" + (prev.map { " (was \(hex($0)): board restarted)" } ?? "")
        case let .hello(b, _, h):
            return "HELLO    board \(b) '\(h.name)' mask \(h.maskWidth)x\(h.maskHeight) classes \(h.classCount) heartbeat \(h.heartbeatIntervalMillis) ms"
        case let .heartbeat(b, _, seq, s):
            let lat = s.latencies.map { l in
                "\(LatencyStage(rawValue: l.stage)?.name ?? "stage\(l.stage)") \(Double(l.p50Micros) / 1000)/\(Double(l.p99Micros) / 1000)"
            }.joined(separator: " ")
            let temp = s.temperatureCentiC == HeartbeatStats.unknownTemperature ? "n/a" : String(format: "%.1fC", Double(s.temperatureCentiC) / 100)
            return "BEAT     board \(b) #\(seq) up \(s.uptimeMillis / 1000)s fps \(num(s.fps)) frames \(s.framesProcessed) dropped \(s.framesDropped) temp \(temp) queue \(s.alarmQueueDepth) overflows \(s.alarmQueueOverflows)"
                + (lat.isEmpty ? "" : " p50/p99 ms: \(lat)")
        case let .detections(b, _, seq, d):
            return "DETECT   board \(b) #\(seq) frame \(d.frameId) defects \(d.firstIndex)+\(d.defects.count)/\(d.totalDefects)"
                + d.defects.map { " [class \($0.classId) area \($0.areaPixels)px box \(box($0.box)) conf \(num($0.meanConfidence))]" }.joined()
        case let .alarm(b, _, seq, e, attempt, dup):
            return "ALARM    board \(b) #\(seq) id \(e.alarmId).\(e.revision) \(e.kind.name.uppercased()) class \(e.classId) severity \(e.before.severity)->\(e.after.severity) area \(e.before.areaPixels)->\(e.after.areaPixels)px frame \(e.frameId)"
                + (attempt > 0 ? " (attempt \(attempt))" : "") + (dup ? " duplicate, re-acked" : "")
        case let .mask(b, _, f, w, h, _, path):
            return "MASK     board \(b) frame \(f) \(w)x\(h)" + (path.map { " saved \($0)" } ?? "")
        case let .gap(b, _, from, to):
            return "GAP      board \(b) missing seq \(from)...\(to) (\(to &- from &+ 1) messages)"
        case let .alarmQueueOverflow(b, _, total, new):
            return "OVERFLOW board \(b) lost \(new) alarm event(s) to a full queue (total \(total))"
        case let .boardSilent(b, _, ms):
            return "SILENT   board \(b) no message for \(ms) ms"
        case let .rejected(r, from):
            return "REJECT   \(r.name)" + (from.map { " from \($0)" } ?? "")
        case let .storeFailed(b, msg):
            return "STOREERR board \(b) \(msg) (alarm not acknowledged; the board will resend)"
        }
    }

    /// One JSON object (no newline) for the JSON-lines log. `time` is wall-clock seconds.
    public func jsonLine(time: Date = Date()) -> String {
        var f = "{\"time\":\(String(format: "%.6f", time.timeIntervalSince1970)),\"event\":\"\(kind)\""
        switch self {
        case let .sessionStarted(b, s, prev):
            f += ",\"board\":\(b),\"session\":\(s),\"previous_session\":\(prev.map(String.init) ?? "null")"
        case let .hello(b, s, h):
            f += ",\"board\":\(b),\"session\":\(s),\"name\":\(jsonString(h.name)),\"mask_width\":\(h.maskWidth),\"mask_height\":\(h.maskHeight),\"classes\":\(h.classCount),\"heartbeat_ms\":\(h.heartbeatIntervalMillis)"
        case let .heartbeat(b, s, seq, h):
            let lat = h.latencies.map {
                "{\"stage\":\(jsonString(LatencyStage(rawValue: $0.stage)?.name ?? "stage\($0.stage)")),\"p50_us\":\($0.p50Micros),\"p99_us\":\($0.p99Micros),\"max_us\":\($0.maxMicros)}"
            }.joined(separator: ",")
            let temp = h.temperatureCentiC == HeartbeatStats.unknownTemperature ? "null" : String(format: "%.2f", Double(h.temperatureCentiC) / 100)
            f += ",\"board\":\(b),\"session\":\(s),\"seq\":\(seq),\"uptime_ms\":\(h.uptimeMillis),\"fps\":\(num(h.fps)),\"frames\":\(h.framesProcessed),\"dropped\":\(h.framesDropped),\"temperature_c\":\(temp),\"alarm_queue_depth\":\(h.alarmQueueDepth),\"alarm_queue_overflows\":\(h.alarmQueueOverflows),\"alarm_retransmissions\":\(h.alarmRetransmissions),\"send_errors\":\(h.sendErrors),\"capture_errors\":\(h.captureErrors),\"decode_errors\":\(h.decodeErrors),\"inference_overruns\":\(h.inferenceOverruns),\"rx_rejected\":\(h.rxRejected),\"latency\":[\(lat)]"
        case let .detections(b, s, seq, d):
            let list = d.defects.map {
                "{\"class\":\($0.classId),\"area_px\":\($0.areaPixels),\"area_mm2\":\(num($0.areaMm2)),\"bbox\":\(box($0.box)),\"centroid\":[\(num($0.centroidX)),\(num($0.centroidY))],\"confidence\":\(num($0.meanConfidence))}"
            }.joined(separator: ",")
            f += ",\"board\":\(b),\"session\":\(s),\"seq\":\(seq),\"frame\":\(d.frameId),\"capture_us\":\(d.captureTimestampMicros),\"total\":\(d.totalDefects),\"first\":\(d.firstIndex),\"defects\":[\(list)]"
        case let .alarm(b, s, seq, e, attempt, dup):
            f += ",\"board\":\(b),\"session\":\(s),\"seq\":\(seq),\"alarm_id\":\(e.alarmId),\"revision\":\(e.revision),\"kind\":\"\(e.kind.name)\",\"class\":\(e.classId),\"frame\":\(e.frameId),\"severity\":\(e.severity),\"attempt\":\(attempt),\"duplicate\":\(dup),\"before\":\(snapshot(e.before)),\"after\":\(snapshot(e.after))"
        case let .mask(b, s, fr, w, h, _, path):
            f += ",\"board\":\(b),\"session\":\(s),\"frame\":\(fr),\"width\":\(w),\"height\":\(h),\"file\":\(path.map(jsonString) ?? "null")"
        case let .gap(b, s, from, to):
            f += ",\"board\":\(b),\"session\":\(s),\"from\":\(from),\"to\":\(to)"
        case let .alarmQueueOverflow(b, s, total, new):
            f += ",\"board\":\(b),\"session\":\(s),\"total\":\(total),\"new\":\(new)"
        case let .boardSilent(b, s, ms):
            f += ",\"board\":\(b),\"session\":\(s),\"silent_ms\":\(ms)"
        case let .rejected(r, from):
            f += ",\"reason\":\"\(r.name)\",\"from\":\(from.map(jsonString) ?? "null")"
        case let .storeFailed(b, msg):
            f += ",\"board\":\(b),\"error\":\(jsonString(msg))"
        }
        return f + "}"
    }
}
