// transform.c — crop geometry, bilinear resampling, colour jitter, PCA lighting, normalisation.
#include "data/transform.h"

#include "data/augment.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// double -> int saturated to the int range, NaN -> 0. Image sizes come from files and ratios from
// configs; converting an out-of-range double to int is undefined behaviour, so no cast below is
// left to chance.
static int to_int(double x) {
    if (!(x == x)) return 0;
    if (x >= (double)INT_MAX) return INT_MAX;
    if (x <= (double)INT_MIN) return INT_MIN;
    return (int)x;
}

// Python's round(): half to even (nearbyint under the default rounding mode).
static int round_even(double x) { return to_int(nearbyint(x)); }

void rn_rrc_box(rn_rng *r, int W, int H, double smin, double smax, double rmin, double rmax,
                int box[4]) {
    if (W < 1 || H < 1) {  // no image to crop from: a 1 x 1 box, never an empty one
        box[0] = box[1] = 0, box[2] = box[3] = 1;
        return;
    }
    double area = (double)W * H, lr0 = log(rmin), lr1 = log(rmax);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * rn_rng_range(r, smin, smax);
        double aspect = exp(rn_rng_range(r, lr0, lr1));
        int w = round_even(sqrt(target * aspect));
        int h = round_even(sqrt(target / aspect));
        if (w > 0 && w <= W && h > 0 && h <= H) {
            int y = (int)rn_rng_below(r, (uint32_t)(H - h + 1));
            int x = (int)rn_rng_below(r, (uint32_t)(W - w + 1));
            box[0] = x, box[1] = y, box[2] = w, box[3] = h;
            return;
        }
    }
    // Fallback: the whole image, cut to the nearest allowed aspect ratio, centred.
    double in_ratio = (double)W / H;
    int w = W, h = H;
    if (in_ratio < rmin) h = round_even(w / rmin);
    else if (in_ratio > rmax) w = round_even(h * rmax);
    w = w < 1 ? 1 : w > W ? W : w;
    h = h < 1 ? 1 : h > H ? H : h;
    box[0] = (W - w) / 2, box[1] = (H - h) / 2, box[2] = w, box[3] = h;
}

void rn_plan_crop(int W, int H, const int box[4], int size, rn_plan *p) {
    (void)W, (void)H;
    *p = (rn_plan){.out_w = size, .out_h = size, .ox = box[0], .oy = box[1],
                   .sx = (double)box[2] / size, .sy = (double)box[3] / size,
                   .cx0 = box[0], .cy0 = box[1], .cx1 = box[0] + box[2], .cy1 = box[1] + box[3],
                   .vx0 = 0, .vx1 = size, .vy0 = 0, .vy1 = size};
}

// torchvision Resize(int): shorter side -> resize, longer side -> int(resize * long / short).
static void resized_dims(int W, int H, int resize, int *rw, int *rh) {
    if (W < 1) W = 1;  // callers pass decoded sizes (>= 1); this keeps any other input defined
    if (H < 1) H = 1;
    if (W <= H) {
        *rw = resize;
        *rh = to_int((double)resize * H / W);
    } else {
        *rh = resize;
        *rw = to_int((double)resize * W / H);
    }
}

// torchvision CenterCrop's offset of a crop of c pixels along a side of r: round((r - c) / 2),
// half to even; when c > r, it pads (c - r) // 2 zeros before the image and crops at 0.
static int centre_offset(int r, int c) { return c > r ? -((c - r) / 2) : round_even((r - c) / 2.0); }

void rn_plan_eval(int W, int H, int resize, int size, rn_plan *p) {
    int rw, rh;
    resized_dims(W, H, resize, &rw, &rh);
    int left = centre_offset(rw, size), top = centre_offset(rh, size);
    double sx = (double)(W > 1 ? W : 1) / rw, sy = (double)(H > 1 ? H : 1) / rh;
    *p = (rn_plan){.out_w = size, .out_h = size, .ox = left * sx, .oy = top * sy, .sx = sx,
                   .sy = sy, .cx0 = 0, .cy0 = 0, .cx1 = W, .cy1 = H,
                   .vx0 = 0, .vx1 = size, .vy0 = 0, .vy1 = size,
                   .rw = rw, .rh = rh, .ix = left, .iy = top};
}

// The eval plan c with its window moved to (ix, iy) of the resized image, mirrored or not.
static rn_plan with_window(rn_plan c, int ix, int iy, int flip) {
    c.ix = ix, c.iy = iy, c.ox = ix * c.sx, c.oy = iy * c.sy, c.flip = flip;
    return c;
}

