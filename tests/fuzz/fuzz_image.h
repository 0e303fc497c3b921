// fuzz_image.h — the body of the image harnesses fuzz_jpeg and fuzz_png: decoding through
// data/image.h (which dispatches on the signature to data/jpeg.c or data/png.c) and the
// per-sample pipelines of data/transform.c on its output: the evaluation transform (full decode,
// PIL-style resampling), the training transform (RandomResizedCrop, flip, colour jitter,
// lighting) and the pad-and-crop transform of small images. The two harnesses differ only in
// their seed corpus (and so in which decoder the search explores).
//
// Contract: the header is read or refused with a message; the pipeline refuses every file whose
// header is refused; an accepted header's full-size decode is exactly W x H; every output value of
// an accepted file is finite. Files declaring more than 1 Mpx are only header-checked: decoding
// them is correct but slow, and slow inputs starve the search.
#ifndef RN_FUZZ_IMAGE_H
#define RN_FUZZ_IMAGE_H

#include <math.h>

#include "data/image.h"
#include "data/transform.h"
#include "tests/fuzz/fuzz.h"

#define OUT 24             // output side of every pipeline
#define MAX_FULL_PIXELS (1 << 16)
#define MAX_PIXELS (1 << 20)

static void pipeline(rn_decoder *d, rn_xform_ws *ws, const uint8_t *data, size_t size,
                     const rn_data_opts *o, rn_rng *rng, int must_fail) {
    static float out[3 * OUT * OUT];
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_preprocess_image(d, ws, data, size, o, rng, out, &err);
    fuzz_check_rc(rc, &err, "rn_preprocess_image");
    FUZZ_ASSERT(!must_fail || rc != 0, "the pipeline accepted a file whose header was refused");
    for (int i = 0; rc == 0 && i < 3 * OUT * OUT; i++) FUZZ_ASSERT(isfinite(out[i]), "output %d is %g", i, out[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static rn_decoder *d;
    static rn_xform_ws ws;
    if (!d) d = rn_decoder_create();  // one per process, as one per loader thread

    rn_data_opts eval = rn_data_opts_default();
    eval.size = OUT, eval.resize = OUT + 4;
    int W = 0, H = 0;
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_image_header(d, data, size, &W, &H, &err);
    fuzz_check_rc(rc, &err, "rn_image_header");
    if (rc) {
        pipeline(d, &ws, data, size, &eval, NULL, 1);
        return 0;
    }
    FUZZ_ASSERT(W > 0 && H > 0, "accepted size %dx%d", W, H);
    if ((int64_t)W * H > MAX_PIXELS) return 0;

    if ((int64_t)W * H <= MAX_FULL_PIXELS) {
        rn_image img;
        err.msg[0] = 0;
        rc = rn_image_decode(d, data, size, 1, 1, &img, &err);
        fuzz_check_rc(rc, &err, "rn_image_decode");
        FUZZ_ASSERT(rc != 0 || (img.w == W && img.h == H), "decoded %dx%d, header said %dx%d", img.w, img.h, W, H);
    }

    pipeline(d, &ws, data, size, &eval, NULL, 0);
    rn_rng rng;
    rn_rng_seed3(&rng, size, W, H);
    rn_data_opts train = eval;
    train.brightness = train.contrast = train.saturation = 0.4;
    train.lighting = 0.1;
    pipeline(d, &ws, data, size, &train, &rng, 0);
    train.pad_crop = 4;
    pipeline(d, &ws, data, size, &train, &rng, 0);
    return 0;
}

#endif
