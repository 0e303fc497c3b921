// png.c — libspng decoding to packed RGB; see png.h and image.h.
#include "data/png.h"

#include <spng.h>
#include <stdlib.h>
#include <string.h>

struct rn_png_decoder {
    uint8_t *px;   // decoded RGB, grown as needed
    size_t px_cap;
    uint8_t *row;  // one RGBA16 row of a 16-bit image
    size_t row_cap;
};

// Limits of libspng on one chunk's length and on the memory it keeps for ancillary chunks (text,
// ICC profiles, ... once inflated): a small zTXt/iCCP could otherwise inflate to gigabytes. Going
// over either is an error (libspng needs chunk <= cache). 256 MiB is over the default per-file
// cap (max_file_mb), so no image's IDAT chunk is refused for its length.
#define RN_PNG_CHUNK_MAX ((size_t)256 << 20)
#define RN_PNG_CACHE_MAX ((size_t)256 << 20)

// A side longer than this is refused: libspng (and decode16) hold a few rows of up to 8 bytes a
// pixel, so a 2^28 x 1 header would cost gigabytes before the first row decodes. 262,144 px is
// four times JPEG's format limit, far beyond any camera or scanned panorama so far.
#define RN_PNG_MAX_SIDE ((uint32_t)1 << 18)

rn_png_decoder *rn_png_decoder_create(void) { return rn_calloc(1, sizeof(rn_png_decoder)); }

void rn_png_decoder_destroy(rn_png_decoder *d) {
    if (!d) return;
    free(d->px);
    free(d->row);
    free(d);
}

// Plain malloc: an image that does not fit is an error for that sample, not an abort.
static uint8_t *grow(uint8_t **p, size_t *cap, size_t n) {
    if (n > *cap) {
        free(*p);
        *p = malloc(n);
        *cap = *p ? n : 0;
    }
    return *p;
}

// A context over buf with IHDR read and the size checked; NULL (and err set) on failure.
static spng_ctx *open_png(const uint8_t *buf, size_t len, struct spng_ihdr *ihdr, rn_err *err) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len < 8 || memcmp(buf, sig, 8) != 0) {
        rn_fail(err, "not a PNG file (no PNG signature)");
        return NULL;
    }
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx) {
        rn_fail(err, "out of memory: cannot start a PNG decoder");
        return NULL;
    }
    int rc = spng_set_chunk_limits(ctx, RN_PNG_CHUNK_MAX, RN_PNG_CACHE_MAX);
    // A damaged critical chunk is an error; an ancillary one with a bad CRC is dropped (PIL does
    // not check ancillary CRCs either).
    if (!rc) rc = spng_set_crc_action(ctx, SPNG_CRC_ERROR, SPNG_CRC_DISCARD);
    if (!rc) rc = spng_set_png_buffer(ctx, buf, len);
    if (!rc) rc = spng_get_ihdr(ctx, ihdr);
    if (rc) {
        rn_fail(err, "PNG: %s", spng_strerror(rc));
        rc = -1;
    } else if (ihdr->width == 0 || ihdr->height == 0 || ihdr->width > RN_PNG_MAX_SIDE ||
               ihdr->height > RN_PNG_MAX_SIDE) {
        rc = rn_fail(err, "invalid PNG size %ux%u", ihdr->width, ihdr->height);
    } else if ((int64_t)ihdr->width * ihdr->height > RN_IMAGE_MAX_PIXELS) {
        rc = rn_fail(err, "PNG too large: %ux%u is over %lld pixels", ihdr->width, ihdr->height,
                     (long long)RN_IMAGE_MAX_PIXELS);
    }
    if (rc) {
        spng_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

int rn_png_header(const uint8_t *buf, size_t len, int *w, int *h, rn_err *err) {
    struct spng_ihdr ihdr;
    spng_ctx *ctx = open_png(buf, len, &ihdr, err);
    if (!ctx) return -1;
    *w = (int)ihdr.width;
    *h = (int)ihdr.height;
    spng_ctx_free(ctx);
    return 0;
}

// 16-bit images: decoded row by row as RGBA16 and cut to the high byte of each sample, so that
// the decode never holds more than one 16-bit row. A row of an interlaced image's pass p holds
// only that pass's pixels (Adam7: columns start[p], start[p] + step[p], ...); the other pixels of
// the output row come from the other passes.
static int decode16(spng_ctx *ctx, rn_png_decoder *d, uint8_t *rgb, int w, int interlaced,
                    rn_err *err) {
    static const int start[7] = {0, 4, 0, 2, 0, 1, 0}, step[7] = {8, 8, 4, 4, 2, 2, 1};
    size_t row_len = (size_t)w * 8;
    if (!grow(&d->row, &d->row_cap, row_len))
        return rn_fail(err, "out of memory: %zu bytes for a PNG row", row_len);
    int rc = spng_decode_image(ctx, NULL, 0, SPNG_FMT_RGBA16, SPNG_DECODE_PROGRESSIVE);
    if (rc) return rn_fail(err, "PNG: %s", spng_strerror(rc));
    for (;;) {
        struct spng_row_info ri;
        rc = spng_get_row_info(ctx, &ri);
        if (!rc) rc = spng_decode_row(ctx, d->row, row_len);
        if (rc && rc != SPNG_EOI) return rn_fail(err, "PNG: %s", spng_strerror(rc));
        int p = interlaced && ri.pass >= 0 && ri.pass < 7 ? ri.pass : 6;
        const uint16_t *s = (const uint16_t *)(const void *)d->row;
        uint8_t *o = rgb + (size_t)ri.row_num * (size_t)w * 3;
        for (int x = start[p]; x < w; x += step[p]) {
            o[3 * x + 0] = (uint8_t)(s[4 * x + 0] >> 8);
            o[3 * x + 1] = (uint8_t)(s[4 * x + 1] >> 8);
            o[3 * x + 2] = (uint8_t)(s[4 * x + 2] >> 8);
        }
        if (rc == SPNG_EOI) return 0;
    }
}

int rn_png_decode(rn_png_decoder *d, const uint8_t *buf, size_t len, rn_image *out, rn_err *err) {
    struct spng_ihdr ihdr;
    spng_ctx *ctx = open_png(buf, len, &ihdr, err);
    if (!ctx) return -1;
    int w = (int)ihdr.width, h = (int)ihdr.height, rc = 0;
    size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *rgb = grow(&d->px, &d->px_cap, n);
    if (!rgb) {
        rc = rn_fail(err, "out of memory: %zu bytes for a %dx%d image", n, w, h);
    } else if (ihdr.bit_depth == 16) {
        rc = decode16(ctx, d, rgb, w, ihdr.interlace_method != 0, err);
    } else {  // 1-8 bit, any colour type: libspng expands palettes and scales low bit depths
        int e = spng_decode_image(ctx, rgb, n, SPNG_FMT_RGB8, 0);
        if (e) rc = rn_fail(err, "PNG: %s", spng_strerror(e));
    }
    spng_ctx_free(ctx);
    if (rc) return -1;
    out->px = rgb;
    out->w = w;
    out->h = h;
    return 0;
}
