import CV4L2
import Glibc

/// What a V4L2 node offers: formats, their frame sizes and, per size, the frame rates.
public struct CameraFormat: Sendable, Equatable {
    public var fourcc: UInt32
    public var description: String
    /// Converted by libv4l rather than produced by the device (costs a hidden conversion).
    public var emulated: Bool
    public var sizes: [CameraFrameSize]

    public var fourccText: String { fourccString(fourcc) }
    public var pixelFormat: PixelFormat? { EdgeSegCapture.pixelFormat(fromFourcc: fourcc) }
}

public struct CameraFrameSize: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Frame rates in frames per second, highest first.
    public var rates: [Double]
    /// True when the driver reported a stepwise/continuous range; width/height are then its maximum.
    public var stepwise: Bool = false
}

public struct CameraInfo: Sendable {
    public var path: String
    public var driver: String
    public var card: String
    public var busInfo: String
    public var canCapture: Bool
    public var formats: [CameraFormat]
}

public func fourccString(_ v: UInt32) -> String {
    String(decoding: (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xff) }, as: UTF8.self)
}

public func pixelFormat(fromFourcc v: UInt32) -> PixelFormat? {
    switch v {
    case CV4L2_PIX_FMT_YUYV: return .yuyv
    case CV4L2_PIX_FMT_MJPEG, CV4L2_PIX_FMT_JPEG: return .mjpeg
    case CV4L2_PIX_FMT_RGB24: return .rgb24
    default: return nil
    }
}

func fourcc(of format: PixelFormat) -> UInt32 {
    switch format {
    case .yuyv: return CV4L2_PIX_FMT_YUYV
    case .mjpeg: return CV4L2_PIX_FMT_MJPEG
    case .rgb24: return CV4L2_PIX_FMT_RGB24
    }
}

func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
}

/// ioctl through libv4l2, retried on EINTR. Returns 0 or the errno.
@inline(__always)
func xioctl(_ fd: Int32, _ request: UInt, _ arg: UnsafeMutableRawPointer) -> Int32 {
    while true {
        if cv4l2_ioctl(fd, request, arg) != -1 { return 0 }
        let e = errno
        if e != EINTR { return e }
    }
}

/// Enumerates formats, sizes and rates of an open node (VIDIOC_ENUM_FMT / _FRAMESIZES / _FRAMEINTERVALS).
func enumerateFormats(fd: Int32) -> [CameraFormat] {
    var result: [CameraFormat] = []
    let type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
    var index: UInt32 = 0
    while index < 256 {
        var desc = v4l2_fmtdesc()
        desc.index = index; desc.type = type
        guard xioctl(fd, CV4L2_VIDIOC_ENUM_FMT, &desc) == 0 else { break }
        index += 1
        var sizes: [CameraFrameSize] = []
        var sizeIndex: UInt32 = 0
        while sizeIndex < 256 {
            var fs = v4l2_frmsizeenum()
            fs.index = sizeIndex; fs.pixel_format = desc.pixelformat
            guard xioctl(fd, CV4L2_VIDIOC_ENUM_FRAMESIZES, &fs) == 0 else { break }
            sizeIndex += 1
            if fs.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
                let w = Int(fs.discrete.width), h = Int(fs.discrete.height)
                sizes.append(CameraFrameSize(width: w, height: h,
                                             rates: enumerateRates(fd: fd, fourcc: desc.pixelformat, width: w, height: h)))
            } else {
                let w = Int(fs.stepwise.max_width), h = Int(fs.stepwise.max_height)
                sizes.append(CameraFrameSize(width: w, height: h,
                                             rates: enumerateRates(fd: fd, fourcc: desc.pixelformat, width: w, height: h),
                                             stepwise: true))
                break
            }
        }
        result.append(CameraFormat(fourcc: desc.pixelformat, description: cString(desc.description),
                                   emulated: desc.flags & CV4L2_FMT_FLAG_EMULATED != 0, sizes: sizes))
    }
    return result
}

private func enumerateRates(fd: Int32, fourcc: UInt32, width: Int, height: Int) -> [Double] {
    var rates: [Double] = []
    var i: UInt32 = 0
    while i < 256 {
        var fi = v4l2_frmivalenum()
        fi.index = i; fi.pixel_format = fourcc; fi.width = UInt32(width); fi.height = UInt32(height)
        guard xioctl(fd, CV4L2_VIDIOC_ENUM_FRAMEINTERVALS, &fi) == 0 else { break }
        i += 1
        if fi.type == V4L2_FRMIVAL_TYPE_DISCRETE.rawValue {
            if fi.discrete.numerator > 0 { rates.append(Double(fi.discrete.denominator) / Double(fi.discrete.numerator)) }
        } else {
            // Stepwise/continuous: report the fastest and slowest ends of the range.
            let minI = fi.stepwise.min, maxI = fi.stepwise.max
            if minI.numerator > 0 { rates.append(Double(minI.denominator) / Double(minI.numerator)) }
            if maxI.numerator > 0 { rates.append(Double(maxI.denominator) / Double(maxI.numerator)) }
            break
        }
    }
    return rates.sorted(by: >)
}

