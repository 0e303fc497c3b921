// fuzz_png — PNG files through the image decoder (data/png.c, libspng) and the per-sample
// pipelines (fuzz_image.h); seeds: every PNG colour type and bit depth, palettes with tRNS,
// Adam7-interlaced files (tests/fuzz/corpus/png, written by make_corpus.c).
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include "tests/fuzz/fuzz_image.h"
