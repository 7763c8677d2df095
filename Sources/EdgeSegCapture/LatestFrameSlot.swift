import Glibc
import Synchronization

/// Hands the newest frame from the capture thread to the consumer without ever blocking capture.
/// Three preallocated buffers rotate: one being written, one being read, one holding the latest
/// published frame. Publishing over an unread frame replaces it and counts a drop.
public final class LatestFrameSlot: @unchecked Sendable {
    public let capacity: Int
    private let storage: UnsafeMutableRawPointer
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by mutex:
    private var writeIndex = 0, readIndex = 1, spareIndex = 2
    private var hasReady = false
    private var readyFrame: Frame?
    private var finished = false
    private var droppedCount: UInt64 = 0
    private var publishedCount: UInt64 = 0
    private var oversizeCount: UInt64 = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity * 3, alignment: 64)
        mutex = .allocate(capacity: 1); pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond); cond.deallocate()
        pthread_mutex_destroy(mutex); mutex.deallocate()
        storage.deallocate()
    }

    private func buffer(_ i: Int) -> UnsafeMutableRawPointer { storage + i * capacity }

    /// Copies the frame into the slot (producer side). Returns false if it does not fit.
    @discardableResult
    public func publish(_ frame: Frame) -> Bool {
        guard frame.byteCount <= capacity else {
            pthread_mutex_lock(mutex); oversizeCount += 1; pthread_mutex_unlock(mutex)
            return false
        }
        // Only the producer touches writeIndex, so the copy runs outside the lock.
        let dst = buffer(writeIndex)
        dst.copyMemory(from: frame.bytes, byteCount: frame.byteCount)
        var copy = frame
        copy.bytes = UnsafeRawPointer(dst)
        pthread_mutex_lock(mutex)
        if hasReady { droppedCount += 1 }
        let done = writeIndex
        writeIndex = spareIndex
        spareIndex = done
        readyFrame = copy
        hasReady = true
        publishedCount += 1
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
        return true
    }

    /// The newest frame not yet taken, waiting at most `timeoutMs`. Nil on timeout or after `finish`.
    /// The frame stays valid until the next `take`.
    public func take(timeoutMs: Int) -> Frame? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if !hasReady && !finished {
            let deadline = monotonicNanoseconds() &+ UInt64(max(timeoutMs, 0)) &* 1_000_000
            var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            while !hasReady && !finished {
                if pthread_cond_timedwait(cond, mutex, &ts) == ETIMEDOUT { break }
            }
        }
        guard hasReady, let frame = readyFrame else { return nil }
        let r = readIndex
        readIndex = spareIndex
        spareIndex = r
        hasReady = false
        return frame
    }

    /// Wakes a waiting consumer for good (end of stream or shutdown).
    public func finish() {
        pthread_mutex_lock(mutex); finished = true; pthread_cond_broadcast(cond); pthread_mutex_unlock(mutex)
    }

    public var isFinished: Bool { pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }; return finished && !hasReady }
    public var dropped: UInt64 { pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }; return droppedCount }
    public var published: UInt64 { pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }; return publishedCount }
    public var oversize: UInt64 { pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }; return oversizeCount }
}

/// Runs a source on its own thread and publishes every frame into a `LatestFrameSlot`, so capture
/// never waits on inference. The source belongs to the thread from `start()` until `stop()` returns.
public final class CaptureThread<Source: FrameSource>: @unchecked Sendable {
    public let source: Source
    public let slot: LatestFrameSlot
    public let pollTimeoutMs: Int
    private var thread: pthread_t?
    private let running = Atomic<Bool>(false)
    /// Set when the source ended with an error that reopening cannot fix (read after `stop`/finish).
    public private(set) var finalError: CaptureError?

    public init(source: Source, slotCapacity: Int? = nil, pollTimeoutMs: Int = 200) {
        self.source = source
        self.slot = LatestFrameSlot(capacity: slotCapacity ?? source.maxFrameBytes)
        self.pollTimeoutMs = pollTimeoutMs
    }
    deinit { stop() }

    public func start() {
        guard thread == nil else { return }
        running.store(true, ordering: .releasing)
        let box = Unmanaged.passRetained(ThreadBody { [self] in loop() }).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, box)
        if rc == 0 { thread = t } else { Unmanaged<ThreadBody>.fromOpaque(box).release(); running.store(false, ordering: .releasing) }
    }

    private func loop() {
        while running.load(ordering: .acquiring) {
            do throws(CaptureError) {
                if let frame = try source.next(timeoutMs: pollTimeoutMs) { slot.publish(frame) }
            } catch {
                finalError = error
                break
            }
        }
        slot.finish()
    }

    /// Stops the thread and waits for it; the source may then be used or closed by the caller.
    public func stop() {
        guard let t = thread else { return }
        running.store(false, ordering: .releasing)
        pthread_join(t, nil)
        thread = nil
    }
}

/// A closure to hand to pthread_create (C function pointers cannot capture generic context).
final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
