// Mask run-length encoding (encoding id 1): the class mask in row-major order as a list of
// runs, each `value: u8` followed by the run length as unsigned LEB128 (≥ 1). The runs
// must cover width × height pixels exactly.

public enum MaskRLE {
    /// Worst case: every pixel its own run (value + 1-byte length).
    public static func maxEncodedSize(pixels: Int) -> Int { pixels * 2 }

    /// Returns the encoded length, or nil if `dst` is too small.
    public static func encode(_ mask: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutableRawBufferPointer) -> Int? {
        var out = 0
        var i = 0
        let n = mask.count
        while i < n {
            let v = mask[i]
            var j = i + 1
            while j < n && mask[j] == v { j += 1 }
            var run = UInt64(j - i)
            guard out < dst.count else { return nil }
            dst[out] = v; out += 1
            repeat {
                guard out < dst.count else { return nil }
                let low = UInt8(run & 0x7F)
                run >>= 7
                dst[out] = run == 0 ? low : low | 0x80
                out += 1
            } while run != 0
            i = j
        }
        return out
    }

    public enum DecodeError: Error, Equatable { case truncated, overlong, valueOutOfRange, wrongPixelCount }

    /// Decodes into `dst` (exactly width × height bytes). Values must be < `classCount`.
    public static func decode(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<UInt8>,
                              classCount: Int) -> DecodeError? {
        var i = 0, out = 0
        let n = src.count
        while i < n {
            let v = src[i]; i += 1
            if Int(v) >= classCount { return .valueOutOfRange }
            var run = 0, shift = 0
            while true {
                guard i < n else { return .truncated }
                let b = src[i]; i += 1
                if shift > 28 { return .overlong }
                run |= Int(b & 0x7F) << shift
                shift += 7
                if b & 0x80 == 0 { break }
            }
            if run == 0 || run > dst.count - out { return .wrongPixelCount }
            dst.baseAddress!.advanced(by: out).update(repeating: v, count: run)
            out += run
        }
        return out == dst.count ? nil : .wrongPixelCount
    }
}

/// Receiver-side reassembly of MASK fragments into whole masks, in a fixed number of slots
/// with fixed buffers (a hostile sender can waste slots but never grow memory).
public final class MaskReassembler {
    public struct Limits: Sendable {
        public var maxWidth = 2048, maxHeight = 2048
        public var maxEncodedBytes = 1 << 20
        public var slots = 4
        public init() {}
    }
    public struct Counters: Sendable, Equatable {
        public var fragments: UInt64 = 0
        public var duplicates: UInt64 = 0
        public var completed: UInt64 = 0
        public var evictedIncomplete: UInt64 = 0
        public var inconsistent: UInt64 = 0
        public var badEncoding: UInt64 = 0
        public var oversized: UInt64 = 0
    }
    public struct Mask: Sendable {
        public var boardId: UInt32, sessionId: UInt32, frameId: UInt32
        public var width: Int, height: Int, classCount: Int
        public var pixels: [UInt8]
    }

    private struct Slot {
        var used = false
        var boardId: UInt32 = 0, sessionId: UInt32 = 0, frameId: UInt32 = 0
        var width: UInt16 = 0, height: UInt16 = 0, classCount: UInt8 = 0
        var count: UInt16 = 0, chunkSize: UInt16 = 0, total: UInt32 = 0
        var received = 0
        var bitmap: [UInt64] = []
        var data: UnsafeMutableRawBufferPointer
        var age: UInt64 = 0
    }

    public let limits: Limits
    public private(set) var counters = Counters()
    private var slots: [Slot]
    private var clock: UInt64 = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
        // One bit per possible fragment index (u16), so any fragment count fits.
        slots = (0..<limits.slots).map { _ in
            Slot(bitmap: [UInt64](repeating: 0, count: 1024), data: .allocate(byteCount: limits.maxEncodedBytes, alignment: 8))
        }
    }
    deinit { for s in slots { s.data.deallocate() } }

    /// Feeds one authenticated fragment. Returns the decoded mask when the last piece arrives.
    public func add(_ f: MaskFragment, boardId: UInt32, sessionId: UInt32) -> Mask? {
        counters.fragments += 1
        clock += 1
        guard Int(f.width) <= limits.maxWidth, Int(f.height) <= limits.maxHeight,
              Int(f.totalLength) <= limits.maxEncodedBytes,
              Int(f.totalLength) <= MaskRLE.maxEncodedSize(pixels: Int(f.width) * Int(f.height)) + 16
        else { counters.oversized += 1; return nil }

        var idx = slots.firstIndex { $0.used && $0.boardId == boardId && $0.sessionId == sessionId && $0.frameId == f.frameId }
        if let i = idx {
            let s = slots[i]
            guard s.width == f.width, s.height == f.height, s.classCount == f.classCount, s.count == f.count,
                  s.chunkSize == f.chunkSize, s.total == f.totalLength
            else { counters.inconsistent += 1; return nil }
        } else {
            let i = slots.firstIndex { !$0.used } ?? slots.indices.min { slots[$0].age < slots[$1].age }!
            if slots[i].used { counters.evictedIncomplete += 1 }
            slots[i].used = true
            slots[i].boardId = boardId; slots[i].sessionId = sessionId; slots[i].frameId = f.frameId
            slots[i].width = f.width; slots[i].height = f.height; slots[i].classCount = f.classCount
            slots[i].count = f.count; slots[i].chunkSize = f.chunkSize; slots[i].total = f.totalLength
            slots[i].received = 0
            for k in slots[i].bitmap.indices { slots[i].bitmap[k] = 0 }
            idx = i
        }
        let i = idx!
        slots[i].age = clock
        let word = Int(f.index) >> 6, bit = UInt64(1) << UInt64(f.index & 63)
        if slots[i].bitmap[word] & bit != 0 { counters.duplicates += 1; return nil }
        slots[i].bitmap[word] |= bit
        slots[i].received += 1
        let offset = Int(f.index) * Int(f.chunkSize)
        (slots[i].data.baseAddress! + offset).copyMemory(from: f.chunk.baseAddress!, byteCount: f.chunk.count)
        guard slots[i].received == Int(f.count) else { return nil }

        slots[i].used = false
        let s = slots[i]
        var pixels = [UInt8](repeating: 0, count: Int(s.width) * Int(s.height))
        let err = pixels.withUnsafeMutableBufferPointer {
            MaskRLE.decode(UnsafeRawBufferPointer(rebasing: s.data[0..<Int(s.total)]), into: $0, classCount: Int(s.classCount))
        }
        if err != nil { counters.badEncoding += 1; return nil }
        counters.completed += 1
        return Mask(boardId: boardId, sessionId: sessionId, frameId: s.frameId, width: Int(s.width),
                    height: Int(s.height), classCount: Int(s.classCount), pixels: pixels)
    }
}
