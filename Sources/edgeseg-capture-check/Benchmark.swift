import EdgeSegCapture
import Glibc

/// Fused one-pass preprocessing vs decode-then-resize (three passes), side by side in one run,
/// blocks interleaved so machine noise hits both. Median ms per frame and the ratio.
func runBenchmark(iterations: Int) -> Int32 {
    let spec = InputSpec(width: 512, height: 512, element: .float32)
    let tensor = UnsafeMutablePointer<Float>.allocate(capacity: 3 * 512 * 512)
    defer { tensor.deallocate() }

    let hd = SyntheticRopeSource(width: 1280, height: 720, fps: 0)
    let hdRGB = UnsafeRawBufferPointer(start: hd.render(frame: 3), count: 1280 * 720 * 3)
    let jpeg = withExtendedLifetime(hd) { try! encodeJPEG(rgb: hdRGB, width: 1280, height: 720, quality: 85, subsampling420: false) }
    let vga = SyntheticRopeSource(width: 640, height: 480, fps: 0, format: .yuyv)
    let yuyvFrame = try! vga.next(timeoutMs: 0)!       // a view of vga's buffer
    defer { withExtendedLifetime(vga) {} }

    func time(_ body: () -> Void) -> Double {
        let t = monotonicNanoseconds(); body(); return ms(monotonicNanoseconds() - t)
    }
    func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }

    print("capture benchmark: \(iterations) frames per case, input 512x512 letterbox, median ms/frame")
    print("case                         fused    two-pass  ratio")
    var rows: [String] = []
    jpeg.withUnsafeBytes { jb in
        let mjpegFrame = Frame(format: .mjpeg, width: 1280, height: 720, bytesPerLine: 0, bytes: jb.baseAddress!,
                               byteCount: jb.count, sequence: 0, captureNs: 0, dequeueNs: 0)
        let cases: [(String, Frame, InputElement)] = [
            ("MJPEG 1280x720 → fp32", mjpegFrame, .float32),
            ("MJPEG 1280x720 → int8", mjpegFrame, .int8(scale: 1.0 / 255, zeroPoint: -128)),
            ("YUYV 640x480 → fp32", yuyvFrame, .float32),
            ("YUYV 640x480 → fp16", yuyvFrame, .float16),
        ]
        for (name, frame, element) in cases {
            var s = spec; s.element = element
            let fused = Preprocessor(spec: s)
            let twoPass = TwoPassPreprocessor(spec: spec)
            var a: [Double] = [], b: [Double] = []
            for _ in 0..<3 { try! fused.prepare(frame, into: UnsafeMutableRawPointer(tensor)); try! twoPass.prepare(frame, into: tensor) }
            var i = 0
            while i < iterations {
                for _ in 0..<5 { a.append(time { try! fused.prepare(frame, into: UnsafeMutableRawPointer(tensor)) }) }
                for _ in 0..<5 { b.append(time { try! twoPass.prepare(frame, into: tensor) }) }
                i += 5
            }
            let fa = median(a), fb = median(b)
            let line = "\(name.padding(28)) \(fmt(fa, 7)) \(fmt(fb, 9))  \(fmt(fb / fa, 5))x"
            print(line); rows.append(line)
        }
        // Where the MJPEG win comes from: IDCT scaling.
        let dec = JPEGDecoder(maxWidth: 1280, maxHeight: 720)
        var full: [Double] = [], half: [Double] = []
        for _ in 0..<iterations {
            full.append(time { _ = try! dec.decode(jb, minScale: 1) })
            half.append(time { _ = try! dec.decode(jb, minScale: 0.4) })
        }
        print("TurboJPEG decode 1280x720: full \(fmt(median(full), 6)) ms, scaled 1/2 \(fmt(median(half), 6)) ms (\(fmt(median(full) / median(half), 4))x)")
    }
    return 0
}

func fmt(_ v: Double, _ width: Int) -> String {
    let s = String(Double(Int(v * 1000)) / 1000)
    return String(repeating: " ", count: max(0, width - s.count)) + s
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
