import Foundation
import Synchronization
import EdgeSegCore
import EdgeSegCapture
import EdgeSegInspect
import EdgeSegLink

// `edgeseg run`: the threads of the board.
//   capture thread   source.next → LatestFrameSlot (never waits for inference)
//   inference thread slot.take → preprocess → executor → argmax → defects → alarms → BoardLink
//   link thread      BoardLink.poll (ACKs, retries, heartbeats)
//   monitor thread   watchdog + console summary
// Everything a frame touches is allocated before the first frame.

public struct RunOptions: Sendable {
    public var profile: BoardProfile
    /// Stop after this many processed frames / seconds (nil: run until stopped or the source ends).
    public var maxFrames: Int?
    public var durationSeconds: Double?
    /// Overrides the profile's UDP target (the demo points it at its in-process receiver).
    public var udpTargetOverride: String?
    public var log: @Sendable (String) -> Void
    /// Test hooks: run on every pipeline thread (capture, link, monitor, the executor's pool)
    /// as it starts, and on the inference thread after each processed frame (with its count).
    public var onThreadStart: (@convention(c) () -> Void)? = nil
    public var onFrame: (@Sendable (UInt64) -> Void)? = nil
    public init(profile: BoardProfile, maxFrames: Int? = nil, durationSeconds: Double? = nil,
                udpTargetOverride: String? = nil, log: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.profile = profile; self.maxFrames = maxFrames; self.durationSeconds = durationSeconds
        self.udpTargetOverride = udpTargetOverride; self.log = log
    }
}

public enum PipelineError: Error, CustomStringConvertible {
    case setup(String)
    public var description: String {
        switch self { case .setup(let s): return s }
    }
}

/// Progress beats of each thread, read by the watchdog.
final class Beats: Sendable {
    let capture = Atomic<UInt64>(0)
    let inference = Atomic<UInt64>(0)
    let link = Atomic<UInt64>(0)
    let stop = Atomic<Bool>(false)
    let sourceEnded = Atomic<Bool>(false)
}

/// Opens the frame source the profile names.
func openSource(_ c: BoardProfile.Camera, log: @escaping @Sendable (String) -> Void) throws -> any FrameSource {
    do {
        switch c.source {
        case .mjpeg: return try MJPEGFileSource(path: c.path, fps: c.fps, loop: c.loop)
        case .folder: return try ImageFolderSource(directory: c.path, fps: c.fps, loop: c.loop)
        case .synthetic: return SyntheticRopeSource(width: c.width, height: c.height, fps: c.fps)
        case .v4l2:
            let request = CameraRequest(device: c.device, format: c.format == .mjpeg ? .mjpeg : .yuyv,
                                        width: c.width, height: c.height, fps: c.fps, bufferCount: c.buffers)
            let cam = ReconnectingCamera(request: request) { event in log("camera: \(event)") }
            try cam.start()
            return cam
        }
    } catch let e as CaptureError {
        throw PipelineError.setup("camera: \(e)")
    }
}

/// A transport that drops everything (profile `transport = "none"`): the run still counts and reports.
public struct NullTransport: LinkTransport {
    public init() {}
    public mutating func send(_ message: UnsafeRawBufferPointer) -> Bool { true }
    public mutating func receive(_ handle: (TransportInput) -> Void) {}
    public mutating func flush() {}
    public var fileDescriptor: Int32 { -1 }
}
