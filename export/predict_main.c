// resnet-predict — class predictions of a model for JPEG or PNG images, or raw scores for a raw tensor.
//
//   resnet-predict MODEL IMAGE|DIR... [--top K] [--format F] [--size S] [--resize R | --crop-pct F] ...
//   resnet-predict MODEL --raw-input FILE --shape N,C,H,W [--raw-output FILE] [--top K] [--labels FILE]
//
// MODEL is a training checkpoint or an ONNX file. Images get the evaluation transform the model file
// records (export/preproc.h; for a file that records none, ImageNet's: shorter side resized to 256,
// centre crop 224, (x - mean) / std with the ImageNet mean and std). For each image (or row of
// the raw input) a line "image: PATH" (or "input: I") and then K lines
//     rank probability class_index class_name
// with probability = softmax of the scores. --raw-input reads float32 little-endian NCHW, and
// --raw-output writes the raw scores (N x classes, float32 little-endian) — for comparing runtimes.
// A folder argument stands for the images under it (data/imagefiles.h, sorted). An image that
// cannot be read or decoded gets an error record and the others go on; the exit status is then 1.
// --format csv|json writes records for scripts (export/predict_out.h).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/image.h"
#include "data/imagefiles.h"
#include "data/opts.h"
#include "data/transform.h"
#include "export/classes.h"
#include "export/model_io.h"
#include "export/onnx_wire.h"
#include "export/predict_out.h"
#include "export/preproc.h"
#include "src/cli.h"
#include "layers/exec.h"
#include "layers/exec_mem.h"
#include "src/parse.h"

#define MAX_BATCH 16

static const rn_cli cli = {
    "resnet-predict",
    "usage: resnet-predict MODEL IMAGE|DIR... [--top K] [--format F] " RN_PREPROC_USAGE "\n"
    "       resnet-predict MODEL --raw-input FILE --shape N,C,H,W [--raw-output FILE] [--top K] [--labels FILE]\n",
    "Class predictions of MODEL (a training checkpoint or an ONNX file) for JPEG or PNG images: per image a\n"
    "line 'image: PATH', then K lines 'rank probability class_index class_name' (softmax of the scores).\n"
    "A folder stands for the .jpg/.jpeg/.png files under it (recursively, sorted). An image that cannot be\n"
    "read gets an error line (stderr in text, a record in csv/json) and the others go on.\n\n"
    "  --top K             classes per image (default 5; 0: none, e.g. with --raw-output)\n"
    RN_PREPROC_HELP
    "  --raw-input FILE    float32 little-endian NCHW input instead of images (needs --shape)\n"
    "  --shape N,C,H,W     the shape of --raw-input\n"
    "  --raw-output FILE   write the raw scores (N x classes, float32 little-endian)\n"
    "  --format F          text (default), csv (path,rank,probability,class_index,class_name,error)\n"
    "                      or json (an array of {path, top: [...]} or {path, error})\n"
    "  --help, --version   this text; the version, oneDNN's and its CPU ISA\n\n"
    "Exit status: 0; 1 for a model that cannot be read or any image that failed (the others are still\n"
    "printed); 2 for a bad command line.\n\n"
    "Example:\n"
    "  resnet-predict runs/resnet50v2/best.ckpt cat.jpg --top 3\n",
};

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
                   rn_predict_out *out, rn_err *err) {
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
    float *x = rn_try_malloc(n * sizeof *x);
    if (!x) {
        free(bytes);
        return rn_alloc_fail(err, "the input tensor", n * sizeof *x);
    }
    rn_le_load_f32(x, bytes, n);
    free(bytes);
    rn_exec_opts eo = rn_exec_opts_default(0);
    rn_exec *ex;
    if (rn_exec_create(g, shape[0], shape[2], shape[3], &eo, &ex, err)) {
        free(x);
        return -1;
    }
    size_t classes = rn_exec_numel(ex, g->output) / (size_t)shape[0], m = (size_t)shape[0] * classes;
    float *y = rn_try_malloc(m * sizeof *y);
    int rc = y ? 0 : rn_alloc_fail(err, "the output tensor", m * sizeof *y);
    if (!rc) rc = rn_exec_set_input(ex, x, err) || rn_exec_forward(ex, err) || rn_exec_get_output(ex, y, err) ? -1 : 0;
    rn_exec_destroy(ex);
    free(x);
    if (!rc && out_path) {
        uint8_t *ob = rn_try_malloc(m * 4);
        if (!ob) {
            free(y);
            return rn_alloc_fail(err, "the output file's bytes", m * 4);
        }
        rn_le_store_f32(ob, y, m);
        FILE *f = fopen(out_path, "wb");
        if (!f || fwrite(ob, 1, m * 4, f) != m * 4) rc = rn_fail(err, "%s: cannot write", out_path);
        if (f && fclose(f) != 0 && !rc) rc = rn_fail(err, "%s: cannot write", out_path);
        free(ob);
    }
    if (!rc && top > 0) {
        rn_predict_out_begin(out);
        for (int64_t i = 0; i < shape[0]; i++) {
            char name[32];
            snprintf(name, sizeof name, "%lld", (long long)i);
            rn_predict_out_result(out, name, y + (size_t)i * classes, classes, top);
        }
        rn_predict_out_end(out);
    }
    free(y);
    return rc;
}

