// opts.c — defaults, the key tables of [data] and [augment], and cross-key checks for rn_data_opts.
#include "data/opts.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

rn_data_opts rn_data_opts_default(void) {
    rn_data_opts o;
    memset(&o, 0, sizeof o);
    rn_preproc in = rn_preproc_imagenet();
    o.size = in.size;
    o.resize = 0;  // round(224 / 0.875) = 256
    o.crop_pct = in.crop_pct;
    o.batch_size = 256;
    o.workers = 4;
    o.prefetch = 4;
    o.max_file_mb = 64;  // far above any real photo; bounds the memory one file can take
    o.seed = 0;
    o.shuffle = 1;
    o.drop_last = 1;
    // torchvision model cards: ImageNet RGB mean and std, on pixels scaled to [0, 1].
    memcpy(o.mean, in.mean, sizeof in.mean);
    memcpy(o.std, in.std, sizeof in.std);
    o.flip = 1;
    o.scale_min = 0.08;
    o.scale_max = 1.0;
    o.ratio_min = 3.0 / 4.0;
    o.ratio_max = 4.0 / 3.0;
    o.auto_aug = RN_AUTO_NONE;
    o.randaugment_n = 2;  // torchvision RandAugment's num_ops and magnitude
    o.randaugment_m = 9;
    o.repeated_aug = 1;
    o.mix_prob = 1.0;  // timm's Mixup defaults
    o.mix_switch_prob = 0.5;
    return o;
}

// scale and ratio set two consecutive fields at once.
_Static_assert(offsetof(rn_data_opts, scale_max) == offsetof(rn_data_opts, scale_min) + sizeof(double) &&
                   offsetof(rn_data_opts, ratio_max) == offsetof(rn_data_opts, ratio_min) + sizeof(double),
               "scale_min/scale_max and ratio_min/ratio_max must be adjacent");

#define T rn_data_opts
static const rn_key data_keys[] = {
    RN_K_PATH("train_dir", T, train_dir, "class folders of the training split (or the root of `train_list`'s paths)"),
    RN_K_PATH("val_dir", T, val_dir, "class folders of the validation split (or the root of `val_list`'s paths)"),
    RN_K_PATH("train_list", T, train_list, "list file (`relative/path label` lines), used instead of scanning `train_dir`"),
    RN_K_PATH("val_list", T, val_list, "list file of the validation split"),
    RN_K_PATH("class_names", T, class_names, "display names, one per line"),
    RN_K_INT("size", T, size, 1, 4096, "output side: batches are `(N, 3, size, size)` float32"),
    RN_K_INT("resize", T, resize, 0, 8192,
             "evaluation: shorter side resized to this, then centre crop `size` (must be ≥ `size`); 0 = round(`size` / `crop_pct`)"),
    {.name = "crop_pct", .type = RN_KEY_DOUBLE, .off = RN_FIELD(T, crop_pct, double), .lo = 0, .hi = 1,
     .flags = RN_KEY_LO_OPEN, .doc = "evaluation crop fraction when `resize` is 0 (0.875: 224 of 256, torchvision's and timm's)"},
    RN_K_INT("val_size", T, val_size, 0, 4096,
             "evaluation side (FixRes: e.g. train at `size` 176, evaluate at 224); 0 = `size`"),
    RN_K_INT("val_resize", T, val_resize, 0, 8192,
             "evaluation resize at `val_size` (must be ≥ it); 0 = round(`val_size` / `crop_pct`). Only with `val_size`"),
    RN_K_INT("repeated_aug", T, repeated_aug, 1, 64,
             "repeated augmentation (RA sampler): each image K times per epoch, the epoch kept at the dataset's length; 1 = off"),
    RN_K_INT("batch_size", T, batch_size, 1, 1 << 20, "samples per batch on each rank"),
    RN_K_INT("workers", T, workers, 0, 256, "decoding threads; 0 decodes in the caller's thread"),
    RN_K_INT("prefetch", T, prefetch, 2, 1024, "batch slots in the loader's ring; memory is `prefetch × batch_size × 3 × size² × 4` bytes"),
    RN_K_INT("max_file_mb", T, max_file_mb, 1, 4096, "image files larger than this (MiB) are skipped and counted, not read"),
    RN_K_U64("seed", T, seed, "epoch order and augmentation come from (seed, epoch, index)"),
    RN_K_BOOL("shuffle", T, shuffle, "shuffle the training order every epoch"),
    RN_K_BOOL("drop_last", T, drop_last, "training drops the last partial batch (evaluation always keeps it)"),
    RN_K_FLOATS("mean", T, mean, -INFINITY, INFINITY, 0, "RGB mean of pixels in [0, 1]: x ← (x − mean) / std (torchvision model cards)"),
    RN_K_FLOATS("std", T, std, 0, INFINITY, RN_KEY_LO_OPEN, "RGB standard deviation of the normalisation"),
};

