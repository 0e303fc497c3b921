// schedule.h — learning-rate schedules as pure functions of the optimiser step, so a resumed run
// needs nothing but the step count to continue the curve.
//
// Progress is measured in epochs: t = step / steps_per_epoch (per-step resolution) or
// floor(step / steps_per_epoch) (per-epoch resolution, torchvision's default). With E epochs and
// W warm-up epochs, u = clamp((t - W) / (E - W), 0, 1):
//   constant   lr = base
//   step       lr = base * gamma^floor(t / step_size)
//   multistep  lr = base * gamma^(number of milestones <= t)          (milestones in epochs)
//   cosine     lr = min + (base - min) * (1 + cos(pi u)) / 2           (torch CosineAnnealingLR)
//   poly       lr = min + (base - min) * (1 - u)^power                  (torch PolynomialLR)
//   linear     lr = min + (base - min) * (1 - u)
//   onecycle   torch OneCycleLR (cosine, two phases) over E epochs: base / div_factor rising to base
//              during pct_start of the run, then falling to base / (div_factor * final_div_factor);
//              momentum is not cycled. Takes no separate warm-up.
// Warm-up (all but onecycle): while t < W the value is multiplied by f + (1 - f) t / W, f = warmup_factor
// (torch LinearLR with start_factor f).
#ifndef RN_OPTIM_SCHEDULE_H
#define RN_OPTIM_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#define RN_SCHED_MAX_MILESTONES 16

typedef enum rn_sched_type {
    RN_SCHED_CONSTANT,
    RN_SCHED_STEP,
    RN_SCHED_MULTISTEP,
    RN_SCHED_COSINE,
    RN_SCHED_POLY,
    RN_SCHED_LINEAR,
    RN_SCHED_ONECYCLE,
} rn_sched_type;

typedef struct rn_sched_opts {
    int type;               // rn_sched_type; step
    double warmup_epochs;   // 0; may be fractional
    double warmup_factor;   // 0.01: the first step's lr is base * warmup_factor
    int step_size;          // 30 (step)
    double gamma;           // 0.1 (step, multistep)
    int milestones[RN_SCHED_MAX_MILESTONES];  // 30, 60, 80 (multistep)
    int n_milestones;
    double power;           // 2 (poly)
    double min_lr;          // 0 (cosine, poly, linear)
    int per_step;           // 1: a new value every optimiser step; 0: once per epoch
    double pct_start;       // 0.3 (onecycle)
    double div_factor;      // 25 (onecycle)
    double final_div_factor;// 1e4 (onecycle)
} rn_sched_opts;

// Inline so that the config reader (rn_model) needs no link to optim/.
static inline rn_sched_opts rn_sched_opts_default(void) {
    rn_sched_opts o = {.type = RN_SCHED_STEP,
                       .warmup_epochs = 0,
                       .warmup_factor = 0.01,
                       .step_size = 30,
                       .gamma = 0.1,
                       .milestones = {30, 60, 80},
                       .n_milestones = 3,
                       .power = 2.0,
                       .min_lr = 0,
                       .per_step = 1,
                       .pct_start = 0.3,
                       .div_factor = 25,
                       .final_div_factor = 1e4};
    return o;
}
const char *rn_sched_type_name(int type);
// NULL-terminated, in rn_sched_type order (in the header so the config reader needs no link to optim/).
static const char *const rn_sched_type_names[] = {"constant", "step", "multistep", "cosine", "poly", "linear",
                                                  "onecycle", NULL};

// The learning rate of optimiser step `step` (0-based, counted over the whole run) for a run of
// `epochs` epochs of `steps_per_epoch` steps each, peak `base`.
double rn_sched_lr(const rn_sched_opts *o, double base, int64_t step, int64_t steps_per_epoch, int epochs);

#endif
