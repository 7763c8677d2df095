import Glibc
import Testing
@testable import EdgeSegCapture

@Suite struct ImageFilesTests {
    @Test func pngRoundTripsRGBGreyAndPalette() throws {
        let rgb = TestImages.rope(width: 37, height: 23)
        let back = try decodePNG(try encodePNG(width: 37, height: 23, channels: 3, pixels: rgb))
        #expect(back == RGBImage(width: 37, height: 23, pixels: rgb))

        let mask = (0..<(37 * 23)).map { UInt8($0 % 3) }
        let grey = try decodePNG(try encodePNG(width: 37, height: 23, channels: 1, pixels: mask))
        #expect(grey.pixels.enumerated().allSatisfy { $0.element == mask[$0.offset / 3] })

        let palette: [UInt8] = [0, 0, 0, 255, 160, 0, 255, 0, 0]
        let indexed = try encodePNG(width: 37, height: 23, channels: 1, pixels: mask, palette: palette)
        #expect(indexed[25] == 3)                       // colour type: indexed
        let colours = try decodePNG(indexed)
        for i in 0..<(37 * 23) { #expect(Array(colours.pixels[(i * 3)..<(i * 3 + 3)]) == Array(palette[(Int(mask[i]) * 3)..<(Int(mask[i]) * 3 + 3)])) }
    }

    /// PNGs written by Pillow use every row filter (Sub, Up, Average, Paeth) and RGBA.
    @Test func decodesPNGsWrittenByPillow() throws {
        var template = Array("/tmp/edgeseg-png-XXXXXX".utf8CString)
        let dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        defer { _ = system("rm -rf '\(dir)'") }
        let script = """
        import random
        from PIL import Image
        random.seed(1)
        w, h = 41, 29
        px = bytes(random.randrange(256) if (i // 3) % 7 == 0 else ((i // 3) % w * 5 + (i // 3) // w * 3 + i % 3 * 40) % 256 for i in range(w * h * 3))
        Image.frombytes('RGB', (w, h), px).save('\(dir)/rgb.png', optimize=True)
        Image.frombytes('RGB', (w, h), px).convert('RGBA').save('\(dir)/rgba.png')
        open('\(dir)/rgb.raw', 'wb').write(px)
        """
        try writeFile(dir + "/make.py", Array(script.utf8))
        try #require(system("python3 '\(dir)/make.py' 2>/dev/null") == 0, "python3 with Pillow is needed (tools/setup.sh installs it)")
        let raw = try readFile(dir + "/rgb.raw")
        #expect(try loadImage(path: dir + "/rgb.png") == RGBImage(width: 41, height: 29, pixels: raw))
        #expect(try loadImage(path: dir + "/rgba.png") == RGBImage(width: 41, height: 29, pixels: raw))
    }

    @Test func damagedPNGsAreErrorsNotCrashes() throws {
        let good = try encodePNG(width: 8, height: 8, channels: 3, pixels: TestImages.rope(width: 8, height: 8))
        var badCRC = good; badCRC[20] ^= 0x40
        #expect(throws: ImageFileError.self) { _ = try decodePNG(badCRC) }
        #expect(throws: ImageFileError.self) { _ = try decodePNG(Array(good.prefix(good.count - 20))) }
        #expect(throws: ImageFileError.self) { _ = try decodeImage([1, 2, 3, 4]) }
        var rng = SplitMix(seed: 7)
        for _ in 0..<40 {
            var b = good
            b[8 + Int(rng.next() % UInt64(b.count - 8))] = UInt8(truncatingIfNeeded: rng.next())
            _ = try? decodePNG(b)
        }
    }

    @Test func jpegFilesSaveAndLoad() throws {
        let img = RGBImage(width: 48, height: 32, pixels: TestImages.rope(width: 48, height: 32))
        let path = "/tmp/edgeseg-capture-test-\(getpid()).jpg"
        defer { unlink(path) }
        try saveJPEG(img, path: path, quality: 95)
        let back = try loadImage(path: path)
        #expect(back.width == 48 && back.height == 32)
        let mean = zip(back.pixels, img.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +) / img.pixels.count
        #expect(mean < 6)
    }
}
