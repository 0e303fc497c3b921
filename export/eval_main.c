// resnet-eval — top-1 / top-5 accuracy of a model on a folder of class folders.
//
//   resnet-eval MODEL --data DIR [--batch B] [--workers W] [--size S] [--resize R | --crop-pct F] ...
//               [--tta ten-crop] [--report DIR]
//
// MODEL is a training checkpoint or an ONNX file; DIR holds one folder per class (torchvision
// ImageFolder order: class index = position of the folder name in byte-wise sorted order; see
// data/dataset.h). Every image gets the centre-crop protocol the model file records (export/preproc.h;
// ImageNet's for a file that records none). Prints one line: "top-1 P % (H/N)  top-5 P % (H/N)",
// percentages with two decimals as the trainer prints them (and the loss on stderr).
// --tta ten-crop scores each image by the mean softmax of its ten crops (data/transform.h,
// layers/eval_counts.h); --report writes per-class accuracy, the confusion matrix and its picture
// (export/eval_report.h).
// Exit status: 0, 2 for a bad command line, 1 for any failure (a run that would not fit in memory
// included), 128 + signal after SIGINT/SIGTERM (it stops between batches).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/evaluate.h"
#include "data/loader.h"
#include "data/opts.h"
#include "export/classes.h"
#include "export/eval_report.h"
#include "export/model_io.h"
#include "export/preproc.h"
#include "src/cli.h"
#include "layers/exec.h"
#include "layers/exec_mem.h"
#include "src/signals.h"

static const rn_cli cli = {
    "resnet-eval",
    "usage: resnet-eval MODEL --data DIR [--batch B] [--workers W] [--tta ten-crop] [--report DIR]\n"
    "                   " RN_PREPROC_USAGE "\n",
    "Top-1 / top-5 accuracy of MODEL (a training checkpoint or an ONNX file) on DIR, one folder per\n"
    "class, with the preprocessing the model file records. Prints one line:\n"
    "'top-1 P % (HITS/N)  top-5 P % (HITS/N)'.\n\n"
    "  --data DIR          the class folders (required)\n"
    "  --batch B           images per forward pass (default 32)\n"
    "  --workers W         decoding threads (default 4; 0 decodes in the main thread)\n"
    RN_PREPROC_HELP
    "  --tta MODE          none (default: the centre crop) or ten-crop: the four corner crops and the\n"
    "                      centre crop of the resized image and of its mirror, softmax averaged\n"
    "                      (10 forward rows per image)\n"
    "  --report DIR        also write DIR/per_class.csv, DIR/confusion.csv and DIR/confusion.svg\n"
    "  --help, --version   this text; the version, oneDNN's and its CPU ISA\n\n"
    "Exit status: 0, 1 for a model or dataset that cannot be read, 2 for a bad command line.\n\n"
    "Example:\n"
    "  resnet-eval runs/fashion-mnist-resnet18v2/model.onnx --data datasets/fashion-mnist/val\n",
};

