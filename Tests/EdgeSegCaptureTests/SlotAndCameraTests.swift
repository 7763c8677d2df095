import Glibc
import Testing
@testable import EdgeSegCapture

@Suite struct LatestFrameSlotTests {
    @Test func keepsOnlyTheNewestFrameAndCountsDrops() throws {
        let slot = LatestFrameSlot(capacity: 16)
        let data: [[UInt8]] = (0..<3).map { [UInt8](repeating: UInt8($0 + 1), count: 16) }
        for i in 0..<3 {
            data[i].withUnsafeBytes { b in
                var f = TestImages.frame(b, format: .rgb24, width: 4, height: 1)
                f.sequence = UInt64(i)
                #expect(slot.publish(f))
            }
        }
        let f = try #require(slot.take(timeoutMs: 0))
        #expect(f.sequence == 2)
        #expect(f.buffer.allSatisfy { $0 == 3 })
        #expect(slot.dropped == 2)
        // Nothing new: a bounded wait, then nil.
        let t0 = monotonicNanoseconds()
        #expect(slot.take(timeoutMs: 30) == nil)
        #expect(monotonicNanoseconds() - t0 >= 25_000_000)
        // The taken frame stays intact while the producer keeps publishing.
        let big = [UInt8](repeating: 9, count: 32)
        big.withUnsafeBytes { #expect(!slot.publish(TestImages.frame($0, format: .rgb24, width: 4, height: 1))) }
        #expect(slot.oversize == 1)
    }

    @Test func captureThreadFeedsTheSlotFromARealSource() throws {
        let source = SyntheticRopeSource(width: 64, height: 32, fps: 200)
        let thread = CaptureThread(source: source, pollTimeoutMs: 50)
        thread.start()
        var sequences: [UInt64] = []
        for _ in 0..<5 {
            let f = try #require(thread.slot.take(timeoutMs: 1000))
            #expect(f.width == 64 && f.byteCount == 64 * 32 * 3)
            sequences.append(f.sequence)
            usleep(20_000)      // slower than the source: frames are dropped, never queued
        }
        thread.stop()
        #expect(zip(sequences.dropFirst(), sequences).allSatisfy { $0 > $1 })
        #expect(thread.slot.dropped > 0)
        #expect(thread.finalError == nil)
    }
}

@Suite struct CameraTests {
    func webcam(_ fourcc: UInt32, _ sizes: [(Int, Int, [Double])], emulated: Bool = false) -> CameraFormat {
        CameraFormat(fourcc: fourcc, description: "", emulated: emulated,
                     sizes: sizes.map { CameraFrameSize(width: $0.0, height: $0.1, rates: $0.2) })
    }
    let yuyv: UInt32 = 0x5659_5559   // "YUYV"
    let mjpg: UInt32 = 0x4750_4A4D   // "MJPG"

    @Test func autoPrefersRawWhenItReachesTheRateElseMJPEG() {
        let formats = [webcam(yuyv, [(640, 480, [30, 15]), (1280, 720, [7.5])]),
                       webcam(mjpg, [(640, 480, [30]), (1280, 720, [30, 15])])]
        let vga = chooseFormat(from: formats, for: CameraRequest(width: 640, height: 480, fps: 30))
        #expect(vga == FormatChoice(format: .yuyv, width: 640, height: 480, fps: 30))
        let hd = chooseFormat(from: formats, for: CameraRequest(width: 1280, height: 720, fps: 30))
        #expect(hd == FormatChoice(format: .mjpeg, width: 1280, height: 720, fps: 30))
        let forced = chooseFormat(from: formats, for: CameraRequest(format: .yuyv, width: 1280, height: 720, fps: 30))
        #expect(forced == FormatChoice(format: .yuyv, width: 1280, height: 720, fps: 7.5))
    }

    @Test func sizeFallsBackToTheSmallestCoveringSizeAndSkipsEmulatedFormats() {
        let formats = [webcam(yuyv, [(320, 240, [30]), (800, 600, [20]), (1920, 1080, [5])]),
                       webcam(mjpg, [(640, 480, [30])], emulated: true)]
        let c = chooseFormat(from: formats, for: CameraRequest(width: 640, height: 480, fps: 25))
        #expect(c == FormatChoice(format: .yuyv, width: 800, height: 600, fps: 20))
        #expect(chooseFormat(from: formats, for: CameraRequest(format: .mjpeg)) == nil)
        #expect(fourccString(yuyv) == "YUYV" && pixelFormat(fromFourcc: mjpg) == .mjpeg)
    }

    @Test func missingCameraIsRetriedWithBackoffAndNeverBlocks() throws {
        final class Events: @unchecked Sendable { var list: [CameraEvent] = [] }
        let events = Events()
        let cam = ReconnectingCamera(request: CameraRequest(device: "/dev/video-edgeseg-missing"),
                                     initialBackoffMs: 20, maxBackoffMs: 80, onEvent: { events.list.append($0) })
        try cam.start()
        let t0 = monotonicNanoseconds()
        for _ in 0..<6 { #expect(try cam.next(timeoutMs: 40) == nil) }
        let elapsedMs = Double(monotonicNanoseconds() - t0) / 1e6
        #expect(elapsedMs < 6 * 40 + 200)
        let waits = events.list.compactMap { e -> Int? in if case let .reopenFailed(_, ms) = e { return ms }; return nil }
        #expect(waits.count >= 3)
        #expect(waits.prefix(3) == [20, 40, 80])
        #expect(!cam.isStreaming)
        // A node that exists but is no camera is a configuration error, reported at once.
        let notCamera = ReconnectingCamera(request: CameraRequest(device: "/dev/null"))
        #expect(throws: CaptureError.self) { try notCamera.start() }
    }
}
