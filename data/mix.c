// mix.c — mixup and cutmix; see mix.h.
#include "data/mix.h"

#include <math.h>
#include <string.h>

#include "src/rng.h"

#define RN_MIX_SALT 0x6d69787570637574ULL  // "mixupcut": the mix stream is apart from the samples'

int rn_mix_enabled(const rn_data_opts *o) {
    return (o->mixup_alpha > 0 || o->cutmix_alpha > 0) && o->mix_prob > 0;
}

// Gamma(a, 1) by Marsaglia and Tsang (2000); a < 1 through Gamma(a + 1) U^(1/a).
static double gamma_draw(rn_rng *r, double a) {
    if (a < 1) {
        double u = rn_rng_uniform(r);
        return gamma_draw(r, a + 1) * pow(u, 1.0 / a);
    }
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = rn_rng_normal(r), v = 1 + c * x;
        if (v <= 0) continue;
        v = v * v * v;
        double u = rn_rng_uniform(r);
        if (u < 1 - 0.0331 * x * x * x * x) return d * v;
        if (u > 0 && log(u) < 0.5 * x * x + d * (1 - v + log(v))) return d * v;
    }
}

double rn_beta_sym(rn_rng *r, double a) {
    if (!(a < 1e12)) return 0.5;  // the limit (sd 1/sqrt(8a)); the draws would overflow to inf / inf
    double g1 = gamma_draw(r, a), g2 = gamma_draw(r, a);
    // Tiny alphas underflow both draws to 0: the limit is a fair coin between 0 and 1.
    if (!(g1 + g2 > 0)) return rn_rng_uniform(r) < 0.5 ? 0.0 : 1.0;
    return g1 / (g1 + g2);
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

rn_mix_plan rn_mix_draw(const rn_data_opts *o, int64_t epoch, int64_t batch, int h, int w) {
    rn_mix_plan p = {.mode = RN_MIX_NONE, .lam = 1.0};
    if (!rn_mix_enabled(o)) return p;
    rn_rng r;
    rn_rng_seed3(&r, o->seed ^ RN_MIX_SALT, (uint64_t)epoch, (uint64_t)batch);
    if (!(rn_rng_uniform(&r) < o->mix_prob)) return p;
    int cut = o->cutmix_alpha > 0 && o->mixup_alpha > 0 ? rn_rng_uniform(&r) < o->mix_switch_prob : o->cutmix_alpha > 0;
    if (!cut) {
        p.mode = RN_MIX_MIXUP;
        p.lam = rn_beta_sym(&r, o->mixup_alpha);
        return p;
    }
    // timm's rand_bbox: cut sides int(side × sqrt(1 − λ)), centre uniform over the pixels, clipped.
    double lam = rn_beta_sym(&r, o->cutmix_alpha), rat = sqrt(1 - lam);
    int ch = (int)(h * rat), cw = (int)(w * rat);
    int cy = (int)rn_rng_below(&r, (uint32_t)h), cx = (int)rn_rng_below(&r, (uint32_t)w);
    p.mode = RN_MIX_CUTMIX;
    p.y0 = clampi(cy - ch / 2, 0, h), p.y1 = clampi(cy + ch / 2, 0, h);
    p.x0 = clampi(cx - cw / 2, 0, w), p.x1 = clampi(cx + cw / 2, 0, w);
    p.lam = 1.0 - (double)(p.y1 - p.y0) * (double)(p.x1 - p.x0) / ((double)h * (double)w);
    return p;
}

void rn_mix_apply(const rn_mix_plan *p, float *data, int n, int views, int h, int w) {
    if (p->mode == RN_MIX_NONE) return;
    const size_t img = (size_t)h * (size_t)w, per = 3 * img * (size_t)views;
    const float a = (float)p->lam, b = (float)(1.0 - p->lam);
    // Pairs (i, n − 1 − i) are mixed together, each from both originals, so in place is safe; the
    // middle sample of an odd batch is its own partner.
    for (int i = 0; i <= (n - 1) / 2; i++) {
        float *x = data + (size_t)i * per, *y = data + (size_t)(n - 1 - i) * per;
        if (p->mode == RN_MIX_MIXUP) {
            for (size_t k = 0; k < per; k++) {
                float u = x[k], v = y[k];
                x[k] = a * u + b * v;
                y[k] = a * v + b * u;
            }
            continue;
        }
        if (x == y) continue;  // cutmix of a sample with itself changes nothing
        for (size_t c = 0; c < 3 * (size_t)views; c++)
            for (int r = p->y0; r < p->y1; r++) {
                float *xr = x + c * img + (size_t)r * w, *yr = y + c * img + (size_t)r * w;
                for (int q = p->x0; q < p->x1; q++) {
                    float t = xr[q];
                    xr[q] = yr[q];
                    yr[q] = t;
                }
            }
    }
}

void rn_mix_targets(const rn_mix_plan *p, const int32_t *labels, int n, int K, float *t, int32_t *dominant) {
    memset(t, 0, (size_t)n * (size_t)K * sizeof(float));
    for (int i = 0; i < n; i++) {
        int32_t y = labels[i], z = labels[n - 1 - i];
        float *row = t + (size_t)i * (size_t)K;
        row[y] += (float)p->lam;
        row[z] += (float)(1.0 - p->lam);
        dominant[i] = p->lam >= 0.5 ? y : z;
    }
}