static const char *const auto_names[] = {"none", "trivialaugment", "randaugment", NULL};

#define ALIAS(K, f, D)                                                                                        \
    {.name = K, .type = RN_KEY_DOUBLE, .off = RN_FIELD(T, f, double), .lo = 0, .hi = INFINITY,                \
     .flags = RN_KEY_ALIAS | RN_KEY_LO_OPEN, .doc = D}
static const rn_key augment_keys[] = {
    RN_K_BOOL("flip", T, flip, "horizontal flip with p = 0.5"),
    RN_K_DOUBLES("scale", T, scale_min, 2, 0, INFINITY, RN_KEY_LO_OPEN | RN_KEY_ORDERED,
                 "RandomResizedCrop area fraction, lo, hi (≤ 1)"),
    ALIAS("scale_min", scale_min, "the first value of `scale`"),
    ALIAS("scale_max", scale_max, "the second value of `scale`"),
    RN_K_DOUBLES("ratio", T, ratio_min, 2, 0, INFINITY, RN_KEY_LO_OPEN | RN_KEY_ORDERED,
                 "RandomResizedCrop aspect ratio w/h, lo, hi; fractions such as `3/4, 4/3` are accepted"),
    ALIAS("ratio_min", ratio_min, "the first value of `ratio`"),
    ALIAS("ratio_max", ratio_max, "the second value of `ratio`"),
    RN_K_DOUBLE("brightness", T, brightness, 0, INFINITY, "ColorJitter strength s: factor uniform in [max(0, 1 − s), 1 + s]; 0 = off"),
    RN_K_DOUBLE("contrast", T, contrast, 0, INFINITY, "ColorJitter contrast strength, as `brightness`; 0 = off"),
    RN_K_DOUBLE("saturation", T, saturation, 0, INFINITY, "ColorJitter saturation strength, as `brightness`; 0 = off"),
    RN_K_DOUBLE("lighting", T, lighting, 0, INFINITY, "AlexNet PCA lighting noise std (0.1 in the AlexNet / fb.resnet.torch recipe); 0 = off"),
    RN_K_INT("pad_crop", T, pad_crop, 0, 1024,
             "> 0: small images — pad this many pixels (black) and random-crop `size` instead of RandomResizedCrop"),
    RN_K_CHOICE("auto", T, auto_aug, auto_names,
                "`trivialaugment` (TrivialAugmentWide) or `randaugment`: torchvision's ops on the 8-bit crop, after crop and flip"),
    RN_K_INT("randaugment_n", T, randaugment_n, 1, RN_AUGMENT_MAX_OPS, "RandAugment: operations per image (torchvision's `num_ops`)"),
    RN_K_INT("randaugment_m", T, randaugment_m, 0, 30, "RandAugment: magnitude bin of 31 (torchvision's `magnitude`)"),
    RN_K_DOUBLE("random_erasing", T, random_erasing, 0, 1,
                "RandomErasing probability after normalisation (scale 0.02–0.33, ratio 0.3–3.3, normal noise); 0 = off"),
    RN_K_DOUBLE("mixup_alpha", T, mixup_alpha, 0, INFINITY, "mixup: λ ~ Beta(α, α), the batch mixed with itself reversed (timm); 0 = off"),
    RN_K_DOUBLE("cutmix_alpha", T, cutmix_alpha, 0, INFINITY,
                "cutmix: a box of area 1 − λ, λ ~ Beta(α, α), pasted from the reversed batch, λ set to the pasted area; 0 = off"),
    RN_K_DOUBLE("mix_prob", T, mix_prob, 0, 1, "probability that a batch is mixed (mixup or cutmix)"),
    RN_K_DOUBLE("mix_switch_prob", T, mix_switch_prob, 0, 1, "with both alphas > 0: probability of cutmix instead of mixup"),
};
#undef ALIAS
#undef T

const rn_section rn_data_section = RN_SECTION("data", data_keys, "The input pipeline (docs/DATA.md).");
const rn_section rn_augment_section = RN_SECTION("augment", augment_keys, "Training augmentation (docs/DATA.md).");

int rn_data_opts_set(rn_data_opts *o, const char *section, const char *key, const char *value,
                     rn_err *err) {
    if (!strcmp(section, "data")) return rn_section_set(&rn_data_section, o, key, value, err);
    if (!strcmp(section, "augment")) return rn_section_set(&rn_augment_section, o, key, value, err);
    return rn_fail(err, "section [%s] is not a data section", section);
}

