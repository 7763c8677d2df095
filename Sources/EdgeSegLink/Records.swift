// Value types the board pipeline fills and the receiver decodes into. Plain integers and
// floats so EdgeSegInspect's output maps onto them field by field. Unknown floats are NaN.

/// Axis-aligned box in mask pixels (mask coordinates, not camera coordinates).
public struct BoxU16: Sendable, Equatable {
    public var x: UInt16, y: UInt16, width: UInt16, height: UInt16
    public init(x: UInt16 = 0, y: UInt16 = 0, width: UInt16 = 0, height: UInt16 = 0) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

/// One connected component of one defect class in one frame.
public struct DefectRecord: Sendable, Equatable {
    public var classId: UInt8
    public var areaPixels: UInt32
    /// Area in mm² when the board profile gives a scale; NaN otherwise.
    public var areaMm2: Float
    public var box: BoxU16
    public var centroidX: Float
    public var centroidY: Float
    /// Mean softmax/score of the class over the component's pixels, 0…1.
    public var meanConfidence: Float

    public init(classId: UInt8, areaPixels: UInt32, areaMm2: Float = .nan, box: BoxU16,
                centroidX: Float, centroidY: Float, meanConfidence: Float) {
        self.classId = classId; self.areaPixels = areaPixels; self.areaMm2 = areaMm2; self.box = box
        self.centroidX = centroidX; self.centroidY = centroidY; self.meanConfidence = meanConfidence
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.classId == b.classId && a.areaPixels == b.areaPixels && a.areaMm2.bitPattern == b.areaMm2.bitPattern
            && a.box == b.box && a.centroidX == b.centroidX && a.centroidY == b.centroidY
            && a.meanConfidence == b.meanConfidence
    }
}

public enum AlarmKind: UInt8, Sendable {
    case raised = 1, updated = 2, cleared = 3
    public var name: String {
        switch self { case .raised: "raised"; case .updated: "updated"; case .cleared: "cleared" }
    }
}

/// State of an alarm at one moment (Frigate's before/after pattern).
public struct AlarmSnapshot: Sendable, Equatable {
    public var active: Bool
    /// 0 none, 1 low, 2 warning, 3 critical (the board profile maps rules to levels).
    public var severity: UInt8
    public var areaPixels: UInt32
    public var areaMm2: Float
    public var confidence: Float
    public var box: BoxU16

    public init(active: Bool = false, severity: UInt8 = 0, areaPixels: UInt32 = 0, areaMm2: Float = .nan,
                confidence: Float = 0, box: BoxU16 = BoxU16()) {
        self.active = active; self.severity = severity; self.areaPixels = areaPixels; self.areaMm2 = areaMm2
        self.confidence = confidence; self.box = box
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.active == b.active && a.severity == b.severity && a.areaPixels == b.areaPixels
            && a.areaMm2.bitPattern == b.areaMm2.bitPattern && a.confidence == b.confidence && a.box == b.box
    }
}

/// One change of one alarm. `(alarmId, revision)` names the event uniquely within a board
/// session: raised is revision 0 and every later update/clear of the same alarm increments it.
public struct AlarmEvent: Sendable, Equatable {
    public var alarmId: UInt32
    public var revision: UInt16
    public var kind: AlarmKind
    public var classId: UInt8
    public var frameId: UInt32
    public var before: AlarmSnapshot
    public var after: AlarmSnapshot

    public init(alarmId: UInt32, revision: UInt16, kind: AlarmKind, classId: UInt8, frameId: UInt32,
                before: AlarmSnapshot, after: AlarmSnapshot) {
        self.alarmId = alarmId; self.revision = revision; self.kind = kind; self.classId = classId
        self.frameId = frameId; self.before = before; self.after = after
    }
    public var severity: UInt8 { kind == .cleared ? before.severity : after.severity }
}

/// Stage ids used in heartbeats. Values are wire constants.
public enum LatencyStage: UInt8, Sendable, CaseIterable {
    case capture = 0      // glass (V4L2 timestamp) → dequeued
    case preprocess = 1
    case inference = 2
    case inspect = 3
    case link = 4         // inspect done → sent
    case glassToSent = 5  // whole path
    public var name: String {
        switch self {
        case .capture: "capture"
        case .preprocess: "preprocess"
        case .inference: "inference"
        case .inspect: "inspect"
        case .link: "link"
        case .glassToSent: "glass_to_sent"
        }
    }
}

public struct StageLatency: Sendable, Equatable {
    public var stage: UInt8
    public var p50Micros: UInt32
    public var p99Micros: UInt32
    public var maxMicros: UInt32
    public init(stage: UInt8, p50Micros: UInt32, p99Micros: UInt32, maxMicros: UInt32) {
        self.stage = stage; self.p50Micros = p50Micros; self.p99Micros = p99Micros; self.maxMicros = maxMicros
    }
    public init(_ stage: LatencyStage, p50Micros: UInt32, p99Micros: UInt32, maxMicros: UInt32) {
        self.init(stage: stage.rawValue, p50Micros: p50Micros, p99Micros: p99Micros, maxMicros: maxMicros)
    }
}

/// What a heartbeat reports. The pipeline fills the frame/latency fields; BoardLink fills
/// uptime, queue and send fields itself when it sends.
public struct HeartbeatStats: Sendable, Equatable {
    public static let unknownTemperature = Int16.min

