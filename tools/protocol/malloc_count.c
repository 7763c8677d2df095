// LD_PRELOAD shim that counts malloc-family calls per thread, so a test can prove a code path
// allocates nothing. Used by tools/ci.d/link.sh; the Swift test finds the counter with dlsym
// and is skipped when the shim is not loaded. Build: cc -shared -fPIC -O2 -o malloc_count.so malloc_count.c
#include <stddef.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread unsigned long count __attribute__((tls_model("initial-exec")));

unsigned long edgeseg_malloc_count(void) { return count; }

void *malloc(size_t n) { count++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
int posix_memalign(void **out, size_t align, size_t n) {
    count++;
    void *p = __libc_memalign(align, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
void *aligned_alloc(size_t align, size_t n) { count++; return __libc_memalign(align, n); }
void *memalign(size_t align, size_t n) { count++; return __libc_memalign(align, n); }
