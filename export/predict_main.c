// resnet-predict — class predictions of a model for JPEG images, or raw scores for a raw tensor.
//
//   resnet-predict MODEL IMAGE... [--top K] [--labels FILE] [--size S] [--resize R]
//   resnet-predict MODEL --raw-input FILE --shape N,C,H,W [--raw-output FILE] [--top K] [--labels FILE]
//
// MODEL is a training checkpoint or an ONNX file. Images get the seed's evaluation transform
// (shorter side resized to 256, centre crop 224, (x - mean) / std with the ImageNet mean
// (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225); data/transform.h). For each image (or row of
// the raw input) a line "image: PATH" (or "input: I") and then K lines
//     rank probability class_index class_name
// with probability = softmax of the scores. --raw-input reads float32 little-endian NCHW, and
// --raw-output writes the raw scores (N x classes, float32 little-endian) — for comparing runtimes.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/opts.h"
#include "data/transform.h"
#include "export/classes.h"
#include "export/model_io.h"
#include "export/onnx_wire.h"
#include "src/cli.h"
#include "src/exec.h"
#include "src/exec_mem.h"
#include "src/parse.h"

#define MAX_BATCH 16

static const rn_cli cli = {
    "resnet-predict",
    "usage: resnet-predict MODEL IMAGE... [--top K] [--labels FILE] [--size S] [--resize R]\n"
    "       resnet-predict MODEL --raw-input FILE --shape N,C,H,W [--raw-output FILE] [--top K] [--labels FILE]\n",
    "Class predictions of MODEL (a training checkpoint or an ONNX file) for JPEG images: per image a\n"
    "line 'image: PATH', then K lines 'rank probability class_index class_name' (softmax of the scores).\n\n"
    "  --top K             classes per image (default 5; 0: none, e.g. with --raw-output)\n"
    "  --labels FILE       class names, one per line (default: ImageNet's for 1000 classes)\n"
    "  --size S            centre crop side (default 224)\n"
    "  --resize R          shorter side before the crop (default 256, >= S)\n"
    "  --raw-input FILE    float32 little-endian NCHW input instead of images (needs --shape)\n"
    "  --shape N,C,H,W     the shape of --raw-input\n"
    "  --raw-output FILE   write the raw scores (N x classes, float32 little-endian)\n"
    "  --help, --version   this text; the version, oneDNN's and its CPU ISA\n\n"
    "Exit status: 0, 1 for a model or image that cannot be read, 2 for a bad command line.\n\n"
    "Example:\n"
    "  resnet-predict runs/resnet50v2/best.ckpt cat.jpg --top 3\n",
};

static void print_top(const float *scores, size_t classes, size_t k, const rn_labels *lab) {
    double *p = rn_malloc(classes * sizeof *p);
    size_t *idx = rn_malloc(classes * sizeof *idx);
    rn_softmax(scores, classes, p);
    if (k > classes) k = classes;
    rn_topk(p, classes, k, idx);
    for (size_t r = 0; r < k; r++)
        printf("%zu %.6f %zu %s\n", r + 1, p[idx[r]], idx[r], lab->n ? lab->names[idx[r]] : "-");
    free(p);
    free(idx);
}

// "N,C,H,W", each >= 1, at most 2^31 elements in all.
static int parse_shape(const char *s, int64_t d[4]) {
    char buf[128];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    char *p = buf;
    int64_t n = 1;
    for (int i = 0; i < 4; i++) {
        char *comma = strchr(p, ',');
        if ((i < 3) != (comma != NULL)) return -1;
        if (comma) *comma = 0;
        long long v;
        if (rn_parse_i64(p, &v) || v < 1 || v > 65536) return -1;
        d[i] = v;
        n *= v;
        if (n > ((int64_t)1 << 31)) return -1;
        if (comma) p = comma + 1;
    }
    return 0;
}

static int read_all(const char *path, uint8_t **buf, size_t *len, rn_err *err) {
    size_t cap = 0;
    *buf = NULL;
    return rn_read_file(path, buf, &cap, len, err);
}

// The executor and `copies` float copies of the input per image, checked before any is allocated.
static int check_memory(rn_graph *g, int64_t batch, int64_t c, int64_t h, int64_t w, int copies, const char *knob,
                        rn_err *err) {
    rn_mem_plan p = {0};
    rn_mem_add(&p, "input", 0, (double)copies * (double)(c * h * w) * sizeof(float), RN_MEM_NEW);
    rn_exec_opts eo = rn_exec_opts_default(0);
    return rn_exec_mem_check(&p, g, batch, h, w, &eo, knob, err);
}

