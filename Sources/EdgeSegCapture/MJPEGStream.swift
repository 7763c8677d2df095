/// One JPEG inside a concatenated MJPEG byte stream.
public struct JPEGSpan: Sendable, Equatable {
    public var range: Range<Int>
    /// Ends in EOI with every segment intact. Incomplete spans (cut off, or interrupted by the
    /// next SOI) are reported so they can be counted, never decoded.
    public var complete: Bool
    /// From the SOF segment; 0 when none was seen.
    public var width: Int
    public var height: Int
}

/// Splits concatenated JPEGs (an `.mjpeg` clip, a UVC MJPEG dump) by walking the marker
/// structure rather than searching for FFD9: EXIF thumbnails inside APP segments carry their own
/// SOI/EOI, and entropy-coded data only contains FF as FF00 stuffing or RSTn markers.
/// Garbage between frames is skipped.
public func splitJPEGStream(_ data: UnsafeRawBufferPointer) -> [JPEGSpan] {
    let n = data.count
    var spans: [JPEGSpan] = []
    var i = 0
    @inline(__always) func byte(_ k: Int) -> UInt8 { data[k] }
    while i + 2 < n {
        guard byte(i) == 0xFF, byte(i + 1) == 0xD8, byte(i + 2) == 0xFF else { i += 1; continue }
        let start = i
        var j = i + 2
        var width = 0, height = 0
        var complete = false
        var resume: Int? = nil            // where to look for the next SOI
        parse: while true {
            guard j < n, byte(j) == 0xFF else { break parse }          // lost sync: incomplete
            while j < n && byte(j) == 0xFF { j += 1 }                  // fill bytes
            guard j < n else { break parse }
            let marker = byte(j); j += 1
            switch marker {
            case 0xD9:
                complete = true; break parse
            case 0xD8:
                resume = j - 2; break parse                             // next frame began: cut off
            case 0x01, 0xD0...0xD7:
                continue parse
            default:
                guard j + 1 < n else { break parse }
                let len = Int(byte(j)) << 8 | Int(byte(j + 1))
                guard len >= 2, j + len <= n else { break parse }
                // A cut-off frame followed by the next one: a table segment's length may reach into
                // the next frame. APPn/COM may legitimately hold a thumbnail's SOI; nothing else can.
                if !(marker >= 0xE0 && marker <= 0xEF) && marker != 0xFE {
                    var k = j + 2
                    while k + 2 < j + len {
                        if byte(k) == 0xFF && byte(k + 1) == 0xD8 && byte(k + 2) == 0xFF { resume = k; break parse }
                        k += 1
                    }
                }
                if (marker >= 0xC0 && marker <= 0xCF) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC && len >= 7 {
                    height = Int(byte(j + 3)) << 8 | Int(byte(j + 4))
                    width = Int(byte(j + 5)) << 8 | Int(byte(j + 6))
                }
                j += len
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is not stuffing or RSTn.
                    while j + 1 < n {
                        if byte(j) == 0xFF {
                            let m = byte(j + 1)
                            if m == 0x00 || (m >= 0xD0 && m <= 0xD7) { j += 2; continue }
                            if m == 0xFF { j += 1; continue }
                            break
                        }
                        j += 1
                    }
                    if j + 1 >= n { j = n; break parse }
                }
            }
        }
        let end = complete ? j : (resume ?? min(j, n))
        spans.append(JPEGSpan(range: start..<max(end, start + 2), complete: complete, width: width, height: height))
        // After a damaged span, search for the next SOI from just past this one's start.
        i = complete ? j : (resume ?? start + 2)
    }
    return spans
}
