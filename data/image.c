// image.c — format dispatch over the JPEG and PNG decoders, and whole-file reads; see image.h.
#include "data/image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/jpeg.h"
#include "data/png.h"

struct rn_decoder {
    rn_jpeg_decoder *jpeg;
    rn_png_decoder *png;
};

rn_image_format rn_image_sniff(const uint8_t *buf, size_t len) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF) return RN_IMAGE_JPEG;
    if (len >= 8 && memcmp(buf, png_sig, 8) == 0) return RN_IMAGE_PNG;
    return RN_IMAGE_UNKNOWN;
}

rn_decoder *rn_decoder_create(void) {
    rn_decoder *d = rn_calloc(1, sizeof *d);
    d->jpeg = rn_jpeg_decoder_create();
    d->png = rn_png_decoder_create();
    return d;
}

void rn_decoder_destroy(rn_decoder *d) {
    if (!d) return;
    rn_jpeg_decoder_destroy(d->jpeg);
    rn_png_decoder_destroy(d->png);
    free(d);
}

static int unknown(rn_err *err) {
    return rn_fail(err, "not a JPEG or PNG file (unknown signature)");
}

int rn_image_header(rn_decoder *d, const uint8_t *buf, size_t len, int *w, int *h, rn_err *err) {
    *w = *h = 0;
    switch (rn_image_sniff(buf, len)) {
    case RN_IMAGE_JPEG: return rn_jpeg_header(d->jpeg, buf, len, w, h, err);
    case RN_IMAGE_PNG: return rn_png_header(buf, len, w, h, err);
    default: return unknown(err);
    }
}

int rn_image_decode(rn_decoder *d, const uint8_t *buf, size_t len, double min_fx, double min_fy,
                    rn_image *out, rn_err *err) {
    switch (rn_image_sniff(buf, len)) {
    case RN_IMAGE_JPEG: {
        int w, h, num = 1, den = 1;
        if (rn_jpeg_header(d->jpeg, buf, len, &w, &h, err) != 0) return -1;
        if (min_fx < 1 || min_fy < 1) rn_jpeg_pick_scale(w, h, min_fx, min_fy, &num, &den);
        return rn_jpeg_decode(d->jpeg, buf, len, num, den, out, err);
    }
    case RN_IMAGE_PNG: return rn_png_decode(d->png, buf, len, out, err);
    default: return unknown(err);
    }
}

// Plain realloc: a file that does not fit in memory is an error for that file, not an abort.
static int grow_to(uint8_t **buf, size_t *cap, size_t c, rn_err *err) {
    uint8_t *p = realloc(*buf, c);
    if (!p) return rn_fail(err, "out of memory: %zu bytes to read the file", c);
    *buf = p;
    *cap = c;
    return 0;
}

int rn_read_file_max(const char *path, size_t max_bytes, uint8_t **buf, size_t *cap, size_t *len,
                     rn_err *err) {
    if (max_bytes >= SIZE_MAX) max_bytes = SIZE_MAX - 1;  // max_bytes + 1 must not wrap
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail(err, "cannot open: %s", strerror(errno));
    // The size before reading, so that a huge file costs no memory (a sparse 2 GB file named
    // .jpg is skipped at once); the read below still stops at the cap should the file grow.
    struct stat st;
    int bad = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uintmax_t)st.st_size > max_bytes)
            bad = rn_fail(err, "file of %jd bytes is larger than the limit of %zu bytes",
                          (intmax_t)st.st_size, max_bytes);
        else if ((size_t)st.st_size + 1 > *cap)  // + 1: the read that sees the end fits too
            bad = grow_to(buf, cap, (size_t)st.st_size + 1, err);
    }
    size_t n = 0;
    while (!bad) {
        if (n == *cap) {
            size_t c = *cap ? (*cap > SIZE_MAX / 2 ? SIZE_MAX : *cap * 2) : 256 * 1024;
            if (c > max_bytes) c = max_bytes + 1;  // room to see one byte too many
            if (grow_to(buf, cap, c, err) != 0) {
                bad = -1;
                break;
            }
        }
        size_t got = fread(*buf + n, 1, *cap - n, f);
        n += got;
        if (n > max_bytes)
            bad = rn_fail(err, "file is larger than the limit of %zu bytes", max_bytes);
        if (got == 0) break;
    }
    if (!bad && ferror(f)) bad = rn_fail(err, "read error");
    fclose(f);
    if (bad) return -1;
    *len = n;
    return 0;
}

int rn_read_file(const char *path, uint8_t **buf, size_t *cap, size_t *len, rn_err *err) {
    return rn_read_file_max(path, SIZE_MAX, buf, cap, len, err);
}
