// test_data_transform.c — crop geometry, bilinear sampling (hand-computed), flip, padding,
// DCT-scale choice, colour jitter, lighting, normalisation.
#include "tests/test_data_util.h"

#include "data/jpeg.h"
#include "data/transform.h"
#include "tests/check.h"

// The 6 x 4 test picture: R = 10 x + 40 y (linear, so bilinear sampling returns exactly
// 10 u + 40 v at pixel-index coordinates (u, v)); G = a non-linear pattern checked against an
// independent bilinear formula; B = 200.
enum { TW = 6, TH = 4 };
static uint8_t pic[TH][TW][3];
static void make_pic(void) {
    for (int y = 0; y < TH; y++)
        for (int x = 0; x < TW; x++) {
            pic[y][x][0] = (uint8_t)(10 * x + 40 * y);
            pic[y][x][1] = (uint8_t)((x * x * 7 + y * y * y * 5 + 3 * x * y) % 251);
            pic[y][x][2] = 200;
        }
}
static double green_at(double u, double v) {  // reference bilinear, index coordinates
    int x0 = (int)floor(u), y0 = (int)floor(v);
    int x1 = x0 + 1 < TW ? x0 + 1 : x0, y1 = y0 + 1 < TH ? y0 + 1 : y0;
    double a = u - x0, b = v - y0;
    return (1 - a) * (1 - b) * pic[y0][x0][1] + a * (1 - b) * pic[y0][x1][1] +
           (1 - a) * b * pic[y1][x0][1] + a * b * pic[y1][x1][1];
}

static rn_xform_ws ws;

static void sample(const rn_plan *p, float *out) {
    rn_image img = {.px = &pic[0][0][0], .w = TW, .h = TH};
    rn_sample_bilinear(&img, TW, TH, p, out, &ws);
}

static void test_eval_hand(void) {
    float out[3 * 8 * 8];
    rn_plan p;
    // resize 2 / size 2: 6x4 -> 3x2 (int(2*6/4) = 3), left = round(0.5) = 0 (half to even), so
    // output (dx, dy) samples u = 2 dx + 0.5, v = 2 dy + 0.5: the mean of a 2x2 block.
    rn_plan_eval(TW, TH, 2, 2, &p);
    sample(&p, out);
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int x = 2 * dx, y = 2 * dy;
            double mean_r =
                (pic[y][x][0] + pic[y][x + 1][0] + pic[y + 1][x][0] + pic[y + 1][x + 1][0]) / 4.0;
            double mean_g =
                (pic[y][x][1] + pic[y][x + 1][1] + pic[y + 1][x][1] + pic[y + 1][x + 1][1]) / 4.0;
            CHECK_CLOSE(out[dy * 2 + dx] * 255, mean_r, 1e-4, "eval 2: R block mean");
            CHECK_CLOSE(out[4 + dy * 2 + dx] * 255, mean_g, 1e-4, "eval 2: G block mean");
            CHECK_CLOSE(out[8 + dy * 2 + dx] * 255, 200, 1e-4, "eval 2: B");
        }
    CHECK_CLOSE(out[0] * 255, 25.0, 1e-4, "eval 2: R(0,0) = (0+10+40+50)/4");
    CHECK_CLOSE(out[3] * 255, 125.0, 1e-4, "eval 2: R(1,1) = (20+30+20+30)/4 + (80+80+120+120)/4");

    // resize 3 / size 2: 6x4 -> 4x3 (int(4.5) = 4), left = round(1.0) = 1, top = round(0.5) = 0.
    // u = (1 + dx + 0.5) * 6/4 - 0.5 -> 1.75, 3.25;  v = (dy + 0.5) * 4/3 - 0.5 -> 1/6, 3/2.
    rn_plan_eval(TW, TH, 3, 2, &p);
    sample(&p, out);
    const double u[2] = {1.75, 3.25}, v[2] = {1.0 / 6, 1.5};
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            CHECK_CLOSE(out[dy * 2 + dx] * 255, 10 * u[dx] + 40 * v[dy], 1e-4, "eval 3: R");
            CHECK_CLOSE(out[4 + dy * 2 + dx] * 255, green_at(u[dx], v[dy]), 1e-4, "eval 3: G");
        }
    CHECK_CLOSE(out[0] * 255, 17.5 + 40.0 / 6, 1e-4, "eval 3: R(0,0) by hand");

    // Upsampling, resize 8 / size 8: 6x4 -> 12x8, left = 2: u = (2 + dx + 0.5)/2 - 0.5, v likewise
    // from 0; v < 0 clamps to row 0 (half-pixel convention at the border).
    rn_plan_eval(TW, TH, 8, 8, &p);
    sample(&p, out);
    for (int dy = 0; dy < 8; dy++)
        for (int dx = 0; dx < 8; dx++) {
            double uu = (2 + dx + 0.5) / 2 - 0.5, vv = (dy + 0.5) / 2 - 0.5;
            if (vv < 0) vv = 0;
            if (vv > TH - 1) vv = TH - 1;
            CHECK_CLOSE(out[dy * 8 + dx] * 255, 10 * uu + 40 * vv, 1e-4, "eval 8: R");
        }
    CHECK_CLOSE(out[0] * 255, 7.5, 1e-4, "eval 8: R(0,0) = 10 * 0.75 + 40 * 0 (clamped)");
}

