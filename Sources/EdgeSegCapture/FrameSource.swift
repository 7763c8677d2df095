import Glibc

/// Why a source could not deliver. Typed throws keep the hot path free of error boxes.
public enum CaptureError: Error, Equatable, CustomStringConvertible {
    /// The device vanished or failed hard (ENODEV, EIO, POLLERR/POLLHUP): close and reopen.
    case deviceLost(device: String, errno: Int32)
    case openFailed(device: String, errno: Int32)
    case notACaptureDevice(device: String)
    case noUsableFormat(device: String, detail: String)
    case ioctlFailed(name: String, errno: Int32)
    case endOfStream
    case fileError(path: String, errno: Int32)
    case badInput(String)

    public var description: String {
        switch self {
        case let .deviceLost(d, e): return "camera \(d) lost: \(errnoText(e))"
        case let .openFailed(d, e): return "cannot open \(d): \(errnoText(e))"
        case let .notACaptureDevice(d): return "\(d) is not a streaming video capture device"
        case let .noUsableFormat(d, detail): return "\(d): no usable format (\(detail))"
        case let .ioctlFailed(n, e): return "\(n) failed: \(errnoText(e))"
        case .endOfStream: return "end of stream"
        case let .fileError(p, e): return "\(p): \(errnoText(e))"
        case let .badInput(s): return s
        }
    }
}

func errnoText(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "errno \(e)" }
    return String(cString: s) + " (errno \(e))"
}

/// Anything that yields frames: a V4L2 camera, a replayed clip or folder, the synthetic rope.
/// `next` returns nil when no frame arrived within `timeoutMs` (a stall, never a hang).
/// The returned frame's pixels stay valid until the next call to `next` or `close`.
public protocol FrameSource: AnyObject {
    func next(timeoutMs: Int) throws(CaptureError) -> Frame?
    /// Largest frame in bytes this source can produce (sizes the latest-frame slot).
    var maxFrameBytes: Int { get }
    var stats: CaptureStats { get }
    func close()
}

/// Counters every source keeps; all monotonically increasing.
public struct CaptureStats: Sendable, Equatable, CustomStringConvertible {
    public var frames: UInt64 = 0
    /// Frames the program dequeued but replaced by a newer one before anyone used them.
    public var dropped: UInt64 = 0
    /// Frames the driver skipped (gaps in the V4L2 sequence number).
    public var driverDropped: UInt64 = 0
    /// Buffers flagged V4L2_BUF_FLAG_ERROR, empty buffers, undecodable JPEGs.
    public var corrupt: UInt64 = 0
    /// `next` calls that timed out with no frame.
    public var stalls: UInt64 = 0
    public var disconnects: UInt64 = 0
    public var reopens: UInt64 = 0
    public init() {}

    public var description: String {
        "frames=\(frames) dropped=\(dropped) driverDropped=\(driverDropped) corrupt=\(corrupt) stalls=\(stalls) disconnects=\(disconnects) reopens=\(reopens)"
    }
}
