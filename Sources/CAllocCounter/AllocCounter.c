// Interposes the glibc allocator entry points for the test executable and forwards to
// glibc's internal __libc_* implementations (no dlsym, so no bootstrap recursion).
#define _GNU_SOURCE
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
void alloc_counter_reset(void) { atomic_store(&counted, 0); }
#else
int alloc_counter_available(void) { return 1; }

// Diagnosis, off by default: with EDGESEG_ALLOC_BACKTRACE=1 in the environment every counted
// allocation prints the thread name and a backtrace to stderr (demangle with `swift demangle`).
#include <execinfo.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static _Atomic int wantBacktrace = -1;    // -1: environment not read yet
static __thread int inBacktrace;
static atomic_flag dumping = ATOMIC_FLAG_INIT;

static void dumpBacktrace(void) {
    inBacktrace = 1;                      // backtrace() may allocate (it loads libgcc_s once)
    void *frames[48];
    int n = backtrace(frames, 48);
    char line[64] = "== tracked allocation on thread ";
    size_t len = strlen(line);
    pthread_getname_np(pthread_self(), line + len, 16);
    len = strlen(line); line[len++] = '\n';
    while (atomic_flag_test_and_set(&dumping)) {}    // one stack at a time, not interleaved
    ssize_t ignored = write(2, line, len); (void)ignored;
    backtrace_symbols_fd(frames, n, 2);
    atomic_flag_clear(&dumping);
    inBacktrace = 0;
}

static inline void note(void) {
    if (!tracked || inBacktrace) return;
    atomic_fetch_add_explicit(&counted, 1, memory_order_relaxed);
    int want = atomic_load_explicit(&wantBacktrace, memory_order_relaxed);
    if (want < 0) {
        const char *e = getenv("EDGESEG_ALLOC_BACKTRACE");
        want = e && e[0] == '1';
        atomic_store(&wantBacktrace, want);
    }
    if (want) dumpBacktrace();
}

void alloc_counter_reset(void) {
    atomic_store(&counted, 0);
    if (atomic_load(&wantBacktrace) == 1) { ssize_t ignored = write(2, "== counter reset\n", 17); (void)ignored; }
}

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
