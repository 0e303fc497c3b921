// transform.h — crop geometry, bilinear resampling, colour augmentation and normalisation.
//
// Every transform is described by an rn_plan that maps output pixels to the ORIGINAL image's
// coordinates, so the same plan works on an image decoded at any DCT scale.
//
// Sampling convention (align_corners = False, half-pixel centres, as PyTorch's bilinear
// interpolate and PIL): output pixel (dx, dy) samples the continuous source point
//     u = ox + (dx + 0.5) * sx,  v = oy + (dy + 0.5) * sy
// i.e. pixel index u - 0.5 in the source, bilinear between the two neighbouring pixels, clamped to
// the centres of the outermost pixels of the clamp box [cx0, cx1) x [cy0, cy1). There is no
// antialiasing filter: downscaling by more than 2x aliases — the DCT-domain scaling of the decoder
// keeps the remaining factor below 2 in practice. That is the training transform's sampler.
//
// The evaluation transform instead reproduces torchvision's Resize + CenterCrop on PIL images bit
// for bit (rn_resample_pil: PIL's antialiased bilinear, on a full-size decode); tests/
// test_data_torchvision.c compares it with torchvision itself.
#ifndef RN_DATA_TRANSFORM_H
#define RN_DATA_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"
#include "data/opts.h"
#include "src/common.h"
#include "src/rng.h"

typedef struct rn_plan {
    int out_w, out_h;
    double ox, oy;            // source point of the output's top-left corner
    double sx, sy;            // source pixels per output pixel
    double cx0, cy0, cx1, cy1;  // clamp box in source coordinates
    int vx0, vx1, vy0, vy1;   // output pixels outside [vx0, vx1) x [vy0, vy1) are 0 (padding)
    int flip;                 // mirror the output horizontally
    // Evaluation plans (rn_plan_eval) only, for rn_resample_pil: the whole image is resized to
    // rw x rh and the output is its window [ix, ix + out_w) x [iy, iy + out_h); pixels of the
    // window outside the resized image are 0 (torchvision CenterCrop's padding). 0 elsewhere.
    int rw, rh, ix, iy;
} rn_plan;

// torchvision RandomResizedCrop.get_params: up to 10 tries of area fraction U(smin, smax) and
// log-uniform aspect ratio; then a centre crop clamped to [rmin, rmax]. Integer box (x, y, w, h),
// rounding half to even like Python's round(). Always 1 <= w <= max(W, 1), 1 <= h <= max(H, 1),
// for any W, H and ratio bounds (a 0 x 0 or absurd size gets a defined, non-empty box).
void rn_rrc_box(rn_rng *r, int W, int H, double smin, double smax, double rmin, double rmax,
                int box[4]);

// Resize box (x, y, w, h) of a W x H image to size x size; samples stay inside the box.
void rn_plan_crop(int W, int H, const int box[4], int size, rn_plan *p);

// Evaluation: resize so the shorter side is `resize` (longer side int(resize * long / short), as
// torchvision's Resize), then centre crop size x size (offset round((R - size) / 2), half to even;
// a side shorter than size is centred with (size - R) // 2 zeros before it, as CenterCrop pads).
// Ten-crop and other windows of the same resized image: change ix, iy (and flip) of this plan.
void rn_plan_eval(int W, int H, int resize, int size, rn_plan *p);

// Ten-crop evaluation (torchvision Resize(resize) then TenCrop(size)): p[0..4] the top-left,
// top-right, bottom-left, bottom-right and centre crops of the resized image, p[5..9] the same
// five crops of its horizontal mirror (mirrored outputs). The centre crop is rn_plan_eval's.
#define RN_TEN_CROP 10
void rn_plan_ten_crop(int W, int H, int resize, int size, rn_plan p[RN_TEN_CROP]);

// Small images: the eval plan with resize = size, then zero padding of `pad` px on each side and a
// size x size crop at offset (ox, oy) in [0, 2 pad] of the padded image.
void rn_plan_pad_crop(int W, int H, int size, int pad, int ox, int oy, rn_plan *p);

