// sgd.h — stochastic gradient descent with momentum, as PyTorch's torch.optim.SGD (dampening 0):
//     d = g + wd * w;   v = m * v + d;   w -= lr * (nesterov ? d + m * v : v)
// The gradient g is the batch mean (the loss is averaged over the batch). Weight decay may be set
// apart for BatchNormalization scale/shift ("norm") and for biases, as torchvision's
// --norm-weight-decay / --bias-weight-decay (0 exempts them).
//
// LARS (type = RN_OPT_LARS; You, Gitman, Ginsburg 2017, "Large Batch Training of Convolutional
// Networks", arXiv:1708.03888, Algorithm 1; used for ImageNet in minutes, You et al. 2018): per
// tensor a local learning rate from the trust coefficient eta,
//     local = eta * |w| / (|g| + wd * |w|)   (1 when |w| or |g| is 0),
//     v = m * v + lr * local * (g + wd * w);   w -= v
// BatchNormalization scale/shift and Conv/Gemm biases are excluded from both the adaptation and
// the decay (local = 1, wd = 0), as the large-batch recipes do. Nesterov does not apply.
//
// AdamW (type = RN_OPT_ADAMW; Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization",
// arXiv:1711.05101), as PyTorch's torch.optim.AdamW (amsgrad off), at optimiser step t = 1, 2, ...:
//     w *= 1 - lr * wd;   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//     w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// with wd per tensor as for SGD (norm_weight_decay / bias_weight_decay = 0 exempt BatchNormalization
// and biases). m lives in the momentum buffer, v in moment2; t is rn_sgd.t (the trainer sets it to
// the run's step count on resume, so it needs no field of its own in a checkpoint).
//
// Ownership: rn_sgd_create allocates the momentum buffers (one float per arena float, at the
// arena's offsets, so a checkpoint stores them by tensor name); rn_sgd_destroy frees them.
#ifndef RN_OPTIM_SGD_H
#define RN_OPTIM_SGD_H

#include "layers/graph.h"

enum { RN_OPT_SGD = 0, RN_OPT_LARS = 1, RN_OPT_ADAMW = 2 };

typedef struct rn_sgd_opts {
    int type;                  // RN_OPT_SGD, RN_OPT_LARS or RN_OPT_ADAMW
    double trust;              // LARS trust coefficient eta (0.001 in the paper)
    double lr;                 // peak learning rate, for lr_base_batch samples per step when that is set
    int lr_base_batch;         // 0: lr as given; N: lr * (samples per optimiser step) / N (linear scaling)
    double momentum;           // 0.9
    int nesterov;              // 0
    double weight_decay;       // 1e-4, on every trainable tensor unless one of the two below applies
    double norm_weight_decay;  // BatchNormalization scale and shift; < 0: weight_decay
    double bias_weight_decay;  // Conv and Gemm biases; < 0: weight_decay
    double beta1, beta2, eps;  // AdamW: 0.9, 0.999, 1e-8 (PyTorch's defaults)
    double clip_grad_norm;     // 0: off; c > 0: gradients scaled so that their global L2 norm is at most c (optim/step.h)
} rn_sgd_opts;

// Inline so that the config reader (rn_model) needs no link to optim/.
static inline rn_sgd_opts rn_sgd_opts_default(void) {
    rn_sgd_opts o = {.type = RN_OPT_SGD, .trust = 0.001, .lr = 0.1, .lr_base_batch = 0, .momentum = 0.9, .nesterov = 0, .weight_decay = 1e-4,
                     .norm_weight_decay = -1, .bias_weight_decay = -1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                     .clip_grad_norm = 0};
    return o;
}

typedef struct rn_sgd {
    rn_sgd_opts o;
    const rn_graph *g;   // borrowed: the graph whose parameters this optimiser updates
    float *momentum;     // (g->arena_size) momentum buffer v (AdamW: m) at the arena's offsets; trainable PARAMs only
    float *moment2;      // (g->arena_size) AdamW's second moment v; NULL for SGD and LARS
    int64_t t;           // updates taken (AdamW's bias correction)
    float *decay;        // (g->n_tensors) weight decay of each tensor (0 for non-parameters)
    unsigned char *norm_or_bias;  // (g->n_tensors) 1: BatchNormalization scale/shift or a bias (LARS exempts them)
} rn_sgd;

rn_sgd *rn_sgd_create(const rn_graph *g, const rn_sgd_opts *o);
void rn_sgd_destroy(rn_sgd *s);

// The learning rate after linear batch scaling, for `samples` images per optimiser step.
double rn_sgd_scaled_lr(const rn_sgd_opts *o, int64_t samples);

// One update of every trainable parameter of s->g from `grad` (arena offsets: g->grad_arena or an
// accumulation buffer), each gradient first multiplied by grad_scale (1 / accumulated batches).
// Bumps g->version so executors refresh their cached weight layouts.
void rn_sgd_step(rn_sgd *s, rn_graph *g, const float *grad, float grad_scale, double lr);

#endif
