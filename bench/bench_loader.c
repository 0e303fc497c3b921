// bench_loader.c — input pipeline throughput (docs/PERFORMANCE.md, "Data loader").
//
//     bench-loader [N_IMAGES (default 256)] [MAX_WORKERS (default: CPUs)]
//
// Writes N ImageNet-like JPEGs (500x375, quality 90, 4:2:0, textured random content that
// compresses to about the size of real photos) to a temporary folder, plus 64 larger ones
// (1000x750) in memory, then measures on this machine (best of 3 runs of >= 1 s each):
//   1. one thread, JPEGs already in memory: decode + RandomResizedCrop(224) + flip + normalise,
//      with colour jitter and lighting, with TrivialAugmentWide or RandAugment + random erasing,
//      the evaluation transform (resize 256, crop 224), and on the
//      large images training with and without reduced-scale (DCT-domain) decoding, evaluation
//      with PIL's antialiased resize (the transform) and with plain bilinear (for comparison);
//   2. the threaded loader end to end (file reads included, page cache warm) with 1, 2, 4, ...
//      MAX_WORKERS workers, training and evaluation, batch 64; training with TrivialAugmentWide +
//      random erasing 0.1 (torchvision's 2021 recipe) on one worker.
#define _GNU_SOURCE
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/jpeg.h"
#include "data/loader.h"
#include "data/transform.h"
#include "src/cli.h"
#include "src/rng.h"