static void test_crop_plan(void) {
    float out[3 * 4 * 4];
    rn_plan p;
    // Box x=2, y=1, 4x2 of the picture to 2x2: u = 2 + (dx + 0.5) * 2 - 0.5, v = 1 + dy.
    int box[4] = {2, 1, 4, 2};
    rn_plan_crop(TW, TH, box, 2, &p);
    sample(&p, out);
    CHECK_CLOSE(out[0] * 255, 10 * 2.5 + 40, 1e-4, "crop R(0,0)");
    CHECK_CLOSE(out[1] * 255, 10 * 4.5 + 40, 1e-4, "crop R(1,0)");
    CHECK_CLOSE(out[3] * 255, 10 * 4.5 + 80, 1e-4, "crop R(1,1)");
    CHECK_CLOSE(out[4 + 1] * 255, green_at(4.5, 1), 1e-4, "crop G(1,0)");
    // Flip mirrors the output columns.
    p.flip = 1;
    sample(&p, out);
    CHECK_CLOSE(out[0] * 255, 10 * 4.5 + 40, 1e-4, "flipped R(0,0)");
    CHECK_CLOSE(out[1] * 255, 10 * 2.5 + 40, 1e-4, "flipped R(1,0)");
    // Samples stay inside the box (torchvision crops before resizing): box x=2..3 upsampled 2x,
    // u = 2 + (dx + 0.5)/2 - 0.5 = 1.75, 2.25, 2.75, 3.25 -> clamped to [2, 3].
    int box2[4] = {2, 0, 2, 4};
    rn_plan_crop(TW, TH, box2, 4, &p);
    sample(&p, out);
    const double want[4] = {20, 22.5, 27.5, 30};
    for (int dx = 0; dx < 4; dx++) CHECK_CLOSE(out[dx] * 255, want[dx], 1e-4, "crop clamp R");
}

static void test_pad_crop(void) {
    // 6x4 picture, size 4: eval geometry resize 4 (6x4 -> 6x4, identity) then centre crop 4 at
    // left = 1. Pad 2, crop offset (0, 2): output (dx, dy) is crop pixel (dx - 2, dy), i.e. source
    // pixel (dx - 1, dy) for dx >= 2, and zero padding for dx < 2.
    float out[3 * 16];
    rn_plan p;
    rn_plan_pad_crop(TW, TH, 4, 2, 0, 2, &p);
    sample(&p, out);
    int ok = 1;
    for (int dy = 0; dy < 4; dy++)
        for (int dx = 0; dx < 4; dx++)
            for (int c = 0; c < 3; c++) {
                double want = dx < 2 ? 0 : pic[dy][dx - 1][c] / 255.0;
                if (fabs(out[c * 16 + dy * 4 + dx] - want) > 1e-6) ok = 0;
            }
    CHECK(ok, "pad-crop output = shifted pixels with zero padding");
    // Offset (4, 0) = shift the other way; rows 0..1 are padding.
    rn_plan_pad_crop(TW, TH, 4, 2, 4, 0, &p);
    sample(&p, out);
    CHECK(out[0] == 0 && out[4 + 3] == 0, "top rows padded");
    CHECK_CLOSE(out[2 * 4 + 0] * 255, pic[0][1 + 2][0], 1e-4, "row 2 col 0 = source (3, 0)");
    CHECK(out[2 * 4 + 2] == 0 && out[2 * 4 + 3] == 0, "right columns padded");
}