    public var uptimeMillis: UInt64 = 0
    public var fps: Float = 0
    public var framesProcessed: UInt32 = 0
    public var framesDropped: UInt32 = 0
    /// SoC temperature in 0.01 °C, or `unknownTemperature`.
    public var temperatureCentiC: Int16 = unknownTemperature
    public var alarmQueueDepth: UInt16 = 0
    /// Cumulative count of alarm events the board could not queue (never silently dropped:
    /// a heartbeat goes out immediately after each overflow).
    public var alarmQueueOverflows: UInt32 = 0
    public var alarmRetransmissions: UInt32 = 0
    public var sendErrors: UInt32 = 0
    public var captureErrors: UInt32 = 0
    public var decodeErrors: UInt32 = 0
    public var inferenceOverruns: UInt32 = 0
    public var rxRejected: UInt32 = 0
    /// At most `Wire.maxLatencyStages`; extra entries are not sent.
    public var latencies: [StageLatency] = []

    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.uptimeMillis == b.uptimeMillis && a.fps.bitPattern == b.fps.bitPattern
            && a.framesProcessed == b.framesProcessed && a.framesDropped == b.framesDropped
            && a.temperatureCentiC == b.temperatureCentiC && a.alarmQueueDepth == b.alarmQueueDepth
            && a.alarmQueueOverflows == b.alarmQueueOverflows && a.alarmRetransmissions == b.alarmRetransmissions
            && a.sendErrors == b.sendErrors && a.captureErrors == b.captureErrors
            && a.decodeErrors == b.decodeErrors && a.inferenceOverruns == b.inferenceOverruns
            && a.rxRejected == b.rxRejected && a.latencies == b.latencies
    }
}

public struct HelloInfo: Sendable, Equatable {
    public var heartbeatIntervalMillis: UInt32
    public var maskWidth: UInt16
    public var maskHeight: UInt16
    public var classCount: UInt8
    /// Board name, UTF-8, at most `Wire.maxNameBytes` bytes (longer names are cut).
    public var name: String
    public init(heartbeatIntervalMillis: UInt32, maskWidth: UInt16, maskHeight: UInt16, classCount: UInt8, name: String) {
        self.heartbeatIntervalMillis = heartbeatIntervalMillis; self.maskWidth = maskWidth
        self.maskHeight = maskHeight; self.classCount = classCount; self.name = name
    }
}

/// Header fields of one MASK fragment; `chunk` points into the received message.
public struct MaskFragment {
    public var frameId: UInt32
    public var width: UInt16
    public var height: UInt16
    public var encoding: UInt8
    public var classCount: UInt8
    public var index: UInt16
    public var count: UInt16
    public var chunkSize: UInt16
    public var totalLength: UInt32
    public var chunk: UnsafeRawBufferPointer

    public init(frameId: UInt32, width: UInt16, height: UInt16, encoding: UInt8, classCount: UInt8, index: UInt16,
                count: UInt16, chunkSize: UInt16, totalLength: UInt32, chunk: UnsafeRawBufferPointer) {
        self.frameId = frameId; self.width = width; self.height = height; self.encoding = encoding
        self.classCount = classCount; self.index = index; self.count = count; self.chunkSize = chunkSize
        self.totalLength = totalLength; self.chunk = chunk
    }
}

public struct AckInfo: Sendable, Equatable {
    public var alarmId: UInt32
    public var revision: UInt16
    /// Sequence number of the ALARM copy being acknowledged (informational).
    public var ackedSequence: UInt32
    public init(alarmId: UInt32, revision: UInt16, ackedSequence: UInt32) {
        self.alarmId = alarmId; self.revision = revision; self.ackedSequence = ackedSequence
    }
}
