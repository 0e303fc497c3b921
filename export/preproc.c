// preproc.c — the tools' preprocessing from the model file and the command line; see preproc.h.
#include "export/preproc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/model_io.h"
#include "src/parse.h"

// "a,b,c": three finite numbers (positive ones when `positive`).
static int three(const char *v, int positive, float out[3]) {
    double x[3];
    if (rn_parse_f64_n(v, x, 3)) return -1;
    for (int i = 0; i < 3; i++) {
        out[i] = (float)x[i];
        if (!isfinite(out[i]) || (positive && !(out[i] > 0))) return -1;
    }
    return 0;
}

int rn_preproc_option(const rn_cli *cli, int argc, char **argv, int *i, rn_preproc_flags *f) {
    static const char *const opts[] = {"--size", "--resize", "--crop-pct", "--mean", "--std", "--labels"};
    const char *a = argv[*i];
    if (!strcmp(a, "--ema")) return f->ema = 1;
    int k = 0;
    while (k < 6 && strcmp(a, opts[k]) != 0) k++;
    if (k == 6) return 0;
    const char *v = rn_cli_value(cli, argc, argv, i);
    if (!v) return -1;
    rn_err e;
    switch (k) {
    case 0: return rn_cli_int(cli, a, v, 8, 4096, &f->size) ? -1 : 1;
    case 1: return rn_cli_int(cli, a, v, 8, 8192, &f->resize) ? -1 : 1;
    case 2:
        if (rn_parse_double(a, v, 0, 1, &f->crop_pct, &e) || !(f->crop_pct > 0))
            return rn_cli_fail(cli, "--crop-pct: expected a number in (0, 1], got '%s'", v), -1;
        return 1;
    case 3:
        if (three(v, 0, f->mean)) return rn_cli_fail(cli, "--mean: expected 3 comma-separated numbers, got '%s'", v), -1;
        f->has_mean = 1;
        return 1;
    case 4:
        if (three(v, 1, f->std))
            return rn_cli_fail(cli, "--std: expected 3 comma-separated positive numbers, got '%s'", v), -1;
        f->has_std = 1;
        return 1;
    default: f->labels = v; return 1;
    }
}

int rn_preproc_flags_check(const rn_cli *cli, const rn_preproc_flags *f) {
    if (f->resize && f->crop_pct > 0) return rn_cli_fail(cli, "give --resize or --crop-pct, not both");
    if (f->resize && f->size && f->resize < f->size)
        return rn_cli_fail(cli, "--resize %d is smaller than --size %d", f->resize, f->size);
    return 0;
}

static int labels(const char *model, const rn_preproc_flags *f, rn_model_meta *m, int classes, rn_labels *lab,
                  rn_err *err) {
    memset(lab, 0, sizeof *lab);
    if (!f->labels && m->n_classes) {  // the file's (rn_model_load_meta checked the count)
        lab->names = m->classes, lab->n = m->n_classes;
        m->classes = NULL, m->n_classes = 0;
        return 0;
    }
    if (!f->labels && classes != 1000) return 0;
    char shipped[4096];
    if (!f->labels && rn_labels_imagenet_path(shipped, sizeof shipped, err)) return -1;
    const char *lp = f->labels ? f->labels : shipped;
    if (rn_labels_load(lp, lab, err)) return -1;
    if (lab->n < classes) {
        rn_labels_free(lab);
        return rn_fail(err, "%s: %d class names for %s with %d classes", lp, lab->n, model, classes);
    }
    return 0;
}

int rn_preproc_load(const char *prog, const char *model, const rn_preproc_flags *f, rn_graph **g, rn_data_opts *o,
                    rn_labels *lab, rn_err *err) {
    rn_model_meta m;
    if (rn_model_load_weights(model, f->ema ? RN_WEIGHTS_EMA : RN_WEIGHTS_TRAINED, g, &m, err)) return -1;
    rn_preproc p = m.has_preproc ? m.pre : rn_preproc_imagenet();
    if (!m.has_preproc)
        fprintf(stderr, "%s: %s records no preprocessing: ImageNet's (%d crop of %d, mean %g,%g,%g, std %g,%g,%g) unless "
                        "flags say otherwise\n",
                prog, model, p.size, p.resize, p.mean[0], p.mean[1], p.mean[2], p.std[0], p.std[1], p.std[2]);
    if (f->size) p.size = f->size;
    // A new size keeps the recorded crop fraction unless the resize itself is given.
    if (f->resize) p.resize = f->resize;
    else if (f->crop_pct > 0) p.crop_pct = f->crop_pct, p.resize = (int)round(p.size / f->crop_pct);
    else if (f->size) p.resize = (int)round(p.size / p.crop_pct);
    if (f->has_mean) memcpy(p.mean, f->mean, sizeof p.mean);
    if (f->has_std) memcpy(p.std, f->std, sizeof p.std);
    int rc = 0;
    if (p.resize < p.size) rc = rn_fail(err, "resize %d is smaller than size %d (%s, flags)", p.resize, p.size, model);
    else if (p.resize > 8192) rc = rn_fail(err, "resize %d is over 8192: give --resize", p.resize);
    if (!rc) {
        rn_data_set_preproc(o, &p);
        int classes = rn_model_num_classes(*g);
        if (classes < 0) classes = (int)(*g)->tensors[(*g)->output].dims[1];
        if (lab) rc = labels(model, f, &m, classes, lab, err);
    }
    rn_model_meta_free(&m);
    if (rc) {
        rn_graph_destroy(*g);
        *g = NULL;
    }
    return rc;
}
