// make_corpus — writes the seed corpora of tests/fuzz (onnx, checkpoint, jpeg, png, dataset) into
// OUT/<harness>/, deterministically: the same build writes the same bytes. tools/fuzz-corpus.sh
// runs it and adds the config seeds (copies of configs/*.ini).
//
//     fuzz_make_corpus OUT              the seed corpora
//     fuzz_make_corpus --regress OUT    crafted regression inputs (make_regress.c)
//
// Models are tiny ResNets (a few KB) built by src/resnet.c and written by our own exporter and
// checkpoint writer, with non-trivial weights; JPEGs are small gradients written by libjpeg-turbo
// in the variants the decoder treats differently (4:4:4, 4:2:0, greyscale, progressive, CMYK);
// PNGs are small gradients written by tests/png_write.h in every colour type and bit depth, with
// palettes, tRNS and Adam7 interlacing.
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include <errno.h>
#include <sys/stat.h>
#include <turbojpeg.h>

#include "export/onnx.h"
#include "optim/checkpoint.h"
#include "tests/fuzz/fuzz.h"
#include "tests/png_write.h"
#include "tests/test_export_util.h"

static const char *out_dir;

void fuzz_make_regress(const char *dir);  // make_regress.c

void fuzz_put(const char *dir, const char *harness, const char *name, const void *data, size_t len) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, harness);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) FUZZ_ASSERT(0, "mkdir %s: %s", p, strerror(errno));
    snprintf(p, sizeof p, "%s/%s/%s", dir, harness, name);
    FILE *f = fopen(p, "wb");
    FUZZ_ASSERT(f && fwrite(data, 1, len, f) == len && fclose(f) == 0, "cannot write %s", p);
}

static void put(const char *harness, const char *name, const void *data, size_t len) {
    fuzz_put(out_dir, harness, name, data, len);
}

static rn_model_opts small(int version, int bottleneck, int stem_small) {
    rn_model_opts o = rn_model_opts_default();
    o.depth = 0, o.n_stages = 1, o.blocks[0] = 1, o.bottleneck = bottleneck, o.version = version;
    o.num_classes = 3, o.width = 4, o.stem_small = stem_small, o.input_size = stem_small ? 8 : 16;
    return o;
}

static void models(void) {
    static const struct { const char *name; int version, bottleneck, stem_small; } v[] = {
        {"v1-basic-imagenet-stem", 1, 0, 0}, {"v2-basic-small-stem", 2, 0, 1}, {"v2-bottleneck", 2, 1, 1}};
    for (int i = 0; i < 3; i++) {
        rn_model_opts o = small(v[i].version, v[i].bottleneck, v[i].stem_small);
        rn_graph *g = make_model(&o, 100 + (uint64_t)i);
        char name[128];
        uint8_t *buf;
        size_t len;
        rn_err err;
        FUZZ_ASSERT(rn_onnx_export_buffer(g, &buf, &len, &err) == 0, "%s", err.msg);
        snprintf(name, sizeof name, "%s.onnx", v[i].name);
        put("onnx", name, buf, len);
        free(buf);

        // A checkpoint as the trainer writes it: metadata, and momentum for all but the first.
        float *momentum = NULL;
        if (i > 0) {
            momentum = calloc(g->arena_size + 1, sizeof *momentum);
            fill_normal(momentum, g->arena_size, 7 + (uint64_t)i);
        }
        char meta[512], p[1024];
        snprintf(meta, sizeof meta,
                 "producer=resnet.c resnet-train\nmodel.blocks=1\nmodel.bottleneck=%s\nmodel.version=%d\n"
                 "model.num_classes=3\nmodel.width=4\nstate.epoch=%d\nstate.step=%d\n"
                 "history=1,0.1,2.5,0.25,2.25,0.3,1,100,2\n",
                 v[i].bottleneck ? "yes" : "no", v[i].version, i, 10 * i);
        snprintf(p, sizeof p, "%s/checkpoint", out_dir);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/checkpoint/%s.ckpt", out_dir, v[i].name);
        // The last one as a run with AdamW and an EMA writes it (format version 3: kinds 2 and 3 too).
        rn_ckpt_bufs bufs = {.momentum = momentum, .moment2 = i == 2 ? momentum : NULL, .ema = i == 2 ? g->arena : NULL};
        FUZZ_ASSERT(rn_checkpoint_save_bufs(p, g, &bufs, meta, &err) == 0, "%s", err.msg);
        free(momentum);
        rn_graph_destroy(g);
    }
}

static void jpeg(const char *name, int w, int h, int pf, int samp, int quality, int flags) {
    int ps = tjPixelSize[pf];
    uint8_t *px = malloc((size_t)w * h * ps);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ps; c++) px[((size_t)y * w + x) * ps + c] = (uint8_t)(x * 255 / w + c * 60 + y * 7);
    tjhandle tj = tjInitCompress();
    unsigned char *buf = NULL;
    unsigned long len = 0;
    FUZZ_ASSERT(tjCompress2(tj, px, w, 0, h, pf, &buf, &len, samp, quality, flags) == 0, "%s: %s", name,
                tjGetErrorStr2(tj));
    put("jpeg", name, buf, len);
    tjFree(buf);
    tjDestroy(tj);
    free(px);
}