static void test_rrc_box(void) {
    rn_rng r;
    rn_rng_seed(&r, 1);
    int b[4];
    rn_rrc_box(&r, 10, 10, 1, 1, 1, 1, b);
    CHECK(b[0] == 0 && b[1] == 0 && b[2] == 10 && b[3] == 10, "scale 1 ratio 1: whole image");
    // Ratio 4 never fits a square image (w = round(sqrt(400)) = 20 > 10): fallback keeps w = 10
    // and h = round(10 / 4) = round(2.5) = 2 (half to even), centred: y = (10 - 2) / 2 = 4.
    rn_rrc_box(&r, 10, 10, 1, 1, 4, 4, b);
    CHECK(b[0] == 0 && b[1] == 4 && b[2] == 10 && b[3] == 2, "fallback wide: %d %d %d %d", b[0],
          b[1], b[2], b[3]);
    rn_rrc_box(&r, 10, 10, 1, 1, 0.25, 0.25, b);
    CHECK(b[0] == 4 && b[1] == 0 && b[2] == 2 && b[3] == 10, "fallback tall: %d %d %d %d", b[0],
          b[1], b[2], b[3]);
    // Quarter area, square: 4x4 at any of the 5 x 5 positions, all of them reached.
    int seen[5][5] = {{0}}, ok = 1;
    for (int i = 0; i < 2000; i++) {
        rn_rrc_box(&r, 8, 8, 0.25, 0.25, 1, 1, b);
        if (b[2] != 4 || b[3] != 4 || b[0] < 0 || b[0] > 4 || b[1] < 0 || b[1] > 4) ok = 0;
        else seen[b[1]][b[0]]++;
    }
    int all = 1;
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 5; x++) all &= seen[y][x] > 0;
    CHECK(ok && all, "quarter-area boxes: sizes and all positions");
    // ImageNet defaults on 500x375: inside the image, area and aspect within the rounding of the
    // requested ranges.
    int inside = 1, fits = 1;
    double mean_area = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        rn_rrc_box(&r, 500, 375, 0.08, 1, 0.75, 4.0 / 3, b);
        inside &= b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= 500 && b[1] + b[3] <= 375;
        double a = (double)b[2] * b[3] / (500.0 * 375), asp = (double)b[2] / b[3];
        mean_area += a / n;
        if (a < 0.079 || a > 1.0 || asp < 0.74 || asp > 4.0 / 3 + 0.01) fits = 0;
    }
    CHECK(inside && fits, "default RRC boxes valid");
    // Conditional on fitting, the area is uniform-ish below 1; the mean is well under 0.54.
    CHECK(mean_area > 0.35 && mean_area < 0.54, "mean area fraction %.3f", mean_area);
}

static void test_pick_scale(void) {
    int num, den;
    // Eval of a 500x375 JPEG at resize 256: needs scale >= 256/375 = 0.683 -> full size.
    rn_jpeg_pick_scale(500, 375, 256.0 / 375, 256.0 / 375, &num, &den);
    CHECK(num == 1 && den == 1, "500x375 eval -> 1/1, got %d/%d", num, den);
    // A 1000x750 photo at resize 256 needs 0.341 -> 1/2; at resize 160, 0.213 -> 1/4.
    rn_jpeg_pick_scale(1000, 750, 256.0 / 750, 256.0 / 750, &num, &den);
    CHECK(num == 1 && den == 2, "1000x750 eval -> 1/2, got %d/%d", num, den);
    rn_jpeg_pick_scale(1000, 750, 160.0 / 750, 160.0 / 750, &num, &den);
    CHECK(num == 1 && den == 4, "1000x750 resize 160 -> 1/4, got %d/%d", num, den);
    // 252 px at 1/2 is 126 px, just enough for 0.5; 251 px gives ceil(125.5) = 126 > 0.5 * 251.
    rn_jpeg_pick_scale(252, 252, 0.5, 0.5, &num, &den);
    CHECK(den == 2, "exactly half -> 1/2, got %d/%d", num, den);
    rn_jpeg_pick_scale(252, 252, 0.51, 0.4, &num, &den);
    CHECK(den == 1, "a bit more than half -> 1/1, got %d/%d", num, den);
    rn_jpeg_pick_scale(500, 375, 0.1, 0.1, &num, &den);
    CHECK(num * 8 == den, "tiny need -> 1/8, got %d/%d", num, den);
    rn_jpeg_pick_scale(500, 375, 1.01, 0.5, &num, &den);
    CHECK(num == 1 && den == 1, "upsampling -> 1/1, got %d/%d", num, den);
    // ceil rounding helps: 9 px at 1/8 is 2 px = 0.222 of the width, enough for a need of 0.2.
    rn_jpeg_pick_scale(9, 9, 0.2, 0.2, &num, &den);
    CHECK(num * 8 == den, "9 px at 1/8 covers 0.2, got %d/%d", num, den);
    CHECK(rn_jpeg_scaled(375, 3, 4) == 282 && rn_jpeg_scaled(500, 1, 8) == 63, "scaled sizes");
}

