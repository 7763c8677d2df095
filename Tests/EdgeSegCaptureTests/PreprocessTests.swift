import Testing
@testable import EdgeSegCapture

@Suite struct PreprocessTests {
    @Test func letterboxPlacementFollowsTheTrainingCode() {
        let spec = InputSpec()
        let hd = Placement(spec: spec, sourceWidth: 1280, sourceHeight: 720)
        #expect(hd.x == 0 && hd.y == 112 && hd.width == 512 && hd.height == 288)
        let vga = Placement(spec: spec, sourceWidth: 640, sourceHeight: 480)
        #expect(vga.x == 0 && vga.y == 64 && vga.width == 512 && vga.height == 384)
        #expect(abs(hd.minSourceScale - 0.4) < 1e-9)
        let tall = Placement(spec: spec, sourceWidth: 300, sourceHeight: 600)
        #expect(tall.x == 128 && tall.width == 256 && tall.height == 512)
        var roiSpec = spec
        roiSpec.roi = PixelRect(x: 600, y: 0, width: 1000, height: 720)     // clipped to the frame
        let roi = Placement(spec: roiSpec, sourceWidth: 1280, sourceHeight: 720)
        #expect(roi.crop == PixelRect(x: 600, y: 0, width: 680, height: 720))
    }

    /// Fused one-pass output vs the three-pass oracle (which rounds its canvas to bytes).
    func compare(_ frame: Frame, spec: InputSpec) throws -> (maxDiff: Float, meanDiff: Float) {
        let n = 3 * spec.width * spec.height
        var fused = [Float](repeating: -1, count: n), oracle = [Float](repeating: -2, count: n)
        let pre = Preprocessor(spec: spec, maxJPEGWidth: 640, maxJPEGHeight: 480)
        let ref = TwoPassPreprocessor(spec: spec, maxWidth: 640, maxHeight: 480)
        try fused.withUnsafeMutableBytes { try pre.prepare(frame, into: $0.baseAddress!) }
        try oracle.withUnsafeMutableBufferPointer { try ref.prepare(frame, into: $0.baseAddress!) }
        var maxD: Float = 0, sum: Float = 0
        for i in 0..<n { let d = abs(fused[i] - oracle[i]); maxD = max(maxD, d); sum += d }
        return (maxD, sum / Float(n))
    }

    @Test func rgbMatchesDecodeThenResize() throws {
        let rgb = TestImages.rope(width: 160, height: 120)
        let spec = InputSpec(width: 64, height: 64)
        let d = try rgb.withUnsafeBytes { try compare(TestImages.frame($0, format: .rgb24, width: 160, height: 120), spec: spec) }
        #expect(d.maxDiff <= 0.51 / 255)           // only the oracle's byte rounding differs
    }

    @Test func yuyvMatchesConvertThenResize() throws {
        let yuyv = TestImages.yuyv(fromRGB: TestImages.rope(width: 160, height: 120), width: 160, height: 120)
        let spec = InputSpec(width: 64, height: 48, fit: .letterbox)
        let d = try yuyv.withUnsafeBytes { try compare(TestImages.frame($0, format: .yuyv, width: 160, height: 120), spec: spec) }
        // Interpolating YUV then converting equals converting then interpolating except where a
        // channel clips at 0 or 255.
        #expect(d.maxDiff <= 12 / 255)
        #expect(d.meanDiff <= 0.8 / 255)
    }

