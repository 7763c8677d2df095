import Testing
@testable import EdgeSegCapture

@Suite struct JPEGDecoderTests {
    @Test func scaledDecodePicksTheSmallestFactorThatKeepsTheModelScale() throws {
        let jpeg = try TestImages.jpeg(width: 320, height: 240)
        let dec = JPEGDecoder(maxWidth: 320, maxHeight: 240)
        try jpeg.withUnsafeBytes { raw in
            let full = try dec.decode(raw, minScale: 1)
            #expect(full.width == 320 && full.height == 240)
            let half = try dec.decode(raw, minScale: 0.4)       // 1280x720 → 512 wide is 0.4
            #expect(half.width == 160 && half.height == 120)
            let quarter = try dec.decode(raw, minScale: 0.25)
            #expect(quarter.width == 80 && quarter.height == 60)
            let justOverHalf = try dec.decode(raw, minScale: 0.51)
            #expect(justOverHalf.width == 320)
        }
        #expect(dec.decodedCount == 4 && dec.corruptCount == 0)
    }

    @Test func halfScaleDecodeMatchesAveragedFullDecode() throws {
        let jpeg = try TestImages.jpeg(width: 320, height: 240, quality: 95)
        let dec = JPEGDecoder(maxWidth: 320, maxHeight: 240)
        let full: [UInt8] = try jpeg.withUnsafeBytes { raw in
            let v = try dec.decode(raw, minScale: 1); return Array(UnsafeBufferPointer(start: v.pixels, count: 320 * 240 * 3))
        }
        let half: [UInt8] = try jpeg.withUnsafeBytes { raw in
            let v = try dec.decode(raw, minScale: 0.5); return Array(UnsafeBufferPointer(start: v.pixels, count: 160 * 120 * 3))
        }
        var total = 0.0
        for y in 0..<120 { for x in 0..<160 { for c in 0..<3 {
            let avg = (Int(full[((2 * y) * 320 + 2 * x) * 3 + c]) + Int(full[((2 * y) * 320 + 2 * x + 1) * 3 + c])
                     + Int(full[((2 * y + 1) * 320 + 2 * x) * 3 + c]) + Int(full[((2 * y + 1) * 320 + 2 * x + 1) * 3 + c])) / 4
            total += Double(abs(avg - Int(half[(y * 160 + x) * 3 + c])))
        } } }
        #expect(total / Double(160 * 120 * 3) < 4)
    }

    @Test func truncatedAndGarbageFramesAreCountedAndTheNextGoodFrameDecodes() throws {
        let good = try TestImages.jpeg(width: 64, height: 48)
        let dec = JPEGDecoder(maxWidth: 64, maxHeight: 48)
        let truncated = Array(good.prefix(good.count / 2))
        let garbage: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x13, 0x37] + [UInt8](repeating: 0xAB, count: 100)
        let headerOnly = Array(good.prefix(30))
        for bad in [truncated, garbage, headerOnly, [], [0xFF]] {
            #expect(throws: JPEGError.self) { try bad.withUnsafeBytes { _ = try dec.decode($0) } }
            // The handle is recreated after every failure: a good frame must decode right after.
            let v = try good.withUnsafeBytes { try dec.decode($0) }
            #expect(v.width == 64 && v.height == 48)
        }
        #expect(dec.corruptCount == 5)
        #expect(dec.decodedCount == 5)
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let good = try TestImages.jpeg(width: 96, height: 64)
        let dec = JPEGDecoder(maxWidth: 96, maxHeight: 64)
        var rng = SplitMix(seed: 42)
        var failures = 0
        for _ in 0..<60 {
            var bad = good
            for _ in 0..<4 { bad[Int(rng.next() % UInt64(bad.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            do { _ = try bad.withUnsafeBytes { try dec.decode($0) } } catch { failures += 1 }
        }
        #expect(UInt64(failures) == dec.corruptCount)
        #expect(try good.withUnsafeBytes { try dec.decode($0) }.width == 96)
    }

    @Test func oversizeImagesAreRejectedBeforeDecoding() throws {
        let jpeg = try TestImages.jpeg(width: 128, height: 96)
        let dec = JPEGDecoder(maxWidth: 64, maxHeight: 64)
        #expect(throws: JPEGError.tooLarge(width: 128, height: 96)) { try jpeg.withUnsafeBytes { _ = try dec.decode($0) } }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
