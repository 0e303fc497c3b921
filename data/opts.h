// opts.h — every setting of the input pipeline, as read from the INI's [data] and [augment]
// sections. The keys are documented in docs/DATA.md.
#ifndef RN_DATA_OPTS_H
#define RN_DATA_OPTS_H

#include <stdint.h>

#include "src/common.h"
#include "src/config_table.h"
#include "src/model_meta.h"

#define RN_DATA_PATH_MAX 1024

// A plain value struct: copy it freely, nothing inside needs freeing.
typedef struct rn_data_opts {
    // [data]
    char train_dir[RN_DATA_PATH_MAX];    // class folders; "" = not set
    char val_dir[RN_DATA_PATH_MAX];
    char train_list[RN_DATA_PATH_MAX];   // "relative/path label" lines; used instead of the folder
    char val_list[RN_DATA_PATH_MAX];
    char class_names[RN_DATA_PATH_MAX];  // one display name per line
    int size;          // output side: batches are (N, 3, size, size)
    int resize;        // evaluation: shorter side resized to this, then centre crop `size`; 0 = auto
    double crop_pct;   // resize = round(size / crop_pct) when resize is 0 (rn_data_resize)
    int batch_size;    // per rank
    int workers;       // decode threads; 0 decodes in the caller's thread
    int prefetch;      // ready/in-flight batches in the queue (>= 2)
    uint64_t seed;     // epoch order and augmentation come from (seed, epoch, index)
    int shuffle;       // training order shuffled per epoch
    int drop_last;     // training drops the last partial batch (evaluation always keeps it)
    int val_size;      // evaluation side (FixRes: train smaller than you test); 0 = size
    int val_resize;    // evaluation resize at val_size; 0 = round(val_size / crop_pct) (with val_size set)
    int repeated_aug;  // training epoch order repeats each image this many times (RA sampler); 1 = off
    int max_file_mb;   // image files larger than this (MiB) are skipped like corrupt ones
    float mean[3];     // normalisation of RGB in [0, 1]: (x - mean) / std
    float std[3];
    // [augment] (training only)
    int flip;                   // random horizontal flip with p = 0.5
    double scale_min, scale_max;  // RandomResizedCrop area fraction
    double ratio_min, ratio_max;  // RandomResizedCrop aspect ratio w/h
    double brightness, contrast, saturation;  // ColorJitter strengths, 0 = off
    double lighting;            // AlexNet PCA lighting noise std, 0 = off
    int pad_crop;               // > 0: pad this many px and random-crop `size` instead of RRC
    int auto_aug;               // RN_AUTO_*: TrivialAugmentWide / RandAugment on the 8-bit crop
    int randaugment_n, randaugment_m;  // RandAugment's num_ops and magnitude bin (of 31)
    double random_erasing;      // RandomErasing probability after normalisation, 0 = off
    double mixup_alpha, cutmix_alpha;  // Beta(α, α) of mixup / cutmix (data/mix.h); 0 = off
    double mix_prob;            // probability that a batch is mixed at all
    double mix_switch_prob;     // with both alphas > 0: probability of cutmix rather than mixup
    // Evaluation only, no INI key (resnet-eval --tta): test-time augmentation of the eval loader.
    int tta;                    // RN_TTA_NONE: the centre crop; RN_TTA_TEN_CROP: 10 crops per image
} rn_data_opts;

enum { RN_TTA_NONE = 0, RN_TTA_TEN_CROP = 1 };
#define RN_AUGMENT_MAX_OPS 16  // randaugment_n at most
enum { RN_AUTO_NONE = 0, RN_AUTO_TRIVIAL = 1, RN_AUTO_RAND = 2 };  // [augment] auto (data/augment.h)

// Crops an evaluation loader delivers per image: 1, or 10 with ten-crop.
static inline int rn_data_views(const rn_data_opts *o) { return o->tta == RN_TTA_TEN_CROP ? 10 : 1; }

// ImageNet defaults: size 224, resize auto (crop_pct 0.875: 256), batch 256, RRC scale 0.08-1, ratio 3/4-4/3, flip on,
// no jitter, no lighting, no auto-augment or erasing (RandAugment n 2, m 9 when chosen), mean/std of the torchvision model cards.
rn_data_opts rn_data_opts_default(void);

// The keys of [data] and [augment] (src/config_table.h); both set fields of rn_data_opts.
extern const rn_section rn_data_section, rn_augment_section;

// Sets one key of section "data" or "augment". -1 with a message (no file:line: the INI reader
// adds it) for an unknown section or key or a value that does not parse or is out of range.
int rn_data_opts_set(rn_data_opts *o, const char *section, const char *key, const char *value,
                     rn_err *err);

// Checks the constraints between keys (scale_min <= scale_max, resize >= size, ...).
int rn_data_opts_check(const rn_data_opts *o, rn_err *err);

// The evaluation resize: `resize` when set, else round(size / crop_pct).
int rn_data_resize(const rn_data_opts *o);

// The options of the evaluation loader: size = val_size and resize = val_resize when val_size is set.
rn_data_opts rn_data_val_opts(const rn_data_opts *o);

// The evaluation preprocessing of o (what a model file records), and o set to a recorded one.
rn_preproc rn_data_preproc(const rn_data_opts *o);
void rn_data_set_preproc(rn_data_opts *o, const rn_preproc *p);

#endif
