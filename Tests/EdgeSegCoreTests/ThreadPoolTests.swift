import Testing
@testable import EdgeSegCore

@Suite struct ThreadPoolTests {
    /// Every part runs exactly once per job, across many back-to-back jobs (spin and sleep paths).
    @Test func everyPartRunsOncePerJob() throws {
        let pool = try ThreadPool(size: 4, affinity: [0])
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        counts.initialize(repeating: 0, count: 4)
        defer { counts.deallocate() }
        for _ in 0..<2000 {
            pool.run({ ctx, part, parts in
                precondition(parts == 4)
                ctx.assumingMemoryBound(to: Int.self)[part] += 1
            }, UnsafeMutableRawPointer(counts))
        }
        #expect((0..<4).map { counts[$0] } == [2000, 2000, 2000, 2000])
    }

    /// Releasing the owner stops and joins the workers (they hold no strong reference).
    @Test func releasingThePoolJoinsItsThreads() throws {
        weak var weakPool: ThreadPool?
        do {
            let pool = try ThreadPool(size: 3)
            weakPool = pool
            pool.run({ _, _, _ in }, UnsafeMutableRawPointer(bitPattern: 1)!)
        }
        #expect(weakPool == nil)
        weak var weakExe: Executor?
        do {
            let exe = try Executor(graph: allOpsGraph(), threads: 3)
            exe.run()
            weakExe = exe
        }
        #expect(weakExe == nil)
    }
}
