import CV4L2
import Glibc

/// A V4L2 capture node streamed through mmap buffers (libv4l2, native formats only).
/// `next` drains the queue and returns only the newest frame; older ones are re-queued at once
/// and counted as dropped, so the frame handed out is never more than one period old.
/// Errors that mean the camera is gone surface as `CaptureError.deviceLost`; `ReconnectingCamera`
/// turns those into close, report, reopen.
public final class V4L2Camera: FrameSource {
    public let request: CameraRequest
    /// The node opened; starts as `request.device` and follows the camera if it comes back
    /// under another /dev/videoN (see `ReconnectingCamera`).
    public var devicePath: String
    public private(set) var choice: FormatChoice?
    public private(set) var info: CameraInfo?
    public private(set) var stats = CaptureStats()
    /// Whether buffer timestamps are CLOCK_MONOTONIC and stamped at start of exposure (UVC) or end of frame.
    public private(set) var monotonicTimestamps = false
    public private(set) var startOfExposure = false
    public private(set) var bytesPerLine = 0
    public private(set) var sizeImage = 0

    private var fd: Int32 = -1
    private var maps: [(pointer: UnsafeMutableRawPointer, length: Int)] = []
    private var heldIndex: Int32 = -1
    private var lastSequence: UInt32 = 0
    private var haveSequence = false
    private var streaming = false

    public init(request: CameraRequest) { self.request = request; devicePath = request.device }
    deinit { close() }

    public var isOpen: Bool { fd >= 0 }
    public var maxFrameBytes: Int { maps.map(\.length).max() ?? 0 }
    public var bufferCount: Int { maps.count }

    /// open → QUERYCAP → choose format → S_FMT → S_PARM → REQBUFS → mmap → QBUF all → STREAMON.
    public func open() throws(CaptureError) {
        close()
        let dev = devicePath
        let (node, err) = openV4L2Node(dev)
        guard node >= 0 else {
            throw err == ENOENT || err == ENODEV || err == ENXIO ? .deviceLost(device: dev, errno: err)
                                                                 : .openFailed(device: dev, errno: err)
        }
        fd = node
        do throws(CaptureError) { try configure() } catch { close(); throw error }
    }

