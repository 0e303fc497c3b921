// augment.h — TrivialAugment (wide) and RandAugment as torchvision implements them on PIL images
// (torchvision.transforms.TrivialAugmentWide and RandAugment, nearest interpolation, fill 0), and
// torchvision's RandomErasing with value = 'random'.
//
// The 14 operations work on 8-bit planar RGB (3, h, w) and reproduce what torchvision's _apply_op
// does to a PIL image, i.e. PIL's ImageOps and ImageEnhance and Image.transform / Image.rotate
// with nearest-neighbour sampling, to the bit (tests/test_data_augment.c compares them with
// Debian's python3-pil + python3-torchvision). The magnitude tables are torchvision's
// _augmentation_space, with torch.linspace's float32 values reproduced exactly.
//
// The per-sample pipeline (rn_preprocess_image) runs them on the training crop after the
// random-resized crop and flip, quantised to 8 bits (the crop torchvision hands to
// TrivialAugmentWide is an 8-bit PIL image too), before colour jitter, lighting and
// normalisation; random erasing comes after normalisation. Every draw comes from the sample's
// stream (seed, epoch, index).
#ifndef RN_DATA_AUGMENT_H
#define RN_DATA_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "data/opts.h"
#include "src/rng.h"

// torchvision's _augmentation_space order (the same for both policies; AutoAugment's Invert is
// not part of either).
enum rn_aa_op {
    RN_AA_IDENTITY, RN_AA_SHEAR_X, RN_AA_SHEAR_Y, RN_AA_TRANSLATE_X, RN_AA_TRANSLATE_Y,
    RN_AA_ROTATE, RN_AA_BRIGHTNESS, RN_AA_COLOR, RN_AA_CONTRAST, RN_AA_SHARPNESS,
    RN_AA_POSTERIZE, RN_AA_SOLARIZE, RN_AA_AUTOCONTRAST, RN_AA_EQUALIZE, RN_AA_N_OPS
};
#define RN_AA_BINS 31  // num_magnitude_bins of both (torchvision's default)
#define RN_AA_MAX_OPS RN_AUGMENT_MAX_OPS  // randaugment_n at most (data/opts.h)

// torchvision's names ("Identity", "ShearX", ...), for messages and the reference script.
extern const char *const rn_aa_op_names[RN_AA_N_OPS];

// One operation on planar RGB (3, h, w) in place, with torchvision's _apply_op meaning of the
// (signed) magnitude: shear by atan(m) degrees about the origin; translate by int(m) pixels;
// rotate by m degrees (counter-clockwise, about the centre); brightness, colour, contrast and
// sharpness blend with factor 1 + m; posterize to int(m) bits; solarize above m; auto-contrast,
// equalize and identity ignore m. `tmp` is scratch of 3 w h bytes.
void rn_aa_apply(uint8_t *chw, int w, int h, int op, double magnitude, uint8_t *tmp);

// The op's magnitude table for a w x h image under `policy` (RN_AUTO_TRIVIAL or RN_AUTO_RAND) into
// mags[RN_AA_BINS]: the number of entries (RN_AA_BINS, or 0 for identity, auto-contrast and
// equalize). *is_signed: the magnitude gets a random sign.
int rn_aa_magnitudes(int policy, int op, int w, int h, float mags[RN_AA_BINS], int *is_signed);

typedef struct rn_aa_choice {
    int op;
    double magnitude;
} rn_aa_choice;

// The operations of one sample: TrivialAugmentWide, one op, uniform over the 14, a magnitude bin
// uniform over 31, a sign uniform; RandAugment, n ops each uniform over the 14 at bin m, each with
// a uniform sign. Draws in torchvision's order (op, bin if the op has magnitudes, sign if signed).
// Returns the count written to out (1, or n for RandAugment; out holds RN_AA_MAX_OPS).
int rn_aa_sample(rn_rng *r, int policy, int n, int m, int w, int h, rn_aa_choice *out);

// torchvision RandomErasing.get_params for a W x H image, scale (smin, smax), ratio (rmin, rmax):
// up to 10 tries of area U(scale) x W x H and ratio exp(U(log ratio)), h = round(sqrt(area *
// ratio)), w = round(sqrt(area / ratio)) (half to even), kept when h < H and w < W; then the
// position, uniform. 1 and box (x, y, w, h) set, or 0 when every try failed (nothing erased).
int rn_erase_box(rn_rng *r, int W, int H, double smin, double smax, double rmin, double rmax,
                 int box[4]);

// RandomErasing(p, scale 0.02-0.33, ratio 0.3-3.3, value 'random') on planar (3, h, w) floats:
// with probability p, the box of rn_erase_box gets standard-normal values (one per pixel and
// channel). Returns 1 when a box was erased.
int rn_random_erasing(rn_rng *r, float *chw, int w, int h, double p);

// The auto-augment stage of the training pipeline on planar (3, size, size) floats in [0, 1]
// (pixel / 255): quantise to 8 bits (round to nearest), the ops of rn_aa_sample for o->auto_aug,
// back to pixel / 255. buf: 6 size^2 bytes of scratch. Does nothing for RN_AUTO_NONE.
void rn_autoaug_crop(float *chw, int size, const rn_data_opts *o, rn_rng *r, uint8_t *buf);

#endif
