// test_eval_tta.c — ten-crop test-time augmentation and resnet-eval's report, against independent
// computations (issue 13):
//   - the loader's ten crops equal pixel windows cut from a plain TurboJPEG decode, the last five
//     from the mirrored image (resize = the shorter side, so no resampling happens);
//   - rn_evaluate over those batches (oneDNN, padded last batch) gives the loss and top-1 of the
//     mean softmax of the ten crops run through the plain-C reference executor;
//   - resnet-eval --tta ten-crop prints that top-1, and --report's CSV files hold those counts;
//   - the report's CSV escaping on hand-made counts.
#include "tests/test_data_util.h"  // first: it defines _GNU_SOURCE

#include <sys/wait.h>

#include "data/evaluate.h"
#include "export/eval_report.h"
#include "export/onnx.h"
#include "layers/ref.h"
#include "src/resnet.h"
#include "tests/check.h"

enum { NCLS = 3, PER = 2, NIMG = NCLS * PER, IW = 20, IH = 16, S = 12, V = 10, KCLS = 3 };
static char dir[256];

// The decoded pixels of image i (class i / PER), as any TurboJPEG decode gives them.
static uint8_t px[NIMG][IH * IW * 3];

static void make_images(void) {
    tmp_dir(dir, sizeof dir, "tta");
    tjhandle tj = tjInitDecompress();
    for (int i = 0; i < NIMG; i++) {
        uint8_t *rgb = smooth_rgb(IW, IH, 11 * i + 3);
        for (int y = 0; y < IH; y++)  // texture: the crops must differ from one another
            for (int x = 0; x < IW; x++) rgb[(y * IW + x) * 3 + (i % 3)] ^= (uint8_t)(((x * 7 + y * 13 + i) % 5) * 23);
        char path[512];
        snprintf(path, sizeof path, "%s/data/c%d/img%d.jpg", dir, i / PER, i);
        write_jpeg(path, rgb, IW, IH, TJPF_RGB, 95);
        free(rgb);
        FILE *f = fopen(path, "rb");
        uint8_t buf[65536];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        CHECK(tjDecompress2(tj, buf, (unsigned long)n, px[i], IW, 0, IH, TJPF_RGB, 0) == 0, "decode %s", path);
    }
    tjDestroy(tj);
}

// The ten crops of image i as torchvision's TenCrop cuts them, normalised: (10, 3, S, S).
static void ten_crops(int i, const rn_data_opts *o, double *out) {
    const int dx = IW - S, dy = IH - S;
    const int x[5] = {0, dx, 0, dx, dx / 2}, y[5] = {0, 0, dy, dy, dy / 2};  // dx/2, dy/2 even here
    for (int v = 0; v < V; v++) {
        int mirror = v >= 5, c0x = x[v % 5], c0y = y[v % 5];
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < S; r++)
                for (int q = 0; q < S; q++) {
                    int sx = c0x + q, sy = c0y + r;     // in the (mirrored) image
                    if (mirror) sx = IW - 1 - sx;       // the mirrored image's pixel
                    float p = px[i][(sy * IW + sx) * 3 + c] * (1.0f / 255.0f);
                    out[(((size_t)v * 3 + c) * S + r) * S + q] = (p - o->mean[c]) / o->std[c];
                }
    }
}

static rn_data_opts opts(void) {
    rn_data_opts o = rn_data_opts_default();
    o.size = S, o.resize = IH, o.batch_size = 4, o.workers = 1, o.shuffle = 0, o.drop_last = 0;
    o.tta = RN_TTA_TEN_CROP;
    return o;
}

