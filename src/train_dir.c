// train_dir.c — the run folder: where a run writes (a resumed checkpoint's own folder, else
// [train] run_dir), the refusal of a folder that holds another run, --overwrite, and the files that
// describe the run (classes.txt, config.ini). See train_run.h.
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/train_run.h"

// The files a run leaves in its folder; --overwrite removes exactly these.
static const char *const run_files[] = {"last.ckpt", "best.ckpt", "metrics.csv", "metrics.svg", "model.onnx",
                                        "config.ini", "classes.txt"};

// A resumed run continues in its checkpoint's folder, whatever [train] run_dir says, so that it never
// writes into another run's; ckpt: the checkpoint (a folder means its last.ckpt).
void rn_run_paths(rn_run *r, const char *resume, char *ckpt, size_t cap) {
    const rn_config *c = r->c;
    if (c->train.run_dir[0]) snprintf(r->dir, sizeof r->dir, "%s", c->train.run_dir);
    else snprintf(r->dir, sizeof r->dir, "runs/%s", c->name);
    struct stat sb;
    if (resume && stat(resume, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(r->dir, sizeof r->dir, "%s", resume);
        snprintf(ckpt, cap, "%s/last.ckpt", resume);
    } else if (resume) {
        snprintf(ckpt, cap, "%s", resume);
        const char *slash = strrchr(resume, '/');
        if (!slash) snprintf(r->dir, sizeof r->dir, ".");
        else snprintf(r->dir, sizeof r->dir, "%.*s", (int)(slash - resume + (slash == resume)), resume);
    }
    snprintf(r->last, sizeof r->last, "%s/last.ckpt", r->dir);
    snprintf(r->best, sizeof r->best, "%s/best.ckpt", r->dir);
    snprintf(r->csv, sizeof r->csv, "%s/metrics.csv", r->dir);
    snprintf(r->svg, sizeof r->svg, "%s/metrics.svg", r->dir);
}

// A new run into a folder that holds one: refused, unless --overwrite.
int rn_run_check_fresh(const rn_run *r, rn_err *err) {
    if (r->c->overwrite) return 0;
    for (int i = 0; i < 3; i++) {
        char p[sizeof r->dir + 16];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", r->dir, run_files[i]);
        if (stat(p, &sb) == 0)
            return rn_fail(err, "%s holds a previous run (%s): continue it with --resume %s, set another [train] run_dir "
                                "(--set train.run_dir=...), or replace it with --overwrite", r->dir, run_files[i], r->dir);
    }
    return 0;
}

int rn_run_clear_previous(rn_run *r, rn_err *err) {
    for (size_t i = 0; i < sizeof run_files / sizeof *run_files; i++) {
        char p[sizeof r->dir + 16];
        snprintf(p, sizeof p, "%s/%s", r->dir, run_files[i]);
        if (unlink(p) != 0 && errno != ENOENT) return rn_fail(err, "%s: cannot remove: %s", p, strerror(errno));
    }
    rn_progress_note(&r->prog, "--overwrite: removed the previous run's files from %s", r->dir);
    return 0;
}

// The model's preprocessing and class names (for checkpoints and the export), and classes.txt.
int rn_run_model_meta(rn_run *r, rn_err *err) {
    r->mm.has_preproc = 1;
    r->mm.pre = rn_data_preproc(&r->c->data);
    rn_model_meta_set_classes(&r->mm, (const char *const *)r->train_ds->class_names, r->train_ds->n_classes);
    char p[sizeof r->dir + 16], tmp[sizeof p + 24];
    snprintf(p, sizeof p, "%s/classes.txt", r->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return rn_fail(err, "%s: cannot write: %s", tmp, strerror(errno));
    for (int i = 0; i < r->mm.n_classes; i++) fprintf(f, "%s\n", r->mm.classes[i]);
    if (fclose(f) != 0 || rename(tmp, p) != 0) {
        unlink(tmp);
        return rn_fail(err, "%s: cannot write", p);
    }
    return 0;
}

// The effective configuration, so that the run folder says how it was made (and can re-run it),
// with the folder it ran in.
int rn_run_write_config(rn_run *r, rn_err *err) {
    static rn_config w;  // large: keep it off the stack
    w = *r->c;
    snprintf(w.train.run_dir, sizeof w.train.run_dir, "%s", r->dir);
    char cp[sizeof r->dir + 16];
    snprintf(cp, sizeof cp, "%s/config.ini", r->dir);
    return rn_config_write(&w, cp, err);
}