static void test_color(void) {
    enum { HW = 4 };
    float img[3 * HW] = {0.2f, 0.4f, 0.6f, 0.8f, 0.1f, 0.1f, 0.5f, 0.9f, 0.3f, 0.7f, 0.5f, 0.0f};
    float a[3 * HW];
    const int only_b[3] = {0, -1, -1}, only_c[3] = {1, -1, -1}, only_s[3] = {2, -1, -1};
    double f[3] = {0.5, 0, 0};
    memcpy(a, img, sizeof a);
    rn_color_jitter(a, HW, f, only_b);
    CHECK_CLOSE(a[3], 0.4, 1e-6, "brightness 0.5 halves");
    f[0] = 2;
    memcpy(a, img, sizeof a);
    rn_color_jitter(a, HW, f, only_b);
    CHECK_CLOSE(a[3], 1.0, 1e-6, "brightness clamps at 1");
    CHECK_CLOSE(a[1], 0.8, 1e-6, "brightness 2 doubles");
    // Contrast 0: every value becomes the image's mean grey.
    double grey = 0;
    for (int i = 0; i < HW; i++)
        grey += (0.299 * img[i] + 0.587 * img[HW + i] + 0.114 * img[2 * HW + i]) / HW;
    f[1] = 0;
    memcpy(a, img, sizeof a);
    rn_color_jitter(a, HW, f, only_c);
    int ok = 1;
    for (int i = 0; i < 3 * HW; i++) ok &= fabs(a[i] - grey) < 1e-6;
    CHECK(ok, "contrast 0 -> mean grey %.4f", grey);
    // Saturation 0: each pixel becomes its own grey in all channels.
    f[2] = 0;
    memcpy(a, img, sizeof a);
    rn_color_jitter(a, HW, f, only_s);
    double g1 = 0.299 * 0.4 + 0.587 * 0.1 + 0.114 * 0.7;
    CHECK_CLOSE(a[1], g1, 1e-6, "saturation 0 R");
    CHECK_CLOSE(a[HW + 1], g1, 1e-6, "saturation 0 G");
    CHECK_CLOSE(a[2 * HW + 1], g1, 1e-6, "saturation 0 B");
    // Lighting alpha = (1, 0, 0): channel c += eigvec[c][0] * 0.2175.
    const double alpha[3] = {1, 0, 0};
    memcpy(a, img, sizeof a);
    rn_lighting(a, HW, alpha);
    CHECK_CLOSE(a[0], 0.2 - 0.5675 * 0.2175, 1e-6, "lighting R");
    CHECK_CLOSE(a[HW], 0.1 - 0.5808 * 0.2175, 1e-6, "lighting G");
    CHECK_CLOSE(a[2 * HW + 3], 0.0 - 0.5836 * 0.2175, 1e-6, "lighting B");
    const double alpha2[3] = {0, 0, -2};
    memcpy(a, img, sizeof a);
    rn_lighting(a, HW, alpha2);
    CHECK_CLOSE(a[HW + 2], 0.5 - 2 * -0.8140 * 0.0045, 1e-6, "lighting third component G");
    // Normalisation with the model-card constants.
    rn_data_opts o = rn_data_opts_default();
    float n[3 * 2] = {0.485f, 1.0f, 0.456f, 0.0f, 0.406f, 0.5f};
    rn_normalize(n, 2, o.mean, o.std);
    CHECK_CLOSE(n[0], 0.0, 1e-6, "mean R -> 0");
    CHECK_CLOSE(n[1], (1 - 0.485) / 0.229, 1e-5, "R 1.0 -> 2.2489");
    CHECK_CLOSE(n[3], -0.456 / 0.224, 1e-5, "G 0 -> -2.0357");
    CHECK_CLOSE(n[5], (0.5 - 0.406) / 0.225, 1e-5, "B 0.5 -> 0.4178");
}

