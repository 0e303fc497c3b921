// jpeg.c — TurboJPEG decoding with DCT-domain scaling; see jpeg.h.
#define _GNU_SOURCE  // strcasestr
#include "data/jpeg.h"

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

// A file whose full-size frame is over RN_IMAGE_MAX_PIXELS is refused: a crafted header declaring
// 65535 x 65535 cannot make us walk 4 G pixels of grey fill.
// The JPEG format stores width and height as 16-bit fields.
#define RN_MAX_SIDE 65535

rn_jpeg_decoder *rn_jpeg_decoder_create(void) {
    rn_jpeg_decoder *d = rn_calloc(1, sizeof *d);
    d->tj = tjInitDecompress();
    RN_CHECK(d->tj != NULL);
    return d;
}

void rn_jpeg_decoder_destroy(rn_jpeg_decoder *d) {
    if (!d) return;
    if (d->tj) tjDestroy(d->tj);
    free(d->px);
    free(d->cmyk);
    free(d);
}

// After a fatal libjpeg error the handle can be left mid-header, and every later file then fails
// with the same message (seen with libjpeg-turbo 2.1): drop it; the next call starts a fresh one.
static int fail_reset(rn_jpeg_decoder *d, rn_err *err) {
    rn_fail(err, "%s", tjGetErrorStr2(d->tj));
    tjDestroy(d->tj);
    d->tj = NULL;
    return -1;
}

// A fresh handle after fail_reset; it can only fail when memory is short, and that costs one
// sample, not the run.
static int have_handle(rn_jpeg_decoder *d, rn_err *err) {
    if (!d->tj) d->tj = tjInitDecompress();
    return d->tj ? 0 : rn_fail(err, "out of memory: cannot start a TurboJPEG decoder");
}

// The frame's size and colour space. tjDecompressHeader3 returns success without touching its
// outputs for a tables-only stream (SOI, DQT/DHT, EOI: no frame), so they start at 0 and a
// stream without a frame, or with an empty or absurd one, is refused here.
static int read_header(rn_jpeg_decoder *d, const uint8_t *buf, size_t len, int *w, int *h,
                       int *cs, rn_err *err) {
    int subsamp = -1;
    *w = *h = 0;
    *cs = -1;
    if (len < 4 || buf[0] != 0xFF || buf[1] != 0xD8)
        return rn_fail(err, "not a JPEG file (no SOI marker)");
    if (len > 0xFFFFFFFFu) return rn_fail(err, "JPEG stream of %zu bytes is too long", len);
    if (have_handle(d, err) != 0) return -1;
    if (tjDecompressHeader3(d->tj, buf, (unsigned long)len, w, h, &subsamp, cs) != 0)
        return fail_reset(d, err);
    if (*w == 0 && *h == 0)
        return rn_fail(err, "JPEG stream ends without an image frame (no SOF marker)");
    if (*w <= 0 || *h <= 0 || *w > RN_MAX_SIDE || *h > RN_MAX_SIDE)
        return rn_fail(err, "invalid JPEG size %dx%d", *w, *h);
    if ((int64_t)*w * *h > RN_IMAGE_MAX_PIXELS)
        return rn_fail(err, "JPEG too large: %dx%d is over %lld pixels", *w, *h,
                       (long long)RN_IMAGE_MAX_PIXELS);
    return 0;
}

int rn_jpeg_header(rn_jpeg_decoder *d, const uint8_t *buf, size_t len, int *w, int *h,
                   rn_err *err) {
    int cs;
    return read_header(d, buf, len, w, h, &cs, err);
}

// Per-sample buffers use plain malloc: when one image does not fit in memory, that sample is
// skipped (the caller gets an error) instead of the whole run aborting.
static uint8_t *grow(uint8_t **p, size_t *cap, size_t n) {
    if (n > *cap) {
        free(*p);
        *p = malloc(n);
        *cap = *p ? n : 0;
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
    int w, h, cs;
    if (read_header(d, buf, len, &w, &h, &cs, err) != 0) return -1;
    if (num < 1 || den < 1 || num > den)
        return rn_fail(err, "invalid decode scale %d/%d", num, den);
    int sw = rn_jpeg_scaled(w, num, den), sh = rn_jpeg_scaled(h, num, den);
    size_t npx = (size_t)sw * (size_t)sh;
    uint8_t *rgb = grow(&d->px, &d->px_cap, npx * 3);
    if (!rgb) return rn_fail(err, "out of memory: %zu bytes for a %dx%d image", npx * 3, sw, sh);
    if (cs == TJCS_CMYK || cs == TJCS_YCCK) {  // libjpeg cannot convert these to RGB itself
        uint8_t *k = grow(&d->cmyk, &d->cmyk_cap, npx * 4);
        if (!k)
            return rn_fail(err, "out of memory: %zu bytes for a %dx%d CMYK image", npx * 4, sw, sh);
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
    if (w < 1 || h < 1) return;  // no size to scale (the decoder refuses such files anyway)
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
