// png_write.h — a small PNG writer for tests and seed corpora (zlib only, no PNG library, so
// the decoder under test never checks its own encoder's output): every colour type (0 grey,
// 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA), bit depths 1/2/4/8/16, PLTE and tRNS chunks, and
// Adam7 interlacing. Filter type 0 on every scanline.
#ifndef RN_TEST_PNG_WRITE_H
#define RN_TEST_PNG_WRITE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct png_spec {
    int w, h, color, depth, interlace;
    const uint16_t *px;      // (h, w, channels) samples, each < 2^depth (palette: indices)
    const uint8_t *plte;     // (n_plte, 3) for colour type 3
    int n_plte;
    const uint8_t *trns;     // raw tRNS payload, or NULL
    int n_trns;
} png_spec;

static inline int png_channels(int color) {
    return color == 0 || color == 3 ? 1 : color == 4 ? 2 : color == 2 ? 3 : 4;
}

typedef struct png_buf {
    uint8_t *p;
    size_t n, cap;
} png_buf;

static inline void png_put(png_buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static inline void png_be32(png_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    png_put(b, x, 4);
}

static inline void png_chunk(png_buf *b, const char *type, const uint8_t *d, size_t n) {
    png_be32(b, (uint32_t)n);
    png_put(b, type, 4);
    if (n) png_put(b, d, n);
    uLong crc = crc32(0, (const Bytef *)type, 4);
    if (n) crc = crc32(crc, d, (uInt)n);
    png_be32(b, (uint32_t)crc);
}

// Appends the filtered scanlines of the sub-image of columns x0, x0 + dx, ... and rows y0,
// y0 + dy, ... (the whole image when x0 = y0 = 0, dx = dy = 1).
static inline void png_rows(png_buf *raw, const png_spec *s, int x0, int y0, int dx, int dy) {
    int ch = png_channels(s->color), bits = ch * s->depth;
    int cols = s->w > x0 ? (s->w - x0 + dx - 1) / dx : 0;
    if (cols == 0) return;  // an empty pass has no scanlines at all
    size_t row_bytes = ((size_t)cols * bits + 7) / 8;
    uint8_t *row = malloc(row_bytes + 1);
    for (int y = y0; y < s->h; y += dy) {
        memset(row, 0, row_bytes + 1);  // row[0] = filter type 0
        size_t bit = 0;
        for (int x = x0; x < s->w; x += dx)
            for (int c = 0; c < ch; c++) {
                unsigned v = s->px[((size_t)y * s->w + x) * ch + c];
                if (s->depth == 16) {
                    row[1 + bit / 8] = (uint8_t)(v >> 8), row[2 + bit / 8] = (uint8_t)v;
                } else {  // MSB first within a byte
                    row[1 + bit / 8] |= (uint8_t)(v << (8 - s->depth - bit % 8));
                }
                bit += (size_t)s->depth;
            }
        png_put(raw, row, row_bytes + 1);
    }
    free(row);
}

// The whole file in a malloc'd buffer (*n bytes).
static inline uint8_t *png_encode(const png_spec *s, size_t *n) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    static const int ax[7] = {0, 4, 0, 2, 0, 1, 0}, ay[7] = {0, 0, 4, 0, 2, 0, 1};
    static const int adx[7] = {8, 8, 4, 4, 2, 2, 1}, ady[7] = {8, 8, 8, 4, 4, 2, 2};
    png_buf b = {0}, raw = {0};
    png_put(&b, sig, 8);
    uint8_t ihdr[13] = {(uint8_t)(s->w >> 24), (uint8_t)(s->w >> 16), (uint8_t)(s->w >> 8), (uint8_t)s->w,
                        (uint8_t)(s->h >> 24), (uint8_t)(s->h >> 16), (uint8_t)(s->h >> 8), (uint8_t)s->h,
                        (uint8_t)s->depth, (uint8_t)s->color, 0, 0, (uint8_t)s->interlace};
    png_chunk(&b, "IHDR", ihdr, 13);
    if (s->plte) png_chunk(&b, "PLTE", s->plte, (size_t)s->n_plte * 3);
    if (s->trns) png_chunk(&b, "tRNS", s->trns, (size_t)s->n_trns);
    if (s->interlace)
        for (int p = 0; p < 7; p++) png_rows(&raw, s, ax[p], ay[p], adx[p], ady[p]);
    else
        png_rows(&raw, s, 0, 0, 1, 1);
    uLongf zn = compressBound((uLong)raw.n);
    uint8_t *z = malloc(zn);
    if (!z || compress2(z, &zn, raw.p ? raw.p : (const Bytef *)"", (uLong)raw.n, 9) != Z_OK) abort();
    png_chunk(&b, "IDAT", z, zn);
    png_chunk(&b, "IEND", NULL, 0);
    free(z);
    free(raw.p);
    *n = b.n;
    return b.p;
}

#endif
