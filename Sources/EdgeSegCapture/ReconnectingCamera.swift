import Glibc

/// Something worth telling the operator (and the control PC) about the camera.
public enum CameraEvent: Sendable, Equatable {
    case opened(FormatChoice, bufferCount: Int)
    case lost(CaptureError)
    case stalled(milliseconds: Int)
    case reopenFailed(CaptureError, retryInMs: Int)
    case reopened(FormatChoice)
}

/// Keeps a V4L2 camera streaming across unplugs and driver errors:
/// deviceLost (ENODEV, EIO, POLLERR/POLLHUP) or any failed streaming ioctl → close, report,
/// reopen with exponential backoff (0.25 s doubling to 8 s), go on.
/// `next` never blocks longer than its timeout, also while the camera is away, so the caller's
/// loop keeps running and can report the outage.
public final class ReconnectingCamera: FrameSource {
    public let camera: V4L2Camera
    public var onEvent: (CameraEvent) -> Void
    public let initialBackoffMs: Int
    public let maxBackoffMs: Int
    /// Consecutive empty polls before a stall is reported (once per stall).
    public let stallReportMs: Int

    private var backoffMs: Int
    private var retryAtNs: UInt64 = 0
    private var everOpened = false
    private var extra = CaptureStats()
    private var lastFrameNs: UInt64 = 0
    private var stallReported = false
    /// bus_info and card of the camera once seen: a replugged USB camera may get a new node.
    private var identity: (bus: String, card: String)?

    public init(request: CameraRequest, initialBackoffMs: Int = 250, maxBackoffMs: Int = 8000,
                stallReportMs: Int = 2000, onEvent: @escaping (CameraEvent) -> Void = { _ in }) {
        camera = V4L2Camera(request: request)
        self.initialBackoffMs = initialBackoffMs; self.maxBackoffMs = maxBackoffMs
        self.stallReportMs = stallReportMs
        self.onEvent = onEvent
        backoffMs = initialBackoffMs
    }

    public var maxFrameBytes: Int { camera.maxFrameBytes }
    public var isStreaming: Bool { camera.isOpen }

    public var stats: CaptureStats {
        var s = camera.stats
        s.disconnects = extra.disconnects; s.reopens = extra.reopens
        s.stalls += extra.stalls
        return s
    }

    /// First open; throws for configuration errors (not a capture device, no usable format)
    /// but treats a missing device like an unplugged one and keeps retrying in `next`.
    public func start() throws(CaptureError) {
        do throws(CaptureError) {
            try camera.open()
            everOpened = true
            rememberIdentity()
            onEvent(.opened(camera.choice!, bufferCount: camera.bufferCount))
            lastFrameNs = monotonicNanoseconds()
        } catch {
            if case .deviceLost = error { scheduleRetry(after: error) } else { throw error }
        }
    }

    public func next(timeoutMs: Int) throws(CaptureError) -> Frame? {
        let deadline = monotonicNanoseconds() &+ UInt64(max(timeoutMs, 0)) &* 1_000_000
        if !camera.isOpen {
            let now = monotonicNanoseconds()
            if now < retryAtNs {
                sleepUntil(monotonicNs: min(retryAtNs, deadline))
                if retryAtNs > deadline { extra.stalls += 1; return nil }
            }
            do throws(CaptureError) {
                do throws(CaptureError) { try camera.open() } catch {
                    guard case .deviceLost = error, let moved = findMovedCamera() else { throw error }
                    camera.devicePath = moved
                    try camera.open()
                }
            } catch {
                switch error {
                case .deviceLost, .openFailed, .ioctlFailed: scheduleRetry(after: error); extra.stalls += 1; return nil
                default: throw error   // wrong device or format: reopening will not help
                }
            }
            backoffMs = initialBackoffMs
            lastFrameNs = monotonicNanoseconds()
            stallReported = false
            rememberIdentity()
            if everOpened { extra.reopens += 1; onEvent(.reopened(camera.choice!)) }
            else { onEvent(.opened(camera.choice!, bufferCount: camera.bufferCount)) }
            everOpened = true
        }
        let now = monotonicNanoseconds()
        let remaining = deadline > now ? Int((deadline - now) / 1_000_000) : 0
        do throws(CaptureError) {
            if let frame = try camera.next(timeoutMs: remaining) {
                lastFrameNs = frame.dequeueNs
                stallReported = false
                return frame
            }
            let silentMs = Int((monotonicNanoseconds() &- lastFrameNs) / 1_000_000)
            if silentMs >= stallReportMs && !stallReported {
                stallReported = true
                onEvent(.stalled(milliseconds: silentMs))
            }
            return nil
        } catch {
            // Any failing ioctl while streaming (EINVAL from a confused driver, EBUSY, ...) is handled
            // like an unplug: a fresh open is the one recovery that works for all of them.
            switch error {
            case .deviceLost, .ioctlFailed: break
            default: throw error
            }
            camera.close()
            extra.disconnects += 1
            onEvent(.lost(error))
            backoffMs = initialBackoffMs
            retryAtNs = monotonicNanoseconds() &+ UInt64(initialBackoffMs) &* 1_000_000
            return nil
        }
    }

    private func rememberIdentity() {
        if let info = camera.info { identity = (info.busInfo, info.card) }
    }

    /// Another node with the same bus_info and card (the camera re-enumerated under a new number).
    private func findMovedCamera() -> String? {
        guard let identity, !identity.bus.isEmpty else { return nil }
        for path in listVideoNodes() where path != camera.devicePath {
            if let info = describeCamera(path: path), info.canCapture, info.busInfo == identity.bus, info.card == identity.card {
                return path
            }
        }
        return nil
    }

    private func scheduleRetry(after error: CaptureError) {
        let wait = backoffMs
        retryAtNs = monotonicNanoseconds() &+ UInt64(wait) &* 1_000_000
        backoffMs = min(backoffMs * 2, maxBackoffMs)
        onEvent(.reopenFailed(error, retryInMs: wait))
    }

    public func close() { camera.close() }
}
