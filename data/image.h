// image.h — the one entry point for decoding an image file in memory: JPEG (data/jpeg.c,
// libjpeg-turbo) or PNG (data/png.c, libspng), told apart by the file's first bytes, never by its
// name. Every caller (the loader, resnet-predict, resnet-eval, the examples) decodes through here;
// rn_preprocess_image (data/transform.h) is decode + crop/resize + normalise on top of it.
//
//   rn_decoder *d = rn_decoder_create();          // one per thread
//   rn_read_file_max(path, max_bytes, &buf, &cap, &len, &err);
//   rn_image img;
//   rn_image_decode(d, buf, len, 1.0, 1.0, &img, &err);   // full size, packed RGB
//   rn_decoder_destroy(d);
//
// Output is always packed 8-bit RGB (see docs/DATA.md, "Decoding"):
//   JPEG: grey expanded to 3 equal channels, CMYK/YCCK converted, truncated files refused.
//   PNG:  grey, grey+alpha, RGB, RGBA, palette; 1/2/4/8/16 bit. Alpha (and tRNS) is dropped, not
//         composited (as PIL's convert("RGB")); 16-bit samples keep their high byte (v >> 8, as PIL
//         does for 16-bit RGB/RGBA/grey+alpha; PIL clips 16-bit grey to 255 instead, which we do
//         not copy); 1/2/4-bit grey is scaled to 0..255 (v * 255 / (2^bits - 1)); gAMA, iCCP,
//         sBIT are ignored (as PIL).
// Anything else — another format, corrupt, truncated, over 2^28 pixels, a side over 65535 (JPEG's
// format limit) or 262144 (PNG) — is an error saying why.
#ifndef RN_DATA_IMAGE_H
#define RN_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "src/common.h"

// A decoded image: packed RGB rows of 3*w bytes. Owned by the decoder that produced it and valid
// until its next decode.
typedef struct rn_image {
    uint8_t *px;  // (h, w, 3)
    int w, h;
} rn_image;

// An image larger than this is refused before anything is allocated for it (2^28 px = 768 MiB
// RGB): a 100-megapixel photo stays below it; a crafted header declaring 65535 x 65535 (JPEG) or
// 2^31 x 2^31 (PNG) does not make us allocate or walk gigapixels.
#define RN_IMAGE_MAX_PIXELS ((int64_t)1 << 28)

typedef enum rn_image_format { RN_IMAGE_UNKNOWN = 0, RN_IMAGE_JPEG, RN_IMAGE_PNG } rn_image_format;

// The format the first bytes announce: JPEG's SOI marker FF D8 FF, PNG's 8-byte signature.
rn_image_format rn_image_sniff(const uint8_t *buf, size_t len);

// One per thread: both decoders and their reusable buffers. Not thread safe.
typedef struct rn_decoder rn_decoder;
rn_decoder *rn_decoder_create(void);  // aborts only when TurboJPEG cannot start at all
void rn_decoder_destroy(rn_decoder *d);

// Reads the header: full-size width and height (checked against RN_IMAGE_MAX_PIXELS).
int rn_image_header(rn_decoder *d, const uint8_t *buf, size_t len, int *w, int *h, rn_err *err);

// Decodes to packed RGB. The caller needs at least min_fx * W decoded columns and min_fy * H
// rows of the W x H original: a JPEG may then be decoded at a reduced DCT scale (1/2, 1/4, 1/8),
// a PNG always comes at full size. Pass 1, 1 for full size. out->w / W is the scale obtained.
int rn_image_decode(rn_decoder *d, const uint8_t *buf, size_t len, double min_fx, double min_fy,
                    rn_image *out, rn_err *err);

// Reads a whole file into *buf (grown as needed; *cap its capacity). -1 with message on failure,
// also when the buffer cannot grow (out of memory: an error, not an abort) or, for the _max
// variant, when the file holds more than max_bytes (checked with fstat before reading, so an
// oversized file costs no memory). *buf stays valid (and owned by the caller) either way.
int rn_read_file_max(const char *path, size_t max_bytes, uint8_t **buf, size_t *cap, size_t *len,
                     rn_err *err);
// The same without a size limit (the caller bounds what it reads some other way).
int rn_read_file(const char *path, uint8_t **buf, size_t *cap, size_t *len, rn_err *err);

#endif
