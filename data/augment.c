// augment.c — TrivialAugment / RandAugment policies (magnitude tables, sampling), the 8-bit stage
// of the training pipeline, and random erasing; the operations are in augment_ops.c.
#include <math.h>
#include <string.h>

#include "data/augment.h"

// torch.linspace(start, end, n) in float32 as torch 1.13 computes it on an AVX2 CPU (Debian's
// python3-torch; tests/test_data_augment.c compares every table with it): step = (end - start) /
// (n - 1) in float; the first half from start, the second from end (start + step i, end - step
// (n - 1 - i), each one fused multiply-add), except that the vectorised loop fills blocks of 16 as
// two vectors of 8 lanes, lane k being the block's first value + float(k step). Which values are
// one ulp apart decides, for instance, whether int() of a translation is 15 or 16 pixels.
static void linspace(double start, double end, int n, float *out) {
    float s = (float)start, e = (float)end, step = (e - s) / (float)(n - 1);
    int half = n / 2, i = 0;
    for (; i + 16 <= n; i += 16)
        for (int b = i; b < i + 16; b += 8) {
            float base = b < half ? fmaf(step, (float)b, s) : fmaf(-step, (float)(n - b - 1), e);
            out[b] = base;
            for (int k = 1; k < 8; k++) out[b + k] = base + (float)k * step;
        }
    for (; i < n; i++) out[i] = i < half ? fmaf(step, (float)i, s) : fmaf(-step, (float)(n - i - 1), e);
}

int rn_aa_magnitudes(int policy, int op, int w, int h, float mags[RN_AA_BINS], int *is_signed) {
    const int wide = policy == RN_AUTO_TRIVIAL, n = RN_AA_BINS;
    *is_signed = op >= RN_AA_SHEAR_X && op <= RN_AA_SHARPNESS;
    switch (op) {
    case RN_AA_SHEAR_X:
    case RN_AA_SHEAR_Y: linspace(0, wide ? 0.99 : 0.3, n, mags); break;
    case RN_AA_TRANSLATE_X: linspace(0, wide ? 32.0 : 150.0 / 331.0 * w, n, mags); break;
    case RN_AA_TRANSLATE_Y: linspace(0, wide ? 32.0 : 150.0 / 331.0 * h, n, mags); break;
    case RN_AA_ROTATE: linspace(0, wide ? 135.0 : 30.0, n, mags); break;
    case RN_AA_BRIGHTNESS:
    case RN_AA_COLOR:
    case RN_AA_CONTRAST:
    case RN_AA_SHARPNESS: linspace(0, wide ? 0.99 : 0.9, n, mags); break;
    case RN_AA_POSTERIZE:  // 8 - (arange(n) / ((n - 1) / 6 or 4)).round(): float32, half to even
        for (int k = 0; k < n; k++)
            mags[k] = 8.0f - nearbyintf((float)k / (float)((n - 1) / (wide ? 6.0 : 4.0)));
        break;
    case RN_AA_SOLARIZE: linspace(255.0, 0.0, n, mags); break;
    default: return 0;  // identity, auto-contrast, equalize
    }
    return n;
}

int rn_aa_sample(rn_rng *r, int policy, int n, int m, int w, int h, rn_aa_choice *out) {
    if (policy != RN_AUTO_TRIVIAL && policy != RN_AUTO_RAND) return 0;
    int count = policy == RN_AUTO_TRIVIAL ? 1 : n < 0 ? 0 : n > RN_AA_MAX_OPS ? RN_AA_MAX_OPS : n;
    m = m < 0 ? 0 : m >= RN_AA_BINS ? RN_AA_BINS - 1 : m;
    for (int i = 0; i < count; i++) {
        float mags[RN_AA_BINS];
        int sgn, op = (int)rn_rng_below(r, RN_AA_N_OPS);
        int nb = rn_aa_magnitudes(policy, op, w, h, mags, &sgn);
        double mag = 0.0;
        if (nb) mag = mags[policy == RN_AUTO_TRIVIAL ? (int)rn_rng_below(r, (uint32_t)nb) : m];
        if (sgn && rn_rng_below(r, 2)) mag = -mag;
        out[i] = (rn_aa_choice){op, mag};
    }
    return count;
}

void rn_autoaug_crop(float *chw, int size, const rn_data_opts *o, rn_rng *r, uint8_t *buf) {
    if (o->auto_aug == RN_AUTO_NONE) return;
    size_t n = 3 * (size_t)size * (size_t)size;
    uint8_t *px = buf, *tmp = buf + n;
    for (size_t i = 0; i < n; i++) {  // to nearest (halves up); the values are in [0, 1]
        float v = chw[i] * 255.0f + 0.5f;
        px[i] = (uint8_t)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : v);
    }
    rn_aa_choice ops[RN_AA_MAX_OPS];
    int k = rn_aa_sample(r, o->auto_aug, o->randaugment_n, o->randaugment_m, size, size, ops);
    for (int i = 0; i < k; i++) rn_aa_apply(px, size, size, ops[i].op, ops[i].magnitude, tmp);
    for (size_t i = 0; i < n; i++) chw[i] = (float)px[i] / 255.0f;  // ConvertImageDtype: x / 255
}

// Python's int(round(x)): half to even.
static int round_even(double x) { return x >= 2e9 ? 2000000000 : (int)nearbyint(x); }

int rn_erase_box(rn_rng *r, int W, int H, double smin, double smax, double rmin, double rmax,
                 int box[4]) {
    double area = (double)W * H, l0 = log(rmin), l1 = log(rmax);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * rn_rng_range(r, smin, smax);
        double ratio = exp(rn_rng_range(r, l0, l1));
        int h = round_even(sqrt(target * ratio)), w = round_even(sqrt(target / ratio));
        if (!(h < H && w < W)) continue;
        int y = (int)rn_rng_below(r, (uint32_t)(H - h + 1));
        int x = (int)rn_rng_below(r, (uint32_t)(W - w + 1));
        box[0] = x, box[1] = y, box[2] = w, box[3] = h;
        return 1;
    }
    return 0;
}

int rn_random_erasing(rn_rng *r, float *chw, int w, int h, double p) {
    if (!(p > 0) || w < 1 || h < 1) return 0;  // no draw at all: the stream stays as without
    if (rn_rng_uniform(r) >= p) return 0;
    int b[4];
    if (!rn_erase_box(r, w, h, 0.02, 0.33, 0.3, 3.3, b)) return 0;
    // Standard normals, both values of each pair of Marsaglia's polar method (a box holds up to
    // 50,000 of them; no trigonometry), the two uniforms from one 64-bit draw.
    float spare = 0;
    int have = 0;
    for (int c = 0; c < 3; c++)
        for (int y = b[1]; y < b[1] + b[3]; y++) {
            float *row = chw + ((size_t)c * h + y) * w + b[0];
            for (int x = 0; x < b[2]; x++) {
                if (have) {
                    row[x] = spare, have = 0;
                    continue;
                }
                double u, v, s;
                do {
                    uint64_t k = rn_rng_u64(r);
                    u = (double)(uint32_t)k * 0x1p-31 - 1.0, v = (double)(k >> 32) * 0x1p-31 - 1.0;
                    s = u * u + v * v;
                } while (s >= 1.0 || s == 0.0);
                double f = sqrt(-2.0 * log(s) / s);
                row[x] = (float)(u * f), spare = (float)(v * f), have = 1;
            }
        }
    return 1;
}