static int run_raw(rn_graph *g, const char *in_path, const int64_t shape[4], const char *out_path, size_t top,
                   const rn_labels *lab, rn_err *err) {
    if (shape[1] != g->tensors[g->input].dims[1])
        return rn_fail(err, "--shape has %lld channels, the model's input has %lld", (long long)shape[1],
                       (long long)g->tensors[g->input].dims[1]);
    uint8_t *bytes;
    size_t len;
    // The file's bytes and their floats.
    if (check_memory(g, shape[0], shape[1], shape[2], shape[3], 2, "--shape N", err)) return -1;
    if (read_all(in_path, &bytes, &len, err)) return -1;
    size_t n = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
    if (len != n * 4) {
        free(bytes);
        return rn_fail(err, "%s: %zu bytes, but --shape needs %zu (float32)", in_path, len, n * 4);
    }
    float *x = rn_malloc(n * sizeof *x);
    rn_le_load_f32(x, bytes, n);
    free(bytes);
    rn_exec_opts eo = rn_exec_opts_default(0);
    rn_exec *ex;
    if (rn_exec_create(g, shape[0], shape[2], shape[3], &eo, &ex, err)) {
        free(x);
        return -1;
    }
    size_t classes = rn_exec_numel(ex, g->output) / (size_t)shape[0];
    float *y = rn_malloc(rn_exec_numel(ex, g->output) * sizeof *y);
    rn_exec_set_input(ex, x);
    rn_exec_forward(ex);
    rn_exec_get_output(ex, y);
    rn_exec_destroy(ex);
    free(x);
    int rc = 0;
    if (out_path) {
        size_t m = (size_t)shape[0] * classes;
        uint8_t *ob = rn_malloc(m * 4);
        rn_le_store_f32(ob, y, m);
        FILE *f = fopen(out_path, "wb");
        if (!f || fwrite(ob, 1, m * 4, f) != m * 4) rc = rn_fail(err, "%s: cannot write", out_path);
        if (f && fclose(f) != 0 && !rc) rc = rn_fail(err, "%s: cannot write", out_path);
        free(ob);
    }
    for (int64_t i = 0; !rc && top > 0 && i < shape[0]; i++) {
        printf("input: %lld\n", (long long)i);
        print_top(y + (size_t)i * classes, classes, top, lab);
    }
    free(y);
    return rc;
}

static int run_images(rn_graph *g, char **images, int n_images, const rn_data_opts *o, size_t top,
                      const rn_labels *lab, rn_err *err) {
    if (g->tensors[g->input].dims[1] != 3)
        return rn_fail(err, "the model takes %lld input channels; images give 3", (long long)g->tensors[g->input].dims[1]);
    int batch = n_images < MAX_BATCH ? n_images : MAX_BATCH;
    rn_exec_opts eo = rn_exec_opts_default(0);
    rn_exec *ex;
    if (check_memory(g, batch, 3, o->size, o->size, 1, "images per batch", err) ||
        rn_exec_create(g, batch, o->size, o->size, &eo, &ex, err))
        return -1;
    size_t per = (size_t)3 * o->size * o->size, classes = rn_exec_numel(ex, g->output) / (size_t)batch;
    float *x = rn_malloc((size_t)batch * per * sizeof *x);
    float *y = rn_malloc((size_t)batch * classes * sizeof *y);
    rn_decoder *d = rn_decoder_create();
    rn_xform_ws ws;
    memset(&ws, 0, sizeof ws);
    uint8_t *buf = NULL;
    size_t cap = 0, len;
    int rc = 0;
    for (int b0 = 0; !rc && b0 < n_images; b0 += batch) {
        int nb = n_images - b0 < batch ? n_images - b0 : batch;
        memset(x, 0, (size_t)batch * per * sizeof *x);  // a short last batch is padded with zeros
        for (int i = 0; !rc && i < nb; i++) {
            rn_err e2;
            if (rn_read_file(images[b0 + i], &buf, &cap, &len, &e2) ||
                rn_preprocess_image(d, &ws, buf, len, o, NULL, x + (size_t)i * per, &e2))
                rc = rn_fail(err, "%s: %s", images[b0 + i], e2.msg);
        }
        if (rc) break;
        rn_exec_set_input(ex, x);
        rn_exec_forward(ex);
        rn_exec_get_output(ex, y);
        for (int i = 0; i < nb; i++) {
            printf("image: %s\n", images[b0 + i]);
            print_top(y + (size_t)i * classes, classes, top, lab);
        }
    }
    free(buf);
    rn_xform_ws_free(&ws);
    rn_decoder_destroy(d);
    rn_exec_destroy(ex);
    free(x);
    free(y);
    return rc;
}

