// ckpt_bytes.c — the checkpoint's byte codec; see ckpt_bytes.h.
#include "optim/ckpt_bytes.h"

#include <stdlib.h>
#include <string.h>

#include "src/common.h"

#define MAX_DIM ((uint64_t)1 << 30)
#define MAX_NUMEL ((uint64_t)1 << 40)

int rn_host_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void rn_bw_put(rn_bw *b, const void *src, size_t n) {
    if (n == 0) return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = rn_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

void rn_bw_uint(rn_bw *b, uint64_t v, int bytes) {
    unsigned char t[8];
    for (int i = 0; i < bytes; i++) t[i] = (unsigned char)(v >> (8 * i));
    rn_bw_put(b, t, (size_t)bytes);
}

void rn_bw_f32(rn_bw *b, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    rn_bw_uint(b, u, 4);
}

void rn_bw_str(rn_bw *b, const char *s) {
    size_t n = strlen(s);
    RN_CHECK(n <= RN_CKPT_MAX_STR);
    rn_bw_uint(b, n, 2);
    rn_bw_put(b, s, n);
}

void rn_bw_free(rn_bw *b) {
    free(b->p);
    *b = (rn_bw){0};
}

const unsigned char *rn_br_take(rn_br *c, size_t n) {
    if (c->bad || n > c->n - c->pos) {
        c->bad = 1;
        return NULL;
    }
    const unsigned char *r = c->p + c->pos;
    c->pos += n;
    return r;
}

uint64_t rn_br_uint(rn_br *c, int bytes) {
    const unsigned char *t = rn_br_take(c, (size_t)bytes);
    uint64_t v = 0;
    for (int i = 0; t && i < bytes; i++) v |= (uint64_t)t[i] << (8 * i);
    return v;
}

float rn_br_f32(rn_br *c) {
    uint32_t u = (uint32_t)rn_br_uint(c, 4);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

const char *rn_br_str(rn_br *c, size_t max, char **out) {
    *out = NULL;
    size_t n = (size_t)rn_br_uint(c, 2);
    const unsigned char *s = rn_br_take(c, n);
    if (!s) return "is truncated";
    if (memchr(s, 0, n)) {
        c->bad = 1;
        return "holds a NUL byte";
    }
    if (n > max) {
        c->bad = 1;
        return "is too long";
    }
    char *r = rn_malloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    *out = r;
    return NULL;
}

const char *rn_br_dims(rn_br *c, int ndim, int64_t *dims, uint64_t *numel) {
    uint64_t p = 1;
    for (int d = 0; d < ndim; d++) {
        uint64_t v = rn_br_uint(c, 8);
        if (c->bad) return "are truncated";
        if (v < 1 || v > MAX_DIM) {
            c->bad = 1;
            return "hold a dimension outside [1, 2^30]";
        }
        if (p > MAX_NUMEL / v) {  // checked before multiplying, so the product cannot overflow
            c->bad = 1;
            return "hold more than 2^40 elements";
        }
        p *= v;
        dims[d] = (int64_t)v;
    }
    *numel = p;
    return NULL;
}

void rn_le_f32_decode(float *dst, const unsigned char *src, size_t n) {
    if (rn_host_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = 0;
        for (int b = 0; b < 4; b++) u |= (uint32_t)src[4 * i + (size_t)b] << (8 * b);
        memcpy(&dst[i], &u, 4);
    }
}

void rn_le_f32_encode(unsigned char *dst, const float *src, size_t n) {
    if (rn_host_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        for (int b = 0; b < 4; b++) dst[4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
    }
}
