#pragma once
/* Counts heap allocations (malloc/calloc/realloc/posix_memalign/aligned_alloc) made by the
   calling thread between start and stop. Linked only into edgeseg-capture-check. */
void alloc_counter_start(void);
long alloc_counter_stop(void);
long alloc_counter_heap_in_use(void);
