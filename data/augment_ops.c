// augment_ops.c — the 14 operations of TrivialAugment / RandAugment on 8-bit planar RGB, with
// PIL's arithmetic (see augment.h). What PIL does, from its documented behaviour and measured
// against Debian's python3-pil 9.4 by tests/test_data_augment.c:
//   - ImageEnhance (brightness, colour, contrast, sharpness) is Image.blend(degenerate, image, f)
//     with f a float32: v = d + f (p - d) in float, truncated to 8 bits, clamped to [0, 255];
//     the degenerate image is black, the grey image (colour), the mean grey (contrast:
//     int(mean of the L histogram + 0.5)), or the image filtered with SMOOTH (sharpness);
//   - grey (convert("L")) is (19595 R + 38470 G + 7471 B + 0x8000) >> 16;
//   - SMOOTH is the 3x3 kernel (1 1 1, 1 5 1, 1 1 1) / 13 in float, summed row by row from 0.5
//     and truncated; the outermost rows and columns are copied (images under 3x3: unchanged);
//   - ImageOps posterize, solarize, autocontrast and equalize are per-channel lookup tables
//     (point(): values clamped to [0, 255]);
//   - rotate and affine with NEAREST and fill 0: Image.transform's inverse affine matrix, sampled
//     at pixel centres with PIL's three engines (pure scale/translation: per-axis tables; else
//     16.16 fixed point when the corners fit, else doubles); rotate's 0/90/180/270 fast paths.
// Compiled with -ffp-contract=off (data/CMakeLists.txt): PIL's float and double expressions are
// evaluated one operation at a time (Debian builds it for baseline x86-64, without FMA), and a
// fused multiply-add would round some pixels differently.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/augment.h"

const char *const rn_aa_op_names[RN_AA_N_OPS] = {
    "Identity", "ShearX",    "ShearY",     "TranslateX", "TranslateY", "Rotate",       "Brightness",
    "Color",    "Contrast",  "Sharpness",  "Posterize",  "Solarize",   "AutoContrast", "Equalize",
};

// CPython's math.radians / math.degrees constants.
static const double DEG2RAD = 3.14159265358979323846 / 180.0, RAD2DEG = 180.0 / 3.14159265358979323846;

static uint8_t grey(int r, int g, int b) { return (uint8_t)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16); }

// Image.blend(d, p, alpha) for one sample.
static uint8_t blend(int d, int p, float alpha) {
    float v = (float)d + alpha * (float)(p - d);
    return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
}

static void lut_plane(uint8_t *p, size_t n, const uint8_t lut[256]) {
    for (size_t i = 0; i < n; i++) p[i] = lut[p[i]];
}

static void histogram(const uint8_t *p, size_t n, long h[256]) {
    memset(h, 0, 256 * sizeof *h);
    for (size_t i = 0; i < n; i++) h[p[i]]++;
}