static void test_loader_crops(rn_dataset *ds) {
    rn_data_opts o = opts();
    rn_dataset_view v;
    rn_loader *l;
    rn_err err;
    CHECK(rn_view_init(&v, ds, 0, 1, &err) == 0 && rn_loader_create(&v, &o, 0, &l, &err) == 0, "loader: %s", err.msg);
    rn_loader_start_epoch(l, 0);
    rn_batch *b;
    double *want = malloc(sizeof(double) * V * 3 * S * S);
    int seen = 0;
    double worst = 0;
    while (rn_loader_next(l, &b, &err) == 1) {
        CHECK(b->views == V, "views %d", b->views);
        for (int k = 0; k < b->n; k++, seen++) {
            ten_crops((int)b->index[k], &o, want);
            for (size_t j = 0; j < (size_t)V * 3 * S * S; j++) {
                double d = fabs(b->data[(size_t)k * V * 3 * S * S + j] - want[j]);
                worst = d > worst ? d : worst;
            }
        }
        rn_loader_release(l, b);
    }
    CHECK(seen == NIMG, "images %d", seen);
    CHECK(worst < 1e-5, "ten crops vs windows of the decoded image: max difference %g", worst);
    free(want);
    rn_loader_destroy(l);
}

// Expected per image, from the reference executor: loss -log(mean p[label]) and the top-1 class.
static void expected(rn_graph *g, rn_dataset *ds, double *loss, int *pred, double *center_loss, double *each) {
    rn_ref *r;
    rn_err err;
    CHECK(rn_ref_create(g, V, S, S, 0, &r, &err) == 0, "ref: %s", err.msg);
    rn_data_opts o = opts();
    double *x = malloc(sizeof(double) * V * 3 * S * S);
    *loss = *center_loss = 0;
    for (size_t i = 0; i < ds->n; i++) {
        // Dataset order is sorted by path: find which generated image sample i is.
        int img = -1;
        sscanf(strrchr(rn_dataset_relpath(ds, i), '/'), "/img%d.jpg", &img);
        ten_crops(img, &o, x);
        rn_ref_set_input(r, x);
        rn_ref_forward(r);
        const double *s = rn_ref_value(r, g->output);
        double pbar[KCLS] = {0};
        for (int v = 0; v < V; v++) {
            double m = s[v * KCLS], z = 0;
            for (int k = 1; k < KCLS; k++) m = s[v * KCLS + k] > m ? s[v * KCLS + k] : m;
            for (int k = 0; k < KCLS; k++) z += exp(s[v * KCLS + k] - m);
            for (int k = 0; k < KCLS; k++) pbar[k] += exp(s[v * KCLS + k] - m) / z / V;
            if (v == 4) *center_loss -= log(exp(s[v * KCLS + ds->labels[i]] - m) / z);
        }
        int best = 0;
        for (int k = 1; k < KCLS; k++) best = pbar[k] > pbar[best] ? k : best;
        pred[i] = best;
        each[i] = -log(pbar[ds->labels[i]]);
        *loss += each[i];
    }
    free(x);
    rn_ref_destroy(r);
}