// The inputs named on the command line, folders expanded (data/imagefiles.h); a folder that cannot
// be read or holds no image is a failed input of its own.
typedef struct input {
    char *path;
    char *error;  // NULL: to be predicted
} input;

static void add_input(input **in, size_t *n, size_t *cap, const char *path, const char *error) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *in = rn_realloc(*in, *cap * sizeof **in);
    }
    (*in)[(*n)++] = (input){rn_strdup(path), error ? rn_strdup(error) : NULL};
}

static input *expand(char **args, int n_args, size_t *n_out) {
    input *in = NULL;
    size_t n = 0, cap = 0;
    for (int a = 0; a < n_args; a++) {
        struct stat st;
        if (stat(args[a], &st) != 0 || !S_ISDIR(st.st_mode)) {
            add_input(&in, &n, &cap, args[a], NULL);  // a file, or whatever reading it will say
            continue;
        }
        rn_image_files list;
        rn_err e;
        if (rn_image_files_find(args[a], &list, &e)) {
            add_input(&in, &n, &cap, args[a], e.msg);
            continue;
        }
        for (size_t i = 0; i < list.n_skipped; i++) fprintf(stderr, "resnet-predict: warning: %s\n", list.skipped[i]);
        if (list.n == 0) add_input(&in, &n, &cap, args[a], "folder holds no image file (none with an image extension, as datasets count them)");
        for (size_t i = 0; i < list.n; i++) add_input(&in, &n, &cap, list.paths[i], NULL);
        rn_image_files_free(&list);
    }
    *n_out = n;
    return in;
}

// Predicts every input, a batch at a time; a file that cannot be read or decoded gets an error
// record and the rest go on. *failed counts those; -1 only for what stops everything.
static int run_images(rn_graph *g, char **args, int n_args, const rn_data_opts *o, size_t top, rn_predict_out *out,
                      size_t *failed, rn_err *err) {
    if (g->tensors[g->input].dims[1] != 3)
        return rn_fail(err, "the model takes %lld input channels; images give 3", (long long)g->tensors[g->input].dims[1]);
    size_t n_in;
    input *in = expand(args, n_args, &n_in);
    int batch = n_in < MAX_BATCH ? (n_in ? (int)n_in : 1) : MAX_BATCH;
    rn_exec_opts eo = rn_exec_opts_default(0);
    rn_exec *ex = NULL;
    int rc = check_memory(g, batch, 3, o->size, o->size, 1, "images per batch", err) ||
                     rn_exec_create(g, batch, o->size, o->size, &eo, &ex, err)
                 ? -1
                 : 0;
    size_t per = (size_t)3 * o->size * o->size, classes = rc ? 0 : rn_exec_numel(ex, g->output) / (size_t)batch;
    float *x = rc ? NULL : rn_try_malloc((size_t)batch * per * sizeof *x);
    float *y = rc ? NULL : rn_try_malloc((size_t)batch * classes * sizeof *y);
    size_t *slot = rn_malloc((size_t)batch * sizeof *slot);  // input index of each batch row
    if (!rc && !(x && y)) rc = rn_alloc_fail(err, "the images' input and scores", (size_t)batch * (per + classes) * sizeof *x);
    rn_decoder *d = rn_decoder_create();
    rn_xform_ws ws;
    memset(&ws, 0, sizeof ws);
    uint8_t *buf = NULL;
    size_t cap = 0, len, next = 0;
    *failed = 0;
    if (!rc) rn_predict_out_begin(out);
    while (!rc && next < n_in) {
        // Fill a batch with decodable images, writing each failure's record as it is met; records stay
        // in input order because a batch's results are written before the next failure is met.
        int nb = 0;
        size_t first_fail = n_in;
        while (nb < batch && next < n_in && first_fail == n_in) {
            input *it = &in[next];
            rn_err e2;
            if (!it->error && (rn_read_file_max(it->path, (size_t)o->max_file_mb << 20, &buf, &cap, &len, &e2) ||
                               rn_preprocess_image(d, &ws, buf, len, o, NULL, x + (size_t)nb * per, &e2)))
                it->error = rn_strdup(e2.msg);
            if (it->error) first_fail = next;
            else slot[nb++] = next;
            next++;
        }
        if (nb > 0) {
            if (nb < batch) memset(x + (size_t)nb * per, 0, (size_t)(batch - nb) * per * sizeof *x);  // padding
            if (rn_exec_set_input(ex, x, err) || rn_exec_forward(ex, err) || rn_exec_get_output(ex, y, err)) {
                rc = -1;
                break;
            }
            for (int i = 0; i < nb; i++) rn_predict_out_result(out, in[slot[i]].path, y + (size_t)i * classes, classes, top);
        }
        if (first_fail < n_in) {
            rn_predict_out_error(out, in[first_fail].path, in[first_fail].error);
            ++*failed;
        }
    }
    if (!rc) rn_predict_out_end(out);
    for (size_t i = 0; i < n_in; i++) {
        free(in[i].path);
        free(in[i].error);
    }
    free(in);
    free(slot);
    free(buf);
    rn_xform_ws_free(&ws);
    rn_decoder_destroy(d);
    rn_exec_destroy(ex);
    free(x);
    free(y);
    return rc;
}

