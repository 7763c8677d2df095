import CZlib

/// A packed RGB24 image that owns its pixels (file I/O, calibration, overlays; not the hot path).
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    public init(width: Int, height: Int, pixels: [UInt8]) { self.width = width; self.height = height; self.pixels = pixels }
    public init(width: Int, height: Int, fill: UInt8 = 0) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: fill, count: width * height * 3))
    }
}

public enum ImageFileError: Error, Equatable, CustomStringConvertible {
    case unknownFormat(String)
    case png(String)
    case jpeg(JPEGError)
    case io(CaptureError)
    public var description: String {
        switch self {
        case let .unknownFormat(p): return "\(p): neither JPEG nor PNG"
        case let .png(s): return "PNG: \(s)"
        case let .jpeg(e): return e.description
        case let .io(e): return e.description
        }
    }
}

/// Decodes a JPEG or PNG file (sniffed by content) to RGB.
public func loadImage(path: String) throws(ImageFileError) -> RGBImage {
    let bytes: [UInt8]
    do throws(CaptureError) { bytes = try readFile(path) } catch { throw .io(error) }
    return try decodeImage(bytes, name: path)
}

public func decodeImage(_ bytes: [UInt8], name: String = "image") throws(ImageFileError) -> RGBImage {
    if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 { return try decodeJPEGImage(bytes) }
    if bytes.count >= 8 && bytes[0] == 0x89 && bytes[1] == 0x50 && bytes[2] == 0x4E && bytes[3] == 0x47 { return try decodePNG(bytes) }
    throw .unknownFormat(name)
}

public func decodeJPEGImage(_ bytes: [UInt8]) throws(ImageFileError) -> RGBImage {
    let result = bytes.withUnsafeBytes { raw -> Result<RGBImage, JPEGError> in
        do throws(JPEGError) {
            let dims = try JPEGDecoder(maxWidth: 1, maxHeight: 1).dimensions(of: raw)
            guard dims.width <= 16384, dims.height <= 16384 else { throw .tooLarge(width: dims.width, height: dims.height) }
            let decoder = JPEGDecoder(maxWidth: dims.width, maxHeight: dims.height)
            let image = try withExtendedLifetime(decoder) { () throws(JPEGError) -> RGBImage in
                // The view borrows the decoder's buffer: copy out while the decoder is alive.
                let v = try decoder.decode(raw)
                return RGBImage(width: v.width, height: v.height,
                                pixels: Array(UnsafeBufferPointer(start: v.pixels, count: v.width * v.height * 3)))
            }
            return .success(image)
        } catch { return .failure(error) }
    }
    switch result { case .success(let img): return img; case .failure(let e): throw .jpeg(e) }
}

public func saveJPEG(_ image: RGBImage, path: String, quality: Int = 90) throws(ImageFileError) {
    let result = image.pixels.withUnsafeBytes { raw -> Result<[UInt8], JPEGError> in
        do throws(JPEGError) {
            return .success(try encodeJPEG(rgb: raw, width: image.width, height: image.height, quality: quality))
        } catch { return .failure(error) }
    }
    switch result {
    case .success(let bytes):
        do throws(CaptureError) { try writeFile(path, bytes) } catch { throw .io(error) }
    case .failure(let e): throw .jpeg(e)
    }
}

// MARK: PNG

private let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

