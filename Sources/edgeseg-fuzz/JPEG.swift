// Fuzz target: the frame path from camera/replay bytes to the model input tensor —
// splitJPEGStream (the MJPEG replay splitter), JPEGDecoder (TurboJPEG, scaled decode) and
// Preprocessor.prepare (crop, resize, letterbox, FP32/FP16/int8) — plus raw RGB24/YUYV frames.
// Part of edgeseg-fuzz (Fuzz.swift picks the target).
//
// Input: a 16-byte parameter block, then the frame bytes.
//   0     bits 0-1 element (0 FP32, 1 FP16, 2/3 int8), bit 2 stretch (else letterbox),
//         bit 3 ROI, bits 4-5 format (0 MJPEG stream with SOF sizes, as the replay source builds
//         frames; 1 MJPEG with the camera's configured size from bytes 4-7; 2 RGB24; 3 YUYV)
//   1, 2  model input width, height (1 + b % 64)
//   3     bytes per line for raw frames: 0 = packed, else width * bpp + b % 8
//   4-7   frame width, height (u16 LE)
//   8-15  ROI x, y, width, height (i16 LE)
import EdgeSegCapture

/// Small decoder buffer: 256x256 is plenty for fuzzing and keeps each input cheap.
let maxJPEG = 256

func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 16 else { return 0 }
    func u16(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 }
    func i16(_ o: Int) -> Int { Int(Int16(bitPattern: UInt16(u16(o)))) }
    let flags = data[0]
    let element: InputElement
    switch flags & 3 {
    case 0: element = .float32
    case 1: element = .float16
    default: element = .int8(scale: 1.0 / 255, zeroPoint: -128)
    }
    let spec = InputSpec(width: 1 + Int(data[1]) % 64, height: 1 + Int(data[2]) % 64, element: element,
                         fit: flags & 4 != 0 ? .stretch : .letterbox,
                         roi: flags & 8 != 0 ? PixelRect(x: i16(8), y: i16(10), width: i16(12), height: i16(14)) : nil)
    let pre = Preprocessor(spec: spec, maxJPEGWidth: maxJPEG, maxJPEGHeight: maxJPEG)
    // Exactly the tensor's size, so a write past it is an ASan report.
    let tensor = UnsafeMutableRawPointer.allocate(byteCount: spec.tensorByteCount, alignment: 16)
    defer { tensor.deallocate() }
    // The frame ends where libFuzzer's copy of the input ends: a read past it is an ASan report.
    let body = UnsafeRawBufferPointer(start: data + 16, count: size - 16)
    guard let base = body.baseAddress else { return 0 }
    let width = u16(4), height = u16(6)

    func prepare(_ format: PixelFormat, _ w: Int, _ h: Int, pitch: Int, _ bytes: UnsafeRawPointer, _ count: Int) {
        let frame = Frame(format: format, width: w, height: h, bytesPerLine: pitch, bytes: bytes, byteCount: count,
                          sequence: 0, captureNs: 0, dequeueNs: 0)
        _ = try? pre.prepare(frame, into: tensor)
    }

    switch (flags >> 4) & 3 {
    case 0:
        for s in splitJPEGStream(body).prefix(4) where s.complete {
            prepare(.mjpeg, s.width, s.height, pitch: 0, base + s.range.lowerBound, s.range.count)
        }
    case 1:
        prepare(.mjpeg, width, height, pitch: 0, base, body.count)
    case let f:
        let bpp = f == 2 ? 3 : 2
        let pitch = data[3] == 0 ? 0 : width * bpp + Int(data[3]) % 8
        prepare(f == 2 ? .rgb24 : .yuyv, width, height, pitch: pitch, base, body.count)
    }
    return 0
}
