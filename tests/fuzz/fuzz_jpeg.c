// fuzz_jpeg — JPEG files through the image decoder and the per-sample pipelines (fuzz_image.h);
// seeds: libjpeg-turbo JPEGs (tests/fuzz/corpus/jpeg).
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include "tests/fuzz/fuzz_image.h"
