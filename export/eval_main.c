// resnet-eval — top-1 / top-5 accuracy of a model on a folder of class folders.
//
//   resnet-eval MODEL --data DIR [--batch B] [--workers W] [--size S] [--resize R | --crop-pct F] ...
//
// MODEL is a training checkpoint or an ONNX file; DIR holds one folder per class (torchvision
// ImageFolder order: class index = position of the folder name in byte-wise sorted order; see
// data/dataset.h). Every image gets the centre-crop protocol the model file records (export/preproc.h;
// ImageNet's for a file that records none). Prints one line: "top-1 P % (H/N)  top-5 P % (H/N)",
// percentages with two decimals as the trainer prints them.
// Exit status: 0, 2 for a bad command line, 1 for any failure (a run that would not fit in memory
// included), 128 + signal after SIGINT/SIGTERM (it stops between batches).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/opts.h"
#include "export/classes.h"
#include "export/model_io.h"
#include "export/preproc.h"
#include "src/cli.h"
#include "src/exec.h"
#include "src/exec_mem.h"
#include "src/signals.h"

static const rn_cli cli = {
    "resnet-eval",
    "usage: resnet-eval MODEL --data DIR [--batch B] [--workers W]\n"
    "                   " RN_PREPROC_USAGE "\n",
    "Top-1 / top-5 accuracy of MODEL (a training checkpoint or an ONNX file) on DIR, one folder per\n"
    "class, with the preprocessing the model file records. Prints one line:\n"
    "'top-1 P % (HITS/N)  top-5 P % (HITS/N)'.\n\n"
    "  --data DIR          the class folders (required)\n"
    "  --batch B           images per forward pass (default 32)\n"
    "  --workers W         decoding threads (default 4; 0 decodes in the main thread)\n"
    RN_PREPROC_HELP
    "  --help, --version   this text; the version, oneDNN's and its CPU ISA\n\n"
    "Exit status: 0, 1 for a model or dataset that cannot be read, 2 for a bad command line.\n\n"
    "Example:\n"
    "  resnet-eval runs/fashion-mnist-resnet18v2/model.onnx --data datasets/fashion-mnist/val\n",
};

static int evaluate(rn_graph *g, const char *dir, const rn_data_opts *o, rn_err *err) {
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
    int B = o->batch_size;
    size_t per = (size_t)3 * o->size * o->size;
    // The loader, the executor and this loop's input and scores, checked before any is allocated.
    rn_mem_plan plan = {0};
    rn_loader_mem_plan(o, ds->n, 1, "data loader", &plan);
    rn_mem_add(&plan, "input and scores", 0, ((double)per + classes) * sizeof(float), RN_MEM_NEW);
    float *x = NULL, *y = NULL;
    int rc = rn_view_init(&v, ds, 0, 1, err) || rn_exec_mem_check(&plan, g, B, o->size, o->size, &eo, "--batch", err) ||
             rn_loader_create(&v, o, 0, &l, err) || rn_exec_create(g, B, o->size, o->size, &eo, &ex, err);
    size_t nc = rc ? 0 : rn_exec_numel(ex, g->output) / (size_t)B;
    if (!rc && (!(x = rn_try_malloc_aligned((size_t)B * per * sizeof *x)) || !(y = rn_try_malloc_aligned((size_t)B * nc * sizeof *y))))
        rc = rn_alloc_fail(err, "the evaluation's input and scores", (size_t)B * (per + nc) * sizeof(float));
    if (rc) {
        rn_free_aligned(x);
        rn_exec_destroy(ex);
        rn_loader_destroy(l);
        rn_dataset_destroy(ds);
        return -1;
    }
    double *p = rn_malloc(nc * sizeof *p);
    size_t top[5];
    long long n = 0, hit1 = 0, hit5 = 0;
    rn_loader_start_epoch(l, 0);
    for (;;) {
        if (rn_stop_signal()) {
            rc = rn_fail(err, "stopped by signal %d after %lld images", rn_stop_signal(), n);
            break;
        }
        rn_batch *b;
        int r = rn_loader_next(l, &b, err);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0) break;
        memcpy(x, b->data, (size_t)b->n * per * sizeof *x);
        if (b->n < B) memset(x + (size_t)b->n * per, 0, (size_t)(B - b->n) * per * sizeof *x);  // short last batch
        rn_exec_set_input(ex, x);
        rn_exec_forward(ex);
        rn_exec_get_output(ex, y);
        size_t k = nc < 5 ? nc : 5;
        for (int i = 0; i < b->n; i++) {
            for (size_t c = 0; c < nc; c++) p[c] = y[(size_t)i * nc + c];
            rn_topk(p, nc, k, top);
            hit1 += (int32_t)top[0] == b->labels[i];
            for (size_t j = 0; j < k; j++) hit5 += (int32_t)top[j] == b->labels[i];
        }
        n += b->n;
        rn_loader_release(l, b);
    }
    rn_loader_stats st;
    rn_loader_stats_get(l, &st);
    if (st.replaced)
        fprintf(stderr, "resnet-eval: warning: %lld corrupt files, %lld samples replaced by other images\n",
                (long long)st.corrupt_files, (long long)st.replaced);
    if (!rc)
        printf("top-1 %.2f %% (%lld/%lld)  top-5 %.2f %% (%lld/%lld)\n", n ? 100.0 * hit1 / n : 0.0, hit1, n,
               n ? 100.0 * hit5 / n : 0.0, hit5, n);
    rn_free_aligned(x);
    rn_free_aligned(y);
    free(p);
    rn_exec_destroy(ex);
    rn_loader_destroy(l);
    rn_dataset_destroy(ds);
    return rc;
}

int main(int argc, char **argv) {
    const char *model = NULL, *dir = NULL;
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
        int takes = !strcmp(a, "--data") || !strcmp(a, "--batch") || !strcmp(a, "--workers");
        if (takes && !(v = rn_cli_value(&cli, argc, argv, &i))) return 2;
        if (!strcmp(a, "--data")) dir = v;
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
    int rc = evaluate(g, dir, &o, &err);
    if (rc) fprintf(stderr, "resnet-eval: %s\n", err.msg);
    rn_graph_destroy(g);
    return rn_stop_signal() ? 128 + rn_stop_signal() : rc ? 1 : 0;
}
