import Foundation
import Synchronization
import EdgeSegCore
import EdgeSegCapture
import EdgeSegInspect
import EdgeSegLink

/// Lets a signal handler (or a test) stop a running pipeline.
public final class PipelineControl: Sendable {
    let stopFlag = Atomic<Bool>(false)
    public init() {}
    public func stop() { stopFlag.store(true, ordering: .relaxed) }
    public var isStopped: Bool { stopFlag.load(ordering: .relaxed) }
}

/// BoardLink shared by the inference thread (sends) and the link thread (polls), under one lock.
final class SharedLink<T: LinkTransport>: @unchecked Sendable {
    let link: BoardLink<T>
    private let mutex = Mutex<Void>(())
    init(_ link: BoardLink<T>) { self.link = link }
    func with<R>(_ body: (BoardLink<T>) -> R) -> R { mutex.withLock { _ in body(link) } }
}

/// Latency histograms shared by the inference thread (writes) and the link/monitor threads (reads).
final class SharedBook: @unchecked Sendable {
    private var book = LatencyBook()
    private let mutex = Mutex<Void>(())
    func with<R>(_ body: (inout LatencyBook) -> R) -> R { mutex.withLock { _ in body(&book) } }
}

/// The frame source, handed to the capture thread, which is its only user.
struct UncheckedSource: @unchecked Sendable {
    let source: any FrameSource
    init(_ s: any FrameSource) { source = s }
}

/// Counters the inference thread keeps and the other threads read.
final class RunCounters: Sendable {
    let processed = Atomic<UInt64>(0)
    let rejected = Atomic<UInt64>(0)
    let raised = Atomic<Int>(0)
    let updated = Atomic<Int>(0)
    let cleared = Atomic<Int>(0)
    let watchdog = Atomic<Int>(0)
    let activeAlarms = Atomic<Int>(0)
    /// Most alarm events waiting for an ACK at once (grows while the PC is away).
    let queuePeak = Atomic<Int>(0)
    /// Episodes of alarms left unacknowledged past FaultWatch.outageAfter.
    let ackOutages = Atomic<Int>(0)
}

/// Starts a thread that names itself first (see `setCurrentThreadName` for why not `Thread.name`).
func startThread(_ name: String, _ body: @escaping @Sendable () -> Void) -> Thread {
    let t = Thread {
        setCurrentThreadName(name)
        body()
    }
    t.start()
    return t
}

/// Runs the board pipeline on `graph` until a stop condition; returns the final report.
public func runPipeline(graph loaded: Graph, modelName: String, options: RunOptions,
                        control: PipelineControl = PipelineControl()) throws -> RunReport {
    let p = options.profile
    let log = options.log
    guard loaded.precision == p.model.precision.rawValue else {
        throw PipelineError.setup("model \(modelName) is \(loaded.precision) but the board profile says precision = \"\(p.model.precision.rawValue)\"; "
            + "compile it with `edgeseg compile MODEL.onnx -o OUT.edgeseg --precision \(p.model.precision.rawValue) --calib DIR` or change the profile")
    }
    let graph = droppingFinalResize(loaded)
    let head = try maskHead(of: graph)
    let engine: Executor
    do {
        engine = try Executor(graph: graph, threads: p.board.threads, affinity: p.board.affinity.isEmpty ? nil : p.board.affinity)
    } catch {
        throw PipelineError.setup("model \(modelName): \(error)")
    }
    let memory = engine.arenaBytes + engine.weightBytes
    if p.board.memoryCapMB > 0 && memory > p.board.memoryCapMB << 20 {
        throw PipelineError.setup("model \(modelName) needs \(memory >> 20) MiB (arena \(engine.arenaBytes >> 20) + weights \(engine.weightBytes >> 20)), over the board's memory_cap_mb = \(p.board.memoryCapMB)")
    }
    let source = try openSource(p.camera, log: log)
    defer { source.close() }

    switch p.link.transport {
    case .none:
        return try runThreads(transport: NullTransport(), engine: engine, head: head, source: source,
                              modelName: modelName, options: options, control: control)
    case .udp:
        let target = options.udpTargetOverride ?? p.link.udpTarget
        let peer: IPv4Endpoint
        let socket: UDPSocket
        do {
            peer = try IPv4Endpoint(parsing: target)
            socket = try UDPSocket(bind: IPv4Endpoint(address: 0, port: 0))
        } catch { throw PipelineError.setup("link: \(error)") }
        let transport = UDPTransport(socket: socket, peer: peer)
        defer { transport.deallocate() }
        return try runThreads(transport: transport, engine: engine, head: head, source: source,
                              modelName: modelName, options: options, control: control)
    case .serial:
        let port: SerialPort
        do { port = try SerialPort(path: p.link.serialDevice, baud: p.link.baud) } catch {
            throw PipelineError.setup("link: \(p.link.serialDevice): \(error)")
        }
        let transport = SerialTransport(port: port)
        defer { transport.deallocate() }
        return try runThreads(transport: transport, engine: engine, head: head, source: source,
                              modelName: modelName, options: options, control: control)
    }
}