int rn_data_opts_check(const rn_data_opts *o, rn_err *err) {
    if (o->size < 1 || o->batch_size < 1 || o->workers < 0 || o->prefetch < 2)
        return rn_fail(err, "[data] size, batch_size must be >= 1, workers >= 0, prefetch >= 2");
    if (!(o->crop_pct > 0 && o->crop_pct <= 1)) return rn_fail(err, "[data] crop_pct = %g: need 0 < crop_pct <= 1", o->crop_pct);
    if (o->resize && o->resize < o->size)
        return rn_fail(err, "[data] resize = %d is smaller than size = %d", o->resize, o->size);
    if (o->val_resize && !o->val_size) return rn_fail(err, "[data] val_resize needs val_size");
    if (o->val_resize && o->val_resize < o->val_size)
        return rn_fail(err, "[data] val_resize = %d is smaller than val_size = %d", o->val_resize, o->val_size);
    if (o->val_size) {
        rn_data_opts v = rn_data_val_opts(o);
        if (rn_data_resize(&v) > 8192)
            return rn_fail(err, "[data] val_size / crop_pct = %d is over 8192: set val_resize", rn_data_resize(&v));
    }
    if (rn_data_resize(o) > 8192)
        return rn_fail(err, "[data] size / crop_pct = %d is over 8192: set resize", rn_data_resize(o));
    if (!(o->scale_min > 0) || o->scale_min > o->scale_max || o->scale_max > 1)
        return rn_fail(err, "[augment] scale %g..%g: need 0 < scale_min <= scale_max <= 1",
                       o->scale_min, o->scale_max);
    if (!(o->ratio_min > 0) || o->ratio_min > o->ratio_max)
        return rn_fail(err, "[augment] ratio %g..%g: need 0 < ratio_min <= ratio_max",
                       o->ratio_min, o->ratio_max);
    for (int c = 0; c < 3; c++)
        if (!(o->std[c] > 0)) return rn_fail(err, "[data] std must be positive");
    if (o->auto_aug < RN_AUTO_NONE || o->auto_aug > RN_AUTO_RAND)
        return rn_fail(err, "[augment] auto = %d: need none, trivialaugment or randaugment", o->auto_aug);
    if (o->randaugment_n < 1 || o->randaugment_n > RN_AUGMENT_MAX_OPS || o->randaugment_m < 0 || o->randaugment_m > 30)
        return rn_fail(err, "[augment] randaugment_n = %d, randaugment_m = %d: need 1..%d and 0..30",
                       o->randaugment_n, o->randaugment_m, RN_AUGMENT_MAX_OPS);
    if (!(o->random_erasing >= 0 && o->random_erasing <= 1))
        return rn_fail(err, "[augment] random_erasing = %g: need a probability in [0, 1]", o->random_erasing);
    if (o->max_file_mb < 1 || o->max_file_mb > 4096)
        return rn_fail(err, "[data] max_file_mb = %d: need 1..4096", o->max_file_mb);
    return 0;
}

int rn_data_resize(const rn_data_opts *o) {
    if (o->resize > 0) return o->resize;
    double r = o->crop_pct > 0 ? round(o->size / o->crop_pct) : o->size;
    return r > 1e6 ? 1000000 : (int)r;
}

rn_data_opts rn_data_val_opts(const rn_data_opts *o) {
    rn_data_opts v = *o;
    if (o->val_size > 0) {
        v.size = o->val_size;
        v.resize = o->val_resize;
        v.val_size = v.val_resize = 0;
    }
    return v;
}

rn_preproc rn_data_preproc(const rn_data_opts *in) {
    const rn_data_opts v = rn_data_val_opts(in), *o = &v;  // what a model is evaluated with
    rn_preproc p;
    memset(&p, 0, sizeof p);
    p.size = o->size;
    p.resize = rn_data_resize(o);
    p.crop_pct = o->resize > 0 ? (double)o->size / o->resize : o->crop_pct;
    memcpy(p.mean, o->mean, sizeof p.mean);
    memcpy(p.std, o->std, sizeof p.std);
    return p;
}

void rn_data_set_preproc(rn_data_opts *o, const rn_preproc *p) {
    o->size = p->size;
    o->resize = p->resize;
    o->crop_pct = p->crop_pct;
    memcpy(o->mean, p->mean, sizeof o->mean);
    memcpy(o->std, p->std, sizeof o->std);
}
