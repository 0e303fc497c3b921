// common.c — error formatting, checked allocation, timing.
#include "src/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int rn_fail(rn_err *e, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void oom(size_t n, const char *file, int line) {
    fprintf(stderr, "out of memory: %zu bytes requested at %s:%d\n", n, file, line);
    abort();
}

void *rn_malloc_at(size_t n, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n, file, line);
    return p;
}

void *rn_calloc_at(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size, file, line);
    return p;
}

void *rn_realloc_at(void *p, size_t n, const char *file, int line) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n, file, line);
    return q;
}

char *rn_strdup_at(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *p = rn_malloc_at(n, file, line);
    memcpy(p, s, n);
    return p;
}

void *rn_malloc_aligned_at(size_t n, const char *file, int line) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) oom(n, file, line);
    return p;
}

void rn_free_aligned(void *p) { free(p); }

void rn_check_failed(const char *expr, const char *file, int line) {
    fprintf(stderr, "internal error: check '%s' failed at %s:%d\n", expr, file, line);
    abort();
}

double rn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
