// test_data_png.c — PNG as a dataset format (issue 13): every colour type and bit depth decodes
// to its documented values (data/image.h), Adam7 as the plain file; the loader gives bit-identical
// tensors for the same pixels stored as a JPEG's decode in PNG (RGB 8/16-bit, RGBA, grey 8/16-bit,
// grey+alpha), in training and evaluation; corrupt PNGs are skipped and counted exactly like
// corrupt JPEGs; a tiny network trains on a mixed 8/16-bit, grey/RGBA PNG dataset.
#include "tests/test_data_util.h"

#include <fcntl.h>

#include "data/dataset.h"
#include "data/image.h"
#include "data/loader.h"
#include "src/config.h"
#include "src/train.h"
#include "tests/check.h"
#include "tests/png_write.h"

static char root[256];

static void path_of(char *p, size_t cap, const char *rel) { snprintf(p, cap, "%s/%s", root, rel); }

static int decode(rn_decoder *d, const uint8_t *b, size_t n, rn_image *img, rn_err *e) {
    return rn_image_decode(d, b, n, 1, 1, img, e);
}

// Random samples of every colour type and depth, decoded and compared with the documented rule:
// low-depth grey scaled by 255 / (2^d - 1), 16-bit samples cut to their high byte, alpha and tRNS
// dropped, palette indices looked up; interlaced files decode to the same pixels.
static void test_values(rn_decoder *d) {
    static const int combos[][2] = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1},
                                    {3, 2}, {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16}};
    rn_rng r;
    rn_rng_seed(&r, 13);
    for (size_t t = 0; t < sizeof combos / sizeof combos[0]; t++) {
        int color = combos[t][0], depth = combos[t][1], ch = png_channels(color);
        int w = 11 + (int)t, h = 7 + (int)(t % 5), max = (1 << depth) - 1;
        uint16_t *s = malloc((size_t)w * h * ch * sizeof *s);
        for (size_t k = 0; k < (size_t)w * h * ch; k++) s[k] = (uint16_t)rn_rng_below(&r, (uint32_t)max + 1);
        uint8_t plte[256 * 3], trns[256];
        for (int k = 0; k < 256 * 3; k++) plte[k] = (uint8_t)rn_rng_below(&r, 256);
        for (int k = 0; k < 256; k++) trns[k] = (uint8_t)k;
        int n_plte = color == 3 ? 1 << depth : 0;
        // tRNS: a grey or RGB key equal to sample 0 (so some pixels are "transparent"), or a
        // palette alpha table; the decoder must ignore it either way.
        uint8_t key[6] = {(uint8_t)(s[0] >> 8), (uint8_t)s[0], (uint8_t)(s[ch > 1] >> 8), (uint8_t)s[ch > 1],
                          (uint8_t)(s[ch > 2 ? 2 : 0] >> 8), (uint8_t)s[ch > 2 ? 2 : 0]};
        const uint8_t *tr = color == 3 ? trns : color == 0 || color == 2 ? key : NULL;
        int n_tr = color == 3 ? n_plte : color == 0 ? 2 : color == 2 ? 6 : 0;
        uint8_t *want = malloc((size_t)w * h * 3);
        for (size_t k = 0; k < (size_t)w * h; k++)
            for (int c = 0; c < 3; c++) {
                const uint16_t *px = s + k * ch;
                unsigned v = color == 3 ? plte[3 * px[0] + c]
                             : depth == 16 ? (unsigned)(px[color == 2 || color == 6 ? c : 0] >> 8)
                                           : px[color == 2 || color == 6 ? c : 0] * 255u / (unsigned)max;
                want[3 * k + c] = (uint8_t)v;
            }
        for (int il = 0; il < 2; il++) {
            png_spec sp = {w, h, color, depth, il, s, n_plte ? plte : NULL, n_plte, tr, n_tr};
            size_t n;
            uint8_t *b = png_encode(&sp, &n);
            rn_image img;
            rn_err e;
            int W = 0, H = 0;
            CHECK(rn_image_sniff(b, n) == RN_IMAGE_PNG, "sniffed as PNG");
            CHECK(rn_image_header(d, b, n, &W, &H, &e) == 0 && W == w && H == h, "header %dx%d", W, H);
            int ok = decode(d, b, n, &img, &e) == 0;
            CHECK(ok && img.w == w && img.h == h, "colour %d depth %d%s: %s", color, depth, il ? " Adam7" : "",
                  ok ? "size" : e.msg);
            if (ok) {
                size_t bad = 0;
                for (size_t k = 0; k < (size_t)w * h * 3; k++) bad += img.px[k] != want[k];
                CHECK(bad == 0, "colour %d depth %d%s: %zu samples differ from the documented values", color,
                      depth, il ? " Adam7" : "", bad);
            }
            free(b);
        }
        free(want), free(s);
    }
}

