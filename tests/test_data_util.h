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