// Multi-octave value noise plus fine grain: compresses like a photo (roughly 60-120 KB at q90).
static void make_picture(rn_rng *r, uint8_t *px, int W, int H) {
    float *acc = calloc((size_t)W * H * 3, sizeof(float));
    const int periods[] = {96, 48, 24, 12, 6, 3};
    const float amps[] = {70, 45, 30, 22, 16, 12};
    for (int o = 0; o < 6; o++) {
        int P = periods[o], gw = W / P + 2, gh = H / P + 2;
        float *g = malloc((size_t)gw * gh * 3 * sizeof(float));
        for (int i = 0; i < gw * gh * 3; i++) g[i] = (float)rn_rng_range(r, -1, 1) * amps[o];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float fx = (float)x / P, fy = (float)y / P;
                int x0 = (int)fx, y0 = (int)fy;
                float ax = fx - x0, ay = fy - y0;
                ax = ax * ax * (3 - 2 * ax), ay = ay * ay * (3 - 2 * ay);  // smoothstep
                for (int c = 0; c < 3; c++) {
                    float a = g[(y0 * gw + x0) * 3 + c], b = g[(y0 * gw + x0 + 1) * 3 + c];
                    float d = g[((y0 + 1) * gw + x0) * 3 + c],
                          e = g[((y0 + 1) * gw + x0 + 1) * 3 + c];
                    acc[((size_t)y * W + x) * 3 + c] +=
                        (a + ax * (b - a)) * (1 - ay) + (d + ax * (e - d)) * ay;
                }
            }
        free(g);
    }
    float base[3];
    for (int c = 0; c < 3; c++) base[c] = (float)rn_rng_range(r, 70, 180);
    for (size_t i = 0; i < (size_t)W * H * 3; i++) {
        float v = base[i % 3] + acc[i] + (float)rn_rng_range(r, -24, 24);
        px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    free(acc);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

typedef struct blob {
    unsigned char *data;
    unsigned long size;
    int w, h;
} blob;

// This thread's CPU time: on a shared machine it counts only the time the thread really ran.
static double thread_cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// One thread over in-memory JPEGs: images per second, best of 3 runs of >= 1 s (the machine may
// be shared); *per_cpu (if given): the best images per second of thread CPU time.
static double bench_inline_cpu(blob *files, int n, const rn_data_opts *o, int train, int scaled, double *per_cpu) {
    rn_decoder *d = rn_decoder_create();
    rn_xform_ws ws = {0};
    float *out = rn_malloc_aligned(3 * (size_t)o->size * o->size * sizeof(float));
    rn_err err;
    double best = 0, best_cpu = 0;
    for (int rep = 0; rep < 3; rep++) {
        int done = 0;
        double t0 = rn_now(), t = 0, c0 = thread_cpu();
        for (int pass = 0; t < 1.0; pass++) {
            for (int i = 0; i < n; i++, done++) {
                rn_rng r;
                rn_rng_seed3(&r, 1, (uint64_t)pass, (uint64_t)i);
                int W = files[i].w, H = files[i].h;
                if (scaled) {
                    if (rn_preprocess_image(d, &ws, files[i].data, files[i].size, o,
                                           train ? &r : NULL, out, &err) != 0) {
                        fprintf(stderr, "bench: %s\n", err.msg);
                        exit(1);
                    }
                    continue;
                }
                rn_plan p;  // the same transform from a full-size decode
                if (train) {
                    int box[4];
                    rn_rrc_box(&r, W, H, o->scale_min, o->scale_max, o->ratio_min, o->ratio_max,
                               box);
                    rn_plan_crop(W, H, box, o->size, &p);
                    p.flip = rn_rng_uniform(&r) < 0.5;
                } else {
                    rn_plan_eval(W, H, o->resize, o->size, &p);
                }
                rn_image img;
                if (rn_image_decode(d, files[i].data, files[i].size, 1, 1, &img, &err) != 0) exit(1);
                rn_sample_bilinear(&img, W, H, &p, out, &ws);
                rn_normalize(out, (size_t)o->size * o->size, o->mean, o->std);
            }
            t = rn_now() - t0;
        }
        if (done / t > best) best = done / t;
        double c = thread_cpu() - c0;
        if (c > 0 && done / c > best_cpu) best_cpu = done / c;
    }
    rn_free_aligned(out);
    rn_xform_ws_free(&ws);
    rn_decoder_destroy(d);
    if (per_cpu) *per_cpu = best_cpu;
    return best;
}

static double bench_inline(blob *files, int n, const rn_data_opts *o, int train, int scaled) {
    return bench_inline_cpu(files, n, o, train, scaled, NULL);
}

static double bench_loader(const rn_dataset_view *v, rn_data_opts o, int train, int workers) {
    o.workers = workers;
    rn_loader *l;
    rn_err err;
    if (rn_loader_create(v, &o, train, &l, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    double best = 0;
    int64_t e = 0;
    for (int rep = 0; rep < 3; rep++) {
        int64_t samples = 0;
        double t0 = rn_now(), t = 0;
        for (; t < 1.0; e++) {
            rn_loader_start_epoch(l, e);
            rn_batch *b;
            while (rn_loader_next(l, &b, &err) == 1) {
                samples += b->n;
                rn_loader_release(l, b);
            }
            t = rn_now() - t0;
        }
        if (samples / t > best) best = samples / t;
    }
    rn_loader_destroy(l);
    return best;
}

// n JPEGs of w x h at quality 90, kept in memory and (if dir) written to dir/c<k>/NNNN.jpg.
static blob *make_set(int n, int w, int h, const char *dir, double *mean_kb) {
    blob *files = calloc((size_t)n, sizeof(blob));
    uint8_t *px = malloc((size_t)w * h * 3);
    tjhandle tj = tjInitCompress();
    rn_rng r;
    rn_rng_seed(&r, 2024 + (uint64_t)w);
    double bytes = 0;
    for (int i = 0; i < n; i++) {
        make_picture(&r, px, w, h);
        files[i].w = w, files[i].h = h;
        if (tjCompress2(tj, px, w, 0, h, TJPF_RGB, &files[i].data, &files[i].size, TJSAMP_420, 90,
                        0)) {
            fprintf(stderr, "compress: %s\n", tjGetErrorStr2(tj));
            exit(1);
        }
        bytes += (double)files[i].size;
        if (!dir) continue;
        char p[256];
        snprintf(p, sizeof p, "%s/c%d", dir, i % 8);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/c%d/%04d.jpg", dir, i % 8, i);
        FILE *f = fopen(p, "wb");
        if (!f || fwrite(files[i].data, 1, files[i].size, f) != files[i].size) exit(1);
        fclose(f);
    }
    tjDestroy(tj);
    free(px);
    *mean_kb = bytes / n / 1024;
    return files;
}

static const rn_cli cli = {
    "bench-loader",
    "usage: bench-loader [N_IMAGES] [MAX_WORKERS]\n",
    "Decoding and loader throughput on N_IMAGES synthetic 500x375 JPEGs (default 256, >= 64) written\n"
    "to a temporary folder, with 1 to MAX_WORKERS worker threads (default: the CPU count). Prints\n"
    "Markdown tables of images per second.\n\n"
    "  --help, --version   this text; the version, oneDNN's and its CPU ISA\n\n"
    "Example:\n"
    "  bench-loader 512 2\n",
};

int main(int argc, char **argv) {
    int n = 256, maxw = (int)sysconf(_SC_NPROCESSORS_ONLN), n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (rn_cli_info(&cli, argv[i])) return 0;
        if (argv[i][0] == '-') return rn_cli_fail(&cli, "unknown option '%s'", argv[i]);
        if (n_pos == 2) return rn_cli_fail(&cli, "at most two numbers, got '%s'", argv[i]);
        if (n_pos++ == 0 ? rn_cli_int(&cli, "N_IMAGES", argv[i], 64, 1 << 20, &n)
                         : rn_cli_int(&cli, "MAX_WORKERS", argv[i], 1, 4096, &maxw))
            return 2;
    }
    char dir[64] = "/tmp/rn_bench_loader_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    double kb, kb_big;
    blob *files = make_set(n, 500, 375, dir, &kb);
    blob *big = make_set(64, 1000, 750, NULL, &kb_big);
    printf(
        "%d JPEGs of 500x375 (mean %.1f KB) in %s, 64 of 1000x750 (mean %.1f KB), quality 90\n\n",
        n, kb, dir, kb_big);

    rn_data_opts o = rn_data_opts_default();  // 224 / 256, RRC 0.08-1, flip, no jitter
    o.batch_size = 64;
    rn_data_opts oj = o;
    oj.brightness = oj.contrast = oj.saturation = 0.4, oj.lighting = 0.1;
    rn_data_opts ota = o, ora = o, ore = o;  // torchvision's 2021 recipe: TrivialAugmentWide + erasing 0.1
    ota.auto_aug = RN_AUTO_TRIVIAL, ota.random_erasing = 0.1;
    ora.auto_aug = RN_AUTO_RAND, ora.random_erasing = 0.1;
    ore.random_erasing = 1.0;
    printf("| 1 thread, JPEG in memory | img/s |\n|---|---|\n");
    printf("| 500x375 train: decode + RandomResizedCrop 224 + flip + normalise | %.0f |\n",
           bench_inline(files, n, &o, 1, 1));
    printf("| 500x375 train + colour jitter 0.4 + lighting 0.1 | %.0f |\n",
           bench_inline(files, n, &oj, 1, 1));
    fflush(stdout);
    // The augmentation's cost next to the plain training transform, also in thread CPU time
    // (robust to other processes on the machine).
    const struct { const char *what; const rn_data_opts *o; } aug[] = {
        {"500x375 train (as above)", &o},
        {"500x375 train + TrivialAugmentWide + random erasing 0.1", &ota},
        {"500x375 train + RandAugment (n 2, m 9) + random erasing 0.1", &ora},
        {"500x375 train + random erasing 1.0 (every image erased)", &ore},
    };
    printf("\n| 1 thread, JPEG in memory | img/s | img/s of thread CPU time |\n|---|---|---|\n");
    for (size_t k = 0; k < sizeof aug / sizeof *aug; k++) {
        double cpu, wall = bench_inline_cpu(files, n, aug[k].o, 1, 1, &cpu);
        printf("| %s | %.0f | %.0f |\n", aug[k].what, wall, cpu);
    }
    printf("\n| 1 thread, JPEG in memory | img/s |\n|---|---|\n");
    printf("| 500x375 eval: full decode + PIL antialiased resize 256 + centre crop 224 + normalise | %.0f |\n",
           bench_inline(files, n, &o, 0, 1));
    printf("| 1000x750 train, reduced-scale decode | %.0f |\n", bench_inline(big, 64, &o, 1, 1));
    printf("| 1000x750 train, always full-size decode | %.0f |\n", bench_inline(big, 64, &o, 1, 0));
    printf("| 1000x750 eval: full decode + PIL antialiased resize (the evaluation transform) | %.0f |\n",
           bench_inline(big, 64, &o, 0, 1));
    printf("| 1000x750 eval, full decode + plain bilinear instead (no antialiasing) | %.0f |\n",
           bench_inline(big, 64, &o, 0, 0));
    fflush(stdout);

    rn_dataset *ds;
    rn_err err;
    if (rn_dataset_open_folder(&ds, dir, NULL, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    rn_dataset_view v;
    rn_view_init(&v, ds, 0, 1, &err);
    printf(
        "\n| loader, 500x375 files in page cache, batch 64 | workers | img/s |\n|---|---|---|\n");
    for (int w = 1; w <= maxw; w = w * 2 > maxw && w < maxw ? maxw : w * 2) {
        printf("| train (RRC 224 + flip) | %d | %.0f |\n", w, bench_loader(&v, o, 1, w));
        printf("| eval (256 / 224) | %d | %.0f |\n", w, bench_loader(&v, o, 0, w));
        if (w == 1) printf("| train + TrivialAugmentWide + random erasing 0.1 | 1 | %.0f |\n", bench_loader(&v, ota, 1, 1));
        fflush(stdout);
    }
    rn_dataset_destroy(ds);
    for (int i = 0; i < n; i++) tjFree(files[i].data);
    for (int i = 0; i < 64; i++) tjFree(big[i].data);
    free(files);
    free(big);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