// Damaged and hostile PNGs are errors with a message; the decoder stays usable.
static void test_bad(rn_decoder *d) {
    uint16_t s[8 * 8 * 3];
    for (int k = 0; k < 8 * 8 * 3; k++) s[k] = (uint16_t)(k * 5 % 256);
    png_spec sp = {.w = 8, .h = 8, .color = 2, .depth = 8, .px = s};
    size_t n;
    uint8_t *good = png_encode(&sp, &n), *b = malloc(n + 64);
    rn_image img;
    rn_err e;
    memcpy(b, good, n);
    b[20] ^= 1;  // inside IHDR: its CRC no longer matches
    CHECK(decode(d, b, n, &img, &e) == -1 && e.msg[0], "IHDR CRC: %s", e.msg);
    CHECK(decode(d, good, n - 20, &img, &e) == -1 && e.msg[0], "truncated: %s", e.msg);
    CHECK(decode(d, good, 8, &img, &e) == -1 && e.msg[0], "signature only: %s", e.msg);
    memcpy(b, good, n);
    b[n - 20] ^= 0x55;  // inside the deflate stream or its Adler-32
    CHECK(decode(d, b, n, &img, &e) == -1 && e.msg[0], "damaged IDAT: %s", e.msg);
    // 20000 x 20000 = 4e8 px, over 2^28: refused from the header, before any allocation; and a
    // side over 2^18 (rows of gigabytes), however few pixels in all.
    static const struct { uint32_t w, h; const char *msg; } big[] = {
        {20000, 20000, "too large"}, {300000, 1, "invalid PNG size"}, {1, 300000, "invalid PNG size"}};
    for (int k = 0; k < 3; k++) {
        memcpy(b, good, n);
        for (int i = 0; i < 4; i++)
            b[16 + i] = (uint8_t)(big[k].w >> (24 - 8 * i)), b[20 + i] = (uint8_t)(big[k].h >> (24 - 8 * i));
        uLong crc = crc32(0, b + 12, 17);
        b[29] = (uint8_t)(crc >> 24), b[30] = (uint8_t)(crc >> 16), b[31] = (uint8_t)(crc >> 8), b[32] = (uint8_t)crc;
        int W, H;
        CHECK(rn_image_header(d, b, n, &W, &H, &e) == -1 && strstr(e.msg, big[k].msg), "%ux%u header: %s",
              big[k].w, big[k].h, e.msg);
        CHECK(decode(d, b, n, &img, &e) == -1 && strstr(e.msg, big[k].msg), "%ux%u decode: %s", big[k].w,
              big[k].h, e.msg);
    }
    // An ancillary chunk with a bad CRC is dropped, as PIL does: the image still decodes.
    memcpy(b, good, 33);
    static const uint8_t text[] = {0, 0, 0, 4, 't', 'E', 'X', 't', 'a', 0, 'b', 'c', 1, 2, 3, 4};
    memcpy(b + 33, text, sizeof text);
    memcpy(b + 33 + sizeof text, good + 33, n - 33);
    CHECK(decode(d, b, n + sizeof text, &img, &e) == 0 && img.w == 8, "bad tEXt CRC ignored: %s", e.msg);
    CHECK(decode(d, (const uint8_t *)"GIF89a....", 10, &img, &e) == -1 && strstr(e.msg, "not a JPEG or PNG"),
          "other format: %s", e.msg);
    CHECK(decode(d, good, n, &img, &e) == 0 && img.w == 8 && img.px[3] == 15, "then a good one: %s", e.msg);
    free(b), free(good);
}