// ImageOps.autocontrast(cutoff = 0): per channel, [lo, hi] stretched to [0, 255].
static void autocontrast(uint8_t *chw, size_t hw) {
    for (int c = 0; c < 3; c++) {
        uint8_t *p = chw + c * hw, lut[256];
        long h[256];
        histogram(p, hw, h);
        int lo = 0, hi = 255;
        while (lo < 255 && !h[lo]) lo++;
        while (hi > 0 && !h[hi]) hi--;
        if (hi <= lo) continue;
        double scale = 255.0 / (hi - lo), offset = -lo * scale;
        for (int i = 0; i < 256; i++) {
            int v = (int)(i * scale + offset);  // Python's int(): toward zero
            lut[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        lut_plane(p, hw, lut);
    }
}

// ImageOps.equalize: per channel, lut[i] = (step // 2 + sum of h below i) // step with step =
// (pixels - count of the last used level) // 255; identity with one level or step 0.
static void equalize(uint8_t *chw, size_t hw) {
    for (int c = 0; c < 3; c++) {
        uint8_t *p = chw + c * hw, lut[256];
        long h[256], total = 0, last = 0;
        int used = 0;
        histogram(p, hw, h);
        for (int i = 0; i < 256; i++)
            if (h[i]) total += h[i], last = h[i], used++;
        long step = (total - last) / 255;
        if (used <= 1 || step == 0) continue;
        long n = step / 2;
        for (int i = 0; i < 256; i++) {
            long v = n / step;
            lut[i] = (uint8_t)(v > 255 ? 255 : v);
            n += h[i];
        }
        lut_plane(p, hw, lut);
    }
}

static void posterize(uint8_t *chw, size_t hw, int bits) {
    bits = bits < 0 ? 0 : bits > 8 ? 8 : bits;
    uint8_t lut[256], mask = (uint8_t)~((1u << (8 - bits)) - 1);
    for (int i = 0; i < 256; i++) lut[i] = (uint8_t)(i & mask);
    for (int c = 0; c < 3; c++) lut_plane(chw + c * hw, hw, lut);
}

static void solarize(uint8_t *chw, size_t hw, double threshold) {
    uint8_t lut[256];
    for (int i = 0; i < 256; i++) lut[i] = (uint8_t)(i < threshold ? i : 255 - i);
    for (int c = 0; c < 3; c++) lut_plane(chw + c * hw, hw, lut);
}

// ImageEnhance: Brightness (0), Color (1), Contrast (2), Sharpness (3), factor 1 + m.
static void enhance(uint8_t *chw, int w, int h, int kind, double magnitude, uint8_t *tmp) {
    size_t hw = (size_t)w * h;
    float alpha = (float)(1.0 + magnitude);  // Image.blend takes a C float
    uint8_t *R = chw, *G = chw + hw, *B = chw + 2 * hw;
    uint8_t lut[256];
    if (kind == 0) {  // a constant degenerate image: a table
        for (int i = 0; i < 256; i++) lut[i] = blend(0, i, alpha);
        lut_plane(chw, 3 * hw, lut);
    } else if (kind == 1) {
        for (size_t i = 0; i < hw; i++) {
            int g = grey(R[i], G[i], B[i]);
            R[i] = blend(g, R[i], alpha), G[i] = blend(g, G[i], alpha), B[i] = blend(g, B[i], alpha);
        }
    } else if (kind == 2) {
        long long sum = 0;  // ImageStat's mean of the L histogram
        for (size_t i = 0; i < hw; i++) sum += grey(R[i], G[i], B[i]);
        int mean = hw ? (int)((double)sum / (double)hw + 0.5) : 0;
        for (int i = 0; i < 256; i++) lut[i] = blend(mean, i, alpha);
        lut_plane(chw, 3 * hw, lut);
    } else {
        if (w < 3 || h < 3) return;  // PIL's filter leaves images under 3x3 as they are
        const float k1 = 1.0f / 13.0f, k5 = 5.0f / 13.0f;
        memcpy(tmp, chw, 3 * hw);  // the degenerate image: borders stay the originals
        for (int c = 0; c < 3; c++) {
            const uint8_t *p = chw + c * hw;
            uint8_t *d = tmp + c * hw;
            for (int y = 1; y < h - 1; y++) {
                // restrict: tmp and chw do not overlap, so the compiler vectorises the row
                const uint8_t *restrict up = p + (size_t)(y - 1) * w, *restrict mid = p + (size_t)y * w,
                                        *restrict dn = p + (size_t)(y + 1) * w;
                uint8_t *restrict out = d + (size_t)y * w;
                for (int x = 1; x < w - 1; x++) {
                    float s = 0.5f;  // rounding, then the rows y + 1, y, y - 1 (PIL's order)
                    s += (float)dn[x - 1] * k1 + (float)dn[x] * k1 + (float)dn[x + 1] * k1;
                    s += (float)mid[x - 1] * k1 + (float)mid[x] * k5 + (float)mid[x + 1] * k1;
                    s += (float)up[x - 1] * k1 + (float)up[x] * k1 + (float)up[x + 1] * k1;
                    out[x] = s <= 0.0f ? 0 : s >= 255.0f ? 255 : (uint8_t)s;
                }
            }
        }
        for (size_t i = 0; i < 3 * hw; i++) chw[i] = blend(tmp[i], chw[i], alpha);
    }
}

// ---- geometry ----

// PIL's COORD (NaN and far-away coordinates: outside, where PIL's cast would be undefined).
static int coord(double v) { return !(v >= 0.0) ? -1 : v >= 1e9 ? 1000000000 : (int)v; }
// PIL's FIX (16.16); 64 bits, so no matrix that passes the corner check overflows.
static long long fix16(double v) { return (long long)floor(v * 65536.0 + 0.5); }
static int fits_fixed(const double a[6], int x, int y) {
    return fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
}

// Output pixel o of `d` takes source pixel (xi, yi) of `s` when it lies inside the image (else it
// keeps the fill, 0); three planes of hw.
static inline void take(uint8_t *d, const uint8_t *s, size_t hw, size_t o, long long xi, long long yi, int w, int h) {
    if (xi < 0 || xi >= w || yi < 0 || yi >= h) return;
    size_t k = (size_t)yi * (size_t)w + (size_t)xi;
    d[o] = s[k], d[hw + o] = s[hw + k], d[2 * hw + o] = s[2 * hw + k];
}

// Image.transform(size, AFFINE, a, NEAREST, fillcolor = 0): output pixel (x, y) samples source
// (a0 x' + a1 y' + a2, a3 x' + a4 y' + a5) at its centre x' = x + 0.5, y' = y + 0.5, with PIL's
// engine for the matrix (each accumulates its steps the way PIL does, which decides the pixels
// whose source lies near a pixel edge).
static void affine_nearest(uint8_t *chw, int w, int h, const double a[6], uint8_t *tmp) {
    size_t hw = (size_t)w * h;
    memset(tmp, 0, 3 * hw);
    if (a[1] == 0 && a[3] == 0) {  // scale / translation only: PIL's ImagingScaleAffine
        double yo = a[5] + a[4] * 0.5;
        for (int y = 0; y < h; y++, yo += a[4]) {
            int yi = coord(yo);
            double xo = a[2] + a[0] * 0.5;
            for (int x = 0; x < w; x++, xo += a[0]) take(tmp, chw, hw, (size_t)y * w + x, coord(xo), yi, w, h);
        }
    } else if (fits_fixed(a, 0, 0) && fits_fixed(a, w, h) && fits_fixed(a, 0, h) && fits_fixed(a, w, 0)) {
        // 16.16 fixed point, the row starts and steps rounded once (PIL's affine_fixed); 64-bit
        // sums, identical to PIL's 32-bit ones within its corner check.
        long long a0 = fix16(a[0]), a1 = fix16(a[1]), a3 = fix16(a[3]), a4 = fix16(a[4]);
        long long a2 = fix16(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = fix16(a[5] + a[3] * 0.5 + a[4] * 0.5);
        for (int y = 0; y < h; y++, a2 += a1, a5 += a4) {
            long long xx = a2, yy = a5;
            for (int x = 0; x < w; x++, xx += a0, yy += a3)
                take(tmp, chw, hw, (size_t)y * w + x, xx >> 16, yy >> 16, w, h);  // arithmetic shift: floor
        }
    } else {  // doubles (PIL's last engine: coordinates beyond 32768)
        double xo = a[2] + a[1] * 0.5 + a[0] * 0.5, yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
        for (int y = 0; y < h; y++, xo += a[1], yo += a[4]) {
            double xx = xo, yy = yo;
            for (int x = 0; x < w; x++, xx += a[0], yy += a[3])
                take(tmp, chw, hw, (size_t)y * w + x, coord(xx), coord(yy), w, h);
        }
    }
    memcpy(chw, tmp, 3 * hw);
}

// torchvision's _get_inverse_affine_matrix (scale 1), term by term: angle and shears in degrees.
static void inverse_affine(double cx, double cy, double angle, double tx, double ty, double shx,
                           double shy, double m[6]) {
    double rot = angle * DEG2RAD, sx = shx * DEG2RAD, sy = shy * DEG2RAD;
    double a = cos(rot - sy) / cos(sy);
    double b = -cos(rot - sy) * tan(sx) / cos(sy) - sin(rot);
    double c = sin(rot - sy) / cos(sy);
    double d = -sin(rot - sy) * tan(sx) / cos(sy) + cos(rot);
    m[0] = d, m[1] = -b, m[2] = 0.0, m[3] = -c, m[4] = a, m[5] = 0.0;
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
    m[2] += cx;
    m[5] += cy;
}

// Python's round(x, 15): correctly rounded to 15 decimals, as printf and strtod are (C locale).
static double round15(double x) {
    char b[64];
    snprintf(b, sizeof b, "%.15f", x);
    return strtod(b, NULL);
}

// Image.rotate(angle, NEAREST, expand = False, fillcolor = 0): counter-clockwise about the centre.
static void rotate(uint8_t *chw, int w, int h, double angle, uint8_t *tmp) {
    double r = fmod(angle, 360.0);  // Python's angle % 360.0: the sign of the divisor
    if (r != 0) {
        if (r < 0) r += 360.0;
    } else {
        r = 0.0;
    }
    size_t hw = (size_t)w * h;
    if (r == 0) return;
    if (r == 180 || ((r == 90 || r == 270) && w == h)) {  // PIL's transposes
        for (int c = 0; c < 3; c++) {
            const uint8_t *s = chw + c * hw;
            uint8_t *d = tmp + c * hw;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    d[(size_t)y * w + x] = r == 180  ? s[(size_t)(h - 1 - y) * w + (w - 1 - x)]
                                           : r == 90 ? s[(size_t)x * w + (w - 1 - y)]
                                                     : s[(size_t)(h - 1 - x) * w + y];
        }
        memcpy(chw, tmp, 3 * hw);
        return;
    }
    double t = -(r * DEG2RAD), cx = w / 2.0, cy = h / 2.0;
    double m[6] = {round15(cos(t)), round15(sin(t)), 0.0, round15(-sin(t)), round15(cos(t)), 0.0};
    double m2 = m[0] * -cx + m[1] * -cy + m[2], m5 = m[3] * -cx + m[4] * -cy + m[5];
    m[2] = m2 + cx, m[5] = m5 + cy;
    affine_nearest(chw, w, h, m, tmp);
}

void rn_aa_apply(uint8_t *chw, int w, int h, int op, double magnitude, uint8_t *tmp) {
    if (w < 1 || h < 1) return;
    size_t hw = (size_t)w * h;
    double m[6];
    switch (op) {
    case RN_AA_SHEAR_X:
        inverse_affine(0, 0, 0.0, 0, 0, atan(magnitude) * RAD2DEG, 0.0, m);
        affine_nearest(chw, w, h, m, tmp);
        break;
    case RN_AA_SHEAR_Y:
        inverse_affine(0, 0, 0.0, 0, 0, 0.0, atan(magnitude) * RAD2DEG, m);
        affine_nearest(chw, w, h, m, tmp);
        break;
    case RN_AA_TRANSLATE_X:
    case RN_AA_TRANSLATE_Y: {
        // int(magnitude), toward zero; |magnitude| is at most a few image sides
        double t = magnitude > 1e6 ? 1e6 : magnitude < -1e6 ? -1e6 : magnitude == magnitude ? magnitude : 0;
        int px = (int)t;
        inverse_affine(w * 0.5, h * 0.5, 0.0, op == RN_AA_TRANSLATE_X ? px : 0, op == RN_AA_TRANSLATE_Y ? px : 0,
                       0.0, 0.0, m);
        affine_nearest(chw, w, h, m, tmp);
        break;
    }
    case RN_AA_ROTATE: rotate(chw, w, h, magnitude, tmp); break;
    case RN_AA_BRIGHTNESS: enhance(chw, w, h, 0, magnitude, tmp); break;
    case RN_AA_COLOR: enhance(chw, w, h, 1, magnitude, tmp); break;
    case RN_AA_CONTRAST: enhance(chw, w, h, 2, magnitude, tmp); break;
    case RN_AA_SHARPNESS: enhance(chw, w, h, 3, magnitude, tmp); break;
    case RN_AA_POSTERIZE: posterize(chw, hw, magnitude >= 0 && magnitude <= 8 ? (int)magnitude : magnitude > 8 ? 8 : 0); break;
    case RN_AA_SOLARIZE: solarize(chw, hw, magnitude); break;
    case RN_AA_AUTOCONTRAST: autocontrast(chw, hw); break;
    case RN_AA_EQUALIZE: equalize(chw, hw); break;
    default: break;  // identity
    }
}
