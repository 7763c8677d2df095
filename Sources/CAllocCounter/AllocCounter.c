// Interposes the glibc allocator entry points for the test executable and forwards to
// glibc's internal __libc_* implementations (no dlsym, so no bootstrap recursion).
#include "AllocCounter.h"
#include <stddef.h>
#include <errno.h>
#include <stdatomic.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Atomic int64_t counted;
static __thread int tracked;

void alloc_counter_track_thread(int on) { tracked = on; }
void alloc_counter_track_this_thread(void) { tracked = 1; }
int64_t alloc_counter_count(void) { return atomic_load(&counted); }
void alloc_counter_reset(void) { atomic_store(&counted, 0); }

// Under AddressSanitizer (tools/sanitize.sh) ASan owns the allocator: forwarding to __libc_*
// would hide every heap access from it, and this code runs before ASan is initialised (the
// test binary segfaulted at start-up). The counter is then absent and the tests skip.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_COUNTER_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_COUNTER_UNDER_ASAN 1
#endif

#ifdef ALLOC_COUNTER_UNDER_ASAN
int alloc_counter_available(void) { return 0; }
#else
int alloc_counter_available(void) { return 1; }

static inline void note(void) { if (tracked) atomic_fetch_add_explicit(&counted, 1, memory_order_relaxed); }

void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    note();
    if (a < sizeof(void *) || (a & (a - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(a, n);
    if (!p && n) return ENOMEM;
    *out = p;
    return 0;
}
#endif

// One measurement at a time per process: the count is shared by all tracked threads, and
// test targets run in parallel in one executable.
#include <pthread.h>
static pthread_mutex_t session = PTHREAD_MUTEX_INITIALIZER;
void alloc_counter_begin_session(void) { pthread_mutex_lock(&session); }
void alloc_counter_end_session(void) { pthread_mutex_unlock(&session); }