// One evaluation pass (data/evaluate.h) over DIR; with `report`, the per-class files too.
static int evaluate(rn_graph *g, const char *dir, const rn_data_opts *o, const char *report, rn_err *err) {
    if (g->tensors[g->input].dims[1] != 3)
        return rn_fail(err, "the model takes %lld input channels; images give 3", (long long)g->tensors[g->input].dims[1]);
    rn_dataset *ds;
    if (rn_dataset_open_folder(&ds, dir, NULL, err)) return -1;
    int classes = rn_model_num_classes(g);
    if (classes < 0) classes = (int)g->tensors[g->output].dims[1];
    if (ds->n_classes > classes) {
        rn_fail(err, "%s has %d class folders, the model has %d classes", dir, ds->n_classes, classes);
        rn_dataset_destroy(ds);
        return -1;
    }
    rn_dataset_view v;
    rn_loader *l = NULL;
    rn_exec *ex = NULL;
    rn_exec_opts eo = rn_exec_opts_default(0);
    const int V = rn_data_views(o), B = o->batch_size * V;  // executor rows: images x crops
    size_t per = (size_t)3 * o->size * o->size;
    // The loader, the executor and this loop's input, scores and labels, checked before any is
    // allocated. With crops the plan's batch counts executor rows; the loader is fixed at --batch.
    rn_mem_plan plan = {0};
    rn_loader_mem_plan(o, ds->n, V == 1, "data loader", &plan);
    rn_mem_add(&plan, "input and scores", 0, ((double)per + classes + 1) * sizeof(float), RN_MEM_NEW);
    float *x = NULL, *y = NULL;
    int32_t *labels = NULL;
    int rc = rn_view_init(&v, ds, 0, 1, err) ||
                     rn_exec_mem_check(&plan, g, B, o->size, o->size, &eo, V == 1 ? "--batch" : "--batch x 10 crops", err) ||
                     rn_loader_create(&v, o, 0, &l, err) || rn_exec_create(g, B, o->size, o->size, &eo, &ex, err)
                 ? -1
                 : 0;
    size_t nc = rc ? 0 : rn_exec_numel(ex, g->output) / (size_t)B;
    if (!rc && nc < (size_t)ds->n_classes)
        rc = rn_fail(err, "%s has %d class folders, the model gives %zu scores per image", dir, ds->n_classes, nc);
    if (!rc && (!(x = rn_try_malloc_aligned((size_t)B * per * sizeof *x)) || !(y = rn_try_malloc_aligned((size_t)B * nc * sizeof *y)) ||
                !(labels = malloc((size_t)B * sizeof *labels))))
        rc = rn_alloc_fail(err, "the evaluation's input and scores", (size_t)B * (per + nc + 1) * sizeof(float));
    rn_eval_counts cnt = {0};
    if (!rc) rc = rn_eval_counts_init(&cnt, (int)nc, report != NULL, err);
    rn_eval_io io = {.ex = ex, .batch = B, .pad = x, .scores = y, .labels = labels, .stop = rn_stop_signal};
    if (!rc) rc = rn_evaluate(l, &io, &cnt, err);
    if (rc == RN_EVAL_STOPPED) rc = rn_fail(err, "stopped by signal %d after %lld images", rn_stop_signal(), (long long)cnt.n);
    if (l) {
        rn_loader_stats st;
        rn_loader_stats_get(l, &st);
        if (st.replaced)
            fprintf(stderr, "resnet-eval: warning: %lld corrupt files, %lld samples replaced by other images\n",
                    (long long)st.corrupt_files, (long long)st.replaced);
    }
    long long n = cnt.n;
    if (!rc) {
        double loss, t1, t5;  // percentages as the trainer prints its validation
        rn_eval_rates(&cnt, &loss, &t1, &t5);
        printf("top-1 %.2f %% (%lld/%lld)  top-5 %.2f %% (%lld/%lld)\n", n ? t1 : 0.0, (long long)cnt.top1, n,
               n ? t5 : 0.0, (long long)cnt.top5, n);
        fprintf(stderr, "resnet-eval: loss %.4f over %lld images%s\n", loss, n, V > 1 ? " (ten-crop)" : "");
    }
    if (!rc && report) {
        rc = rn_eval_report_write(report, &cnt, (const char *const *)ds->class_names, ds->n_classes, ds->n_classes, err);
        if (!rc) fprintf(stderr, "resnet-eval: report in %s: per_class.csv, confusion.csv, confusion.svg\n", report);
    }
    rn_free_aligned(x);
    rn_free_aligned(y);
    free(labels);
    rn_eval_counts_free(&cnt);
    rn_exec_destroy(ex);
    rn_loader_destroy(l);
    rn_dataset_destroy(ds);
    return rc;
}

int main(int argc, char **argv) {
    const char *model = NULL, *dir = NULL, *report = NULL;
    rn_data_opts o = rn_data_opts_default();
    o.batch_size = 32;
    o.shuffle = 0;
    o.drop_last = 0;
    rn_err err;
    rn_preproc_flags pf = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (rn_cli_info(&cli, a)) return 0;
        int pre = rn_preproc_option(&cli, argc, argv, &i, &pf);
        if (pre < 0) return 2;
        if (pre) continue;
        int takes = !strcmp(a, "--data") || !strcmp(a, "--batch") || !strcmp(a, "--workers") || !strcmp(a, "--tta") ||
                    !strcmp(a, "--report");
        if (takes && !(v = rn_cli_value(&cli, argc, argv, &i))) return 2;
        if (!strcmp(a, "--data")) dir = v;
        else if (!strcmp(a, "--report")) report = v;
        else if (!strcmp(a, "--tta")) {
            if (!strcmp(v, "ten-crop")) o.tta = RN_TTA_TEN_CROP;
            else if (strcmp(v, "none")) return rn_cli_fail(&cli, "--tta: expected none or ten-crop, got '%s'", v);
        }
        else if (!strcmp(a, "--batch")) {
            if (rn_cli_int(&cli, a, v, 1, 4096, &o.batch_size)) return 2;
        } else if (!strcmp(a, "--workers")) {
            if (rn_cli_int(&cli, a, v, 0, 256, &o.workers)) return 2;
        } else if (a[0] == '-') return rn_cli_fail(&cli, "unknown option '%s'", a);
        else if (model) return rn_cli_fail(&cli, "one MODEL only, got '%s' and '%s'", model, a);
        else model = a;
    }
    if (rn_preproc_flags_check(&cli, &pf)) return 2;
    if (!model) return rn_cli_fail(&cli, "no MODEL given");
    if (!dir) return rn_cli_fail(&cli, "no --data DIR given");
    rn_graph *g;
    if (rn_preproc_load(cli.prog, model, &pf, &g, &o, NULL, &err)) {
        fprintf(stderr, "resnet-eval: %s\n", err.msg);
        return 1;
    }
    rn_stop_signals_install(NULL);  // the loop stops before its next batch
    int rc = evaluate(g, dir, &o, report, &err);
    if (rc) fprintf(stderr, "resnet-eval: %s\n", err.msg);
    rn_graph_destroy(g);
    return rn_stop_signal() ? 128 + rn_stop_signal() : rc ? 1 : 0;
}
