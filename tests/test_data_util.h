// test_data_util.h — helpers of the data tests: temporary folders and small generated JPEGs.
#ifndef RN_TEST_DATA_UTIL_H
#define RN_TEST_DATA_UTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "src/rng.h"

// Creates a fresh folder /tmp/rn_test_<tag>_XXXXXX; aborts on failure (test setup, not input).
static inline void tmp_dir(char *buf, size_t cap, const char *tag) {
    snprintf(buf, cap, "/tmp/rn_test_%s_XXXXXX", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        abort();
    }
}

static inline int rm_entry_(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}
static inline void rm_rf(const char *path) { nftw(path, rm_entry_, 32, FTW_DEPTH | FTW_PHYS); }

// mkdir -p of the folder part of `path` (everything before the last '/').
static inline void mkdir_for(const char *path) {
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    char *last = strrchr(p, '/');
    if (!last) return;
    *last = 0;
    for (char *c = p + 1;; c++) {
        if (*c == '/' || *c == 0) {
            char keep = *c;
            *c = 0;
            mkdir(p, 0755);
            *c = keep;
            if (!keep) break;
        }
    }
}

static inline void write_bytes(const char *path, const void *buf, size_t n) {
    mkdir_for(path);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n) {
        perror(path);
        abort();
    }
    fclose(f);
}

// The whole file, malloc'ed (*n bytes), or NULL when it cannot be read.
static inline unsigned char *file_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    size_t cap = 1 << 16;
    unsigned char *b = malloc(cap);
    for (size_t k; (k = fread(b + *n, 1, cap - *n, f)) > 0;) {
        *n += k;
        if (*n == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    return b;
}

// A digest of a folder tree: every entry's path, type and (for files) bytes, in any order, so that
// "the folder is byte-identical" is one comparison. 0 for a missing folder.
static uint64_t tree_digest_;
static inline uint64_t fnv1a_(const void *p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
    return h;
}
static inline int digest_entry_(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    uint64_t h = fnv1a_(p, strlen(p), 1469598103934665603ULL);
    h = fnv1a_(&flag, sizeof flag, h);
    if (flag == FTW_F) {
        size_t n;
        unsigned char *b = file_bytes(p, &n);
        h = fnv1a_(b ? b : (unsigned char *)"", n, h);
        h = fnv1a_(&st->st_size, sizeof st->st_size, h);
        free(b);
    }
    tree_digest_ += h * 2 + 1;  // order-independent
    return 0;
}
static inline uint64_t tree_digest(const char *dir) {
    tree_digest_ = 0;
    nftw(dir, digest_entry_, 32, FTW_PHYS);
    return tree_digest_;
}

// Compresses a packed image (pf = TJPF_RGB, TJPF_GRAY or TJPF_CMYK) into memory; the caller frees
// *out with tjFree.
static inline unsigned long jpeg_encode(const uint8_t *px, int w, int h, int pf, int quality,
                                        unsigned char **out) {
    tjhandle tj = tjInitCompress();
    unsigned long size = 0;
    *out = NULL;
    int samp = pf == TJPF_GRAY ? TJSAMP_GRAY : TJSAMP_420;
    if (!tj || tjCompress2(tj, px, w, 0, h, pf, out, &size, samp, quality, 0) != 0) {
        fprintf(stderr, "tjCompress2: %s\n", tj ? tjGetErrorStr2(tj) : "no handle");
        abort();
    }
    tjDestroy(tj);
    return size;
}

static inline void write_jpeg(const char *path, const uint8_t *px, int w, int h, int pf,
                              int quality) {
    unsigned char *j;
    unsigned long n = jpeg_encode(px, w, h, pf, quality, &j);
    write_bytes(path, j, n);
    tjFree(j);
}

// A 4-class dataset of 16x16 JPEGs in DIR/{train,val}/classC/NNNN.jpg (file names zero-padded to
// `digits`): class c is a bright band over rows 4c .. 4c + 3 on noise (unchanged by a horizontal
// flip), so a tiny network learns it in a few steps. Deterministic from `seed`.
static inline void make_band_dataset(const char *dir, int n_train, int n_val, uint64_t seed, int quality,
                                     int digits) {
    rn_rng r;
    rn_rng_seed(&r, seed);
    uint8_t px[16 * 16 * 3];
    for (int split = 0; split < 2; split++)
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < (split ? n_val : n_train); i++) {
                for (int y = 0; y < 16; y++)
                    for (int x = 0; x < 16; x++)
                        for (int k = 0; k < 3; k++)
                            px[(y * 16 + x) * 3 + k] = (uint8_t)((y / 4 == c ? 150 : 40) + rn_rng_below(&r, 80));
                char path[512];
                snprintf(path, sizeof path, "%s/%s/class%d/%0*d.jpg", dir, split ? "val" : "train", c, digits, i);
                write_jpeg(path, px, 16, 16, TJPF_RGB, quality);
            }
}

// A smooth RGB test picture whose colours depend on `seed`: w x h x 3, caller frees.
static inline uint8_t *smooth_rgb(int w, int h, int seed) {
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                int v = (x * (3 + c + seed % 5) + y * (2 + (seed * 7 + c) % 4)) * 255 /
                            (w * 4 + h * 5) +
                        (seed * 37 + c * 50) % 60;
                p[((size_t)y * w + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
            }
    return p;
}

#endif
