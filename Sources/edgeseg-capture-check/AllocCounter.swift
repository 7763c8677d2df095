import CHeapCounter

/// Heap allocations made by the calling thread while `body` runs (see Sources/CAllocCounter).
func allocations(during body: () -> Void) -> Int {
    alloc_counter_start()
    body()
    return alloc_counter_stop()
}

/// True when the interposition is live (a fresh array must register as an allocation).
func allocationCountingWorks() -> Bool {
    var sink = 0
    let n = allocations {
        let a = [Int](repeating: 7, count: Int.random(in: 100...200))
        sink = a.count
    }
    return n >= 1 && sink >= 100
}