// Writes `img` (packed RGB, or grey when grey) to path as a PNG of the given kind.
enum { K_RGB8, K_RGB16, K_RGBA8, K_RGBA16, K_GREY8, K_GREY16, K_GA8, K_N };
static void write_png(const char *path, const uint8_t *px, int w, int h, int kind, int grey) {
    static const int color[K_N] = {2, 2, 6, 6, 0, 0, 4}, depth[K_N] = {8, 16, 8, 16, 8, 16, 8};
    int ch = png_channels(color[kind]), sh = depth[kind] == 16;
    uint16_t *s = malloc((size_t)w * h * ch * sizeof *s);
    for (size_t k = 0; k < (size_t)w * h; k++)
        for (int c = 0; c < ch; c++) {
            unsigned v = c == 3 || (ch == 2 && c == 1) ? (unsigned)(k * 37 % 256)  // alpha: dropped
                                                       : px[grey ? k : 3 * k + c];
            s[k * ch + c] = (uint16_t)(sh ? v << 8 | (unsigned)(k * 91 % 256) : v);  // low byte: noise
        }
    png_spec sp = {w, h, color[kind], depth[kind], (int)(w & 1), s, NULL, 0, NULL, 0};
    size_t n;
    uint8_t *b = png_encode(&sp, &n);
    write_bytes(path, b, n);
    free(b), free(s);
}

// The same images in several encodings: dst/<same relpath>.png holds the decode of src's JPEG.
static void convert_set(rn_decoder *d, const char *src, const char *dst, int kind, int grey) {
    rn_dataset *ds = NULL;
    rn_err e;
    CHECK(rn_dataset_open_folder(&ds, src, NULL, &e) == 0, "%s: %s", src, e.msg);
    if (!ds) return;
    uint8_t *buf = NULL;
    size_t cap = 0, n;
    for (size_t i = 0; i < ds->n; i++) {
        char p[600], q[600];
        rn_dataset_path(ds, i, p, sizeof p);
        rn_image img;
        if (rn_read_file(p, &buf, &cap, &n, &e) || decode(d, buf, n, &img, &e)) {
            CHECK(0, "%s: %s", p, e.msg);
            break;
        }
        if (grey)  // a grey JPEG decodes to 3 equal channels
            for (size_t k = 0; k < (size_t)img.w * img.h; k++) img.px[k] = img.px[3 * k];
        const char *rel = rn_dataset_relpath(ds, i);
        snprintf(q, sizeof q, "%s/%.*s.png", dst, (int)(strrchr(rel, '.') - rel), rel);
        write_png(q, img.px, img.w, img.h, kind, grey);
    }
    free(buf);
    rn_dataset_destroy(ds);
}

// Every batch of epoch 1 (train = 1: shuffled, RandomResizedCrop, flip, jitter; 0: evaluation).
// With st: epoch 2 runs too, st[0] and st[1] the loader's stats after each.
static float *epoch_of(const char *dir, int train, size_t *n_floats, rn_loader_stats *st) {
    rn_dataset *ds = NULL;
    rn_err e;
    if (rn_dataset_open_folder(&ds, dir, NULL, &e) != 0) {
        CHECK(0, "%s: %s", dir, e.msg);
        return NULL;
    }
    rn_dataset_view v;
    rn_view_init(&v, ds, 0, 1, &e);
    rn_data_opts o = rn_data_opts_default();
    o.size = 12, o.resize = 14, o.batch_size = 5, o.workers = 2, o.seed = 5, o.flip = 1;
    o.scale_min = 0.3, o.brightness = o.contrast = o.saturation = 0.3, o.lighting = 0.1;
    rn_loader *l = NULL;
    float *all = NULL;
    size_t sf = 3 * 12 * 12, got = 0;
    if (rn_loader_create(&v, &o, train, &l, &e) == 0) {
        all = malloc(ds->n * sf * sizeof *all);
        for (int ep = 1; ep <= (st ? 2 : 1); ep++) {
            rn_loader_start_epoch(l, ep);
            rn_batch *b;
            while (rn_loader_next(l, &b, &e) == 1) {
                if (ep == 1) memcpy(all + got, b->data, (size_t)b->n * sf * sizeof *all);
                if (ep == 1) got += (size_t)b->n * sf;
                rn_loader_release(l, b);
            }
            if (st) rn_loader_stats_get(l, &st[ep - 1]);
        }
        rn_loader_destroy(l);
    } else {
        CHECK(0, "loader: %s", e.msg);
    }
    rn_dataset_destroy(ds);
    *n_floats = got;
    return all;
}

static void expect_same_epochs(const char *a, const char *b, const char *what) {
    for (int train = 0; train < 2; train++) {
        size_t na, nb;
        float *x = epoch_of(a, train, &na, NULL), *y = epoch_of(b, train, &nb, NULL);
        CHECK(x && y && na == nb && na > 0 && memcmp(x, y, na * sizeof *x) == 0,
              "%s (%s): the same tensors as the JPEG set (%zu vs %zu values)", what, train ? "train" : "eval", na, nb);
        free(x), free(y);
    }
}

