import Foundation
import Synchronization
import Testing
import CAllocCounter
import EdgeSegCore
import EdgeSegLink
import EdgeSegReceiver
import EdgeSegInspect
@testable import EdgeSegPipeline

/// Fixed memory after start-up: frames 50…250 of the whole pipeline (capture, slot, preprocess,
/// executor with its pool worker, inspect, alarms, UDP sends, link thread with heartbeats and
/// ACKs, watchdog) allocate nothing on any of its threads.
@Test(.enabled(if: alloc_counter_available() != 0, "no allocation counter under AddressSanitizer"))
func steadyStatePipelineMakesNoHeapAllocations() throws {
    alloc_counter_begin_session()
    defer { alloc_counter_end_session() }
    let receiver = ReceiverService(endpoint: .udp(try IPv4Endpoint(parsing: "127.0.0.1:0")))
    try receiver.start()
    defer { receiver.stop() }
    let port = try #require(receiver.localEndpoint?.port)

    var profile = BoardProfile()
    profile.board.threads = 2
    profile.camera.source = .synthetic
    profile.camera.width = 160; profile.camera.height = 120; profile.camera.fps = 200
    profile.link.heartbeatMs = 50
    profile.link.maskIntervalMs = 20
    profile.report.consoleSummary = false      // formatting a console line allocates
    // A square ROI on the rope (no letterbox bars, which would hold a class-1 alarm up for good):
    // the worn patch and the broken wire pass through it, so alarms are raised, change severity
    // and clear all through the window, and ALARM messages, retries and ACKs run too.
    profile.preprocess.roi = [54, 34, 52, 52]
    profile.inspect.rules = [
        ClassRule(classIndex: 1, name: "reddish", minPixels: 160, persistK: 1, persistN: 1, clearFrames: 2, severityPixels: [320, 640]),
        ClassRule(classIndex: 2, name: "bright", minPixels: 160, persistK: 1, persistN: 1, clearFrames: 2, severityPixels: [320, 640]),
    ]
    let measured = Mutex<Int64>(-1)
    var options = RunOptions(profile: profile, maxFrames: 250, udpTargetOverride: "127.0.0.1:\(port)", log: { _ in })
    // Every thread of the pipeline opts in: the capture, link and monitor threads, and through
    // `runOnEveryThread` the inference thread (this one, pool part 0) and the pool worker.
    options.onThreadStart = {
        alloc_counter_track_this_thread()
        hookedThreads.add(1, ordering: .relaxed)
        if currentThreadName().hasPrefix("edgeseg-") { namedThreads.add(1, ordering: .relaxed) }
    }
    options.onFrame = { n in
        if n == 50 { alloc_counter_reset() }
        if n == 250 { let c = alloc_counter_count(); measured.withLock { $0 = c } }
    }
    let report = try runPipeline(graph: colourSegmenter(), modelName: "colour", options: options)
    alloc_counter_track_thread(0)
    #expect(report.framesProcessed == 250)
    #expect(report.messagesSent > 250)
    #expect(report.alarmsRaised >= 5 && report.alarmsUpdated >= 5 && report.alarmsCleared >= 5)
    #expect(hookedThreads.load(ordering: .relaxed) == 5)   // inference + 1 pool worker + 3 pipeline threads
    #expect(namedThreads.load(ordering: .relaxed) == 4)    // all but this one carry their names (edgeseg-*)
    #expect(measured.withLock { $0 } == 0)
}

private let hookedThreads = Atomic<Int>(0)
private let namedThreads = Atomic<Int>(0)

/// The same executor outside the pipeline, pool workers included, with pauses between runs.
@Test(.enabled(if: alloc_counter_available() != 0, "no allocation counter under AddressSanitizer"))
func executorAloneMakesNoHeapAllocationsIncludingPoolWorkers() throws {
    alloc_counter_begin_session()
    defer { alloc_counter_end_session() }
    let exe = try EdgeSegCore.Executor(graph: droppingFinalResize(colourSegmenter()), threads: 2)
    exe.run()
    exe.runOnEveryThread(alloc_counter_track_this_thread)
    alloc_counter_reset()
    for _ in 0..<20 { exe.run(); usleep(3000) }
    let n = alloc_counter_count()
    alloc_counter_track_thread(0)
    #expect(n == 0)
}
