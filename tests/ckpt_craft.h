// ckpt_craft.h — the checkpoint tests' file surgery: a valid checkpoint split into its sections,
// sections rewritten, and the file put back together with its size and CRC recomputed, so that a
// crafted file gets past the integrity checks and tests the parser behind them.
#ifndef RN_TEST_CKPT_CRAFT_H
#define RN_TEST_CKPT_CRAFT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "src/resnet.h"

// A small ResNet v2 (2 stages, 16 px inputs) with every parameter set from seed.
static inline rn_graph *tiny(int classes, uint64_t seed) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = 0, m.n_stages = 2, m.blocks[0] = m.blocks[1] = 1, m.bottleneck = 0, m.width = 16, m.stem_small = 1;
    m.input_size = 16, m.num_classes = classes, m.version = 2;
    rn_graph *g;
    rn_err e;
    if (rn_resnet_build(&m, &g, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        abort();
    }
    rn_graph_init_params(g, seed);
    // Running statistics away from their 0/1 init, so a lost one shows.
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].role == RN_STATE)
            for (size_t j = 0; j < rn_tensor_numel(&g->tensors[i]); j++) g->tensors[i].data[j] += 0.25f + 0.001f * (float)j;
    return g;
}

static inline unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) abort();
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    if (fread(b, 1, *n, f) != *n) abort();
    fclose(f);
    return b;
}

static inline void put_le(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static inline void put_le32(unsigned char *p, uint32_t v) { put_le(p, v, 4); }
static inline void fix_crc(unsigned char *b, size_t n) { put_le32(b + n - 4, (uint32_t)crc32(0L, b, (uInt)(n - 4))); }
// The header's file size and the CRC trailer made to match the n bytes of b.
static inline void fix_size_crc(unsigned char *b, size_t n) {
    put_le(b + 16, n, 8);
    fix_crc(b, n);
}

typedef struct ck_sec {
    char tag[5];
    unsigned char *p;  // owned
    size_t n;
} ck_sec;

typedef struct ck_file {
    unsigned char head[24];
    int n;
    ck_sec s[8];
} ck_file;

// Splits a valid checkpoint (trusted: the tests made it) into header and sections.
static inline ck_file ck_load(const char *path) {
    size_t n;
    unsigned char *b = slurp(path, &n);
    ck_file f;
    memset(&f, 0, sizeof f);
    memcpy(f.head, b, 24);
    for (size_t at = 24; at < n - 4 && f.n < 8;) {
        ck_sec *s = &f.s[f.n++];
        memcpy(s->tag, b + at, 4);
        s->n = (size_t)get_le(b + at + 4, 8);
        s->p = malloc(s->n + 1);
        memcpy(s->p, b + at + 12, s->n);
        at += 12 + s->n;
    }
    free(b);
    return f;
}

static inline void ck_free(ck_file *f) {
    for (int i = 0; i < f->n; i++) free(f->s[i].p);
    f->n = 0;
}

static inline ck_file ck_copy(const ck_file *f) {
    ck_file g = *f;
    for (int i = 0; i < f->n; i++) {
        g.s[i].p = malloc(f->s[i].n + 1);
        memcpy(g.s[i].p, f->s[i].p, f->s[i].n);
    }
    return g;
}

static inline ck_sec *ck_find(ck_file *f, const char *tag) {
    for (int i = 0; i < f->n; i++)
        if (!memcmp(f->s[i].tag, tag, 4)) return &f->s[i];
    abort();
}

// Inserts a section (a copy of p[0..n)) before index `at`.
static inline void ck_insert(ck_file *f, int at, const char *tag, const void *p, size_t n) {
    if (f->n == 8) abort();
    memmove(&f->s[at + 1], &f->s[at], (size_t)(f->n - at) * sizeof *f->s);
    f->n++;
    ck_sec *s = &f->s[at];
    memcpy(s->tag, tag, 4);
    s->tag[4] = 0;
    s->p = malloc(n + 1);
    memcpy(s->p, p, n);
    s->n = n;
}

static inline void ck_remove(ck_file *f, int at) {
    free(f->s[at].p);
    memmove(&f->s[at], &f->s[at + 1], (size_t)(f->n - at - 1) * sizeof *f->s);
    f->n--;
}

// The whole file, with its size and CRC recomputed.
static inline unsigned char *ck_bytes(const ck_file *f, size_t *n) {
    size_t total = 24 + 4;
    for (int i = 0; i < f->n; i++) total += 12 + f->s[i].n;
    unsigned char *b = malloc(total), *w = b + 24;
    memcpy(b, f->head, 24);
    for (int i = 0; i < f->n; i++) {
        memcpy(w, f->s[i].tag, 4);
        put_le(w + 4, f->s[i].n, 8);
        memcpy(w + 12, f->s[i].p, f->s[i].n);
        w += 12 + f->s[i].n;
    }
    fix_size_crc(b, total);
    *n = total;
    return b;
}

// A new file each time: ext4 flushes a file truncated and rewritten in place when it is closed
// (auto_da_alloc), which made thousands of small rewrites take half a minute.
static inline void put_file(const char *path, const void *b, size_t n) {
    unlink(path);
    FILE *o = fopen(path, "wb");
    if (!o || fwrite(b, 1, n, o) != n || fclose(o) != 0) abort();
}

static inline void ck_write(const ck_file *f, const char *path) {
    size_t n;
    unsigned char *b = ck_bytes(f, &n);
    put_file(path, b, n);
    free(b);
}

// Offset of the first str (u16 length + bytes) equal to s[0..len) in the section, or -1.
static inline long sec_find_str(const ck_sec *s, const char *str, size_t len) {
    for (size_t at = 0; at + 2 + len <= s->n; at++)
        if (get_le(s->p + at, 2) == len && !memcmp(s->p + at + 2, str, len)) return (long)at;
    return -1;
}
static inline size_t sec_skip_str(const ck_sec *s, size_t at) { return at + 2 + (size_t)get_le(s->p + at, 2); }

// Replaces n_old bytes at `at` with with[0..n_new).
static inline void sec_splice(ck_sec *s, size_t at, size_t n_old, const void *with, size_t n_new) {
    unsigned char *p = malloc(s->n - n_old + n_new + 1);
    memcpy(p, s->p, at);
    memcpy(p + at, with, n_new);
    memcpy(p + at + n_new, s->p + at + n_old, s->n - at - n_old);
    free(s->p);
    s->p = p;
    s->n = s->n - n_old + n_new;
}

// Replaces the str at `at` with the str with[0..len).
static inline void sec_replace_str(ck_sec *s, size_t at, const char *with, size_t len) {
    unsigned char *t = malloc(len + 2);
    put_le(t, len, 2);
    memcpy(t + 2, with, len);
    sec_splice(s, at, sec_skip_str(s, at) - at, t, len + 2);
    free(t);
}

#endif
