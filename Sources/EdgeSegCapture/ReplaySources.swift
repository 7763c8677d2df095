import Glibc

/// Plays an MJPEG file (concatenated JPEGs) at a fixed rate, looping if asked.
/// The file is read once; frames are views into it, so playback allocates nothing.
/// Cut-off or damaged JPEG spans are skipped and counted as corrupt.
public final class MJPEGFileSource: FrameSource {
    public let path: String
    public let loop: Bool
    public private(set) var stats = CaptureStats()
    private let data: UnsafeMutableRawBufferPointer
    private let spans: [JPEGSpan]
    private var position = 0
    private var pacer: Pacer
    private var sequence: UInt64 = 0

    public convenience init(path: String, fps: Double, loop: Bool = true) throws(CaptureError) {
        let bytes = try readFile(path)
        try self.init(bytes: bytes, name: path, fps: fps, loop: loop)
    }

    public init(bytes: [UInt8], name: String = "mjpeg", fps: Double, loop: Bool = true) throws(CaptureError) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
        let found = splitJPEGStream(UnsafeRawBufferPointer(start: storage.baseAddress, count: bytes.count))
        guard found.contains(where: { $0.complete }) else {
            storage.deallocate()   // before any stored property is set, so deinit will not run
            throw .badInput("\(name): no complete JPEG frame found")
        }
        path = name; self.loop = loop
        data = storage
        spans = found
        pacer = Pacer(fps: fps)
    }
    deinit { data.deallocate() }

    public var frameCount: Int { spans.count(where: { $0.complete }) }
    public var maxFrameBytes: Int { spans.map(\.range.count).max() ?? 0 }

    public func next(timeoutMs: Int) throws(CaptureError) -> Frame? {
        guard pacer.wait(timeoutMs: timeoutMs) else { return nil }
        var tries = 0
        while tries <= spans.count {
            if position >= spans.count {
                guard loop else { throw .endOfStream }
                position = 0
            }
            let s = spans[position]
            position += 1; tries += 1
            guard s.complete, s.width > 0, s.height > 0 else { stats.corrupt += 1; continue }
            let now = monotonicNanoseconds()
            sequence += 1; stats.frames += 1
            return Frame(format: .mjpeg, width: s.width, height: s.height, bytesPerLine: 0,
                         bytes: UnsafeRawPointer(data.baseAddress! + s.range.lowerBound), byteCount: s.range.count,
                         sequence: sequence, captureNs: now, dequeueNs: now)
        }
        throw .endOfStream
    }

    public func close() {}
}

/// Plays a folder of JPEG and PNG images in name order. JPEGs are handed on compressed (decoded by
/// the preprocessor, scaled); PNGs are decoded here into RGB (this allocates, once per PNG frame).
public final class ImageFolderSource: FrameSource {
    public let files: [String]
    public let loop: Bool
    public private(set) var stats = CaptureStats()
    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private var position = 0
    private var pacer: Pacer
    private var sequence: UInt64 = 0

    /// `maxBytes` bounds one file (JPEG) or one decoded PNG (w*h*3).
    public init(directory: String, fps: Double, loop: Bool = true, maxBytes: Int = 1920 * 1080 * 3) throws(CaptureError) {
        files = try listFiles(in: directory, extensions: ["jpg", "jpeg", "png"])
        guard !files.isEmpty else { throw .badInput("\(directory): no .jpg/.jpeg/.png files") }
        self.loop = loop
        capacity = maxBytes
        buffer = .allocate(byteCount: maxBytes, alignment: 16)
        pacer = Pacer(fps: fps)
    }
    deinit { buffer.deallocate() }

    public var maxFrameBytes: Int { capacity }

    public func next(timeoutMs: Int) throws(CaptureError) -> Frame? {
        guard pacer.wait(timeoutMs: timeoutMs) else { return nil }
        var tries = 0
        while tries < files.count {
            if position >= files.count {
                guard loop else { throw .endOfStream }
                position = 0
            }
            let path = files[position]
            position += 1; tries += 1
            if let frame = load(path) { return frame }
            stats.corrupt += 1
        }
        throw .badInput("no readable image in the folder")
    }

    private func load(_ path: String) -> Frame? {
        let lower = path.lowercased()
        let now = monotonicNanoseconds()
        if lower.hasSuffix(".png") {
            guard let img = try? loadImage(path: path), img.pixels.count <= capacity else { return nil }
            img.pixels.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            sequence += 1; stats.frames += 1
            return Frame(format: .rgb24, width: img.width, height: img.height, bytesPerLine: img.width * 3,
                         bytes: UnsafeRawPointer(buffer), byteCount: img.pixels.count,
                         sequence: sequence, captureNs: now, dequeueNs: now)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let n = readFully(fd, buffer, capacity)
        Glibc.close(fd)
        guard n > 0, n < capacity else { return nil }
        let spans = splitJPEGStream(UnsafeRawBufferPointer(start: buffer, count: n))
        guard let s = spans.first, s.complete, s.width > 0 else { return nil }
        sequence += 1; stats.frames += 1
        return Frame(format: .mjpeg, width: s.width, height: s.height, bytesPerLine: 0,
                     bytes: UnsafeRawPointer(buffer + s.range.lowerBound), byteCount: s.range.count,
                     sequence: sequence, captureNs: now, dequeueNs: now)
    }

    public func close() {}
}
