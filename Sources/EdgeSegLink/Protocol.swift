// EdgeSeg link protocol, version 1. docs/protocol.md is the normative description;
// the constants here and that document must change together (the golden-bytes tests
// in Tests/EdgeSegLinkTests and tools/protocol enforce it).

public enum Wire {
    public static let magic0: UInt8 = 0x45  // 'E'
    public static let magic1: UInt8 = 0x53  // 'S'
    public static let version: UInt8 = 1
    public static let headerSize = 28
    public static let tagSize = 32  // HMAC-SHA256, untruncated
    /// Whole message (header + payload + tag) never exceeds this, so one message is one
    /// UDP datagram below the IPv6 minimum MTU (1280) and IP never fragments it.
    public static let maxMessageSize = 1200
    public static let maxPayloadWithTag = maxMessageSize - headerSize - tagSize  // 1140
    /// Largest serial frame: COBS adds one byte per 254 plus one, then CRC-32 and delimiter.
    public static let maxSerialFrame = maxMessageSize + 4 + (maxMessageSize + 4) / 254 + 2
    public static let maxDefectsPerMessage = 32
    public static let maxLatencyStages = 8
    public static let maxNameBytes = 64
    public static let maskChunkSize = 1100
    public static let maskEncodingRLE: UInt8 = 1
}

public enum MessageType: UInt8, Sendable, CaseIterable {
    case hello = 1, heartbeat = 2, detections = 3, mask = 4, alarm = 5, ack = 6
    public var name: String {
        switch self {
        case .hello: "HELLO"
        case .heartbeat: "HEARTBEAT"
        case .detections: "DETECTIONS"
        case .mask: "MASK"
        case .alarm: "ALARM"
        case .ack: "ACK"
        }
    }
}

public struct MessageFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// A 32-byte HMAC-SHA256 over header and payload follows the payload.
    public static let hmac = MessageFlags(rawValue: 1)
    public static let known: MessageFlags = [.hmac]
}

/// The fixed 28-byte header every message starts with.
public struct MessageHeader: Sendable, Equatable {
    public var type: MessageType
    public var flags: MessageFlags
    public var payloadLength: UInt16
    public var boardId: UInt32
    public var sessionId: UInt32
    public var sequence: UInt32
    public var timestampMicros: UInt64

    public init(type: MessageType, flags: MessageFlags = [], payloadLength: UInt16 = 0, boardId: UInt32,
                sessionId: UInt32, sequence: UInt32, timestampMicros: UInt64) {
        self.type = type; self.flags = flags; self.payloadLength = payloadLength; self.boardId = boardId
        self.sessionId = sessionId; self.sequence = sequence; self.timestampMicros = timestampMicros
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.type == b.type && a.flags.rawValue == b.flags.rawValue && a.payloadLength == b.payloadLength
            && a.boardId == b.boardId && a.sessionId == b.sessionId && a.sequence == b.sequence
            && a.timestampMicros == b.timestampMicros
    }
}

/// Why a received message was refused. Receivers count each reason separately.
public enum RejectReason: Int, Sendable, CaseIterable, Error {
    case truncated = 0          // shorter than a header, or than header + declared payload (+ tag)
    case oversized              // longer than maxMessageSize, or bytes after the declared end
    case badMagic
    case badVersion
    case unknownType
    case badFlags               // unknown flag bits or non-zero reserved byte
    case missingHMAC            // receiver has a key, message is unauthenticated
    case unexpectedHMAC         // message is authenticated, receiver has no key
    case badHMAC
    case replayed               // sequence already seen (or too old) in this session
    case staleSession           // session id of a board session that has already ended
    case wrongBoard             // ACK for another board
    case wrongSession           // ACK for another session of this board
    case badPayload             // payload length or field values do not match the type
    case badCRC                 // serial frame whose CRC-32 does not match
    case badFraming             // serial frame that is not valid COBS or too long

    public var name: String {
        switch self {
        case .truncated: "truncated"
        case .oversized: "oversized"
        case .badMagic: "bad_magic"
        case .badVersion: "bad_version"
        case .unknownType: "unknown_type"
        case .badFlags: "bad_flags"
        case .missingHMAC: "missing_hmac"
        case .unexpectedHMAC: "unexpected_hmac"
        case .badHMAC: "bad_hmac"
        case .replayed: "replayed"
        case .staleSession: "stale_session"
        case .wrongBoard: "wrong_board"
        case .wrongSession: "wrong_session"
        case .badPayload: "bad_payload"
        case .badCRC: "bad_crc"
        case .badFraming: "bad_framing"
        }
    }
}

/// Fixed-size per-reason counters (no dictionary, no allocation when counting).
public struct RejectCounters: Sendable, Equatable {
    public private(set) var counts = [UInt64](repeating: 0, count: RejectReason.allCases.count)
    public init() {}
    public mutating func count(_ r: RejectReason) { counts[r.rawValue] &+= 1 }
    public subscript(_ r: RejectReason) -> UInt64 { counts[r.rawValue] }
    public var total: UInt64 { counts.reduce(0, &+) }
}
