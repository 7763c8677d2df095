/* Interposes the allocator entry points in the check executable: the dynamic linker binds every
   library's malloc to these definitions, which count (per thread, only while armed) and forward
   to glibc's own implementations. Used to prove the frame loop never allocates. */
#include <stddef.h>
#include <errno.h>
#include "alloc_counter.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static __thread int armed;
static __thread long count;

void alloc_counter_start(void) { count = 0; armed = 1; }
long alloc_counter_stop(void) { armed = 0; return count; }

void *malloc(size_t n) { if (armed) count++; return __libc_malloc(n); }
void *calloc(size_t n, size_t s) { if (armed) count++; return __libc_calloc(n, s); }
void *realloc(void *p, size_t n) { if (armed) count++; return __libc_realloc(p, n); }
void *aligned_alloc(size_t a, size_t n) { if (armed) count++; return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { if (armed) count++; return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    if (armed) count++;
    if (a < sizeof(void *) || (a & (a - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(a, n);
    if (!p && n) return ENOMEM;
    *out = p;
    return 0;
}

#include <malloc.h>
/* Bytes currently allocated from the heap (all threads). */
long alloc_counter_heap_in_use(void) { return (long)mallinfo2().uordblks; }
