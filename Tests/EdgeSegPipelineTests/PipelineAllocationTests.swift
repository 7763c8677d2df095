import Foundation
import Synchronization
import Testing
import CAllocCounter
import EdgeSegCore
import EdgeSegLink
import EdgeSegReceiver
@testable import EdgeSegPipeline

/// Fixed memory after start-up: frames 50…250 of the whole pipeline (capture, slot, preprocess,
/// executor, inspect, alarms, UDP sends, link thread with heartbeats and ACKs, watchdog)
/// allocate nothing on the capture, inference, link and monitor threads.
/// Known issue (open in #7): inside the running pipeline the executor's pool worker shows about
/// two allocations per frame, although the same executor alone allocates nothing (next test).
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
    profile.inspect.rules = ClassRuleFixture.rules
    let measured = Mutex<Int64>(-1)
    var options = RunOptions(profile: profile, maxFrames: 250, udpTargetOverride: "127.0.0.1:\(port)", log: { _ in })
    // The pipeline's own threads (named edgeseg-*) and the inference thread (this one).
    // The executor's pool workers are left out: see the known issue below.
    options.onThreadStart = {
        if Thread.current.name?.hasPrefix("edgeseg-") == true { alloc_counter_track_this_thread() }
    }
    options.onFrame = { n in
        if n == 50 { alloc_counter_reset() }
        if n == 250 { let c = alloc_counter_count(); measured.withLock { $0 = c } }
    }
    alloc_counter_track_thread(1)
    let report = try runPipeline(graph: colourSegmenter(), modelName: "colour", options: options)
    alloc_counter_track_thread(0)
    #expect(report.framesProcessed == 250)
    #expect(report.messagesSent > 250)
    #expect(measured.withLock { $0 } == 0)
}

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