static void test_same_tensors(rn_decoder *d) {
    char jpg[300], grey_jpg[300], p[400];
    path_of(jpg, sizeof jpg, "jpg");
    make_band_dataset(jpg, 5, 3, 21, 90, 2);
    snprintf(jpg + strlen(jpg), sizeof jpg - strlen(jpg), "/train");
    // A grey JPEG set with the same layout: the green channel of each decoded colour JPEG.
    path_of(grey_jpg, sizeof grey_jpg, "greyjpg");
    rn_dataset *ds = NULL;
    rn_err e;
    CHECK(rn_dataset_open_folder(&ds, jpg, NULL, &e) == 0, "%s", e.msg);
    uint8_t *buf = NULL;
    size_t cap = 0, n;
    for (size_t i = 0; ds && i < ds->n; i++) {
        rn_image img;
        rn_dataset_path(ds, i, p, sizeof p);
        if (rn_read_file(p, &buf, &cap, &n, &e) || decode(d, buf, n, &img, &e)) break;
        for (size_t k = 0; k < (size_t)img.w * img.h; k++) img.px[k] = img.px[3 * k + 1];
        char q[600];
        snprintf(q, sizeof q, "%s/%s", grey_jpg, rn_dataset_relpath(ds, i));
        write_jpeg(q, img.px, img.w, img.h, TJPF_GRAY, 90);
    }
    free(buf);
    rn_dataset_destroy(ds);

    static const char *names[K_N] = {"rgb8", "rgb16", "rgba8", "rgba16", "grey8", "grey16", "ga8"};
    for (int k = 0; k < K_N; k++) {
        int grey = k >= K_GREY8;
        char dst[300];
        snprintf(dst, sizeof dst, "%s/%s", root, names[k]);
        convert_set(d, grey ? grey_jpg : jpg, dst, k, grey);
        expect_same_epochs(grey ? grey_jpg : jpg, dst, names[k]);
    }
}

// Corrupt PNGs next to a corrupt JPEG: each skipped, named on stderr, counted as a corrupt file
// once and as a skipped sample in every epoch.
static void test_corrupt(void) {
    char set[300], p[400];
    path_of(set, sizeof set, "rgb8");  // 20 good PNGs from test_same_tensors
    uint16_t s[10 * 10 * 3] = {0};
    png_spec sp = {.w = 10, .h = 10, .color = 2, .depth = 8, .px = s};
    size_t n;
    uint8_t *b = png_encode(&sp, &n);
    snprintf(p, sizeof p, "%s/class0/bad-truncated.png", set);
    write_bytes(p, b, n - 30);
    b[n - 20] ^= 0x55;
    snprintf(p, sizeof p, "%s/class1/bad-idat.png", set);
    write_bytes(p, b, n);
    snprintf(p, sizeof p, "%s/class2/bad-text.png", set);
    write_bytes(p, "\x89PNG\r\n\x1a\nnot really", 18);
    snprintf(p, sizeof p, "%s/class3/bad-jpeg.jpg", set);
    write_bytes(p, "\xFF\xD8\xFF\xE0 garbage", 12);
    free(b);
    char log[400];
    path_of(log, sizeof log, "stderr.txt");
    fflush(stderr);
    int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    size_t nf;
    rn_loader_stats st[2];
    float *x = epoch_of(set, 0, &nf, st);
    fflush(stderr);
    dup2(saved, 2);
    close(fd), close(saved);
    CHECK(x && nf == 24 * 3 * 12 * 12, "evaluation: 24 samples, %zu values", nf);
    for (int ep = 0; ep < 2; ep++)
        CHECK(st[ep].corrupt_files == 4 && st[ep].epoch_replaced == 4 && st[ep].replaced == 4 * (ep + 1),
              "epoch %d: 4 corrupt files, %lld skipped this epoch (%lld in all, %lld files)", ep + 1,
              (long long)st[ep].epoch_replaced, (long long)st[ep].replaced, (long long)st[ep].corrupt_files);
    FILE *f = fopen(log, "r");
    char text[4096] = {0};
    if (f) fread(text, 1, sizeof text - 1, f), fclose(f);
    CHECK(strstr(text, "bad-truncated.png") && strstr(text, "bad-idat.png") && strstr(text, "bad-text.png") &&
              strstr(text, "bad-jpeg.jpg"),
          "every bad file named: %s", text);
    free(x);
}

