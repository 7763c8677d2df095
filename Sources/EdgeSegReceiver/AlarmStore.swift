import EdgeSegLink
import Foundation
import GRDB

/// Durable record of every alarm event received. The receiver writes here *before* it
/// acknowledges, so an ACKed alarm is on disk even if the PC dies right after.
/// `(board, session, alarm, revision)` is unique: retransmissions are recognised as duplicates.
public final class AlarmStore: @unchecked Sendable {
    private let db: DatabaseQueue

    /// `path` nil: in-memory (deduplication only, nothing survives the process).
    public init(path: String?) throws {
        var config = Configuration()
        config.busyMode = .timeout(5)  // another process (a report tool, a second receiver) may hold the file briefly
        db = try path.map { try DatabaseQueue(path: $0, configuration: config) } ?? DatabaseQueue(configuration: config)
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE alarm_event (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  board_id INTEGER NOT NULL, session_id INTEGER NOT NULL,
                  alarm_id INTEGER NOT NULL, revision INTEGER NOT NULL,
                  kind TEXT NOT NULL, class_id INTEGER NOT NULL, frame_id INTEGER NOT NULL,
                  sequence INTEGER NOT NULL, board_time_us INTEGER NOT NULL, received_at REAL NOT NULL,
                  severity INTEGER NOT NULL,
                  before_active INTEGER NOT NULL, before_severity INTEGER NOT NULL, before_area_px INTEGER NOT NULL,
                  before_area_mm2 REAL, before_confidence REAL NOT NULL,
                  after_active INTEGER NOT NULL, after_severity INTEGER NOT NULL, after_area_px INTEGER NOT NULL,
                  after_area_mm2 REAL, after_confidence REAL NOT NULL,
                  after_x INTEGER NOT NULL, after_y INTEGER NOT NULL, after_w INTEGER NOT NULL, after_h INTEGER NOT NULL,
                  UNIQUE (board_id, session_id, alarm_id, revision))
                """)
        }
        try m.migrate(db)
    }

    /// Stores the event; returns false if it was already stored (a retransmission).
    public func record(boardId: UInt32, sessionId: UInt32, sequence: UInt32, boardTimeMicros: UInt64,
                       event e: AlarmEvent, receivedAt: Date = Date()) throws -> Bool {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO alarm_event (board_id, session_id, alarm_id, revision, kind, class_id, frame_id,
                  sequence, board_time_us, received_at, severity,
                  before_active, before_severity, before_area_px, before_area_mm2, before_confidence,
                  after_active, after_severity, after_area_px, after_area_mm2, after_confidence,
                  after_x, after_y, after_w, after_h)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """, arguments: [
                    Int64(boardId), Int64(sessionId), Int64(e.alarmId), Int64(e.revision), e.kind.name,
                    Int64(e.classId), Int64(e.frameId), Int64(sequence), Int64(bitPattern: boardTimeMicros),
                    receivedAt.timeIntervalSince1970, Int64(e.severity),
                    e.before.active, Int64(e.before.severity), Int64(e.before.areaPixels),
                    e.before.areaMm2.isNaN ? nil : Double(e.before.areaMm2), Double(e.before.confidence),
                    e.after.active, Int64(e.after.severity), Int64(e.after.areaPixels),
                    e.after.areaMm2.isNaN ? nil : Double(e.after.areaMm2), Double(e.after.confidence),
                    Int64(e.after.box.x), Int64(e.after.box.y), Int64(e.after.box.width), Int64(e.after.box.height),
                ])
            return db.changesCount == 1
        }
    }

    public struct StoredAlarm: Sendable, Equatable {
        public var boardId: UInt32, sessionId: UInt32, alarmId: UInt32, revision: UInt16, kind: String
    }

    public func all() throws -> [StoredAlarm] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT board_id, session_id, alarm_id, revision, kind FROM alarm_event ORDER BY id")
                .map { r in
                    StoredAlarm(boardId: UInt32(r[0] as Int64), sessionId: UInt32(r[1] as Int64),
                                alarmId: UInt32(r[2] as Int64), revision: UInt16(r[3] as Int64), kind: r[4])
                }
        }
    }

    public func count() throws -> Int { try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM alarm_event") ?? 0 } }
}
