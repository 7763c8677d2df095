import Glibc
import Testing
@testable import EdgeSegCapture

@Suite struct MJPEGSplitTests {
    /// A JPEG with an APP1 segment holding a fake EXIF thumbnail (its own SOI…EOI) after the APP0.
    static func withThumbnail(_ jpeg: [UInt8]) -> [UInt8] {
        let thumb: [UInt8] = [0xFF, 0xD8, 0xFF, 0xD9, 0x00, 0xFF, 0xD9, 0x12]
        let payload: [UInt8] = Array("Exif\0\0".utf8) + thumb
        let len = payload.count + 2
        let app1: [UInt8] = [0xFF, 0xE1, UInt8(len >> 8), UInt8(len & 0xff)] + payload
        return Array(jpeg[0..<2]) + app1 + Array(jpeg[2...])
    }

    @Test func splitsConcatenatedFramesIgnoringGarbageAndEmbeddedMarkers() throws {
        let a = try TestImages.jpeg(width: 64, height: 48, frame: 1)
        let b = Self.withThumbnail(try TestImages.jpeg(width: 80, height: 32, frame: 2))
        let c = try TestImages.jpeg(width: 16, height: 16, frame: 3)
        let stream = [0x00, 0x12, 0xFF] + a + [0xFF, 0xD9, 0x55] + b + c + [0xFF]
        let spans = stream.withUnsafeBytes { splitJPEGStream($0) }
        #expect(spans.count == 3)
        #expect(spans.map(\.complete) == [true, true, true])
        #expect(spans.map(\.width) == [64, 80, 16])
        #expect(spans.map(\.height) == [48, 32, 16])
        #expect(spans.map(\.range.count) == [a.count, b.count, c.count])
        // Each span decodes on its own.
        let dec = JPEGDecoder(maxWidth: 128, maxHeight: 128)
        for s in spans {
            let v = try stream.withUnsafeBytes { try dec.decode(UnsafeRawBufferPointer(rebasing: $0[s.range])) }
            #expect(v.width == s.width)
        }
    }

    @Test func cutOffFramesAreMarkedIncomplete() throws {
        let a = try TestImages.jpeg(width: 64, height: 48, frame: 1)
        let b = try TestImages.jpeg(width: 64, height: 48, frame: 2)
        let stream = Array(a.prefix(a.count - 40)) + b + Array(b.prefix(300))
        let spans = stream.withUnsafeBytes { splitJPEGStream($0) }
        #expect(spans.map(\.complete) == [false, true, false])
        #expect(spans[1].range.count == b.count)
    }

    @Test func mjpegSourceSkipsBrokenFramesLoopsAndPaces() throws {
        let frames = try (0..<3).map { try TestImages.jpeg(width: 64, height: 48, frame: UInt64($0)) }
        let clip = frames[0] + Array(frames[1].prefix(200)) + frames[2]
        let source = try MJPEGFileSource(bytes: clip, fps: 50, loop: true)
        #expect(source.frameCount == 2)
        let t0 = monotonicNanoseconds()
        var seen: [Int] = []
        for _ in 0..<5 {
            let f = try #require(try source.next(timeoutMs: 1000))
            #expect(f.format == .mjpeg && f.width == 64 && f.height == 48)
            seen.append(f.byteCount)
        }
        let elapsedMs = Double(monotonicNanoseconds() - t0) / 1e6
        #expect(seen == [frames[0].count, frames[2].count, frames[0].count, frames[2].count, frames[0].count])
        #expect(source.stats.corrupt >= 2 && source.stats.frames == 5)
        #expect(elapsedMs >= 70)            // 4 periods of 20 ms after the first frame
        let once = try MJPEGFileSource(bytes: frames[0], fps: 0, loop: false)
        _ = try once.next(timeoutMs: 0)
        #expect(throws: CaptureError.endOfStream) { _ = try once.next(timeoutMs: 0) }
        #expect(throws: CaptureError.self) { _ = try MJPEGFileSource(bytes: [1, 2, 3], fps: 0) }
    }

    @Test func pacedSourceReturnsNilInsteadOfBlockingPastTheTimeout() throws {
        let source = SyntheticRopeSource(width: 32, height: 16, fps: 2)
        _ = try source.next(timeoutMs: 10)                 // first frame is due at once
        let t0 = monotonicNanoseconds()
        let f = try source.next(timeoutMs: 30)
        let elapsed = Double(monotonicNanoseconds() - t0) / 1e6
        #expect(f == nil)
        #expect(elapsed < 400)
    }
}

@Suite struct SourceTests {
    @Test func syntheticRopeIsDeterministicAndMoves() {
        let a = TestImages.rope(width: 96, height: 64, frame: 5)
        let b = TestImages.rope(width: 96, height: 64, frame: 5)
        let c = TestImages.rope(width: 96, height: 64, frame: 6)
        #expect(a == b)
        #expect(a != c)
        // Dark background above the rope, bright strands inside it.
        #expect(a[(2 * 96 + 10) * 3] < 50)
        #expect((0..<96).map { Int(a[(32 * 96 + $0) * 3]) }.max()! > 150)
    }

    @Test func imageFolderPlaysJPEGAndPNGAndSkipsBrokenFiles() throws {
        var template = Array("/tmp/edgeseg-capture-XXXXXX".utf8CString)
        let dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        defer { _ = system("rm -rf '\(dir)'") }
        try writeFile(dir + "/a.jpg", try TestImages.jpeg(width: 64, height: 48))
        try writeFile(dir + "/b.jpg", [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3])
        try writeFile(dir + "/c.png", try encodePNG(width: 20, height: 10, channels: 3, pixels: TestImages.rope(width: 20, height: 10)))
        try writeFile(dir + "/notes.txt", Array("ignore me".utf8))
        let source = try ImageFolderSource(directory: dir, fps: 0, maxBytes: 1 << 20)
        #expect(source.files.count == 3)
        let f1 = try #require(try source.next(timeoutMs: 0))
        #expect(f1.format == .mjpeg && f1.width == 64)
        let f2 = try #require(try source.next(timeoutMs: 0))
        #expect(f2.format == .rgb24 && f2.width == 20 && f2.height == 10)
        #expect(source.stats.corrupt == 1)
        let f3 = try #require(try source.next(timeoutMs: 0))
        #expect(f3.format == .mjpeg)                          // looped
        #expect(throws: CaptureError.self) { _ = try ImageFolderSource(directory: dir + "/missing", fps: 0) }
    }
}
