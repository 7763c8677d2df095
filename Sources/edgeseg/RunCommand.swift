import ArgumentParser
import Foundation
import EdgeSegCore
import EdgeSegPipeline

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the board pipeline: camera → model → defects and alarms → control PC.",
        discussion: "Without --board it runs the built-in demo (see `edgeseg demo`).")

    @Option(help: "Board profile (boards/*.toml).") var board: String?
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Option(help: "Stop after this many processed frames.") var frames: Int?
    @Option(help: "Write the final report as JSON to this file.") var report: String?

    func run() throws {
        guard let board else {
            var demo = Demo()
            demo.seconds = duration ?? 10
            demo.report = report
            try demo.run()
            return
        }
        let profile: BoardProfile
        do { profile = try BoardProfile.load(path: board) } catch { throw ValidationError("\(error)") }
        let graph = try loadModel(profile.model.path)
        let control = PipelineControl()
        let signals = stopOnSignals(control)
        defer { _ = signals }
        let result = try runPipeline(graph: graph, modelName: profile.model.path,
                                     options: RunOptions(profile: profile, maxFrames: frames, durationSeconds: duration),
                                     control: control)
        printReport(result)
        if let report { try writeReport(result, to: report) }
    }
}

/// SIGINT/SIGTERM stop the pipeline cleanly (final report, exit 0) instead of killing it.
func stopOnSignals(_ control: PipelineControl) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        // A launcher may hand us the signal blocked; unblock it so Ctrl-C works.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { control.stop() }
        source.resume()
        return source
    }
}

func printReport(_ r: RunReport) {
    print("""

    ── EdgeSeg run report ─────────────────────────────────────────────
    board \(r.board), model \(r.model) (\(r.precision)), \(r.threads) threads, \(String(format: "%.1f", r.seconds)) s
    frames: captured \(r.framesCaptured), processed \(r.framesProcessed) (\(String(format: "%.2f", r.processedFps)) fps vs camera \(String(format: "%.1f", r.cameraFps)) fps), stale \(r.framesStale), rejected \(r.framesRejected) (\(r.framesCorrupt) damaged, \(r.framesUndecodable) undecodable)
    camera: stalls \(r.captureStalls), disconnects \(r.cameraDisconnects), reopens \(r.cameraReopens)
    alarms: raised \(r.alarmsRaised), updated \(r.alarmsUpdated), cleared \(r.alarmsCleared); acked \(r.alarmsAcked), pending \(r.alarmsPendingAtExit), queue overflows \(r.alarmQueueOverflows), retransmissions \(r.alarmRetransmissions), queue peak \(r.alarmQueuePeak), ACK outages \(r.ackOutages)
    link: \(r.messagesSent) messages (\(r.heartbeatsSent) heartbeats), \(r.sendErrors) send errors, \(r.rxRejected) incoming rejected\(r.rxRejectedByReason.isEmpty ? "" : " " + r.rxRejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); watchdog reports \(r.watchdogReports)
    memory: arena \(r.arenaBytes >> 10) KiB, weights \(r.weightBytes >> 10) KiB, peak RSS \(r.peakRSSBytes >> 20) MiB
    latency (ms)       count       p50       p90       p99       max
    """)
    for key in PipelineStage.allCases.map(\.key) {
        guard let s = r.latencyMs[key] else { continue }
        print(key.padding(toLength: 16, withPad: " ", startingAt: 0)
              + String(format: "%8llu %9.2f %9.2f %9.2f %9.2f", s.count, s.p50Ms, s.p90Ms, s.p99Ms, s.maxMs))
    }
}

func writeReport(_ r: RunReport, to path: String) throws {
    do { try r.json().write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw ValidationError("cannot write the report to \(path): \(error.localizedDescription)")
    }
}
