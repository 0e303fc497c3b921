// common.h — error reporting and checked allocation shared by every part of resnet.c.
//
// Convention: a function that can fail on user input returns 0 on success and -1 on failure,
// after filling an rn_err with a message that names the file:line, tensor or node at fault.
// main() prints err.msg and exits non-zero. abort() (via RN_CHECK) is for broken invariants only.
#ifndef RN_COMMON_H
#define RN_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef struct rn_err {
    char msg[1024];
} rn_err;

// Formats the message into e (if e is not NULL) and returns -1, so callers can `return rn_fail(...)`.
int rn_fail(rn_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Allocation that never returns NULL: on failure it prints the size and call site and aborts.
void *rn_malloc_at(size_t n, const char *file, int line);
void *rn_calloc_at(size_t n, size_t size, const char *file, int line);
void *rn_realloc_at(void *p, size_t n, const char *file, int line);
char *rn_strdup_at(const char *s, const char *file, int line);
#define rn_malloc(n) rn_malloc_at((n), __FILE__, __LINE__)
#define rn_calloc(n, s) rn_calloc_at((n), (s), __FILE__, __LINE__)
#define rn_realloc(p, n) rn_realloc_at((p), (n), __FILE__, __LINE__)
#define rn_strdup(s) rn_strdup_at((s), __FILE__, __LINE__)

// 64-byte aligned allocation (oneDNN and AVX-512 like it); free with rn_free_aligned.
void *rn_malloc_aligned_at(size_t n, const char *file, int line);
#define rn_malloc_aligned(n) rn_malloc_aligned_at((n), __FILE__, __LINE__)
void rn_free_aligned(void *p);

// Invariant check: prints the expression and location, then aborts. Never for user input.
#define RN_CHECK(cond)                                                              \
    do {                                                                            \
        if (!(cond)) rn_check_failed(#cond, __FILE__, __LINE__);                    \
    } while (0)
void rn_check_failed(const char *expr, const char *file, int line) __attribute__((noreturn));

// Wall-clock seconds from a monotonic clock.
double rn_now(void);

#endif
