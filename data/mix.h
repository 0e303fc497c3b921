// mix.h — mixup and cutmix over a training batch (timm's Mixup in batch mode).
//
// Per batch, from the stream rn_rng_seed3(seed ^ RN_MIX_SALT, epoch, global batch index): with
// probability mix_prob the batch is mixed, by cutmix with probability mix_switch_prob when both
// alphas are > 0 (else by the one that is), λ ~ Beta(α, α). The batch is mixed with itself reversed
// (sample i with sample n − 1 − i):
//   mixup:  x_i ← λ x_i + (1 − λ) x_{n−1−i}
//   cutmix: a box of side sqrt(1 − λ) × (h, w) centred uniformly, clipped to the image, is pasted
//           from x_{n−1−i}; λ becomes 1 − (pasted area) / (h w) exactly.
// Targets t_i = λ onehot(y_i) + (1 − λ) onehot(y_{n−1−i}); the loss applies label smoothing to them
// ((1 − s) t + s / K, which is timm's smoothing of each one-hot before mixing). A batch left unmixed
// has λ = 1 and one-hot targets.
#ifndef RN_DATA_MIX_H
#define RN_DATA_MIX_H

#include <stdint.h>

#include "data/opts.h"
#include "src/rng.h"

enum { RN_MIX_NONE = 0, RN_MIX_MIXUP = 1, RN_MIX_CUTMIX = 2 };

// What one batch gets; the box is [y0, y1) × [x0, x1) (empty unless cutmix).
typedef struct rn_mix_plan {
    int mode;
    double lam;
    int y0, y1, x0, x1;
} rn_mix_plan;

// 1 when [augment] mixes batches at all (an alpha > 0 and mix_prob > 0).
int rn_mix_enabled(const rn_data_opts *o);

// The plan of global batch `batch` of `epoch` for images h × w: a function of its arguments only.
rn_mix_plan rn_mix_draw(const rn_data_opts *o, int64_t epoch, int64_t batch, int h, int w);

// Mixes n samples of `views` (3, h, w) images in place per the plan.
void rn_mix_apply(const rn_mix_plan *p, float *data, int n, int views, int h, int w);

// targets (n, K): the soft targets of labels (n) under the plan; dominant (n): the label with the
// larger weight (λ ≥ 0.5 ? y_i : y_{n−1−i}), what the training top-1 is counted against.
void rn_mix_targets(const rn_mix_plan *p, const int32_t *labels, int n, int K, float *targets, int32_t *dominant);

// A Beta(a, a) draw (a > 0) from r: the ratio of two Gamma(a) draws (Marsaglia and Tsang).
double rn_beta_sym(rn_rng *r, double a);

#endif