    private func configure() throws(CaptureError) {
        let dev = devicePath
        var cap = v4l2_capability()
        if let e = nonzero(xioctl(fd, CV4L2_VIDIOC_QUERYCAP, &cap)) { throw lostOr(e, "VIDIOC_QUERYCAP") }
        let caps = cap.capabilities & CV4L2_CAP_DEVICE_CAPS != 0 ? cap.device_caps : cap.capabilities
        guard caps & CV4L2_CAP_VIDEO_CAPTURE != 0, caps & CV4L2_CAP_STREAMING != 0 else {
            throw .notACaptureDevice(device: dev)
        }
        let formats = enumerateFormats(fd: fd)
        info = CameraInfo(path: dev, driver: cString(cap.driver), card: cString(cap.card),
                          busInfo: cString(cap.bus_info), canCapture: true, formats: formats)
        guard let want = chooseFormat(from: formats, for: request) else {
            throw .noUsableFormat(device: dev, detail: "offers " + formats.map(\.fourccText).joined(separator: ","))
        }
        let type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        var fmt = v4l2_format()
        fmt.type = type
        fmt.fmt.pix.width = UInt32(want.width)
        fmt.fmt.pix.height = UInt32(want.height)
        fmt.fmt.pix.pixelformat = fourcc(of: want.format)
        fmt.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        if let e = nonzero(xioctl(fd, CV4L2_VIDIOC_S_FMT, &fmt)) { throw lostOr(e, "VIDIOC_S_FMT") }
        // Drivers adjust: trust only what S_FMT hands back.
        guard let got = pixelFormat(fromFourcc: fmt.fmt.pix.pixelformat) else {
            throw .noUsableFormat(device: dev, detail: "driver switched to \(fourccString(fmt.fmt.pix.pixelformat))")
        }
        bytesPerLine = Int(fmt.fmt.pix.bytesperline)
        sizeImage = Int(fmt.fmt.pix.sizeimage)
        var chosen = FormatChoice(format: got, width: Int(fmt.fmt.pix.width), height: Int(fmt.fmt.pix.height), fps: want.fps)
        if got == .yuyv && bytesPerLine < chosen.width * 2 { bytesPerLine = chosen.width * 2 }

        var parm = v4l2_streamparm()
        parm.type = type
        let den = UInt32((want.fps * 1000).rounded())
        parm.parm.capture.timeperframe = v4l2_fract(numerator: 1000, denominator: den)
        if xioctl(fd, CV4L2_VIDIOC_S_PARM, &parm) == 0 {
            let tpf = parm.parm.capture.timeperframe
            if tpf.numerator > 0 { chosen.fps = Double(tpf.denominator) / Double(tpf.numerator) }
        } // some drivers have no S_PARM; they then run at their fixed rate.
        choice = chosen

        var req = v4l2_requestbuffers()
        req.count = UInt32(max(2, request.bufferCount))
        req.type = type
        req.memory = V4L2_MEMORY_MMAP.rawValue
        if let e = nonzero(xioctl(fd, CV4L2_VIDIOC_REQBUFS, &req)) { throw lostOr(e, "VIDIOC_REQBUFS") }
        guard req.count >= 2 else { throw .ioctlFailed(name: "VIDIOC_REQBUFS (got \(req.count) buffers)", errno: ENOMEM) }
        maps.reserveCapacity(Int(req.count))
        for i in 0..<req.count {
            var b = v4l2_buffer()
            b.type = type; b.memory = V4L2_MEMORY_MMAP.rawValue; b.index = i
            if let e = nonzero(xioctl(fd, CV4L2_VIDIOC_QUERYBUF, &b)) { throw lostOr(e, "VIDIOC_QUERYBUF") }
            guard let p = v4l2_mmap(nil, Int(b.length), PROT_READ | PROT_WRITE, MAP_SHARED, fd, Int64(b.m.offset)),
                  p != cv4l2_map_failed() else { throw .ioctlFailed(name: "v4l2_mmap", errno: errno) }
            maps.append((p, Int(b.length)))
            if let e = nonzero(xioctl(fd, CV4L2_VIDIOC_QBUF, &b)) { throw lostOr(e, "VIDIOC_QBUF") }
        }
        var t = type
        if let e = nonzero(xioctl(fd, CV4L2_VIDIOC_STREAMON, &t)) { throw lostOr(e, "VIDIOC_STREAMON") }
        streaming = true
        haveSequence = false
        heldIndex = -1
    }

    /// STREAMOFF (errors ignored: the device may be gone), munmap, close. Safe to call twice.
    public func close() {
        guard fd >= 0 else { return }
        if streaming {
            var t = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            _ = cv4l2_ioctl(fd, CV4L2_VIDIOC_STREAMOFF, &t)
            streaming = false
        }
        for m in maps { _ = v4l2_munmap(m.pointer, m.length) }
        maps.removeAll(keepingCapacity: true)
        _ = v4l2_close(fd)
        fd = -1
        heldIndex = -1
    }