func linkConfig(_ p: BoardProfile, head: MaskHead) throws -> LinkConfig {
    var c = LinkConfig(boardId: UInt32(p.link.boardID))
    c.hello = HelloInfo(heartbeatIntervalMillis: UInt32(p.link.heartbeatMs), maskWidth: UInt16(head.width),
                        maskHeight: UInt16(head.height), classCount: UInt8(head.classes), name: p.board.name)
    c.heartbeatIntervalNanos = UInt64(p.link.heartbeatMs) * 1_000_000
    c.maskMinIntervalNanos = UInt64(max(1, p.link.maskIntervalMs)) * 1_000_000
    c.maxMaskPixels = head.width * head.height
    if !p.link.keyFile.isEmpty {
        do { c.authenticator = try loadKeyFile(p.link.keyFile) } catch {
            throw PipelineError.setup("link.key_file \(p.link.keyFile): \(error)")
        }
    }
    return c
}

func runThreads<T: LinkTransport>(transport: T, engine: Executor, head: MaskHead, source: any FrameSource,
                                  modelName: String, options: RunOptions, control: PipelineControl) throws -> RunReport {
    let p = options.profile
    let log = options.log
    let start = monotonicNanoseconds()
    let link = SharedLink(BoardLink(config: try linkConfig(p, head: head), transport: transport, now: start))
    let book = SharedBook()
    let beats = Beats()
    let counters = RunCounters()
    let slot = LatestFrameSlot(capacity: source.maxFrameBytes)
    let stopAt: UInt64? = options.durationSeconds.map { start + UInt64($0 * 1e9) }

    // Everything the inference thread touches per frame is made here.
    let fit: InputSpec.Fit = .letterbox
    let roi = p.preprocess.roi.count == 4
        ? PixelRect(x: p.preprocess.roi[0], y: p.preprocess.roi[1], width: p.preprocess.roi[2], height: p.preprocess.roi[3]) : nil
    let preprocessor = Preprocessor(spec: InputSpec(width: head.inputWidth, height: head.inputHeight,
                                                    element: .float32, fit: fit, roi: roi))
    let pixels = head.width * head.height
    let mask = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: pixels)
    let confidence = UnsafeMutableBufferPointer<Float>.allocate(capacity: pixels)
    let records = UnsafeMutableBufferPointer<DefectRecord>.allocate(capacity: 64)
    records.initialize(repeating: DefectRecord(classId: 0, areaPixels: 0, box: BoxU16(), centroidX: 0, centroidY: 0, meanConfidence: 0))
    defer { mask.deallocate(); confidence.deallocate(); records.deallocate() }
    let inputPixelsPerMaskPixel = head.strideX * head.strideY
    var finder = DefectFinder(width: head.width, height: head.height, capacity: records.count,
                              connectivity: p.inspect.connectivity)
    var tracker = AlarmTracker(rules: p.inspect.rules.map {
        var r = $0
        r.minPixels = max(1, $0.minPixels / inputPixelsPerMaskPixel)
        r.severityPixels = $0.severityPixels.map { max(1, $0 / inputPixelsPerMaskPixel) }
        return r
    })

    link.with { $0.start(now: start) }
    log("edgeseg: \(p.board.name): model \(modelName) (\(head.inputWidth)×\(head.inputHeight) → mask \(head.width)×\(head.height), \(head.classes) classes), \(p.board.threads) threads, arena \(engine.arenaBytes >> 10) KiB, weights \(engine.weightBytes >> 10) KiB, link \(p.link.transport.rawValue)")
    // After every start-up check: a refused start logs nothing but its error.
    if let advice = openBLASCoreAdvice() { log("edgeseg: warning: \(advice)") }

    // Capture thread: never waits for inference. It alone touches the source; the others
    // read the source's counters from `captureStats`, which it refreshes every iteration.
    let sourceBox = UncheckedSource(source)
    let captureStats = Mutex(CaptureStats())
    let onThreadStart = options.onThreadStart
    if let onThreadStart { engine.runOnEveryThread(onThreadStart) }
    let capture = startThread("edgeseg-capture") {
        onThreadStart?()
        let source = sourceBox.source
        while !control.isStopped {
            beats.capture.store(monotonicNanoseconds(), ordering: .relaxed)
            do throws(CaptureError) {
                let frame = try source.next(timeoutMs: 200)
                let stats = source.stats
                captureStats.withLock { $0 = stats }
                guard let frame else { continue }
                slot.publish(frame)
            } catch .endOfStream {
                beats.sourceEnded.store(true, ordering: .relaxed)
                break
            } catch {
                log("capture: \(error)")
                usleep(100_000)
            }
        }
        slot.finish()
    }

    // Link thread: ACKs, retries, heartbeats.
    let linkThread = startThread("edgeseg-link") {
        onThreadStart?()
        let thermal = ThermalZone()
        var faults = FaultWatch(now: start)
        var latencies = [StageLatency]()
        latencies.reserveCapacity(8)
        while !beats.stop.load(ordering: .relaxed) {
            let now = monotonicNanoseconds()
            beats.link.store(now, ordering: .relaxed)
            book.with { b in
                latencies.removeAll(keepingCapacity: true)
                for i in heartbeatStages.indices {   // indexed: see `heartbeatStages`
                    let (stage, ours) = heartbeatStages[i]
                    let s = b.summary(ours)
                    latencies.append(StageLatency(stage, p50Micros: UInt32(s.p50Ms * 1000), p99Micros: UInt32(s.p99Ms * 1000),
                                                  maxMicros: UInt32(min(s.maxMs * 1000, 4e9))))
                }
            }
            let stats = captureStats.withLock { $0 }
            let seconds = Double(now - start) / 1e9
            // Figures read under the lock; the fault log is written after it is released.
            let (depth, lc) = link.with { l in
                l.stats.fps = Float(Double(counters.processed.load(ordering: .relaxed)) / max(seconds, 1e-3))
                l.stats.framesProcessed = UInt32(truncatingIfNeeded: counters.processed.load(ordering: .relaxed))
                l.stats.framesDropped = UInt32(truncatingIfNeeded: slot.dropped + stats.dropped + stats.driverDropped)
                l.stats.temperatureCentiC = thermal.centiCelsius() ?? HeartbeatStats.unknownTemperature
                l.stats.captureErrors = UInt32(truncatingIfNeeded: stats.disconnects + stats.stalls)
                l.stats.decodeErrors = UInt32(truncatingIfNeeded: counters.rejected.load(ordering: .relaxed) + stats.corrupt)
                l.stats.latencies.removeAll(keepingCapacity: true)
                l.stats.latencies.append(contentsOf: latencies)
                l.poll(now: now)
                return (l.alarmQueueDepth, l.counters)
            }
            if depth > counters.queuePeak.load(ordering: .relaxed) { counters.queuePeak.store(depth, ordering: .relaxed) }
            faults.check(FaultFigures(corruptFrames: stats.corrupt, undecodableFrames: counters.rejected.load(ordering: .relaxed),
                                          rxRejected: lc.rxRejected, sendErrors: lc.sendErrors,
                                          queueOverflows: lc.alarmQueueOverflows, alarmsAcked: lc.alarmsAcked,
                                          queueDepth: depth), now: now, log: log)
            counters.ackOutages.store(faults.outages, ordering: .relaxed)
            usleep(5_000)
        }
    }

    // Monitor thread: watchdog and console summary.
    let monitor = startThread("edgeseg-monitor") {
        onThreadStart?()
        var stuck = [false, false, false]
        var nextSummary = start + UInt64(p.report.summaryIntervalS * 1e9)
        let limit = UInt64(p.report.watchdogMs) * 1_000_000
        while !beats.stop.load(ordering: .relaxed) {
            usleep(100_000)
            let now = monotonicNanoseconds()
            func check(_ i: Int, _ name: StaticString, _ last: UInt64) {
                let late = last != 0 && now > last + limit
                if late && !stuck[i] {
                    counters.watchdog.add(1, ordering: .relaxed)
                    log("watchdog: \(name) stage stuck for \((now - last) / 1_000_000) ms")
                }
                if !late && stuck[i] { log("watchdog: \(name) stage running again") }
                stuck[i] = late
            }
            check(0, "capture", beats.capture.load(ordering: .relaxed))
            check(1, "inference", beats.inference.load(ordering: .relaxed))
            check(2, "link", beats.link.load(ordering: .relaxed))
            if p.report.consoleSummary && p.report.summaryIntervalS > 0 && now >= nextSummary {
                nextSummary = now + UInt64(p.report.summaryIntervalS * 1e9)
                let inf = book.with { $0.summary(.inference) }, e2e = book.with { $0.summary(.glassToSent) }
                let secs = Double(now - start) / 1e9
                log(String(format: "[%6.1fs] %llu frames (%.1f fps), stale %llu, alarms active %d, inference p50 %.1f ms, glass→sent p50 %.1f p99 %.1f ms",
                           secs, counters.processed.load(ordering: .relaxed),
                           Double(counters.processed.load(ordering: .relaxed)) / secs, slot.dropped,
                           counters.activeAlarms.load(ordering: .relaxed), inf.p50Ms, e2e.p50Ms, e2e.p99Ms))
            }
        }
    }

    // Inference: this thread.
    let input = UnsafeMutableRawPointer(engine.input(0).baseAddress!)
    let logits = engine.output(0).baseAddress!
    var frameID: UInt32 = 0
    var mm2Scale: Float? = nil
    while !control.isStopped {
        let now0 = monotonicNanoseconds()
        beats.inference.store(now0, ordering: .relaxed)
        if let stopAt, now0 >= stopAt { break }
        if let maxFrames = options.maxFrames, counters.processed.load(ordering: .relaxed) >= UInt64(maxFrames) { break }
        guard let frame = slot.take(timeoutMs: 200) else {
            if beats.sourceEnded.load(ordering: .relaxed) { break }
            continue
        }
        var stamps = FrameStamps()
        stamps.captureNs = frame.captureNs
        stamps.dequeueNs = frame.dequeueNs
        stamps.takenNs = monotonicNanoseconds()
        do throws(PreprocessError) {
            try preprocessor.prepare(frame, into: input)
        } catch {
            counters.rejected.add(1, ordering: .relaxed)
            continue
        }
        stamps.preprocessedNs = monotonicNanoseconds()
        engine.run()
        stamps.inferredNs = monotonicNanoseconds()

        if mm2Scale == nil, p.inspect.mmPerPixel > 0, let placement = preprocessor.lastPlacement {
            // mm per mask pixel = camera mm/px × camera px per input px × input px per mask px.
            let cameraPixelsPerInputPixel = Double(placement.crop.width) / Double(max(1, placement.width))
            let mmPerMaskPixel = p.inspect.mmPerPixel * cameraPixelsPerInputPixel * Double(head.strideX)
            mm2Scale = Float(mmPerMaskPixel * mmPerMaskPixel)
            finder.mm2PerPixel = mm2Scale
        }
        argmaxLogits(logits, classes: head.classes, pixels: pixels, mask: mask.baseAddress!, confidence: confidence.baseAddress!)
        finder.find(mask: mask.baseAddress!, confidence: confidence.baseAddress!)
        frameID &+= 1
        let changes = tracker.update(defects: finder.defects, frameID: UInt64(frameID), captureNs: frame.captureNs)
        let found = finder.defects
        for i in 0..<found.count { records[i] = defectRecord(found[i], inputPixelsPerMaskPixel: inputPixelsPerMaskPixel) }
        stamps.inspectedNs = monotonicNanoseconds()

        link.with { l in
            let now = monotonicNanoseconds()
            l.sendDetections(frameId: frameID, captureTimestampMicros: frame.captureNs / 1000,
                             defects: UnsafeBufferPointer(rebasing: records[0..<found.count]), now: now)
            for i in 0..<changes {
                let c = tracker.events[i]
                l.raiseAlarm(alarmEvent(c, frameID: frameID, stride: inputPixelsPerMaskPixel, mm2: mm2Scale), now: now)
            }
            if l.alarmQueueDepth > counters.queuePeak.load(ordering: .relaxed) {
                counters.queuePeak.store(l.alarmQueueDepth, ordering: .relaxed)
            }
            _ = l.sendMask(frameId: frameID, width: head.width, height: head.height, classCount: UInt8(head.classes),
                           pixels: UnsafeBufferPointer(mask), now: now)
        }
        stamps.sentNs = monotonicNanoseconds()
        book.with { b in
            b.record(stamps)
            if changes > 0 { b.recordAlarm(captureNs: frame.captureNs, sentNs: stamps.sentNs) }
        }
        let processedNow = counters.processed.add(1, ordering: .relaxed).newValue
        for i in 0..<changes {
            let c = tracker.events[i]
            switch c.transition {
            case .raised: counters.raised.add(1, ordering: .relaxed); counters.activeAlarms.add(1, ordering: .relaxed)
            case .updated: counters.updated.add(1, ordering: .relaxed)
            case .cleared: counters.cleared.add(1, ordering: .relaxed); counters.activeAlarms.subtract(1, ordering: .relaxed)
            }
            if options.profile.report.consoleSummary {
                let name = p.inspect.rules.first { $0.classIndex == c.classIndex }?.name ?? "class \(c.classIndex)"
                log("alarm \(c.alarmID) \(name) \(c.transition) at frame \(frameID): severity \(c.before.severity)→\(c.after.severity), area \(c.after.pixelArea * inputPixelsPerMaskPixel) px")
            }
        }
        options.onFrame?(processedNow)
    }

    // Shutdown: stop capture, give the link a moment to collect the last ACKs.
    control.stop()
    let drainUntil = monotonicNanoseconds() + 1_000_000_000
    while monotonicNanoseconds() < drainUntil && link.with({ $0.alarmQueueDepth }) > 0 { usleep(10_000) }
    beats.stop.store(true, ordering: .relaxed)
    while capture.isExecuting || linkThread.isExecuting || monitor.isExecuting { usleep(5_000) }

    let end = monotonicNanoseconds()
    let seconds = Double(end - start) / 1e9
    let stats = source.stats
    let linkCounters = link.with { $0.counters }
    var latency = [String: LatencySummary]()
    book.with { b in for s in PipelineStage.allCases { latency[s.key] = b.summary(s) } }
    let processed = counters.processed.load(ordering: .relaxed)
    return RunReport(
        board: p.board.name, model: modelName, precision: p.model.precision.rawValue, threads: p.board.threads,
        seconds: seconds, cameraFps: p.camera.fps, processedFps: Double(processed) / max(seconds, 1e-9),
        framesCaptured: stats.frames, framesProcessed: processed, framesStale: slot.dropped,
        framesRejected: counters.rejected.load(ordering: .relaxed) + stats.corrupt,
        framesCorrupt: stats.corrupt, framesUndecodable: counters.rejected.load(ordering: .relaxed),
        captureStalls: stats.stalls, cameraDisconnects: stats.disconnects, cameraReopens: stats.reopens,
        alarmsRaised: counters.raised.load(ordering: .relaxed), alarmsUpdated: counters.updated.load(ordering: .relaxed),
        alarmsCleared: counters.cleared.load(ordering: .relaxed), alarmsAcked: linkCounters.alarmsAcked,
        alarmsPendingAtExit: link.with { $0.alarmQueueDepth }, alarmQueueOverflows: linkCounters.alarmQueueOverflows,
        alarmRetransmissions: linkCounters.alarmRetransmissions, alarmQueuePeak: counters.queuePeak.load(ordering: .relaxed),
        ackOutages: counters.ackOutages.load(ordering: .relaxed), messagesSent: linkCounters.messagesSent,
        heartbeatsSent: linkCounters.heartbeatsSent, sendErrors: linkCounters.sendErrors,
        rxRejected: linkCounters.rxRejected.total, rxRejectedByReason: rejectReasons(linkCounters.rxRejected),
        watchdogReports: counters.watchdog.load(ordering: .relaxed),
        arenaBytes: engine.arenaBytes, weightBytes: engine.weightBytes, peakRSSBytes: peakRSSBytes(),
        latencyMs: latency)
}

