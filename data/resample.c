// resample.c — PIL's antialiased bilinear resize (Image.resize(size, BILINEAR), what
// torchvision's Resize does to a PIL image), reproduced to the bit for the evaluation transform;
// see rn_resample_pil in transform.h.
//
// PIL's algorithm (libImaging/Resample.c, described here from its documented behaviour):
// separable, the horizontal pass first into an 8-bit intermediate image, then the vertical pass.
// Along an axis scaled from n_in to n_out, scale = n_in / n_out and the triangle filter is
// widened by max(scale, 1): output pixel i (centre c = (i + 0.5) * scale in input coordinates)
// takes input pixels [xmin, xmax) with xmin = (int)(c - support + 0.5) clamped to 0, xmax =
// (int)(c + support + 0.5) clamped to n_in, support = max(scale, 1); pixel x weighs
// tri((x - c + 0.5) / max(scale, 1)), weights divided by their sum, then rounded to fixed point
// with 22 fraction bits (round half away from zero); a sum starts at 2^21 (rounding) and the
// result is sum >> 22 clamped to [0, 255].
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/transform.h"

#define PREC 22  // PIL's PRECISION_BITS for 8-bit images: 32 - 8 - 2

static double tri(double x) {
    if (x < 0) x = -x;
    return x < 1 ? 1 - x : 0;
}

// Taps for n_out output pixels, the first being pixel `first` of the resized axis (mirrored when
// `mirror`): bounds[2k] = xmin, bounds[2k + 1] = tap count (0 for padding, outside [0, n_rs)),
// coef[k * ks ...] the fixed-point weights. ks = taps per pixel, from taps_per_pixel.
static int taps_per_pixel(int n_in, int n_rs) {
    double scale = (double)n_in / n_rs, fs = scale < 1 ? 1 : scale;
    return (int)ceil(fs) * 2 + 1;
}

static void axis_coeffs(int n_in, int n_rs, int first, int n_out, int mirror, int ks,
                        int *bounds, int32_t *coef, double *tmp) {
    double scale = (double)n_in / n_rs, fs = scale < 1 ? 1 : scale, support = fs, ss = 1.0 / fs;
    for (int k = 0; k < n_out; k++) {
        int i = first + (mirror ? n_out - 1 - k : k);
        int32_t *c = coef + (size_t)k * ks;
        memset(c, 0, (size_t)ks * sizeof *c);
        if (i < 0 || i >= n_rs) {
            bounds[2 * k] = 0, bounds[2 * k + 1] = 0;
            continue;
        }
        double center = (i + 0.5) * scale, ww = 0;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > n_in) xmax = n_in;
        int n = xmax - xmin;
        if (n > ks) n = ks;  // cannot happen (support <= ks / 2); keeps the table in bounds
        for (int x = 0; x < n; x++) ww += tmp[x] = tri((x + xmin - center + 0.5) * ss);
        for (int x = 0; x < n; x++) {
            double w = ww != 0 ? tmp[x] / ww : tmp[x];
            c[x] = (int32_t)(w < 0 ? -0.5 + w * (1 << PREC) : 0.5 + w * (1 << PREC));
        }
        bounds[2 * k] = xmin, bounds[2 * k + 1] = n;
    }
}