    /// The newest frame within `timeoutMs`, or nil on a stall. The frame points into an mmap
    /// buffer that is re-queued on the next call.
    public func next(timeoutMs: Int) throws(CaptureError) -> Frame? {
        guard fd >= 0, let choice else { throw .deviceLost(device: devicePath, errno: EBADF) }
        if heldIndex >= 0 { try requeue(heldIndex); heldIndex = -1 }
        let deadline = monotonicNanoseconds() &+ UInt64(max(timeoutMs, 0)) &* 1_000_000
        var newest = v4l2_buffer()
        var have = false
        while true {
            var b = v4l2_buffer()
            b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            b.memory = V4L2_MEMORY_MMAP.rawValue
            let e = xioctl(fd, CV4L2_VIDIOC_DQBUF, &b)
            if e == 0 {
                if b.flags & CV4L2_BUF_FLAG_ERROR != 0 || b.bytesused == 0 {
                    stats.corrupt += 1
                    try requeue(Int32(b.index))
                    continue
                }
                noteSequence(b.sequence)
                if have { try requeue(Int32(newest.index)); stats.dropped += 1 }
                newest = b; have = true
                continue   // drain: something newer may already be waiting
            }
            if e != EAGAIN { throw lostOr(e, "VIDIOC_DQBUF") }
            if have { break }
            let now = monotonicNanoseconds()
            if now >= deadline { stats.stalls += 1; return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let waitMs = Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
            let r = poll(&p, 1, waitMs)
            if r < 0 {
                if errno == EINTR { continue }
                throw .ioctlFailed(name: "poll", errno: errno)
            }
            if r > 0 && p.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                throw .deviceLost(device: devicePath, errno: p.revents & Int16(POLLNVAL) != 0 ? EBADF : ENODEV)
            }
        }
        let dequeued = monotonicNanoseconds()
        let tsFlags = newest.flags & CV4L2_BUF_FLAG_TIMESTAMP_MASK
        monotonicTimestamps = tsFlags == CV4L2_BUF_FLAG_TIMESTAMP_MONOTONIC
        startOfExposure = newest.flags & CV4L2_BUF_FLAG_TSTAMP_SRC_MASK == CV4L2_BUF_FLAG_TSTAMP_SRC_SOE
        let bufNs = UInt64(newest.timestamp.tv_sec) &* 1_000_000_000 &+ UInt64(newest.timestamp.tv_usec) &* 1000
        // A timestamp that is not monotonic, zero, or in the future is no glass time: use dequeue time.
        let captureNs = monotonicTimestamps && bufNs > 0 && bufNs <= dequeued ? bufNs : dequeued
        heldIndex = Int32(newest.index)
        stats.frames += 1
        let map = maps[Int(newest.index)]
        return Frame(format: choice.format, width: choice.width, height: choice.height,
                     bytesPerLine: choice.format == .mjpeg ? 0 : bytesPerLine,
                     bytes: UnsafeRawPointer(map.pointer), byteCount: min(Int(newest.bytesused), map.length),
                     sequence: UInt64(newest.sequence), captureNs: captureNs, dequeueNs: dequeued)
    }

    private func noteSequence(_ seq: UInt32) {
        if haveSequence && seq > lastSequence &+ 1 { stats.driverDropped += UInt64(seq - lastSequence - 1) }
        lastSequence = seq; haveSequence = true
    }

    private func requeue(_ index: Int32) throws(CaptureError) {
        var b = v4l2_buffer()
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        b.memory = V4L2_MEMORY_MMAP.rawValue
        b.index = UInt32(index)
        if let e = nonzero(xioctl(fd, CV4L2_VIDIOC_QBUF, &b)) { throw lostOr(e, "VIDIOC_QBUF") }
    }

    private func lostOr(_ e: Int32, _ name: String) -> CaptureError {
        e == ENODEV || e == EIO || e == ENXIO || e == EPIPE ? .deviceLost(device: devicePath, errno: e)
                                                            : .ioctlFailed(name: name, errno: e)
    }

    /// Sets a control found by its name (case-insensitive), e.g. vivid's "Disconnect".
    /// Used by the device checks to inject faults; returns false when there is no such control.
    public static func setControl(device: String, named name: String, value: Int32) -> Bool {
        let (fd, _) = openV4L2Node(device)
        guard fd >= 0 else { return false }
        defer { _ = v4l2_close(fd) }
        var q = v4l2_queryctrl()
        q.id = CV4L2_CTRL_FLAG_NEXT_CTRL
        while xioctl(fd, CV4L2_VIDIOC_QUERYCTRL, &q) == 0 {
            if cString(q.name).lowercased() == name.lowercased() {
                var c = v4l2_control(id: q.id, value: value)
                return xioctl(fd, CV4L2_VIDIOC_S_CTRL, &c) == 0
            }
            q.id |= CV4L2_CTRL_FLAG_NEXT_CTRL
        }
        return false
    }
}

@inline(__always) private func nonzero(_ e: Int32) -> Int32? { e == 0 ? nil : e }
