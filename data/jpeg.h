// jpeg.h — JPEG decoding with libjpeg-turbo's TurboJPEG API, at a reduced DCT scale when the
// caller needs fewer pixels than the file holds. Callers decode through data/image.h, which
// dispatches here on the file's first bytes.
//
// Output is always packed 8-bit RGB: grayscale files are expanded to 3 equal channels, CMYK/YCCK
// files are converted (Adobe's inverted CMYK as libjpeg stores it: R = C*K/255, ...). Anything the
// library rejects — not a JPEG, corrupt, truncated — is an error with the library's message.
#ifndef RN_DATA_JPEG_H
#define RN_DATA_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"
#include "src/common.h"

// One per thread: a TurboJPEG handle plus reusable buffers. Not thread safe.
typedef struct rn_jpeg_decoder rn_jpeg_decoder;

rn_jpeg_decoder *rn_jpeg_decoder_create(void);  // aborts only when TurboJPEG cannot start at all
void rn_jpeg_decoder_destroy(rn_jpeg_decoder *d);

// Reads the header: full-size width and height.
int rn_jpeg_header(rn_jpeg_decoder *d, const uint8_t *buf, size_t len, int *w, int *h, rn_err *err);

// Decodes at scale num/den (one of rn_jpeg_pick_scale's answers; 1/1 for full size). The image
// is TJSCALED(w) x TJSCALED(h), i.e. ceil(w * num / den).
int rn_jpeg_decode(rn_jpeg_decoder *d, const uint8_t *buf, size_t len, int num, int den,
                   rn_image *out, rn_err *err);

// The smallest scale factor among 1/8, 1/4, 1/2 such that the scaled image still has at least
// min_fx times the original width and min_fy times the height, i.e. every output pixel still gets
// at least one decoded pixel; 1/1 when none qualifies. (The other M/8 factors libjpeg-turbo offers
// decode slower than full size: no SIMD IDCT.)
void rn_jpeg_pick_scale(int w, int h, double min_fx, double min_fy, int *num, int *den);

// ceil(dim * num / den), the size libjpeg produces at that scale.
static inline int rn_jpeg_scaled(int dim, int num, int den) {
    return (int)(((int64_t)dim * num + den - 1) / den);
}

#endif