static int run(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_evaluate(rn_dataset *ds) {
    rn_model_opts mo = rn_model_opts_default();
    rn_err err;
    rn_model_opts_set(&mo, "blocks", "1", &err);
    rn_model_opts_set(&mo, "bottleneck", "no", &err);
    rn_model_opts_set(&mo, "width", "8", &err);
    rn_model_opts_set(&mo, "stem", "small", &err);
    rn_model_opts_set(&mo, "num_classes", "3", &err);
    rn_model_opts_set(&mo, "input_size", "12", &err);
    rn_graph *g;
    CHECK(rn_model_opts_resolve(&mo, &err) == 0 && rn_resnet_build(&mo, &g, &err) == 0, "build: %s", err.msg);
    rn_graph_init_params(g, 7);
    // A sharper classifier than the initial one, so that the crops' scores differ clearly.
    int fc = rn_graph_find(g, "fc_weight");
    CHECK(fc >= 0, "fc_weight");
    for (size_t j = 0; fc >= 0 && j < rn_tensor_numel(&g->tensors[fc]); j++) g->arena[g->tensors[fc].offset + j] *= 30;
    double want_loss, center_loss, each[NIMG];
    int pred[NIMG];
    expected(g, ds, &want_loss, pred, &center_loss, each);
    int want_top1 = 0;
    int64_t conf[KCLS][KCLS] = {{0}};
    for (size_t i = 0; i < ds->n; i++) {
        want_top1 += pred[i] == ds->labels[i];
        conf[ds->labels[i]][pred[i]]++;
    }

    // The library pass: 4 images x 10 crops per forward, the last batch (2 images) padded.
    rn_data_opts o = opts();
    rn_dataset_view v;
    rn_loader *l;
    rn_exec *ex;
    rn_exec_opts eo = rn_exec_opts_default(0);
    const int B = o.batch_size * V;
    CHECK(rn_view_init(&v, ds, 0, 1, &err) == 0 && rn_loader_create(&v, &o, 0, &l, &err) == 0 &&
              rn_exec_create(g, B, S, S, &eo, &ex, &err) == 0, "setup: %s", err.msg);
    float *pad = rn_malloc_aligned(sizeof(float) * B * 3 * S * S), *scores = rn_malloc_aligned(sizeof(float) * B * KCLS);
    int32_t labels[40];
    rn_eval_counts c;
    rn_eval_counts_init(&c, KCLS, 1, &err);
    rn_eval_io io = {.ex = ex, .batch = B, .pad = pad, .scores = scores, .labels = labels};
    CHECK(rn_evaluate(l, &io, &c, &err) == RN_EVAL_DONE, "evaluate: %s", err.msg);
    CHECK(c.n == NIMG, "n %lld", (long long)c.n);
    fprintf(stderr, "ten-crop loss sum %.6f (reference %.6f; centre crop alone %.6f), top-1 %lld/%d\n", c.loss_sum,
            want_loss, center_loss, (long long)c.top1, NIMG);
    CHECK_CLOSE(c.loss_sum, want_loss, 1e-4, "ten-crop loss vs the reference executor's mean softmax");
    CHECK(fabs(center_loss - want_loss) > 1e-2, "the example tells ten crops from the centre crop (%g vs %g)",
          center_loss, want_loss);
    CHECK(c.top1 == want_top1, "top-1 %lld, reference %d", (long long)c.top1, want_top1);
    for (int t = 0; t < KCLS; t++)
        for (int p = 0; p < KCLS; p++)
            CHECK(c.confusion[t * KCLS + p] == conf[t][p], "confusion[%d][%d] %lld, reference %lld", t, p,
                  (long long)c.confusion[t * KCLS + p], (long long)conf[t][p]);
    rn_eval_counts_free(&c);
    // A rank's share without its padding repeats: only the first `real` samples count.
    rn_eval_counts_init(&c, KCLS, 0, &err);
    io.real = 5;
    CHECK(rn_evaluate(l, &io, &c, &err) == RN_EVAL_DONE && c.n == 5, "real = 5: n %lld", (long long)c.n);
    CHECK_CLOSE(c.loss_sum, want_loss - each[5], 1e-4, "real = 5: the first five images' loss");
    rn_eval_counts_free(&c);
    rn_free_aligned(pad);
    rn_free_aligned(scores);
    rn_exec_destroy(ex);
    rn_loader_destroy(l);

    // The program: same model as ONNX, same numbers, and the report's CSV holds the counts.
    char model[512], cmd[2048], path[600];
    snprintf(model, sizeof model, "%s/m.onnx", dir);
    CHECK(rn_onnx_export(g, model, &err) == 0, "export: %s", err.msg);
    snprintf(cmd, sizeof cmd, "%s %s --data %s/data --size %d --resize %d --batch 4 --tta ten-crop --report %s/rep > %s/out.txt",
             RESNET_EVAL, model, dir, S, IH, dir, dir);
    CHECK(run(cmd) == 0, "%s", cmd);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    FILE *f = fopen(path, "r");
    double t1 = -1, t5 = -1;
    long long h1 = -1, h5 = -1, n = -1, n5 = -1;
    CHECK(f && fscanf(f, "top-1 %lf %% (%lld/%lld)  top-5 %lf %% (%lld/%lld)", &t1, &h1, &n, &t5, &h5, &n5) == 6,
          "resnet-eval's line");
    if (f) fclose(f);
    CHECK(n == NIMG && n5 == NIMG && h1 == want_top1 && h5 == NIMG, "resnet-eval top-1 %lld/%lld, top-5 %lld/%lld, want %d/%d",
          h1, n, h5, n5, want_top1, NIMG);
    snprintf(path, sizeof path, "%s/rep/per_class.csv", dir);
    f = fopen(path, "r");
    char line[256];
    CHECK(f && fgets(line, sizeof line, f) && !strcmp(line, "class_index,class_name,images,correct,top1_pct\n"), "header");
    for (int t = 0; f && t < KCLS; t++) {
        int idx = -1;
        long long imgs = -1, ok = -1;
        char name[16];
        CHECK(fgets(line, sizeof line, f) && sscanf(line, "%d,%15[^,],%lld,%lld,", &idx, name, &imgs, &ok) == 4, "row %d", t);
        char want_name[16];
        snprintf(want_name, sizeof want_name, "c%d", t);
        CHECK(idx == t && !strcmp(name, want_name) && imgs == PER && ok == conf[t][t], "row %d: %s", t, line);
    }
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/rep/confusion.csv", dir);
    f = fopen(path, "r");
    CHECK(f && fgets(line, sizeof line, f) && !strcmp(line, "true\\predicted,c0,c1,c2\n"), "confusion header");
    for (int t = 0; f && t < KCLS; t++) {
        long long a = -1, b = -1, d = -1;
        CHECK(fgets(line, sizeof line, f) && sscanf(line, "c%*d,%lld,%lld,%lld", &a, &b, &d) == 3 && a == conf[t][0] &&
                  b == conf[t][1] && d == conf[t][2], "confusion row %d: %s", t, line);
    }
    if (f) fclose(f);
    rn_graph_destroy(g);
}

// The whole of a small file, NUL-terminated ("" when it cannot be read).
static const char *slurp(const char *dir_, const char *name, char *buf, size_t cap) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir_, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    return buf;
}