/// Opens a node without libv4l's format emulation, so only native formats are listed and used.
func openV4L2Node(_ path: String) -> (fd: Int32, errno: Int32) {
    let raw = cv4l2_sys_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
    if raw < 0 { return (-1, errno) }
    let fd = cv4l2_fd_open(raw, CV4L2_DISABLE_CONVERSION)
    if fd < 0 { let e = errno; Glibc.close(raw); return (-1, e) }
    return (fd, 0)
}

/// QUERYCAP + enumeration of one node. Nil when the node cannot be opened.
public func describeCamera(path: String) -> CameraInfo? {
    let (fd, _) = openV4L2Node(path)
    guard fd >= 0 else { return nil }
    defer { _ = v4l2_close(fd) }
    var cap = v4l2_capability()
    guard xioctl(fd, CV4L2_VIDIOC_QUERYCAP, &cap) == 0 else { return nil }
    let caps = cap.capabilities & CV4L2_CAP_DEVICE_CAPS != 0 ? cap.device_caps : cap.capabilities
    let canCapture = caps & CV4L2_CAP_VIDEO_CAPTURE != 0 && caps & CV4L2_CAP_STREAMING != 0
    return CameraInfo(path: path, driver: cString(cap.driver), card: cString(cap.card),
                      busInfo: cString(cap.bus_info), canCapture: canCapture,
                      formats: canCapture ? enumerateFormats(fd: fd) : [])
}

/// All /dev/video* nodes, sorted by number.
public func listVideoNodes() -> [String] {
    guard let dir = opendir("/dev") else { return [] }
    defer { closedir(dir) }
    var numbers: [Int] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name.hasPrefix("video"), let n = Int(name.dropFirst(5)) { numbers.append(n) }
    }
    return numbers.sorted().map { "/dev/video\($0)" }
}

/// What the capture should ask the camera for.
public struct CameraRequest: Sendable, Equatable {
    public enum FormatPreference: Sendable, Equatable { case auto, mjpeg, yuyv }
    public var device: String
    public var format: FormatPreference
    public var width: Int
    public var height: Int
    public var fps: Double
    /// mmap buffers: one held by us, one being filled, one or two of slack.
    public var bufferCount: Int

    public init(device: String = "/dev/video0", format: FormatPreference = .auto,
                width: Int = 640, height: Int = 480, fps: Double = 25, bufferCount: Int = 4) {
        self.device = device; self.format = format; self.width = width; self.height = height
        self.fps = fps; self.bufferCount = bufferCount
    }
}

public struct FormatChoice: Sendable, Equatable, CustomStringConvertible {
    public var format: PixelFormat
    public var width: Int
    public var height: Int
    public var fps: Double
    public var description: String { "\(format) \(width)x\(height) at \(fps) fps" }
}

/// Picks format, size and rate from what the device offers.
/// Size: the exact size, else the smallest that covers the request, else the largest.
/// Rate: the highest offered rate not above the request, else the lowest offered.
/// `.auto` takes YUYV when it reaches the requested size and rate (no decode cost), else MJPEG
/// (USB 2 cannot carry large raw frames at speed), else whatever native format remains.
public func chooseFormat(from formats: [CameraFormat], for request: CameraRequest) -> FormatChoice? {
    func pick(_ pf: PixelFormat) -> (FormatChoice, exact: Bool)? {
        guard let f = formats.first(where: { !$0.emulated && $0.pixelFormat == pf }), !f.sizes.isEmpty else { return nil }
        let size: CameraFrameSize
        if let exact = f.sizes.first(where: { $0.width == request.width && $0.height == request.height }) {
            size = exact
        } else if let cover = f.sizes.filter({ $0.width >= request.width && $0.height >= request.height })
                    .min(by: { $0.width * $0.height < $1.width * $1.height }) {
            size = cover
        } else {
            size = f.sizes.max(by: { $0.width * $0.height < $1.width * $1.height })!
        }
        let rate = size.rates.filter { $0 <= request.fps + 0.01 }.max() ?? size.rates.min() ?? request.fps
        let exact = size.width == request.width && size.height == request.height && rate >= request.fps - 0.01
        return (FormatChoice(format: pf, width: size.width, height: size.height, fps: rate), exact)
    }
    switch request.format {
    case .yuyv: return pick(.yuyv)?.0
    case .mjpeg: return pick(.mjpeg)?.0
    case .auto:
        if let y = pick(.yuyv), y.exact { return y.0 }
        if let m = pick(.mjpeg) { return m.0 }
        return pick(.yuyv)?.0
    }
}
