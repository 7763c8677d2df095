import ArgumentParser
import Foundation
import EdgeSegLink
import EdgeSegPipeline
import EdgeSegReceiver

/// The main job on a machine with no camera: the bundled demo model on the bundled
/// synthetic rope clip, alarms over UDP to a receiver in this process on loopback.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the pipeline on the bundled model and rope clip, with a control-PC receiver on loopback.")

    @Option(help: "How long to run.") var seconds: Double = 10
    @Option(help: "Inference threads.") var threads: Int = 2
    @Option(help: "Model (.onnx or .edgeseg).") var model: String = "models/demo.onnx"
    @Option(help: "Clip of concatenated JPEG frames.") var clip: String = "models/demo-clip.mjpeg"
    @Option(help: "Clip frame rate.") var fps: Double = 10
    @Option(help: "Write the final report as JSON to this file.") var report: String?

    func run() throws {
        var profile = BoardProfile()
        profile.board.name = "demo"
        profile.board.threads = threads
        profile.camera.source = .mjpeg
        profile.camera.path = clip
        profile.camera.fps = fps
        profile.camera.loop = true
        profile.model.path = model
        profile.link.heartbeatMs = 1000
        profile.report.summaryIntervalS = 2

        let receiver = ReceiverService(endpoint: .udp(try IPv4Endpoint(parsing: "127.0.0.1:0"))) { event in
            switch event {
            case .alarm, .gap, .alarmQueueOverflow, .sessionStarted, .rejected: print("  PC ◂ \(event.logLine)")
            default: break
            }
        }
        try receiver.start()
        guard let port = receiver.localEndpoint?.port else { throw ValidationError("receiver did not bind") }
        print("demo: receiver on 127.0.0.1:\(port); model \(model); clip \(clip) at \(fps) fps; \(threads) threads; \(seconds) s")

        let graph = try loadModel(model)
        let control = PipelineControl()
        let signals = stopOnSignals(control)
        defer { _ = signals }
        let result = try runPipeline(graph: graph, modelName: model,
                                     options: RunOptions(profile: profile, durationSeconds: seconds,
                                                         udpTargetOverride: "127.0.0.1:\(port)"),
                                     control: control)
        usleep(200_000)
        receiver.stop()
        printReport(result)
        let c = receiver.counters
        print("receiver: \(c.accepted) messages accepted, \(c.rejected.total) rejected, \(c.alarmsNew) alarm events stored (\(c.alarmsDuplicate) repeats), \(c.acksSent) ACKs, \(c.gaps) gaps (\(c.missing) missing)")
        if let report { try writeReport(result, to: report) }
    }
}