// Scratch tables of the sampler; one per thread, grown as needed. Zero-initialise, then free with
// rn_xform_ws_free.
typedef struct rn_pil_ws {  // rn_resample_pil's tables
    int32_t *cx, *cy;   // fixed-point weights, (out_w, taps) and (out_h, taps)
    int *bx, *by;       // (2 * out) first tap and tap count of each output pixel
    double *tmp;        // (taps) weights before normalisation
    uint8_t *mid;       // (rows, out_w, 3) the horizontal pass's 8-bit result
    int32_t *acc;       // (out_w, 3) the vertical pass's sums for one output row
    size_t cx_cap, cy_cap, bx_cap, by_cap, tmp_cap, mid_cap, acc_cap;  // bytes
} rn_pil_ws;
void rn_pil_ws_free(rn_pil_ws *t);

typedef struct rn_xform_ws {
    int *xi, *yi;  // (2 * cap) left/right or top/bottom neighbour
    float *xw, *yw;  // (cap) weight of the right/bottom neighbour
    float *rows;     // (2, 3, cap) horizontally interpolated source rows
    int cap;
    rn_pil_ws pil;
    uint8_t *aug;    // the auto-augment stage's 8-bit crop and scratch (data/augment.h)
    size_t aug_cap;  // bytes
} rn_xform_ws;
void rn_xform_ws_free(rn_xform_ws *ws);

// Bilinear sampling of plan p from `img`, a decode of an W x H original (possibly DCT-scaled, so
// img->w/W is the scale). Writes planar (3, out_h, out_w) values in [0, 1] (pixel / 255); an
// empty image or original gives zeros. -1 only when the scratch tables cannot be allocated.
int rn_sample_bilinear(const rn_image *img, int W, int H, const rn_plan *p, float *out,
                       rn_xform_ws *ws);

// The evaluation sampler: PIL's Image.resize((rw, rh), BILINEAR) of the full-size image `img`
// (antialiased: the triangle filter is widened by the downscale factor; 8-bit intermediate after
// the horizontal pass; PIL's fixed-point weights and rounding, see resample.c), of which only the
// plan's window is computed (flipped if p->flip). Planar (3, out_h, out_w) values pixel / 255.
// Needs an eval plan (rw, rh set) and img at full size. -1 only when tables cannot be allocated.
int rn_resample_pil(const rn_image *img, const rn_plan *p, float *out, rn_xform_ws *ws);

// torchvision ColorJitter on planar RGB in [0, 1] with fixed factors, applied in `order`
// (0 brightness, 1 contrast, 2 saturation; -1 ends the list early). Results clamped to [0, 1];
// grey = 0.299 R + 0.587 G + 0.114 B; contrast blends with the image's mean grey.
void rn_color_jitter(float *chw, size_t hw, const double factor[3], const int order[3]);

// AlexNet PCA lighting: adds eigvec * (alpha .* eigval) to every pixel (ImageNet eigen-values
// and -vectors of RGB in [0, 1], as fb.resnet.torch; no clamping).
void rn_lighting(float *chw, size_t hw, const double alpha[3]);

// (x - mean[c]) / std[c], in place.
void rn_normalize(float *chw, size_t hw, const float mean[3], const float std[3]);

// The whole per-sample pipeline on a JPEG or PNG file in memory (data/image.h): header, plan
// (random when rng is given, i.e. training; else the evaluation plan), then
//   training:   decode at the smallest sufficient DCT scale, bilinear sampling, auto-augment
//               (TrivialAugment / RandAugment on the crop quantised to 8 bits), colour jitter and
//               lighting (each if enabled);
//   evaluation: full-size decode, rn_resample_pil (torchvision's Resize + CenterCrop);
// and normalisation, then (training) random erasing. out is (3, size, size).
// The random draws, in order: crop (RRC box, or pad offsets x then y), flip, auto-augment ops,
// jitter order and factors, lighting alphas, erasing — the stream is (seed, epoch, index) so
// results are reproducible. A stage that is off draws nothing.
// Evaluation with o->tta = RN_TTA_TEN_CROP writes the ten crops of rn_plan_ten_crop: out is then
// (10, 3, size, size).
int rn_preprocess_image(rn_decoder *d, rn_xform_ws *ws, const uint8_t *buf, size_t len,
                        const rn_data_opts *o, rn_rng *rng, float *out, rn_err *err);

#endif
