// fuzz_jpeg — JPEG decoding (data/jpeg.c) and the per-sample pipelines of data/transform.c on
// its output: the evaluation transform, the training transform (RandomResizedCrop, flip, colour
// jitter, lighting) and the pad-and-crop transform of small images.
//
// Input: a JPEG file. Contract: the header is read or refused with a message; the pipeline refuses
// every file whose header is refused; an accepted header's full-size decode is exactly W x H; every
// output value of an accepted file is finite. Files declaring more than 4 Mpx are only
// header-checked: decoding them is correct but slow, and slow inputs starve the search.
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include <math.h>

#include "data/jpeg.h"
#include "data/transform.h"
#include "tests/fuzz/fuzz.h"

#define OUT 24             // output side of every pipeline
#define MAX_FULL_PIXELS (1 << 16)
#define MAX_PIXELS (1 << 20)

static void pipeline(rn_jpeg_decoder *d, rn_xform_ws *ws, const uint8_t *data, size_t size,
                     const rn_data_opts *o, rn_rng *rng, int must_fail) {
    static float out[3 * OUT * OUT];
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_preprocess_jpeg(d, ws, data, size, o, rng, out, &err);
    fuzz_check_rc(rc, &err, "rn_preprocess_jpeg");
    FUZZ_ASSERT(!must_fail || rc != 0, "the pipeline accepted a file whose header was refused");
    for (int i = 0; rc == 0 && i < 3 * OUT * OUT; i++) FUZZ_ASSERT(isfinite(out[i]), "output %d is %g", i, out[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static rn_jpeg_decoder *d;
    static rn_xform_ws ws;
    if (!d) d = rn_jpeg_decoder_create();  // one per process, as one per loader thread

    rn_data_opts eval = rn_data_opts_default();
    eval.size = OUT, eval.resize = OUT + 4;
    int W = 0, H = 0;
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_jpeg_header(d, data, size, &W, &H, &err);
    fuzz_check_rc(rc, &err, "rn_jpeg_header");
    if (rc) {
        pipeline(d, &ws, data, size, &eval, NULL, 1);
        return 0;
    }
    FUZZ_ASSERT(W > 0 && H > 0, "accepted size %dx%d", W, H);
    if ((int64_t)W * H > MAX_PIXELS) return 0;

    if ((int64_t)W * H <= MAX_FULL_PIXELS) {
        rn_image img;
        err.msg[0] = 0;
        rc = rn_jpeg_decode(d, data, size, 1, 1, &img, &err);
        fuzz_check_rc(rc, &err, "rn_jpeg_decode");
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