    /// Fuzz finding (tools/fuzz, target jpeg): a 3x2 YUYV frame made the last pixel's V read two
    /// bytes past the 12-byte buffer. Odd widths have no complete chroma pair: rejected.
    @Test func oddWidthYUYVIsRejected() throws {
        let spec = InputSpec(width: 8, height: 8)
        let pre = Preprocessor(spec: spec)
        var t = [Float](repeating: 0, count: 3 * 8 * 8)
        let yuyv = [UInt8](100..<112)
        #expect(throws: PreprocessError.badFrame("YUYV 3x2 in 12 bytes")) {
            try yuyv.withUnsafeBytes { y in
                try t.withUnsafeMutableBytes { try pre.prepare(TestImages.frame(y, format: .yuyv, width: 3, height: 2), into: $0.baseAddress!) }
            }
        }
        #expect(pre.rejected == 1)
    }

    @Test func yuyvRoundTripRecoversTheColours() throws {
        let rgb = TestImages.rope(width: 64, height: 64)
        let yuyv = TestImages.yuyv(fromRGB: rgb, width: 64, height: 64)
        let spec = InputSpec(width: 64, height: 64, fit: .stretch)
        var t = [Float](repeating: 0, count: 3 * 64 * 64)
        let pre = Preprocessor(spec: spec)
        try yuyv.withUnsafeBytes { y in try t.withUnsafeMutableBytes { try pre.prepare(TestImages.frame(y, format: .yuyv, width: 64, height: 64), into: $0.baseAddress!) } }
        var sum: Float = 0
        for p in 0..<(64 * 64) { for c in 0..<3 { sum += abs(t[c * 4096 + p] * 255 - Float(rgb[p * 3 + c])) } }
        #expect(sum / Float(64 * 64 * 3) < 6)     // chroma is shared by pixel pairs
    }

    @Test func mjpegScaledDecodeMatchesFullDecodeThenResize() throws {
        let jpeg = try TestImages.jpeg(width: 320, height: 240, quality: 95)
        let spec = InputSpec(width: 128, height: 128)
        let d = try jpeg.withUnsafeBytes { try compare(TestImages.frame($0, format: .mjpeg, width: 320, height: 240), spec: spec) }
        #expect(d.meanDiff <= 4 / 255)
    }

    @Test func letterboxBordersAreGrey128AndContentIsInRange() throws {
        let rgb = [UInt8](repeating: 255, count: 200 * 100 * 3)
        let spec = InputSpec(width: 32, height: 32)
        var t = [Float](repeating: -1, count: 3 * 32 * 32)
        let pre = Preprocessor(spec: spec)
        try rgb.withUnsafeBytes { r in try t.withUnsafeMutableBytes { try pre.prepare(TestImages.frame(r, format: .rgb24, width: 200, height: 100), into: $0.baseAddress!) } }
        // 200x100 → 32x16 at y = 8.
        for c in 0..<3 { for y in 0..<32 { for x in 0..<32 {
            let v = t[c * 1024 + y * 32 + x]
            if y < 8 || y >= 24 { #expect(v == Float(128) / 255) } else { #expect(v == 1) }
        } } }
    }

    @Test func fp16AndInt8AreTheFP32ValuesEncoded() throws {
        let rgb = TestImages.rope(width: 120, height: 90)
        let scale: Float = 1.0 / 255, zp: Int32 = -128
        func run(_ e: InputElement) throws -> [UInt8] {
            let spec = InputSpec(width: 48, height: 48, element: e)
            var out = [UInt8](repeating: 0xEE, count: spec.tensorByteCount)
            let pre = Preprocessor(spec: spec)
            try rgb.withUnsafeBytes { r in try out.withUnsafeMutableBytes { try pre.prepare(TestImages.frame(r, format: .rgb24, width: 120, height: 90), into: $0.baseAddress!) } }
            return out
        }
        let f32 = try run(.float32).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let f16 = try run(.float16).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        let i8 = try run(.int8(scale: scale, zeroPoint: zp)).map { Int8(bitPattern: $0) }
        var int8Mismatch = 0
        for i in 0..<f32.count {
            #expect(f16[i] == float16Bits(f32[i]))
            let q = quantizeInt8(f32[i] / scale, Float(zp))
            if q != i8[i] { int8Mismatch += 1; #expect(abs(Int(q) - Int(i8[i])) <= 1) }
        }
        #expect(int8Mismatch * 100 <= f32.count)  // x*(s/q) vs (x*s)/q may differ in the last ulp at .5
        #expect(i8[0] == quantizeInt8(128, -128))  // grey border: 128/255 / (1/255) + zp = 0
        #expect(i8[0] == 0)
    }

    @Test func roiCropsBeforeResizing() throws {
        // Left half red, right half blue; an ROI on the right half must see only blue.
        var rgb = [UInt8](repeating: 0, count: 100 * 50 * 3)
        for y in 0..<50 { for x in 0..<100 { rgb[(y * 100 + x) * 3 + (x < 50 ? 0 : 2)] = 200 } }
        let spec = InputSpec(width: 20, height: 20, fit: .stretch, roi: PixelRect(x: 50, y: 0, width: 50, height: 50))
        var t = [Float](repeating: -1, count: 3 * 400)
        let pre = Preprocessor(spec: spec)
        try rgb.withUnsafeBytes { r in try t.withUnsafeMutableBytes { try pre.prepare(TestImages.frame(r, format: .rgb24, width: 100, height: 50), into: $0.baseAddress!) } }
        #expect(t[0..<400].allSatisfy { $0 == 0 })
        #expect(t[800..<1200].allSatisfy { abs($0 - 200 / 255) < 1e-6 })
    }

    @Test func shortOrCorruptFramesAreRejectedNotRead() throws {
        let pre = Preprocessor(spec: InputSpec(width: 16, height: 16))
        var t = [Float](repeating: 0, count: 3 * 256)
        let small = [UInt8](repeating: 0, count: 100)
        try small.withUnsafeBytes { r in
            try t.withUnsafeMutableBytes { out in
                #expect(throws: PreprocessError.self) { try pre.prepare(TestImages.frame(r, format: .yuyv, width: 64, height: 48), into: out.baseAddress!) }
                #expect(throws: PreprocessError.self) { try pre.prepare(TestImages.frame(r, format: .mjpeg, width: 64, height: 48), into: out.baseAddress!) }
            }
        }
        #expect(pre.rejected == 2)
    }
}

@Suite struct EncodingTests {
    @Test func float16BitsMatchesFloat16Conversion() {
        var rng = SplitMix(seed: 3)
        var values: [Float] = [0, -0, 1, -1, 0.5, 65504, 65520, 1e-8, -1e-8, 6.1e-5, 5.96e-8, 2.98e-8, .infinity, -.infinity, 1e10]
        for i in 0...255 { values.append(Float(i) / 255) }
        for _ in 0..<2000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for v in values where !v.isNaN {
            #expect(float16Bits(v) == Float16(v).bitPattern, "value \(v)")
        }
        #expect(Float16(bitPattern: float16Bits(.nan)).isNaN)
    }

    @Test func int8QuantizationRoundsHalfAwayFromZeroAndSaturates() {
        #expect(quantizeInt8(2.5, 0) == 3 && quantizeInt8(-2.5, 0) == -3)
        #expect(quantizeInt8(2.4999998, 0) == 2 && quantizeInt8(0.49999997, 0) == 0)
        #expect(quantizeInt8(127.6, 0) == 127 && quantizeInt8(-1e9, 0) == -128 && quantizeInt8(1e9, 0) == 127)
        #expect(quantizeInt8(200, -128) == 72 && quantizeInt8(0, -128) == -128)
        var rng = SplitMix(seed: 9)
        for _ in 0..<2000 {
            let x = Float(Int64(rng.next() % 60000) - 30000) / 100
            let ref = Int8(min(max(x.rounded(.toNearestOrAwayFromZero) + 5, -128), 127))
            #expect(quantizeInt8(x, 5) == ref)
        }
    }
}

@Suite struct MJPEGROITests {
    @Test func roiFollowsTheScaledDecode() throws {
        // Left half red, right half blue, as a camera JPEG; the ROI (camera pixels) is the right half.
        var rgb = [UInt8](repeating: 0, count: 320 * 240 * 3)
        for y in 0..<240 { for x in 0..<320 { rgb[(y * 320 + x) * 3 + (x < 160 ? 0 : 2)] = 220 } }
        let jpeg = try rgb.withUnsafeBytes { try encodeJPEG(rgb: $0, width: 320, height: 240, quality: 95) }
        let spec = InputSpec(width: 20, height: 20, fit: .stretch, roi: PixelRect(x: 168, y: 0, width: 152, height: 240))
        let pre = Preprocessor(spec: spec, maxJPEGWidth: 320, maxJPEGHeight: 240)
        var t = [Float](repeating: -1, count: 3 * 400)
        try jpeg.withUnsafeBytes { j in try t.withUnsafeMutableBytes { try pre.prepare(TestImages.frame(j, format: .mjpeg, width: 320, height: 240), into: $0.baseAddress!) } }
        // 20/152 and 20/240 allow a 1/4 decode (80x60); the crop must be scaled with it.
        let placement = try #require(pre.lastPlacement)
        #expect(placement.crop == PixelRect(x: 42, y: 0, width: 38, height: 60))
        #expect(t[0..<400].allSatisfy { $0 < 0.1 })                   // no red leaks in
        #expect(t[800..<1200].allSatisfy { $0 > 0.75 })               // blue
    }
}