// Hand-made counts: 2 true classes of a 4-class model, one image predicted as class 3.
static void test_report_format(void) {
    rn_eval_counts c;
    rn_err err;
    rn_eval_counts_init(&c, 4, 1, &err);
    int64_t m[4][4] = {{3, 1, 0, 0}, {0, 2, 0, 1}};
    memcpy(c.confusion, m, sizeof m);
    c.n = 7, c.top1 = 5;
    const char *names[2] = {"cat, tabby", "say \"dog\""};
    static char got[65536];
    char rep[300];
    snprintf(rep, sizeof rep, "%s/fmt", dir);
    CHECK(rn_eval_report_write(rep, &c, names, 2, 2, &err) == 0, "report: %s", err.msg);
    const char *want = "class_index,class_name,images,correct,top1_pct\n"
                       "0,\"cat, tabby\",4,3,75.0000\n"
                       "1,\"say \"\"dog\"\"\",3,2,66.6667\n";
    CHECK(!strcmp(slurp(rep, "per_class.csv", got, sizeof got), want), "per_class.csv:\n%s", got);
    want = "true\\predicted,\"cat, tabby\",\"say \"\"dog\"\"\",class_2,class_3\n"
           "\"cat, tabby\",3,1,0,0\n"
           "\"say \"\"dog\"\"\",0,2,0,1\n";
    CHECK(!strcmp(slurp(rep, "confusion.csv", got, sizeof got), want), "confusion.csv:\n%s", got);
    slurp(rep, "confusion.svg", got, sizeof got);
    CHECK(strstr(got, "<svg") && strstr(got, "say &quot;dog&quot;"), "the SVG names the classes, escaped");
    rn_eval_counts_free(&c);
}

int main(void) {
    make_images();
    char data[300];
    snprintf(data, sizeof data, "%s/data", dir);
    rn_dataset *ds;
    rn_err err;
    if (rn_dataset_open_folder(&ds, data, NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    test_loader_crops(ds);
    test_evaluate(ds);
    test_report_format();
    rn_dataset_destroy(ds);
    if (!check_failed) rm_rf(dir);
    return check_summary();
}