/// Non-zero reject counts by protocol name (docs/protocol.md §6).
func rejectReasons(_ c: RejectCounters) -> [String: UInt64] {
    var out = [String: UInt64]()
    for r in RejectReason.allCases where c[r] > 0 { out[r.name] = c[r] }
    return out
}

/// Which of our stages fills each heartbeat latency slot of the protocol.
/// Per-frame code walks arrays by index: in a debug build `for x in array` (and over a slice or
/// `prefix`) goes through the unspecialised `IndexingIterator.next`, whose `subscript.read`
/// coroutine mallocs its frame for every element (release builds inline it away). The
/// zero-allocation test runs debug code, so this keeps it meaningful.
let heartbeatStages: [(LatencyStage, PipelineStage)] = [
    (.capture, .dequeue), (.preprocess, .preprocess), (.inference, .inference),
    (.inspect, .inspect), (.link, .send), (.glassToSent, .glassToSent),
]

func defectRecord(_ d: Defect, inputPixelsPerMaskPixel: Int) -> DefectRecord {
    DefectRecord(classId: UInt8(d.classIndex), areaPixels: UInt32(clamping: d.pixelArea * inputPixelsPerMaskPixel),
                 areaMm2: d.areaMM2 ?? .nan,
                 box: BoxU16(x: UInt16(clamping: d.minX), y: UInt16(clamping: d.minY),
                             width: UInt16(clamping: d.maxX - d.minX + 1), height: UInt16(clamping: d.maxY - d.minY + 1)),
                 centroidX: d.centroidX, centroidY: d.centroidY, meanConfidence: d.meanConfidence)
}

func alarmEvent(_ c: AlarmChange, frameID: UInt32, stride: Int, mm2: Float?) -> AlarmEvent {
    func snapshot(_ s: AlarmState) -> AlarmSnapshot {
        AlarmSnapshot(active: s.active, severity: UInt8(clamping: s.severity), areaPixels: UInt32(clamping: s.pixelArea * stride),
                      areaMm2: mm2.map { Float(s.pixelArea) * $0 } ?? .nan)
    }
    let kind: AlarmKind = c.transition == .raised ? .raised : c.transition == .updated ? .updated : .cleared
    return AlarmEvent(alarmId: c.alarmID, revision: c.revision, kind: kind, classId: UInt8(c.classIndex),
                      frameId: frameID, before: snapshot(c.before), after: snapshot(c.after))
}
