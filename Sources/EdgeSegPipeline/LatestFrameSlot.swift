#if canImport(Glibc)
import Glibc
#endif

// The hand-over between the capture thread and the inference thread: three
// preallocated buffers (one being written, one ready, one being read). The
// writer never waits for the reader; a ready frame that is overwritten before
// the reader takes it is counted as stale. This keeps capture at camera rate
// and inference always on the newest frame.

public struct SlotFrameInfo: Sendable, Equatable {
    public var sequence: UInt64 = 0
    public var byteCount: Int = 0
    public var width: Int = 0
    public var height: Int = 0
    /// Pixel layout of the bytes, as the source reported it (e.g. JPEG, YUYV, RGB).
    public var format: UInt32 = 0
    public var captureNs: UInt64 = 0
    public var dequeueNs: UInt64 = 0
    public init() {}
}

public final class LatestFrameSlot: @unchecked Sendable {
    public let capacity: Int
    private let storage: [UnsafeMutableRawBufferPointer]
    private var info = [SlotFrameInfo](repeating: SlotFrameInfo(), count: 3)
    private var writeIndex = 0
    private var readIndex = 2
    private var readyIndex: Int? = nil
    private var spareIndex: Int? = 1
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var closed = false
    public private(set) var published: UInt64 = 0
    public private(set) var stale: UInt64 = 0

    public init(capacity: Int) {
        self.capacity = capacity
        storage = (0..<3).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, capacity), alignment: 64) }
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        storage.forEach { $0.deallocate() }
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    /// The buffer the writer fills next. Only the capture thread may touch it.
    public var writeBuffer: UnsafeMutableRawBufferPointer { storage[writeIndex] }

    /// Publishes the write buffer as the newest frame.
    public func publish(_ frame: SlotFrameInfo) {
        precondition(frame.byteCount <= capacity)
        pthread_mutex_lock(&mutex)
        info[writeIndex] = frame
        published += 1
        if let ready = readyIndex {
            stale += 1
            readyIndex = writeIndex
            writeIndex = ready
        } else {
            readyIndex = writeIndex
            writeIndex = spareIndex!
            spareIndex = nil
        }
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    /// Waits up to `timeoutNs` for a frame newer than the last one taken. The
    /// returned bytes stay valid until the next `take`.
    public func take(timeoutNs: UInt64) -> (bytes: UnsafeRawBufferPointer, info: SlotFrameInfo)? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if readyIndex == nil && !closed {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let deadline = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec) + timeoutNs
            var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            while readyIndex == nil && !closed {
                if pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT { break }
            }
        }
        guard let ready = readyIndex else { return nil }
        spareIndex = readIndex
        readIndex = ready
        readyIndex = nil
        let i = info[readIndex]
        return (UnsafeRawBufferPointer(rebasing: storage[readIndex][0..<i.byteCount]), i)
    }

    /// Wakes a waiting reader for shutdown.
    public func close() {
        pthread_mutex_lock(&mutex)
        closed = true
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
    }

    public var counts: (published: UInt64, stale: UInt64) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return (published, stale)
    }
}
