// Test-only: counts heap allocations (malloc, calloc, realloc, memalign family) made by
// threads that opted in, so a test can prove a code path allocates nothing.
// EDGESEG_ALLOC_BACKTRACE=1 prints the thread name and a backtrace for every counted allocation.
#pragma once
#include <stdint.h>

/// 0 when built under AddressSanitizer (the interposer is left out: ASan owns malloc).
int alloc_counter_available(void);
/// Start (1) or stop (0) counting allocations made by the calling thread.
void alloc_counter_track_thread(int on);
/// Opt the calling thread in (signature usable as a C callback).
void alloc_counter_track_this_thread(void);
/// Allocations counted so far on all tracked threads.
int64_t alloc_counter_count(void);
void alloc_counter_reset(void);
/// Serialises measurements across the whole test process (hold it from the first tracked
/// thread until the count is read).
void alloc_counter_begin_session(void);
void alloc_counter_end_session(void);
