// parse.c — strict number parsing; see parse.h.
#include "src/parse.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int digit(char c, int base) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
    return d < base ? d : -1;
}

// Digits by hand rather than strtoull, which would skip blanks, take a sign and accept a second "0x".
static int parse_mag(const char *p, unsigned long long *out) {
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) base = 16, p += 2;
    unsigned long long v = 0;
    if (!*p) return -1;
    for (; *p; p++) {
        int d = digit(*p, base);
        if (d < 0 || v > (ULLONG_MAX - (unsigned)d) / (unsigned)base) return -1;
        v = v * (unsigned)base + (unsigned)d;
    }
    *out = v;
    return 0;
}

int rn_parse_u64(const char *s, unsigned long long *out) {
    if (*s == '+') s++;
    return parse_mag(s, out);
}

int rn_parse_i64(const char *s, long long *out) {
    int neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    unsigned long long m;
    if (parse_mag(s, &m) || m > (unsigned long long)LLONG_MAX + (unsigned long long)neg) return -1;
    *out = neg ? (long long)(0 - m) : (long long)m;
    return 0;
}

// One decimal number; checked for the plain syntax first, since strtod also takes blanks, "nan",
// "inf" and hexadecimal floats.
static int parse_decimal(const char *s, size_t n, double *out) {
    char buf[64];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    const char *p = buf;
    if (*p == '+' || *p == '-') p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9') p++, digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++) digits++;
    if (!digits) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return -1;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p) return -1;
    errno = 0;
    double v = strtod(buf, NULL);
    if (errno == ERANGE || !isfinite(v)) return -1;  // overflow, or underflow to a denormal or zero
    *out = v;
    return 0;
}

static size_t trim_len(const char *s, size_t n) {
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return n;
}

int rn_parse_f64(const char *s, double *out) {
    const char *slash = strchr(s, '/');
    if (!slash) return parse_decimal(s, strlen(s), out);
    const char *t = slash + 1;
    while (*t == ' ' || *t == '\t') t++;
    double a, b;
    if (parse_decimal(s, trim_len(s, (size_t)(slash - s)), &a) || parse_decimal(t, strlen(t), &b) || b == 0 ||
        !isfinite(a / b))
        return -1;
    *out = a / b;
    return 0;
}

int rn_parse_int(const char *what, const char *v, long lo, long hi, int *out, rn_err *err) {
    long long x;
    if (rn_parse_i64(v, &x) || x < lo || x > hi)
        return rn_fail(err, "%s: expected an integer in [%ld, %ld], got '%s'", what, lo, hi, v);
    *out = (int)x;
    return 0;
}

int rn_parse_double(const char *what, const char *v, double lo, double hi, double *out, rn_err *err) {
    double x;
    if (rn_parse_f64(v, &x) || x < lo || x > hi)
        return rn_fail(err, "%s: expected a number in [%g, %g], got '%s'", what, lo, hi, v);
    *out = x;
    return 0;
}

int rn_parse_f64_n(const char *s, double *out, int n) {
    char buf[256];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    char *p = buf;
    for (int i = 0; i < n; i++) {
        char *comma = strchr(p, ',');
        if ((i < n - 1) != (comma != NULL)) return -1;
        if (comma) *comma = 0;
        if (rn_parse_f64(p, &out[i])) return -1;
        if (comma) p = comma + 1;
    }
    return 0;
}