int main(int argc, char **argv) {
    const char *model = NULL, *raw_in = NULL, *raw_out = NULL, *shape_s = NULL;
    // Static, so that it stays reachable (not a leak) whichever way main returns.
    static char **images;
    images = rn_calloc((size_t)argc, sizeof *images);
    int n_images = 0;
    int top = 5;
    rn_out_format format = RN_OUT_TEXT;
    rn_data_opts o = rn_data_opts_default();
    rn_err err;
    rn_preproc_flags pf = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (rn_cli_info(&cli, a)) return 0;
        int pre = rn_preproc_option(&cli, argc, argv, &i, &pf);
        if (pre < 0) return 2;
        if (pre) continue;
        static const char *const with_value[] = {"--top", "--raw-input", "--raw-output", "--shape", "--format", NULL};
        int takes = 0;
        for (int k = 0; with_value[k]; k++) takes |= !strcmp(a, with_value[k]);
        if (takes && !(v = rn_cli_value(&cli, argc, argv, &i))) return 2;
        if (!strcmp(a, "--top")) {
            if (rn_cli_int(&cli, a, v, 0, 1000000, &top)) return 2;
        } else if (!strcmp(a, "--raw-input")) raw_in = v;
        else if (!strcmp(a, "--raw-output")) raw_out = v;
        else if (!strcmp(a, "--shape")) shape_s = v;
        else if (!strcmp(a, "--format")) {
            if (rn_out_format_parse(v, &format)) return rn_cli_fail(&cli, "--format: expected text, csv or json, got '%s'", v);
        } else if (a[0] == '-' && a[1]) return rn_cli_fail(&cli, "unknown option '%s'", a);
        else if (!model) model = a;
        else images[n_images++] = argv[i];
    }
    int64_t shape[4];
    if (shape_s && parse_shape(shape_s, shape))
        return rn_cli_fail(&cli, "--shape: expected N,C,H,W (positive, at most 2^31 elements), got '%s'", shape_s);
    if (rn_preproc_flags_check(&cli, &pf)) return 2;
    if (!model) return rn_cli_fail(&cli, "no MODEL given");
    if (raw_in && (n_images || !shape_s)) return rn_cli_fail(&cli, "--raw-input takes --shape and no images");
    if (!raw_in && !n_images) return rn_cli_fail(&cli, "no IMAGE given");
    if (!raw_in && (raw_out || shape_s)) return rn_cli_fail(&cli, "--raw-output and --shape need --raw-input");
    rn_graph *g;
    rn_labels lab;
    if (rn_preproc_load(cli.prog, model, &pf, &g, &o, &lab, &err)) {
        fprintf(stderr, "resnet-predict: %s\n", err.msg);
        free(images);
        return 1;
    }
    rn_predict_out out = {stdout, stderr, format, &lab, raw_in ? "input" : "image", 0};
    size_t failed = 0;
    int rc = raw_in ? run_raw(g, raw_in, shape, raw_out, (size_t)top, &out, &err)
                    : run_images(g, images, n_images, &o, (size_t)top, &out, &failed, &err);
    if (rc) fprintf(stderr, "resnet-predict: %s\n", err.msg);
    else if (failed) fprintf(stderr, "resnet-predict: %zu input%s failed\n", failed, failed == 1 ? "" : "s");
    rn_labels_free(&lab);
    rn_graph_destroy(g);
    free(images);
    return rc || failed ? 1 : 0;
}