// A tiny ResNet trains on a PNG dataset mixing RGB 16-bit, RGBA 8-bit, grey 8/16-bit files.
static void test_train(rn_decoder *d) {
    char base[300], p[320];
    path_of(base, sizeof base, "bands");
    make_band_dataset(base, 24, 8, 9, 95, 3);
    snprintf(p, sizeof p, "%s/mixed", root);
    for (int split = 0; split < 2; split++) {
        char src[400], dst[400];
        snprintf(src, sizeof src, "%s/%s", base, split ? "val" : "train");
        snprintf(dst, sizeof dst, "%s/%s", p, split ? "val" : "train");
        rn_dataset *ds = NULL;
        rn_err e;
        CHECK(rn_dataset_open_folder(&ds, src, NULL, &e) == 0, "%s", e.msg);
        uint8_t *buf = NULL;
        size_t cap = 0, n;
        static const int kinds[4] = {K_RGB16, K_RGBA8, K_GREY8, K_GREY16};
        for (size_t i = 0; ds && i < ds->n; i++) {
            rn_image img;
            char f[700], q[700];
            rn_dataset_path(ds, i, f, sizeof f);
            if (rn_read_file(f, &buf, &cap, &n, &e) || decode(d, buf, n, &img, &e)) break;
            int kind = kinds[i % 4], grey = kind >= K_GREY8;
            if (grey)
                for (size_t k = 0; k < (size_t)img.w * img.h; k++) img.px[k] = img.px[3 * k + 1];
            const char *rel = rn_dataset_relpath(ds, i);
            snprintf(q, sizeof q, "%s/%.*s.png", dst, (int)(strrchr(rel, '.') - rel), rel);
            write_png(q, img.px, img.w, img.h, kind, grey);
        }
        free(buf);
        rn_dataset_destroy(ds);
    }
    char cfg[700], run[700];
    snprintf(cfg, sizeof cfg, "%s/png.ini", root);
    snprintf(run, sizeof run, "%s/run", root);
    FILE *f = fopen(cfg, "w");
    fprintf(f,
            "[model]\nblocks = 1,1\nbottleneck = no\nversion = 2\nnum_classes = 4\nwidth = 16\nstem = small\n"
            "input_size = 16\n[data]\ntrain_dir = %s/train\nval_dir = %s/val\nsize = 16\nresize = 16\n"
            "batch_size = 8\nworkers = 2\nseed = 3\n[augment]\nflip = yes\npad_crop = 2\n"
            "[train]\nepochs = 3\nrun_dir = %s\nprogress = off\n[optim]\nlr = 0.2\nnesterov = yes\n"
            "[schedule]\ntype = cosine\nwarmup_epochs = 1\n[export]\nonnx = no\n",
            p, p, run);
    fclose(f);
    static rn_config c;
    rn_err e;
    CHECK(rn_config_load(&c, cfg, NULL, 0, &e) == 0, "config: %s", e.msg);
    int rc = rn_train_run(&c, NULL, &e);
    CHECK(rc == RN_TRAIN_DONE, "training on PNGs: %d %s", rc, e.msg);
    char csv[800], text[4096] = {0};
    snprintf(csv, sizeof csv, "%s/metrics.csv", run);
    FILE *m = fopen(csv, "r");
    if (m) fread(text, 1, sizeof text - 1, m), fclose(m);
    // The last row: epoch, lr, train_loss, train_top1, val_loss, val_top1, ...
    char *last = NULL;
    for (char *l = strchr(text, '\n'); l && l[1]; l = strchr(l + 1, '\n')) last = l + 1;
    int epoch = 0;
    double lr, tl, tt, vl, vt = 0;
    CHECK(last && sscanf(last, "%d,%lf,%lf,%lf,%lf,%lf", &epoch, &lr, &tl, &tt, &vl, &vt) == 6 && epoch == 3,
          "metrics.csv has epoch 3: %s", text);
    CHECK(vt > 50, "val top-1 %g%% on PNGs beats chance (25%%)", vt);
}

int main(void) {
    tmp_dir(root, sizeof root, "png");
    rn_decoder *d = rn_decoder_create();
    test_values(d);
    test_bad(d);
    test_same_tensors(d);
    test_corrupt();
    test_train(d);
    rn_decoder_destroy(d);
    if (check_failed == 0) rm_rf(root);
    return check_summary();
}