static void jpegs(void) {
    jpeg("rgb-444-q90.jpg", 16, 12, TJPF_RGB, TJSAMP_444, 90, 0);
    jpeg("rgb-420-q75-odd.jpg", 33, 17, TJPF_RGB, TJSAMP_420, 75, 0);
    jpeg("grey.jpg", 20, 20, TJPF_GRAY, TJSAMP_GRAY, 85, 0);
    jpeg("progressive-422.jpg", 24, 16, TJPF_RGB, TJSAMP_422, 80, TJFLAG_PROGRESSIVE);
    jpeg("grey-progressive.jpg", 9, 31, TJPF_GRAY, TJSAMP_GRAY, 70, TJFLAG_PROGRESSIVE);
    jpeg("cmyk.jpg", 8, 8, TJPF_CMYK, TJSAMP_444, 90, 0);
    jpeg("one-pixel.jpg", 1, 1, TJPF_RGB, TJSAMP_444, 50, 0);
}

static void png(const char *name, int w, int h, int color, int depth, int interlace, int trns) {
    int ch = png_channels(color), max = (1 << depth) - 1;
    uint16_t *px = malloc((size_t)w * h * ch * sizeof *px);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                px[((size_t)y * w + x) * ch + c] = (uint16_t)(((x * 7 + y * 3 + c * 5) * (max + 1) / (w * 7 + h * 3)) & max);
    uint8_t plte[256 * 3], tr[256];
    int n_plte = color == 3 ? 1 << depth : 0;
    for (int i = 0; i < n_plte * 3; i++) plte[i] = (uint8_t)(i * 37);
    for (int i = 0; i < 256; i++) tr[i] = (uint8_t)(255 - i);
    int n_trns = !trns ? 0 : color == 3 ? n_plte / 2 + 1 : color == 0 ? 2 : color == 2 ? 6 : 0;
    png_spec sp = {w, h, color, depth, interlace, px, n_plte ? plte : NULL, n_plte, n_trns ? tr : NULL, n_trns};
    size_t n;
    uint8_t *b = png_encode(&sp, &n);
    put("png", name, b, n);
    free(b);
    free(px);
}

static void pngs(void) {
    png("grey-1bit.png", 9, 5, 0, 1, 0, 0);
    png("grey-2bit.png", 7, 6, 0, 2, 0, 0);
    png("grey-4bit-trns.png", 11, 4, 0, 4, 0, 1);
    png("grey-8bit-odd.png", 13, 7, 0, 8, 0, 0);
    png("grey-16bit.png", 8, 8, 0, 16, 0, 0);
    png("grey-alpha-8bit.png", 6, 9, 4, 8, 0, 0);
    png("grey-alpha-16bit.png", 5, 5, 4, 16, 0, 0);
    png("rgb-8bit-trns.png", 12, 10, 2, 8, 0, 1);
    png("rgb-16bit.png", 9, 7, 2, 16, 0, 0);
    png("rgba-8bit.png", 10, 6, 6, 8, 0, 0);
    png("rgba-16bit.png", 7, 7, 6, 16, 0, 0);
    png("palette-1bit.png", 10, 3, 3, 1, 0, 0);
    png("palette-2bit-trns.png", 9, 4, 3, 2, 0, 1);
    png("palette-4bit.png", 8, 8, 3, 4, 0, 0);
    png("palette-8bit-trns.png", 16, 5, 3, 8, 0, 1);
    png("rgb-8bit-adam7.png", 17, 11, 2, 8, 1, 0);
    png("grey-16bit-adam7.png", 10, 9, 0, 16, 1, 0);
    png("rgba-16bit-adam7.png", 9, 10, 6, 16, 1, 0);
    png("palette-4bit-adam7.png", 3, 2, 3, 4, 1, 0);
    png("one-pixel.png", 1, 1, 2, 8, 0, 0);
}

static void text(const char *harness, const char *name, const char *s) { put(harness, name, s, strlen(s)); }

static void datasets(void) {
    text("dataset", "two-classes",
         "d train\nd train/cat\nd train/dog\nf train/cat/a.jpg x\nf train/cat/b.JPEG\nf train/dog/c.jpg\n"
         "f train/dog/notes.txt hello\nd val\nd val/dog\nf val/dog/d.jpg\n");
    text("dataset", "nested-and-hidden",
         "d train\nd train/a\nd train/a/sub\nd train/a/sub/deeper\nf train/a/sub/deeper/x.jpg\n"
         "d train/.hidden\nf train/.hidden/y.jpg\nd train/b\nf train/b/.z.jpg\nf train/b/w.jpeg\n");
    text("dataset", "list-and-names",
         "d train\nd train/x\nf train/x/1.jpg\nd train/y\nf train/y/2.jpg\n"
         "f list.txt # paths and labels\\ntrain/x/1.jpg 0\\n\\nimgs/ab.jpg  1\\n\nf names.txt first\\nsecond\\n\nd imgs\nf imgs/ab.jpg\n");
    text("dataset", "symlinked-files",
         "d train\nd train/k\nd store\nf store/real.jpg\nl ../store/real.jpg train/k/refused.jpg\n"
         "d train/k/in\nf train/k/in/r.jpg\nl in/r.jpg train/k/alias.jpg\nl in train/k/folder-link\n");
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--regress") == 0) {
        fuzz_make_regress(argv[2]);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s [--regress] OUT\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    models();
    jpegs();
    pngs();
    datasets();
    return 0;
}