int main(int argc, char **argv) {
    const char *model = NULL, *labels = NULL, *raw_in = NULL, *raw_out = NULL, *shape_s = NULL;
    // Static, so that it stays reachable (not a leak) whichever way main returns.
    static char **images;
    images = rn_calloc((size_t)argc, sizeof *images);
    int n_images = 0;
    int top = 5;
    rn_data_opts o = rn_data_opts_default();
    rn_err err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (rn_cli_info(&cli, a)) return 0;
        static const char *const with_value[] = {"--top", "--labels", "--raw-input", "--raw-output", "--shape",
                                                 "--size", "--resize", NULL};
        int takes = 0;
        for (int k = 0; with_value[k]; k++) takes |= !strcmp(a, with_value[k]);
        if (takes && !(v = rn_cli_value(&cli, argc, argv, &i))) return 2;
        if (!strcmp(a, "--top")) {
            if (rn_cli_int(&cli, a, v, 0, 1000000, &top)) return 2;
        } else if (!strcmp(a, "--labels")) labels = v;
        else if (!strcmp(a, "--raw-input")) raw_in = v;
        else if (!strcmp(a, "--raw-output")) raw_out = v;
        else if (!strcmp(a, "--shape")) shape_s = v;
        else if (!strcmp(a, "--size")) {
            if (rn_cli_int(&cli, a, v, 8, 4096, &o.size)) return 2;
        } else if (!strcmp(a, "--resize")) {
            if (rn_cli_int(&cli, a, v, 8, 8192, &o.resize)) return 2;
        } else if (a[0] == '-' && a[1]) return rn_cli_fail(&cli, "unknown option '%s'", a);
        else if (!model) model = a;
        else images[n_images++] = argv[i];
    }
    int64_t shape[4];
    if (shape_s && parse_shape(shape_s, shape))
        return rn_cli_fail(&cli, "--shape: expected N,C,H,W (positive, at most 2^31 elements), got '%s'", shape_s);
    if (o.resize < o.size) return rn_cli_fail(&cli, "--resize %d is smaller than --size %d", o.resize, o.size);
    if (!model) return rn_cli_fail(&cli, "no MODEL given");
    if (raw_in && (n_images || !shape_s)) return rn_cli_fail(&cli, "--raw-input takes --shape and no images");
    if (!raw_in && !n_images) return rn_cli_fail(&cli, "no IMAGE given");
    if (!raw_in && (raw_out || shape_s)) return rn_cli_fail(&cli, "--raw-output and --shape need --raw-input");
    rn_graph *g;
    if (rn_model_load(model, &g, &err)) {
        fprintf(stderr, "resnet-predict: %s\n", err.msg);
        free(images);
        return 1;
    }
    int classes = rn_model_num_classes(g);
    if (classes < 0) classes = (int)g->tensors[g->output].dims[1];
    rn_labels lab = {NULL, 0};
    int rc = 0;
    if (labels || classes == 1000) {
        char shipped[4096];
        const char *lp = labels ? labels : shipped;
        if (!labels && rn_labels_imagenet_path(shipped, sizeof shipped, &err)) rc = 1;
        else if (rn_labels_load(lp, &lab, &err)) rc = 1;
        else if (lab.n < classes) {
            rn_fail(&err, "%s: %d class names for a model with %d classes", lp, lab.n, classes);
            rc = 1;
        }
    }
    if (!rc) rc = raw_in ? run_raw(g, raw_in, shape, raw_out, (size_t)top, &lab, &err)
                         : run_images(g, images, n_images, &o, (size_t)top, &lab, &err);
    if (rc) fprintf(stderr, "resnet-predict: %s\n", err.msg);
    rn_labels_free(&lab);
    rn_graph_destroy(g);
    free(images);
    return rc ? 1 : 0;
}
