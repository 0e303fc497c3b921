// png.h — PNG decoding with libspng to packed 8-bit RGB. Callers decode through data/image.h,
// which dispatches here on the PNG signature; the conversions are listed there.
#ifndef RN_DATA_PNG_H
#define RN_DATA_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"
#include "src/common.h"

// One per thread: reusable buffers (libspng's own context is made per file: it takes one input
// buffer in its life). Not thread safe.
typedef struct rn_png_decoder rn_png_decoder;
rn_png_decoder *rn_png_decoder_create(void);
void rn_png_decoder_destroy(rn_png_decoder *d);

// Reads the signature and IHDR: width and height, refused over RN_IMAGE_MAX_PIXELS.
int rn_png_header(const uint8_t *buf, size_t len, int *w, int *h, rn_err *err);

// Decodes the whole image (a PNG has no reduced-scale decode) to packed RGB.
int rn_png_decode(rn_png_decoder *d, const uint8_t *buf, size_t len, rn_image *out, rn_err *err);

#endif