void rn_plan_ten_crop(int W, int H, int resize, int size, rn_plan p[RN_TEN_CROP]) {
    rn_plan c;
    rn_plan_eval(W, H, resize, size, &c);
    int dx = c.rw - size, dy = c.rh - size;
    // torchvision five_crop: top-left, top-right, bottom-left, bottom-right, centre (CenterCrop's
    // offset); ten_crop: the five of the image, then the five of its mirror. A crop at x of the
    // mirrored image is the mirrored crop at dx - x of the image.
    const int x[5] = {0, dx, 0, dx, c.ix}, y[5] = {0, 0, dy, dy, c.iy};
    for (int i = 0; i < 5; i++) {
        p[i] = with_window(c, x[i], y[i], 0);
        p[5 + i] = with_window(c, dx - x[i], y[i], 1);
    }
}

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

void rn_plan_pad_crop(int W, int H, int size, int pad, int ox, int oy, rn_plan *p) {
    rn_plan_eval(W, H, size, size, p);
    // Output pixel d is pixel d + o - pad of the size x size image; outside it is padding.
    p->ox += (ox - pad) * p->sx;
    p->oy += (oy - pad) * p->sy;
    p->vx0 = imax(0, pad - ox), p->vx1 = imin(size, size + pad - ox);
    p->vy0 = imax(0, pad - oy), p->vy1 = imin(size, size + pad - oy);
}

static void bilinear_free(rn_xform_ws *ws) {
    free(ws->xi), free(ws->yi), free(ws->xw), free(ws->yw), free(ws->rows);
    ws->xi = ws->yi = NULL, ws->xw = ws->yw = ws->rows = NULL, ws->cap = 0;
}

void rn_xform_ws_free(rn_xform_ws *ws) {
    bilinear_free(ws);
    free(ws->aug);
    rn_pil_ws_free(&ws->pil);
    memset(ws, 0, sizeof *ws);
}

// Plain malloc: a sample whose tables do not fit is skipped by the caller, the run goes on.

static int ws_reserve(rn_xform_ws *ws, int n) {
    if (n <= ws->cap) return 0;
    bilinear_free(ws);
    ws->xi = malloc(2 * (size_t)n * sizeof(int));
    ws->yi = malloc(2 * (size_t)n * sizeof(int));
    ws->xw = malloc((size_t)n * sizeof(float));
    ws->yw = malloc((size_t)n * sizeof(float));
    ws->rows = malloc(2 * 3 * (size_t)n * sizeof(float));
    if (!ws->xi || !ws->yi || !ws->xw || !ws->yw || !ws->rows) {
        bilinear_free(ws);
        return -1;
    }
    ws->cap = n;
    return 0;
}

// Neighbour indices and weight along one axis. Entry k describes output pixel k (after the
// optional mirror); idx = -1 marks padding.
static void axis_table(int n_out, double o, double s, double c0, double c1, int v0, int v1,
                       double f, int n_src, int mirror, int *idx, float *wt) {
    double lo = c0 * f, hi = c1 * f - 1.0;
    if (lo < 0) lo = 0;
    if (lo > n_src - 1) lo = n_src - 1;
    if (hi > n_src - 1) hi = n_src - 1;
    if (hi < lo) hi = lo;
    for (int k = 0; k < n_out; k++) {
        int d = mirror ? n_out - 1 - k : k;
        if (d < v0 || d >= v1) {
            idx[2 * k] = idx[2 * k + 1] = -1;
            wt[k] = 0;
            continue;
        }
        double u = (o + (d + 0.5) * s) * f - 0.5;  // half-pixel centres
        if (!(u >= lo)) u = lo;  // also NaN: floor() below must see a number in range
        if (u > hi) u = hi;
        int i0 = (int)floor(u);
        idx[2 * k] = i0;
        idx[2 * k + 1] = i0 + 1 < n_src ? i0 + 1 : i0;
        wt[k] = (float)(u - i0);
    }
}

// Horizontal pass over source row `row`: planar (3, ow) floats, 0 in padding columns.
static void hrow(const uint8_t *row, const rn_xform_ws *ws, int ow, float *h) {
    for (int dx = 0; dx < ow; dx++) {
        int x0 = ws->xi[2 * dx], x1 = ws->xi[2 * dx + 1];
        if (x0 < 0) {
            h[dx] = h[ow + dx] = h[2 * ow + dx] = 0;
            continue;
        }
        const uint8_t *a = row + 3 * x0, *b = row + 3 * x1;
        float wx = ws->xw[dx];
        h[dx] = a[0] + wx * (float)(b[0] - a[0]);
        h[ow + dx] = a[1] + wx * (float)(b[1] - a[1]);
        h[2 * ow + dx] = a[2] + wx * (float)(b[2] - a[2]);
    }
}

