import Glibc

/// Pixel layouts a frame source can deliver. `rgb24` is packed R,G,B bytes.
public enum PixelFormat: Sendable, Equatable, CustomStringConvertible {
    case yuyv, mjpeg, rgb24

    public var description: String {
        switch self {
        case .yuyv: return "YUYV"
        case .mjpeg: return "MJPEG"
        case .rgb24: return "RGB24"
        }
    }
}

/// One captured image as a borrowed view: `bytes` belongs to the source (an mmap'd V4L2 buffer,
/// a slot buffer or a replay buffer) and stays valid only until the next call on that source.
/// Copying a `Frame` copies the view, never the pixels.
public struct Frame: @unchecked Sendable {
    public var format: PixelFormat
    public var width: Int
    public var height: Int
    /// Row pitch in bytes for packed formats; 0 for MJPEG.
    public var bytesPerLine: Int
    public var bytes: UnsafeRawPointer
    public var byteCount: Int
    /// Source sequence number (V4L2 `buf.sequence`, or the replay index).
    public var sequence: UInt64
    /// When the image was taken, CLOCK_MONOTONIC ns (the V4L2 buffer timestamp when the driver
    /// stamps with the monotonic clock, otherwise the dequeue time).
    public var captureNs: UInt64
    /// When the program received the frame (after DQBUF), CLOCK_MONOTONIC ns.
    public var dequeueNs: UInt64

    public init(format: PixelFormat, width: Int, height: Int, bytesPerLine: Int,
                bytes: UnsafeRawPointer, byteCount: Int, sequence: UInt64,
                captureNs: UInt64, dequeueNs: UInt64) {
        self.format = format; self.width = width; self.height = height
        self.bytesPerLine = bytesPerLine; self.bytes = bytes; self.byteCount = byteCount
        self.sequence = sequence; self.captureNs = captureNs; self.dequeueNs = dequeueNs
    }

    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes, count: byteCount) }
}

/// CLOCK_MONOTONIC in nanoseconds: the clock V4L2 stamps buffers with.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps until an absolute CLOCK_MONOTONIC time (ns); returns at once if it has passed.
public func sleepUntil(monotonicNs deadline: UInt64) {
    var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
}

/// Paces replay at a fixed rate without drift: frame n is due at start + n * period.
public struct Pacer: Sendable {
    public let periodNs: UInt64
    private var nextDueNs: UInt64 = 0

    /// `fps <= 0` disables pacing (frames as fast as they are asked for).
    public init(fps: Double) { periodNs = fps > 0 ? UInt64(1e9 / fps) : 0 }

    /// Waits for the next frame's due time, at most `timeoutMs`. Returns false on timeout.
    public mutating func wait(timeoutMs: Int) -> Bool {
        guard periodNs > 0 else { return true }
        let now = monotonicNanoseconds()
        if nextDueNs == 0 { nextDueNs = now }
        // A consumer that fell far behind resynchronises instead of bursting old frames.
        if now > nextDueNs &+ 4 &* periodNs { nextDueNs = now }
        let limit = now &+ UInt64(max(timeoutMs, 0)) &* 1_000_000
        if nextDueNs > limit { sleepUntil(monotonicNs: limit); return false }
        sleepUntil(monotonicNs: nextDueNs)
        nextDueNs &+= periodNs
        return true
    }
}
