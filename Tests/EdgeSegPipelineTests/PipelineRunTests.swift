import Foundation
import Testing
import EdgeSegCore
import EdgeSegLink
import EdgeSegReceiver
@testable import EdgeSegPipeline
import EdgeSegInspect

/// A small segmentation "model" (1×3×64×64 → 1×3×16×16 logits → ×4 resize) whose class
/// comes from colour: enough to drive every stage of the pipeline in a debug build.
func colourSegmenter() -> Graph {
    var g = Graph()
    let x = g.addTensor(TensorDesc(name: "input", shape: [1, 3, 64, 64]))
    // Class 0 = dark, 1 = red-ish, 2 = bright; a 4×4 stride-4 conv averages each patch.
    var w = [Float](repeating: 0, count: 3 * 3 * 4 * 4)
    for o in 0..<3 { for c in 0..<3 { for k in 0..<16 {
        let v: Float = o == 0 ? -1 : o == 1 ? (c == 0 ? 2 : -1) : 1
        w[((o * 3 + c) * 16) + k] = v / 16
    } } }
    let wt = g.addTensor(TensorDesc(name: "w", shape: [3, 3, 4, 4]), constant: .float32(w))
    let b = g.addTensor(TensorDesc(name: "b", shape: [3]), constant: .float32([1.2, -0.2, -1.9]))
    let low = g.addTensor(TensorDesc(name: "low", shape: [1, 3, 16, 16]))
    let out = g.addTensor(TensorDesc(name: "output", shape: [1, 3, 64, 64]))
    g.nodes = [
        Node(name: "conv", op: .conv(ConvAttrs(kernel: [4, 4], strides: [4, 4], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1)),
             inputs: [x, wt, b], outputs: [low]),
        Node(name: "up", op: .resize(ResizeAttrs(mode: .linear, transform: .halfPixel)), inputs: [low], outputs: [out]),
    ]
    g.inputs = [x]; g.outputs = [out]
    return g
}

@Test func finalResizeIsDroppedAndTheMaskHeadDescribed() throws {
    let g = droppingFinalResize(colourSegmenter())
    #expect(g.nodes.count == 1)
    let head = try maskHead(of: g)
    #expect(head == MaskHead(inputWidth: 64, inputHeight: 64, classes: 3, width: 16, height: 16))
    #expect(head.strideX == 4)
}

@Test func pipelineRunsEndToEndOverUDPToAReceiver() throws {
    let events = EventLog()
    let receiver = ReceiverService(endpoint: .udp(try IPv4Endpoint(parsing: "127.0.0.1:0"))) { events.add($0) }
    try receiver.start()
    defer { receiver.stop() }
    let port = try #require(receiver.localEndpoint?.port)

    var profile = BoardProfile()
    profile.board.threads = 2
    profile.camera.source = .synthetic
    profile.camera.width = 160; profile.camera.height = 120; profile.camera.fps = 60
    profile.link.heartbeatMs = 100
    profile.report.consoleSummary = false
    profile.inspect.rules = ClassRuleFixture.rules
    let lines = EventLog()
    let report = try runPipeline(graph: colourSegmenter(), modelName: "colour", options: RunOptions(
        profile: profile, maxFrames: 40, udpTargetOverride: "127.0.0.1:\(port)", log: { lines.add($0) }))
    usleep(300_000)
    let c = receiver.counters

    #expect(report.framesProcessed == 40)
    #expect(report.framesCaptured >= report.framesProcessed)
    #expect(report.latencyMs["inference"]?.count == 40)
    #expect(report.latencyMs["glass_to_sent"]?.count == 40)
    #expect((report.latencyMs["glass_to_sent"]?.p50Ms ?? 0) > 0)
    #expect(report.sendErrors == 0)
    #expect(c.hellos == 1)
    #expect(c.detections >= 40)
    #expect(c.heartbeats >= 1)
    #expect(c.gaps == 0 && c.rejected.total == 0)
    // Every alarm event the board raised reached the PC and was acknowledged.
    #expect(report.alarmsRaised >= 1)
    #expect(c.alarmsNew == UInt64(report.alarmsRaised + report.alarmsUpdated + report.alarmsCleared))
    #expect(report.alarmsPendingAtExit == 0)
    #expect(lines.items.contains { ($0 as? String)?.hasPrefix("edgeseg: ") == true })
}

@Test func badLinkKeyAndMemoryCapAreClearStartupErrors() {
    var profile = BoardProfile()
    profile.camera.source = .synthetic
    profile.report.consoleSummary = false
    profile.link.keyFile = "/nonexistent/link.key"
    #expect { try runPipeline(graph: colourSegmenter(), modelName: "colour", options: RunOptions(profile: profile, maxFrames: 1, log: { _ in })) }
        throws: { "\($0)".contains("link.key_file /nonexistent/link.key") }
    profile.link.keyFile = ""
    profile.board.memoryCapMB = 1
    var big = colourSegmenter()
    big.tensors[0].shape = [1, 3, 64, 64]
    #expect(throws: PipelineError.self) {
        var g = big
        g.tensors[g.inputs[0]].shape = [1, 3, 1024, 1024]
        g.tensors[3].shape = [1, 3, 256, 256]
        g.tensors[4].shape = [1, 3, 1024, 1024]
        _ = try runPipeline(graph: g, modelName: "big", options: RunOptions(profile: profile, maxFrames: 1, log: { _ in }))
    }
}

enum ClassRuleFixture {
    /// Any blob of class 1 (reddish or the grey letterbox bars) or 2 (bright) raises at once.
    static let rules = [
        EdgeSegInspect.ClassRule(classIndex: 1, name: "reddish", minPixels: 16, persistK: 1, persistN: 1, clearFrames: 2),
        EdgeSegInspect.ClassRule(classIndex: 2, name: "bright", minPixels: 16, persistK: 1, persistN: 1, clearFrames: 2),
    ]
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Any] = []
    func add(_ e: Any) { lock.withLock { stored.append(e) } }
    var items: [Any] { lock.withLock { stored } }
}
