// A fixed fork-join pool: threads are created once (at executor load), optionally pinned,
// and each `run` hands every thread one part of the same job. Workers spin briefly
// (frames arrive back to back) and then sleep on a condition variable, so an idle pool
// does not burn the cores capture and link need. No allocation after init.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

public typealias PoolJob = @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void

public final class ThreadPool: @unchecked Sendable {
    public let size: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var job: PoolJob? = nil
    private var context: UnsafeMutableRawPointer? = nil
    private let wakeMutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeCond: UnsafeMutablePointer<pthread_cond_t>
    private let doneMutex: UnsafeMutablePointer<pthread_mutex_t>
    private let doneCond: UnsafeMutablePointer<pthread_cond_t>
    private var threads: [pthread_t] = []
    private let spinIterations = 20_000

    private struct Start { var pool: Unmanaged<ThreadPool>; var part: Int; var cpu: Int }

    /// `size` parts: the calling thread runs part 0, `size - 1` workers run the rest.
    /// `affinity`: CPU ids; worker k (part k) is pinned to affinity[k % count]; the caller is left alone.
    public init(size: Int, affinity: [Int]? = nil) throws {
        self.size = max(1, size)
        wakeMutex = .allocate(capacity: 1); wakeCond = .allocate(capacity: 1)
        doneMutex = .allocate(capacity: 1); doneCond = .allocate(capacity: 1)
        pthread_mutex_init(wakeMutex, nil); pthread_cond_init(wakeCond, nil)
        pthread_mutex_init(doneMutex, nil); pthread_cond_init(doneCond, nil)
        for part in 1..<self.size {
            let cpu = affinity.flatMap { $0.isEmpty ? nil : $0[part % $0.count] } ?? -1
            let start = UnsafeMutablePointer<Start>.allocate(capacity: 1)
            start.initialize(to: Start(pool: Unmanaged.passUnretained(self), part: part, cpu: cpu))
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                let s = raw!.assumingMemoryBound(to: Start.self)
                let info = s.move(); s.deallocate()
                if info.cpu >= 0 { pinCurrentThread(to: info.cpu) }
                // No strong reference from the worker: the owner's release must reach deinit, which joins us.
                info.pool._withUnsafeGuaranteedRef { $0.workerLoop(part: info.part) }
                return nil
            }, start)
            if rc != 0 { start.deallocate(); stop(); throw GraphError("pthread_create failed (\(rc))") }
            threads.append(tid)
        }
    }

    deinit { stop() }

    private func stop() {
        if stopping.exchange(true, ordering: .acquiringAndReleasing) == false {
            pthread_mutex_lock(wakeMutex)
            generation.add(1, ordering: .releasing)
            pthread_cond_broadcast(wakeCond)
            pthread_mutex_unlock(wakeMutex)
            for t in threads { pthread_join(t, nil) }
            threads.removeAll()
        }
    }

    private func workerLoop(part: Int) {
        var seen = 0
        while true {
            var spins = 0
            var g = generation.load(ordering: .acquiring)
            while g == seen && spins < spinIterations { spins += 1; g = generation.load(ordering: .acquiring) }
            if g == seen {
                pthread_mutex_lock(wakeMutex)
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wakeCond, wakeMutex) }
                pthread_mutex_unlock(wakeMutex)
                g = generation.load(ordering: .acquiring)
            }
            seen = g
            if stopping.load(ordering: .acquiring) { return }
            job!(context!, part, size)
            if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                pthread_mutex_lock(doneMutex)
                pthread_cond_signal(doneCond)
                pthread_mutex_unlock(doneMutex)
            }
        }
    }

    /// Runs job(context, part, size) for every part, returning when all are done.
    public func run(_ job: PoolJob, _ context: UnsafeMutableRawPointer) {
        if size == 1 { job(context, 0, 1); return }
        self.job = job
        self.context = context
        pending.store(size - 1, ordering: .releasing)
        pthread_mutex_lock(wakeMutex)
        generation.add(1, ordering: .releasing)
        pthread_cond_broadcast(wakeCond)
        pthread_mutex_unlock(wakeMutex)
        job(context, 0, size)
        var spins = 0
        while pending.load(ordering: .acquiring) != 0 && spins < spinIterations { spins += 1 }
        if pending.load(ordering: .acquiring) != 0 {
            pthread_mutex_lock(doneMutex)
            while pending.load(ordering: .acquiring) != 0 { pthread_cond_wait(doneCond, doneMutex) }
            pthread_mutex_unlock(doneMutex)
        }
    }
}

/// Pins the calling thread to one CPU (best effort: an invalid id leaves it unpinned).
public func pinCurrentThread(to cpu: Int) {
    var set = cpu_set_t()
    withUnsafeMutableBytes(of: &set) { raw in
        guard cpu >= 0, cpu / 8 < raw.count else { return }
        raw[cpu / 8] |= UInt8(1 << (cpu % 8))
    }
    _ = withUnsafeBytes(of: &set) { sysSchedSetAffinity(0, $0.count, $0.baseAddress!) }
}

// glibc declares it only under _GNU_SOURCE, which the Swift Glibc module does not set.
@_silgen_name("sched_setaffinity")
private func sysSchedSetAffinity(_ pid: Int32, _ size: Int, _ mask: UnsafeRawPointer) -> Int32
