import Foundation
import Testing
@testable import EdgeSegPipeline

@Test func readerAlwaysGetsTheNewestFrameAndEveryFrameIsAccountedFor() {
    let slot = LatestFrameSlot(capacity: 64)
    let total: UInt64 = 5000
    let writer = Thread {
        for seq in 1...total {
            let b = slot.writeBuffer
            // Fill the whole frame with its sequence number so torn reads would show.
            for i in 0..<64 { b[i] = UInt8(truncatingIfNeeded: seq) }
            var info = SlotFrameInfo()
            info.sequence = seq; info.byteCount = 64
            slot.publish(info)
            if seq % 97 == 0 { usleep(200) }
        }
    }
    writer.start()
    var last: UInt64 = 0, taken: UInt64 = 0
    while last < total {
        guard let (bytes, info) = slot.take(timeoutNs: 2_000_000_000) else { Issue.record("reader starved"); return }
        #expect(info.sequence > last)
        #expect(bytes.allSatisfy { $0 == UInt8(truncatingIfNeeded: info.sequence) })
        last = info.sequence
        taken += 1
        if taken % 3 == 0 { usleep(50) }       // a slower reader forces stale frames
    }
    let counts = slot.counts
    #expect(counts.published == total)
    #expect(taken + counts.stale == total)
    #expect(counts.stale > 0)
}

@Test func takeTimesOutWhenNoFrameArrivesAndCloseWakesTheReader() {
    let slot = LatestFrameSlot(capacity: 8)
    let t0 = DispatchTime.now().uptimeNanoseconds
    #expect(slot.take(timeoutNs: 50_000_000) == nil)
    #expect(DispatchTime.now().uptimeNanoseconds - t0 >= 40_000_000)
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { slot.close() }
    #expect(slot.take(timeoutNs: 10_000_000_000) == nil)
}
