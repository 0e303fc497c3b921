// schedule.c — learning-rate schedules; see schedule.h for the formulas.
#include "optim/schedule.h"

#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

const char *rn_sched_type_name(int type) {
    return type >= 0 && type <= RN_SCHED_ONECYCLE ? rn_sched_type_names[type] : "?";
}

// From `from` at pct = 0 to `to` at pct = 1 along half a cosine (torch OneCycleLR's _annealing_cos).
static double anneal_cos(double from, double to, double pct) { return to + (from - to) / 2 * (1 + cos(M_PI * pct)); }

static double onecycle(const rn_sched_opts *o, double base, double step, double total) {
    double lo = base / o->div_factor, end = lo / o->final_div_factor;
    double up = o->pct_start * total - 1, last = total - 1;  // torch: phase ends at these step indices
    if (step <= up) return anneal_cos(lo, base, up > 0 ? step / up : 1);
    if (step >= last) return end;
    return anneal_cos(base, end, (step - up) / (last - up));
}

double rn_sched_lr(const rn_sched_opts *o, double base, int64_t step, int64_t steps_per_epoch, int epochs) {
    if (steps_per_epoch < 1) steps_per_epoch = 1;
    double t = o->per_step ? (double)step / (double)steps_per_epoch : (double)(step / steps_per_epoch);
    if (o->type == RN_SCHED_ONECYCLE) {
        double s = o->per_step ? (double)step : (double)(step / steps_per_epoch * steps_per_epoch);
        return onecycle(o, base, s, (double)steps_per_epoch * epochs);
    }
    double W = o->warmup_epochs, E = epochs;
    double u = E > W ? (t - W) / (E - W) : 1;
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    double lr = base;
    switch (o->type) {
    case RN_SCHED_STEP: lr = base * pow(o->gamma, floor(t / o->step_size)); break;
    case RN_SCHED_MULTISTEP: {
        int k = 0;
        for (int i = 0; i < o->n_milestones; i++) k += t >= o->milestones[i];
        lr = base * pow(o->gamma, k);
        break;
    }
    case RN_SCHED_COSINE: lr = o->min_lr + (base - o->min_lr) * (1 + cos(M_PI * u)) / 2; break;
    case RN_SCHED_POLY: lr = o->min_lr + (base - o->min_lr) * pow(1 - u, o->power); break;
    case RN_SCHED_LINEAR: lr = o->min_lr + (base - o->min_lr) * (1 - u); break;
    default: break;
    }
    if (t < W) lr *= o->warmup_factor + (1 - o->warmup_factor) * t / W;
    return lr;
}