// Whole pipeline on real JPEGs: a solid colour gives the normalised colour; decoding at reduced
// DCT scale gives nearly what a full-size decode gives with the same plan.
static void test_pipeline(void) {
    rn_decoder *d = rn_decoder_create();
    rn_data_opts o = rn_data_opts_default();
    o.size = 16, o.resize = 20;
    float out[3 * 16 * 16];
    rn_err err;
    uint8_t *solid = malloc(40 * 30 * 3);
    for (int i = 0; i < 40 * 30; i++)
        solid[3 * i] = 250, solid[3 * i + 1] = 20, solid[3 * i + 2] = 128;
    unsigned char *j;
    unsigned long n = jpeg_encode(solid, 40, 30, TJPF_RGB, 100, &j);
    CHECK(rn_preprocess_image(d, &ws, j, n, &o, NULL, out, &err) == 0, "solid: %s", err.msg);
    const double rgb[3] = {250, 20, 128};
    double worst = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 256; i++) {
            double want = (rgb[c] / 255 - o.mean[c]) / o.std[c];
            worst = fmax(worst, fabs(out[c * 256 + i] - want));
        }
    CHECK(worst < 3.0 / 255 / 0.224, "solid colour normalised, worst error %.4f", worst);
    tjFree(j);
    free(solid);

    // A smooth 400x300 picture, eval at resize 64: the scaled decode (1/4) vs a full decode.
    uint8_t *pic2 = smooth_rgb(400, 300, 3);
    n = jpeg_encode(pic2, 400, 300, TJPF_RGB, 95, &j);
    o.size = 56, o.resize = 64;
    float *a = malloc(3 * 56 * 56 * sizeof(float)), *b = malloc(3 * 56 * 56 * sizeof(float));
    CHECK(rn_preprocess_image(d, &ws, j, n, &o, NULL, a, &err) == 0, "smooth: %s", err.msg);
    rn_image full;
    CHECK(rn_image_decode(d, j, n, 1, 1, &full, &err) == 0 && full.w == 400 && full.h == 300,
          "full decode");
    rn_plan p;
    rn_plan_eval(400, 300, 64, 56, &p);
    rn_sample_bilinear(&full, 400, 300, &p, b, &ws);
    rn_normalize(b, 56 * 56, o.mean, o.std);
    double mad = 0;
    for (int i = 0; i < 3 * 56 * 56; i++) mad += fabs(a[i] - b[i]) * 0.225 / (3 * 56 * 56);
    CHECK(mad < 0.01, "scaled vs full decode: mean abs diff %.4f (of [0,1])", mad);
    // Train transform with flip on: (seed, epoch, index) stream reproduces bit for bit.
    rn_rng r1, r2;
    rn_rng_seed3(&r1, 1, 2, 3);
    rn_rng_seed3(&r2, 1, 2, 3);
    o.brightness = o.contrast = o.saturation = 0.4, o.lighting = 0.1;
    rn_preprocess_image(d, &ws, j, n, &o, &r1, a, &err);
    rn_preprocess_image(d, &ws, j, n, &o, &r2, b, &err);
    CHECK(memcmp(a, b, 3 * 56 * 56 * sizeof(float)) == 0, "train transform reproducible");
    rn_rng_seed3(&r2, 1, 2, 4);
    rn_preprocess_image(d, &ws, j, n, &o, &r2, b, &err);
    CHECK(memcmp(a, b, 3 * 56 * 56 * sizeof(float)) != 0, "another index, another crop");
    free(a), free(b), free(pic2);
    tjFree(j);
    rn_decoder_destroy(d);
}

int main(void) {
    make_pic();
    test_eval_hand();
    test_crop_plan();
    test_pad_crop();
    test_rrc_box();
    test_pick_scale();
    test_color();
    test_pipeline();
    rn_xform_ws_free(&ws);
    return check_summary();
}