/// Non-interlaced PNG, bit depth 8 (or 16, reduced to 8), colour types grey, RGB, palette,
/// grey+alpha, RGBA; alpha is dropped. Chunk CRCs are checked.
public func decodePNG(_ bytes: [UInt8]) throws(ImageFileError) -> RGBImage {
    guard bytes.count > 8, Array(bytes[0..<8]) == pngSignature else { throw .png("bad signature") }
    var pos = 8
    var width = 0, height = 0, depth = 0, colorType = 0
    var palette: [UInt8] = []
    var idat: [UInt8] = []
    var sawIHDR = false, sawIEND = false
    func be32(_ k: Int) -> Int { Int(bytes[k]) << 24 | Int(bytes[k + 1]) << 16 | Int(bytes[k + 2]) << 8 | Int(bytes[k + 3]) }
    while pos + 12 <= bytes.count {
        let len = be32(pos)
        guard len >= 0, len <= bytes.count - pos - 12 else { throw .png("chunk runs past the end") }
        let type = String(decoding: bytes[(pos + 4)..<(pos + 8)], as: UTF8.self)
        let dataStart = pos + 8
        let crc = UInt32(truncatingIfNeeded: be32(dataStart + len))
        let actual = bytes.withUnsafeBufferPointer { b in
            UInt32(crc32(0, b.baseAddress! + pos + 4, UInt32(len + 4)))
        }
        guard crc == actual else { throw .png("CRC mismatch in \(type)") }
        switch type {
        case "IHDR":
            guard len == 13 else { throw .png("bad IHDR") }
            width = be32(dataStart); height = be32(dataStart + 4)
            depth = Int(bytes[dataStart + 8]); colorType = Int(bytes[dataStart + 9])
            guard bytes[dataStart + 12] == 0 else { throw .png("interlaced PNG not supported") }
            sawIHDR = true
        case "PLTE": palette = Array(bytes[dataStart..<(dataStart + len)])
        case "IDAT": idat.append(contentsOf: bytes[dataStart..<(dataStart + len)])
        case "IEND": sawIEND = true
        default: break
        }
        pos = dataStart + len + 4
        if sawIEND { break }
    }
    guard sawIHDR, width > 0, height > 0, width <= 16384, height <= 16384 else { throw .png("missing or bad IHDR") }
    let channels: Int
    switch colorType {
    case 0: channels = 1
    case 2: channels = 3
    case 3: channels = 1
    case 4: channels = 2
    case 6: channels = 4
    default: throw .png("colour type \(colorType)")
    }
    guard depth == 8 || (depth == 16 && colorType != 3) else { throw .png("bit depth \(depth) not supported") }
    guard colorType != 3 || palette.count >= 3 else { throw .png("palette image without PLTE") }
    let bpp = channels * depth / 8
    let rowBytes = width * bpp
    var raw = [UInt8](repeating: 0, count: height * (rowBytes + 1))
    var rawLen = UInt(raw.count)
    let zrc = raw.withUnsafeMutableBufferPointer { dst in
        idat.withUnsafeBufferPointer { src in uncompress(dst.baseAddress!, &rawLen, src.baseAddress, UInt(src.count)) }
    }
    guard zrc == Z_OK, rawLen == UInt(raw.count) else { throw .png("zlib data corrupt or short") }
    // Undo the per-row filters in place (each row keeps its filter byte in front).
    var img = RGBImage(width: width, height: height)
    var prev = [UInt8](repeating: 0, count: rowBytes)
    var cur = [UInt8](repeating: 0, count: rowBytes)
    for y in 0..<height {
        let rowStart = y * (rowBytes + 1)
        let filter = raw[rowStart]
        for x in 0..<rowBytes {
            let v = raw[rowStart + 1 + x]
            let a = x >= bpp ? Int(cur[x - bpp]) : 0
            let b = Int(prev[x])
            let c = x >= bpp ? Int(prev[x - bpp]) : 0
            let pred: Int
            switch filter {
            case 0: pred = 0
            case 1: pred = a
            case 2: pred = b
            case 3: pred = (a + b) / 2
            case 4:
                let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                pred = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
            default: throw .png("bad filter \(filter) on row \(y)")
            }
            cur[x] = v &+ UInt8(truncatingIfNeeded: pred)
        }
        for x in 0..<width {
            let o = (y * width + x) * 3
            func sample(_ ch: Int) -> UInt8 { cur[x * bpp + ch * depth / 8] }   // high byte for 16-bit
            switch colorType {
            case 0, 4:
                let g = sample(0); img.pixels[o] = g; img.pixels[o + 1] = g; img.pixels[o + 2] = g
            case 3:
                let k = Int(sample(0)) * 3
                guard k + 2 < palette.count else { throw .png("palette index out of range") }
                img.pixels[o] = palette[k]; img.pixels[o + 1] = palette[k + 1]; img.pixels[o + 2] = palette[k + 2]
            default:
                img.pixels[o] = sample(0); img.pixels[o + 1] = sample(1); img.pixels[o + 2] = sample(2)
            }
        }
        swap(&prev, &cur)
    }
    return img
}

/// PNG from 8-bit pixels: `channels` 1 (grey, e.g. a class mask) or 3 (RGB, e.g. an overlay).
/// With a palette (RGB triples) a 1-channel image is written as an indexed PNG, so class ids
/// stay exact and still view in colour.
public func encodePNG(width: Int, height: Int, channels: Int, pixels: [UInt8],
                      palette: [UInt8]? = nil) throws(ImageFileError) -> [UInt8] {
    guard channels == 1 || channels == 3, width > 0, height > 0, pixels.count >= width * height * channels else {
        throw .png("bad image for encoding")
    }
    let colorType: UInt8 = channels == 3 ? 2 : (palette != nil ? 3 : 0)
    let rowBytes = width * channels
    var raw = [UInt8](repeating: 0, count: height * (rowBytes + 1))
    for y in 0..<height {
        // Filter "Up" compresses masks and smooth overlays well and costs nothing to compute.
        raw[y * (rowBytes + 1)] = 2
        for x in 0..<rowBytes {
            let v = pixels[y * rowBytes + x]
            let up = y > 0 ? pixels[(y - 1) * rowBytes + x] : 0
            raw[y * (rowBytes + 1) + 1 + x] = v &- up
        }
    }
    var zlen = compressBound(UInt(raw.count))
    var z = [UInt8](repeating: 0, count: Int(zlen))
    let zrc = z.withUnsafeMutableBufferPointer { dst in
        raw.withUnsafeBufferPointer { src in compress2(dst.baseAddress!, &zlen, src.baseAddress!, UInt(src.count), 6) }
    }
    guard zrc == Z_OK else { throw .png("zlib compress failed (\(zrc))") }
    z.removeSubrange(Int(zlen)...)
    var out = pngSignature
    func chunk(_ type: String, _ data: [UInt8]) {
        let n = UInt32(data.count)
        out += [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        let body = Array(type.utf8) + data
        out += body
        let c = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress!, UInt32($0.count))) }
        out += [UInt8(c >> 24), UInt8(c >> 16 & 0xff), UInt8(c >> 8 & 0xff), UInt8(c & 0xff)]
    }
    func be(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    chunk("IHDR", be(width) + be(height) + [8, colorType, 0, 0, 0])
    if colorType == 3, let palette { chunk("PLTE", Array(palette.prefix(768))) }
    chunk("IDAT", z)
    chunk("IEND", [])
    return out
}

public func savePNG(path: String, width: Int, height: Int, channels: Int, pixels: [UInt8],
                    palette: [UInt8]? = nil) throws(ImageFileError) {
    let bytes = try encodePNG(width: width, height: height, channels: channels, pixels: pixels, palette: palette)
    do throws(CaptureError) { try writeFile(path, bytes) } catch { throw .io(error) }
}
