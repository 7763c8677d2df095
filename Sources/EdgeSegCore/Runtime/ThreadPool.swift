// A fixed fork-join pool: threads are created once (at executor load), optionally pinned,
// and each `run` hands every thread one part of the same job. Workers spin briefly
// (frames arrive back to back) and then sleep on a condition variable, so an idle pool
// does not burn the cores capture and link need. No allocation after init.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

public typealias PoolJob = @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void

/// The owner handle: releasing it stops and joins the workers (they only hold `PoolShared`).
public final class ThreadPool: @unchecked Sendable {
    public var size: Int { shared.size }
    let shared: PoolShared
    private var threads: [pthread_t] = []

    private struct Start { var shared: Unmanaged<PoolShared>; var part: Int; var cpu: Int }

    /// `size` parts: the calling thread runs part 0, `size - 1` workers run the rest.
    /// `affinity`: CPU ids; worker k (part k) is pinned to affinity[k % count]; the caller is left alone.
    public init(size: Int, affinity: [Int]? = nil) throws {
        shared = PoolShared(size: max(1, size))
        for part in 1..<shared.size {
            let cpu = affinity.flatMap { $0.isEmpty ? nil : $0[part % $0.count] } ?? -1
            let start = UnsafeMutablePointer<Start>.allocate(capacity: 1)
            start.initialize(to: Start(shared: Unmanaged.passRetained(shared), part: part, cpu: cpu))
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                let s = raw!.assumingMemoryBound(to: Start.self)
                let info = s.move(); s.deallocate()
                setCurrentThreadName("edgeseg-pool-\(info.part)")
                if info.cpu >= 0 { pinCurrentThread(to: info.cpu) }
                info.shared.takeRetainedValue().workerLoop(part: info.part)
                return nil
            }, start)
            if rc != 0 {
                start.pointee.shared.release(); start.deallocate()
                stopAndJoin()
                throw GraphError("pthread_create failed (\(rc))")
            }
            threads.append(tid)
        }
    }

    deinit { stopAndJoin() }

    private func stopAndJoin() {
        shared.stop()
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
    }

    /// Runs job(context, part, size) for every part, returning when all are done.
    @inline(__always)
    public func run(_ job: PoolJob, _ context: UnsafeMutableRawPointer) { shared.run(job, context) }
}

/// State shared by the caller and the workers.
final class PoolShared: @unchecked Sendable {
    let size: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var job: PoolJob? = nil
    private var context: UnsafeMutableRawPointer? = nil
    private let wakeMutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeCond: UnsafeMutablePointer<pthread_cond_t>
    private let doneMutex: UnsafeMutablePointer<pthread_mutex_t>
    private let doneCond: UnsafeMutablePointer<pthread_cond_t>
    /// How long a worker (and the caller waiting for it) polls before sleeping on the condvar:
    /// a few hundred µs, longer than the gaps between an inference's parallel steps. A futex
    /// wake-up costs tens of µs in a VM; with 20 000 polls the worker slept between most of the
    /// ~450 steps and int8 at 2 threads was ~15 % slower. Between frames it still sleeps.
    private let spinIterations = 200_000

    init(size: Int) {
        self.size = size
        wakeMutex = .allocate(capacity: 1); wakeCond = .allocate(capacity: 1)
        doneMutex = .allocate(capacity: 1); doneCond = .allocate(capacity: 1)
        pthread_mutex_init(wakeMutex, nil); pthread_cond_init(wakeCond, nil)
        pthread_mutex_init(doneMutex, nil); pthread_cond_init(doneCond, nil)
    }

    deinit {
        pthread_mutex_destroy(wakeMutex); pthread_cond_destroy(wakeCond)
        pthread_mutex_destroy(doneMutex); pthread_cond_destroy(doneCond)
        wakeMutex.deallocate(); wakeCond.deallocate(); doneMutex.deallocate(); doneCond.deallocate()
    }

    func stop() {
        if stopping.exchange(true, ordering: .acquiringAndReleasing) == false {
            pthread_mutex_lock(wakeMutex)
            generation.add(1, ordering: .releasing)
            pthread_cond_broadcast(wakeCond)
            pthread_mutex_unlock(wakeMutex)
        }
    }

    func workerLoop(part: Int) {
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

    func run(_ job: PoolJob, _ context: UnsafeMutableRawPointer) {
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

/// Names the calling OS thread (what `top -H`, gdb and /proc show; at most 15 bytes are kept).
/// Threads name themselves this way rather than through Foundation's `Thread.name`: on Linux
/// (swift-corelibs 6.3) a name set before `start()` never reaches the OS thread, `Thread.name`
/// reads the OS name, and even `Thread.current.name = …` inside the thread was seen not to stick
/// (two of three pipeline threads unnamed in one run of the allocation test).
public func setCurrentThreadName(_ name: String) {
    _ = sysSetThreadName(pthread_self(), String(decoding: name.utf8.prefix(15), as: UTF8.self))
}

/// The calling thread's OS name.
public func currentThreadName() -> String {
    var buf = [CChar](repeating: 0, count: 16)
    _ = buf.withUnsafeMutableBufferPointer { sysGetThreadName(pthread_self(), $0.baseAddress!, $0.count) }
    return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

// glibc declares these only under _GNU_SOURCE, which the Swift Glibc module does not set.
@_silgen_name("sched_setaffinity")
private func sysSchedSetAffinity(_ pid: Int32, _ size: Int, _ mask: UnsafeRawPointer) -> Int32
@_silgen_name("pthread_setname_np")
private func sysSetThreadName(_ thread: pthread_t, _ name: UnsafePointer<CChar>) -> Int32
@_silgen_name("pthread_getname_np")
private func sysGetThreadName(_ thread: pthread_t, _ name: UnsafeMutablePointer<CChar>, _ size: Int) -> Int32
