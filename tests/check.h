// check.h — the tests' tiny assertion kit. Every check counts; a test binary exits non-zero
// when any check failed, and ends with the line "N passed, N failed".
#ifndef RN_TEST_CHECK_H
#define RN_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            check_passed++;                                                  \
        } else {                                                             \
            check_failed++;                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

// |a - b| <= tol * max(1, |b|)  — relative above 1, absolute below.
#define CHECK_CLOSE(a, b, tol, what)                                                      \
    do {                                                                                  \
        double a_ = (double)(a), b_ = (double)(b);                                        \
        double s_ = fabs(b_) > 1.0 ? fabs(b_) : 1.0;                                      \
        CHECK(fabs(a_ - b_) <= (tol) * s_, "%s: got %.9g want %.9g (tol %.1e)", (what), \
              a_, b_, (double)(tol));                                                     \
    } while (0)

// Largest relative difference between two arrays, scaled by the larger array norm entry:
// max_i |a_i - b_i| / max(max_i |b_i|, 1e-6). Used to compare whole tensors.
static inline double max_rel_diff_floor(const float *a, const double *b, size_t n, double floor) {
    double m = floor > 1e-6 ? floor : 1e-6, d = 0;
    for (size_t i = 0; i < n; i++) m = fabs(b[i]) > m ? fabs(b[i]) : m;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - b[i]);
        d = x > d ? x : d;
    }
    return d / m;
}
static inline double max_rel_diff_fd(const float *a, const double *b, size_t n) {
    double m = 1e-6, d = 0;
    for (size_t i = 0; i < n; i++) m = fabs(b[i]) > m ? fabs(b[i]) : m;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - b[i]);
        d = x > d ? x : d;
    }
    return d / m;
}
static inline double max_rel_diff_dd(const double *a, const double *b, size_t n) {
    double m = 1e-12, d = 0;
    for (size_t i = 0; i < n; i++) m = fabs(b[i]) > m ? fabs(b[i]) : m;
    for (size_t i = 0; i < n; i++) {
        double x = fabs(a[i] - b[i]);
        d = x > d ? x : d;
    }
    return d / m;
}

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