int rn_sample_bilinear(const rn_image *img, int W, int H, const rn_plan *p, float *out,
                       rn_xform_ws *ws) {
    int ow = p->out_w, oh = p->out_h;
    if (ow < 1 || oh < 1) return 0;
    if (img->w < 1 || img->h < 1 || W < 1 || H < 1) {  // nothing to sample: black, not a read
        memset(out, 0, 3 * (size_t)ow * (size_t)oh * sizeof(float));
        return 0;
    }
    if (ws_reserve(ws, ow > oh ? ow : oh) != 0) return -1;
    axis_table(ow, p->ox, p->sx, p->cx0, p->cx1, p->vx0, p->vx1, (double)img->w / W, img->w,
               p->flip, ws->xi, ws->xw);
    axis_table(oh, p->oy, p->sy, p->cy0, p->cy1, p->vy0, p->vy1, (double)img->h / H, img->h, 0,
               ws->yi, ws->yw);
    size_t plane = (size_t)ow * oh, stride = (size_t)img->w * 3;
    const float k = 1.0f / 255.0f;
    // Separable: horizontally interpolated source rows are cached in two slots, so output rows
    // that share source rows (upscaling) interpolate each source row once.
    float *slot[2] = {ws->rows, ws->rows + 3 * (size_t)ow};
    int slot_y[2] = {-1, -1};
    for (int dy = 0; dy < oh; dy++) {
        int y0 = ws->yi[2 * dy], y1 = ws->yi[2 * dy + 1];
        if (y0 < 0) {
            for (int c = 0; c < 3; c++)
                memset(out + c * plane + (size_t)dy * ow, 0, ow * sizeof(float));
            continue;
        }
        const float *h[2];
        int need[2] = {y0, y1};
        for (int j = 0; j < 2; j++) {
            int s = slot_y[0] == need[j] ? 0 : slot_y[1] == need[j] ? 1 : -1;
            if (s < 0) {  // reuse the slot not holding the other row this output row needs
                s = (slot_y[0] == need[1 - j]) ? 1 : 0;
                hrow(img->px + (size_t)need[j] * stride, ws, ow, slot[s]);
                slot_y[s] = need[j];
            }
            h[j] = slot[s];
        }
        float wy = ws->yw[dy];
        for (int c = 0; c < 3; c++) {
            const float *t = h[0] + (size_t)c * ow, *b = h[1] + (size_t)c * ow;
            float *o = out + c * plane + (size_t)dy * ow;
            for (int dx = 0; dx < ow; dx++) o[dx] = (t[dx] + wy * (b[dx] - t[dx])) * k;
        }
    }
    return 0;
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void rn_color_jitter(float *chw, size_t hw, const double factor[3], const int order[3]) {
    float *R = chw, *G = chw + hw, *B = chw + 2 * hw;
    for (int k = 0; k < 3 && order[k] >= 0; k++) {
        float f = (float)factor[order[k]], g = 1.0f - f;
        if (order[k] == 0) {  // brightness: blend with black
            for (size_t i = 0; i < 3 * hw; i++) chw[i] = clamp01(f * chw[i]);
        } else if (order[k] == 1) {  // contrast: blend with the mean grey of the image
            double m = 0;
            for (size_t i = 0; i < hw; i++) m += 0.299f * R[i] + 0.587f * G[i] + 0.114f * B[i];
            float gm = g * (float)(m / (double)hw);
            for (size_t i = 0; i < 3 * hw; i++) chw[i] = clamp01(f * chw[i] + gm);
        } else {  // saturation: blend with the pixel's grey
            for (size_t i = 0; i < hw; i++) {
                float gr = g * (0.299f * R[i] + 0.587f * G[i] + 0.114f * B[i]);
                R[i] = clamp01(f * R[i] + gr);
                G[i] = clamp01(f * G[i] + gr);
                B[i] = clamp01(f * B[i] + gr);
            }
        }
    }
}

// ImageNet RGB principal components (Krizhevsky et al. 2012; values of fb.resnet.torch).
static const double pca_eigval[3] = {0.2175, 0.0188, 0.0045};
static const double pca_eigvec[3][3] = {
    {-0.5675, 0.7192, 0.4009},
    {-0.5808, -0.0045, -0.8140},
    {-0.5836, -0.6948, 0.4203},
};

void rn_lighting(float *chw, size_t hw, const double alpha[3]) {
    for (int c = 0; c < 3; c++) {
        double d = 0;
        for (int j = 0; j < 3; j++) d += pca_eigvec[c][j] * alpha[j] * pca_eigval[j];
        float df = (float)d, *p = chw + (size_t)c * hw;
        for (size_t i = 0; i < hw; i++) p[i] += df;
    }
}

void rn_normalize(float *chw, size_t hw, const float mean[3], const float std[3]) {
    for (int c = 0; c < 3; c++) {
        float m = mean[c], s = 1.0f / std[c], *p = chw + (size_t)c * hw;
        for (size_t i = 0; i < hw; i++) p[i] = (p[i] - m) * s;
    }
}

int rn_preprocess_image(rn_decoder *d, rn_xform_ws *ws, const uint8_t *buf, size_t len,
                        const rn_data_opts *o, rn_rng *rng, float *out, rn_err *err) {
    int W, H;
    if (rn_image_header(d, buf, len, &W, &H, err) != 0) return -1;
    rn_plan p;
    if (rng && o->pad_crop > 0) {
        uint32_t span = 2 * (uint32_t)o->pad_crop + 1;
        int ox = (int)rn_rng_below(rng, span);
        int oy = (int)rn_rng_below(rng, span);
        rn_plan_pad_crop(W, H, o->size, o->pad_crop, ox, oy, &p);
    } else if (rng) {
        int box[4];
        rn_rrc_box(rng, W, H, o->scale_min, o->scale_max, o->ratio_min, o->ratio_max, box);
        rn_plan_crop(W, H, box, o->size, &p);
    } else {
        rn_plan_eval(W, H, rn_data_resize(o), o->size, &p);
    }
    if (rng && o->flip) p.flip = rn_rng_uniform(rng) < 0.5;
    // Ten-crop evaluation: ten plans of one scale, so one decode serves them all.
    rn_plan ten[RN_TEN_CROP];
    const int views = rng ? 1 : rn_data_views(o);
    if (views == RN_TEN_CROP) rn_plan_ten_crop(W, H, rn_data_resize(o), o->size, ten);

    rn_image img;
    size_t hw = (size_t)o->size * o->size;
    if (rng) {
        // Smallest DCT scale that still gives >= 1 decoded pixel per output pixel on both axes.
        if (rn_image_decode(d, buf, len, 1.0 / p.sx, 1.0 / p.sy, &img, err) != 0) return -1;
        if (rn_sample_bilinear(&img, W, H, &p, out, ws) != 0)
            return rn_fail(err, "out of memory: resampling tables for %dx%d output", p.out_w, p.out_h);
    } else {  // torchvision decodes at full size (PIL applies no DCT scaling by itself)
        if (rn_image_decode(d, buf, len, 1, 1, &img, err) != 0) return -1;
        if (img.w != W || img.h != H)  // a decoder bug, not a file problem; refuse rather than guess
            return rn_fail(err, "decoded %dx%d, header said %dx%d", img.w, img.h, W, H);
        for (int v = 0; v < views; v++)
            if (rn_resample_pil(&img, views > 1 ? &ten[v] : &p, out + 3 * hw * (size_t)v, ws) != 0)
                return rn_fail(err, "out of memory: resampling tables for %dx%d output", p.out_w, p.out_h);
    }

    if (rng && o->auto_aug != RN_AUTO_NONE) {
        size_t need = 6 * hw;  // the 8-bit crop and the operations' scratch
        if (need > ws->aug_cap) {
            free(ws->aug);
            ws->aug = malloc(need);  // plain malloc: a sample that does not fit is skipped
            ws->aug_cap = ws->aug ? need : 0;
            if (!ws->aug) return rn_fail(err, "out of memory: auto-augment buffers for %dx%d", o->size, o->size);
        }
        rn_autoaug_crop(out, o->size, o, rng, ws->aug);
    }
    if (rng && (o->brightness > 0 || o->contrast > 0 || o->saturation > 0)) {
        const double s[3] = {o->brightness, o->contrast, o->saturation};
        int order[3] = {0, 1, 2};
        for (int i = 2; i > 0; i--) {  // random order, as torchvision's ColorJitter
            int j = (int)rn_rng_below(rng, (uint32_t)i + 1), t = order[i];
            order[i] = order[j], order[j] = t;
        }
        double f[3];
        for (int c = 0; c < 3; c++)
            f[c] = s[c] > 0 ? rn_rng_range(rng, s[c] < 1 ? 1 - s[c] : 0, 1 + s[c]) : 1.0;
        rn_color_jitter(out, hw, f, order);
    }
    if (rng && o->lighting > 0) {
        double alpha[3];
        for (int c = 0; c < 3; c++) alpha[c] = o->lighting * rn_rng_normal(rng);
        rn_lighting(out, hw, alpha);
    }
    for (int v = 0; v < views; v++) rn_normalize(out + 3 * hw * (size_t)v, hw, o->mean, o->std);
    if (rng) rn_random_erasing(rng, out, o->size, o->size, o->random_erasing);
    return 0;
}
