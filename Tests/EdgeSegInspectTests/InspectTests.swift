import Testing
@testable import EdgeSegInspect

/// Draws rectangles of classes into a w×h mask.
private func mask(_ w: Int, _ h: Int, _ rects: [(cls: UInt8, x0: Int, y0: Int, x1: Int, y1: Int)]) -> [UInt8] {
    var m = [UInt8](repeating: 0, count: w * h)
    for r in rects { for y in r.y0...r.y1 { for x in r.x0...r.x1 { m[y * w + x] = r.cls } } }
    return m
}

@Test func argmaxPicksLargestLogitAndLowerClassOnTies() {
    // 3 classes × 4 pixels, planar.
    let logits: [Float] = [0, 5, 1, 2,   1, 5, 0, 2,   -1, 0, 3, 2]
    var m = [UInt8](repeating: 9, count: 4)
    var conf = [Float](repeating: 0, count: 4)
    argmaxLogits(logits, classes: 3, pixels: 4, mask: &m, confidence: &conf)
    #expect(m == [1, 0, 2, 0])
    #expect(abs(conf[3] - 1.0 / 3.0) < 1e-6)                // three equal logits
    let e: Float = 2.718281828
    #expect(abs(conf[2] - e * e * e / (e * e * e + e + 1)) < 1e-5)
}

@Test func componentsPerClassWithBoxesCentroidsAndAreas() {
    let w = 16, h = 10
    // Two separate wear blobs, one broken-wire blob touching a wear blob (different class → separate).
    let m = mask(w, h, [(1, 0, 0, 3, 1), (1, 10, 5, 12, 8), (2, 4, 0, 4, 3)])
    let conf = [Float](repeating: 0.5, count: w * h)
    var finder = DefectFinder(width: w, height: h, capacity: 8, mm2PerPixel: 0.25)
    m.withUnsafeBufferPointer { mp in conf.withUnsafeBufferPointer { cp in
        finder.find(mask: mp.baseAddress!, confidence: cp.baseAddress!)
    } }
    let found = Array(finder.defects).sorted { ($0.classIndex, $0.minX) < ($1.classIndex, $1.minX) }
    #expect(found.count == 3)
    #expect(found[0].classIndex == 1 && found[0].pixelArea == 8 && found[0].maxX == 3 && found[0].maxY == 1)
    #expect(found[0].centroidX == 1.5 && found[0].centroidY == 0.5)
    #expect(found[1].pixelArea == 12 && found[1].minX == 10 && found[1].minY == 5)
    #expect(found[1].areaMM2 == 3.0)
    #expect(found[2].classIndex == 2 && found[2].pixelArea == 4 && found[2].meanConfidence == 0.5)
}

@Test func connectivityDecidesWhetherDiagonalsJoin() {
    let w = 4, h = 4
    var m = [UInt8](repeating: 0, count: w * h)
    m[0] = 1; m[5] = 1; m[10] = 1            // a diagonal line
    var eight = DefectFinder(width: w, height: h, connectivity: .eight)
    var four = DefectFinder(width: w, height: h, connectivity: .four)
    eight.find(mask: m, confidence: nil)
    four.find(mask: m, confidence: nil)
    #expect(eight.count == 1 && eight.defects[0].pixelArea == 3)
    #expect(four.count == 3)
}

@Test func overflowIsCountedNotSilent() {
    let w = 9, h = 1
    let m: [UInt8] = [1, 0, 1, 0, 1, 0, 1, 0, 1]
    var finder = DefectFinder(width: w, height: h, capacity: 2)
    finder.find(mask: m, confidence: nil)
    #expect(finder.count == 2 && finder.overflowed == 3)
}

@Test func noiseBelowMinPixelsIsDropped() {
    let m = mask(8, 8, [(1, 0, 0, 0, 0), (1, 4, 4, 6, 6)])
    var finder = DefectFinder(width: 8, height: 8, minPixels: 4)
    finder.find(mask: m, confidence: nil)
    #expect(finder.count == 1 && finder.defects[0].pixelArea == 9)
}

private func frame(_ tracker: inout AlarmTracker, area: Int, cls: Int = 2, id: UInt64) -> [AlarmChange] {
    let d = [Defect(classIndex: cls, pixelArea: area)]
    let n = d.withUnsafeBufferPointer { tracker.update(defects: area > 0 ? $0 : UnsafeBufferPointer(rebasing: $0[0..<0]), frameID: id, captureNs: id * 100) }
    return Array(tracker.events.prefix(n))
}

@Test func raisesAfterKofNAndClearsAfterMisses() {
    var t = AlarmTracker(rules: [ClassRule(classIndex: 2, name: "broken", minPixels: 10, persistK: 3, persistN: 5, clearFrames: 2)])
    // hit, miss, hit → only 2 of 5; third hit raises.
    #expect(frame(&t, area: 20, id: 1).isEmpty)
    #expect(frame(&t, area: 0, id: 2).isEmpty)
    #expect(frame(&t, area: 5, id: 3).isEmpty)            // below minPixels: a miss
    #expect(frame(&t, area: 20, id: 4).isEmpty)
    let raised = frame(&t, area: 30, id: 5)
    #expect(raised.count == 1 && raised[0].transition == .raised && raised[0].alarmID == 1)
    #expect(raised[0].before.active == false && raised[0].after == AlarmState(active: true, severity: 1, pixelArea: 30))
    #expect(raised[0].captureNs == 500)
    #expect(frame(&t, area: 0, id: 6).isEmpty)            // one miss: hysteresis holds the alarm
    #expect(frame(&t, area: 25, id: 7).isEmpty)
    #expect(frame(&t, area: 0, id: 8).isEmpty)
    let cleared = frame(&t, area: 0, id: 9)
    #expect(cleared.count == 1 && cleared[0].transition == .cleared && cleared[0].before.pixelArea == 25)
    #expect(raised[0].revision == 0 && cleared[0].revision == 1)
    #expect(t.state(ofClass: 2) == AlarmState())
    // Re-raising takes K fresh hits and a new id.
    _ = frame(&t, area: 20, id: 10); _ = frame(&t, area: 20, id: 11)
    let again = frame(&t, area: 20, id: 12)
    #expect(again.first?.alarmID == 2 && again.first?.revision == 0)
}

@Test func severityRisesAtOnceAndFallsWithHysteresis() {
    let rule = ClassRule(classIndex: 1, name: "wear", minPixels: 1, persistK: 1, persistN: 1, clearFrames: 3,
                         severityPixels: [100, 400], severityHysteresis: 0.8)
    var t = AlarmTracker(rules: [rule])
    #expect(frame(&t, area: 50, cls: 1, id: 1).first?.after.severity == 1)
    let up = frame(&t, area: 450, cls: 1, id: 2)
    #expect(up.first?.transition == .updated && up.first?.before.severity == 1 && up.first?.after.severity == 3)
    #expect(up.first?.revision == 1)
    #expect(frame(&t, area: 330, cls: 1, id: 3).isEmpty)   // ≥ 0.8 × 400: stays at 3
    let down = frame(&t, area: 310, cls: 1, id: 4)
    #expect(down.first?.after.severity == 2)
    #expect(frame(&t, area: 85, cls: 1, id: 5).isEmpty)    // ≥ 0.8 × 100: stays at 2
    #expect(frame(&t, area: 70, cls: 1, id: 6).first?.after.severity == 1)
}
