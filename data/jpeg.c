// jpeg.c — TurboJPEG decoding with DCT-domain scaling; see jpeg.h.
#define _GNU_SOURCE  // strcasestr
#include "data/jpeg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

struct rn_jpeg_decoder {
    tjhandle tj;
    uint8_t *px;    // decoded RGB, grown as needed
    size_t px_cap;
    uint8_t *cmyk;  // CMYK staging for the rare CMYK/YCCK files
    size_t cmyk_cap;
};

// A decoded image larger than this is refused rather than allocated (2^28 px = 768 MiB RGB).
#define RN_MAX_PIXELS ((int64_t)1 << 28)

rn_jpeg_decoder *rn_jpeg_decoder_create(void) {
    rn_jpeg_decoder *d = rn_calloc(1, sizeof *d);
    d->tj = tjInitDecompress();
    RN_CHECK(d->tj != NULL);
    return d;
}

void rn_jpeg_decoder_destroy(rn_jpeg_decoder *d) {
    if (!d) return;
    tjDestroy(d->tj);
    free(d->px);
    free(d->cmyk);
    free(d);
}

// After a fatal libjpeg error the handle can be left mid-header, and every later file then fails
// with the same message (seen with libjpeg-turbo 2.1): start a fresh handle.
static int fail_reset(rn_jpeg_decoder *d, rn_err *err) {
    rn_fail(err, "%s", tjGetErrorStr2(d->tj));
    tjDestroy(d->tj);
    d->tj = tjInitDecompress();
    RN_CHECK(d->tj != NULL);
    return -1;
}

int rn_jpeg_header(rn_jpeg_decoder *d, const uint8_t *buf, size_t len, int *w, int *h,
                   rn_err *err) {
    int subsamp, cs;
    if (len < 4 || buf[0] != 0xFF || buf[1] != 0xD8)
        return rn_fail(err, "not a JPEG file (no SOI marker)");
    if (tjDecompressHeader3(d->tj, buf, (unsigned long)len, w, h, &subsamp, &cs) != 0)
        return fail_reset(d, err);
    if (*w <= 0 || *h <= 0) return rn_fail(err, "invalid JPEG size %dx%d", *w, *h);
    return 0;
}

static uint8_t *grow(uint8_t **p, size_t *cap, size_t n) {
    if (n > *cap) {
        free(*p);
        *p = rn_malloc(n);
        *cap = n;
    }
    return *p;
}

// TurboJPEG returns -1 for warnings too. A truncated file only warns ("Premature end of JPEG
// file") and fills the rest with grey: that is corrupt for training. Other warnings (extraneous
// bytes between markers and the like) leave a good image, as they do in PIL.
static int decode_failed(rn_jpeg_decoder *d, rn_err *err) {
    const char *msg = tjGetErrorStr2(d->tj);  // valid until the next call on the handle
    if (tjGetErrorCode(d->tj) == TJERR_WARNING && !strcasestr(msg, "premature end")) return 0;
    return fail_reset(d, err);
}

int rn_jpeg_decode(rn_jpeg_decoder *d, const uint8_t *buf, size_t len, int num, int den,
                   rn_image *out, rn_err *err) {
    int w, h, subsamp, cs;
    if (len < 4 || buf[0] != 0xFF || buf[1] != 0xD8)
        return rn_fail(err, "not a JPEG file (no SOI marker)");
    if (tjDecompressHeader3(d->tj, buf, (unsigned long)len, &w, &h, &subsamp, &cs) != 0)
        return fail_reset(d, err);
    if (w <= 0 || h <= 0) return rn_fail(err, "invalid JPEG size %dx%d", w, h);
    int sw = rn_jpeg_scaled(w, num, den), sh = rn_jpeg_scaled(h, num, den);
    if ((int64_t)sw * sh > RN_MAX_PIXELS) return rn_fail(err, "JPEG too large: %dx%d", sw, sh);
    size_t npx = (size_t)sw * (size_t)sh;
    uint8_t *rgb = grow(&d->px, &d->px_cap, npx * 3);
    if (cs == TJCS_CMYK || cs == TJCS_YCCK) {  // libjpeg cannot convert these to RGB itself
        uint8_t *k = grow(&d->cmyk, &d->cmyk_cap, npx * 4);
        if (tjDecompress2(d->tj, buf, (unsigned long)len, k, sw, 0, sh, TJPF_CMYK, 0) != 0 &&
            decode_failed(d, err))
            return -1;
        for (size_t i = 0; i < npx; i++) {  // Adobe CMYK is stored inverted: 255 = no ink
            unsigned K = k[4 * i + 3];
            rgb[3 * i + 0] = (uint8_t)((k[4 * i + 0] * K + 127) / 255);
            rgb[3 * i + 1] = (uint8_t)((k[4 * i + 1] * K + 127) / 255);
            rgb[3 * i + 2] = (uint8_t)((k[4 * i + 2] * K + 127) / 255);
        }
    } else {  // YCbCr, RGB and grayscale: libjpeg converts to RGB (gray -> 3 equal channels)
        if (tjDecompress2(d->tj, buf, (unsigned long)len, rgb, sw, 0, sh, TJPF_RGB, 0) != 0 &&
            decode_failed(d, err))
            return -1;
    }
    out->px = rgb;
    out->w = sw;
    out->h = sh;
    return 0;
}

void rn_jpeg_pick_scale(int w, int h, double min_fx, double min_fy, int *num, int *den) {
    // Only 1/8, 1/4 and 1/2: libjpeg-turbo has SIMD inverse DCTs for those (and 1/1); the other
    // M/8 factors use plain C IDCTs and measured slower than a full-size decode (3/4: 1.7x the
    // time of 1/1 on a 500x375 q90 JPEG, see docs/DATA.md).
    static const int dens[3] = {8, 4, 2};
    *num = 1;
    *den = 1;
    for (int i = 0; i < 3; i++) {
        // Compare against the sizes libjpeg will really produce (it rounds up).
        double fx = (double)rn_jpeg_scaled(w, 1, dens[i]) / w;
        double fy = (double)rn_jpeg_scaled(h, 1, dens[i]) / h;
        if (fx >= min_fx - 1e-12 && fy >= min_fy - 1e-12) {
            *den = dens[i];
            return;
        }
    }
}

int rn_read_file(const char *path, uint8_t **buf, size_t *cap, size_t *len, rn_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail(err, "cannot open: %s", strerror(errno));
    size_t n = 0;
    for (;;) {
        if (n == *cap) {
            size_t c = *cap ? *cap * 2 : 256 * 1024;
            *buf = rn_realloc(*buf, c);
            *cap = c;
        }
        size_t got = fread(*buf + n, 1, *cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return rn_fail(err, "read error");
    *len = n;
    return 0;
}