static uint8_t clip8(int32_t v) {
    v >>= PREC;  // arithmetic shift of a negative sum (not reachable: weights are >= 0) stays < 0
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Plain malloc, grown as needed: a sample whose tables do not fit is skipped by the caller.
static int reserve(void **p, size_t *cap, size_t n) {
    if (n <= *cap) return 0;
    free(*p);
    *p = malloc(n);
    *cap = *p ? n : 0;
    return *p ? 0 : -1;
}

int rn_resample_pil(const rn_image *img, const rn_plan *p, float *out, rn_xform_ws *ws) {
    int ow = p->out_w, oh = p->out_h, W = img->w, H = img->h;
    size_t plane = (size_t)ow * (size_t)oh;
    if (ow < 1 || oh < 1) return 0;
    memset(out, 0, 3 * plane * sizeof(float));
    if (W < 1 || H < 1 || p->rw < 1 || p->rh < 1) return 0;  // nothing to sample: black
    int kx = taps_per_pixel(W, p->rw), ky = taps_per_pixel(H, p->rh);
    int kmax = kx > ky ? kx : ky;
    rn_pil_ws *t = &ws->pil;
    if (reserve((void **)&t->cx, &t->cx_cap, (size_t)ow * kx * sizeof(int32_t)) ||
        reserve((void **)&t->cy, &t->cy_cap, (size_t)oh * ky * sizeof(int32_t)) ||
        reserve((void **)&t->bx, &t->bx_cap, 2 * (size_t)ow * sizeof(int)) ||
        reserve((void **)&t->by, &t->by_cap, 2 * (size_t)oh * sizeof(int)) ||
        reserve((void **)&t->tmp, &t->tmp_cap, (size_t)kmax * sizeof(double)))
        return -1;
    axis_coeffs(W, p->rw, p->ix, ow, p->flip, kx, t->bx, t->cx, t->tmp);
    axis_coeffs(H, p->rh, p->iy, oh, 0, ky, t->by, t->cy, t->tmp);
    // Source rows the vertical pass reads: [y0, y1).
    int y0 = H, y1 = 0;
    for (int k = 0; k < oh; k++)
        if (t->by[2 * k + 1] > 0) {
            if (t->by[2 * k] < y0) y0 = t->by[2 * k];
            if (t->by[2 * k] + t->by[2 * k + 1] > y1) y1 = t->by[2 * k] + t->by[2 * k + 1];
        }
    if (y1 <= y0) return 0;  // every row is padding
    // Horizontal pass into the 8-bit intermediate (rows y0 .. y1, ow columns, RGB), as PIL.
    // 32-bit sums as PIL's: at most 255 * 2^22 plus rounding, below 2^31.
    size_t mid_row = (size_t)ow * 3;
    if (reserve((void **)&t->mid, &t->mid_cap, (size_t)(y1 - y0) * mid_row) ||
        reserve((void **)&t->acc, &t->acc_cap, mid_row * sizeof(int32_t)))
        return -1;
    for (int y = y0; y < y1; y++) {
        const uint8_t *row = img->px + (size_t)y * W * 3;
        uint8_t *m = t->mid + (size_t)(y - y0) * mid_row;
        for (int k = 0; k < ow; k++) {
            int xmin = t->bx[2 * k], n = t->bx[2 * k + 1];
            const int32_t *c = t->cx + (size_t)k * kx;
            const uint8_t *px = row + 3 * (size_t)xmin;
            int32_t s0 = 1 << (PREC - 1), s1 = s0, s2 = s0;
            for (int x = 0; x < n; x++, px += 3)
                s0 += px[0] * c[x], s1 += px[1] * c[x], s2 += px[2] * c[x];
            m[3 * k] = clip8(s0), m[3 * k + 1] = clip8(s1), m[3 * k + 2] = clip8(s2);
        }
    }
    // Vertical pass, a whole output row at a time (contiguous, so the compiler vectorises it);
    // padding rows and columns (no taps) stay 0.
    const float inv = 1.0f / 255.0f;
    int32_t *acc = t->acc;
    for (int k = 0; k < oh; k++) {
        int ymin = t->by[2 * k], n = t->by[2 * k + 1];
        if (!n) continue;
        const int32_t *c = t->cy + (size_t)k * ky;
        for (size_t j = 0; j < mid_row; j++) acc[j] = 1 << (PREC - 1);
        for (int y = 0; y < n; y++) {
            const uint8_t *m = t->mid + (size_t)(ymin + y - y0) * mid_row;
            int32_t cy = c[y];
            for (size_t j = 0; j < mid_row; j++) acc[j] += m[j] * cy;
        }
        for (int dx = 0; dx < ow; dx++) {
            if (!t->bx[2 * dx + 1]) continue;
            for (int ch = 0; ch < 3; ch++)
                out[ch * plane + (size_t)k * ow + dx] = clip8(acc[3 * dx + ch]) * inv;
        }
    }
    return 0;
}

void rn_pil_ws_free(rn_pil_ws *t) {
    free(t->cx), free(t->cy), free(t->bx), free(t->by), free(t->tmp), free(t->mid), free(t->acc);
    memset(t, 0, sizeof *t);
}
