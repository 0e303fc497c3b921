// test_run_util.h — helpers of the tests that train whole runs (test_train, test_limits, test_dist):
// the config file of a test folder, a run in this process and a run's last checkpoint.
#ifndef RN_TEST_RUN_UTIL_H
#define RN_TEST_RUN_UTIL_H

#include <stdio.h>
#include <string.h>

#include "optim/checkpoint.h"
#include "src/train.h"
#include "tests/check.h"

// Writes `text` (a printf format taking the folder twice: train and val roots) to DIR/tiny.ini and
// its path into cfg_path.
static inline void write_test_config(const char *dir, const char *text, char *cfg_path, size_t cap) {
    snprintf(cfg_path, cap, "%s/tiny.ini", dir);
    FILE *f = fopen(cfg_path, "w");
    if (!f) {
        perror(cfg_path);
        abort();
    }
    fprintf(f, text, dir, dir);
    fclose(f);
}

// Trains in this process with the config plus train.run_dir = DIR/RUN and up to 15 overrides;
// resume: NULL or a path relative to DIR. Returns rn_train_run's status (-100: config refused).
static inline int train_run(const char *dir, const char *cfg_path, const char *run, const char *resume,
                            const char *const *sets, int n_sets, rn_err *err) {
    const char *over[16];
    char rd[600];
    snprintf(rd, sizeof rd, "train.run_dir=%s/%s", dir, run);
    over[0] = rd;
    for (int i = 0; i < n_sets && i < 15; i++) over[1 + i] = sets[i];
    static rn_config c;  // large: off the stack
    if (rn_config_load(&c, cfg_path, over, 1 + (n_sets < 15 ? n_sets : 15), err)) return -100;
    char rp[600];
    if (resume) snprintf(rp, sizeof rp, "%s/%s", dir, resume);
    return rn_train_run(&c, resume ? rp : NULL, err);
}

// DIR/RUN/last.ckpt, or NULL after a failed CHECK naming why.
static inline rn_ckpt *run_last_ckpt(const char *dir, const char *run) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s/last.ckpt", dir, run);
    rn_ckpt *c = NULL;
    rn_err e;
    CHECK(rn_ckpt_read(p, &c, &e) == 0, "%s: %s", p, e.msg);
    return c;
}

// DIR/a and DIR/b: every tensor, optimiser buffer and EMA entry bit-identical, and the same position and history.
static inline void expect_same_run_ckpt(const char *dir, const char *a, const char *b, const char *what) {
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    rn_ckpt *x = NULL, *y = NULL;
    rn_err e;
    CHECK(rn_ckpt_read(pa, &x, &e) == 0, "%s: %s", what, e.msg);
    CHECK(rn_ckpt_read(pb, &y, &e) == 0, "%s: %s", what, e.msg);
    if (!x || !y) return;
    CHECK(x->n_entries == y->n_entries && x->n_entries > 0, "%s: entry counts %d %d", what, x->n_entries, y->n_entries);
    int diff = 0;
    for (int i = 0; i < x->n_entries; i++) {
        const rn_ckpt_entry *p = &x->entries[i], *q = rn_ckpt_find(y, p->name, p->kind);
        if (!q || q->numel != p->numel || memcmp(p->data, q->data, p->numel * 4)) {
            if (!diff) fprintf(stderr, "%s: first difference in %s (kind %d)\n", what, p->name, p->kind);
            diff++;
        }
    }
    CHECK(diff == 0, "%s: %d tensors differ", what, diff);
    static const char *keys[] = {"state.epoch", "state.batch", "state.step", "state.best_top1", "state.lr",
                                 "ema.n_averaged"};
    for (int i = 0; i < 6; i++) {
        const char *u = rn_ckpt_meta(x, keys[i]), *v = rn_ckpt_meta(y, keys[i]);
        if (i == 5 && !u && !v) continue;  // a run without EMA
        CHECK(u && v && !strcmp(u, v), "%s: %s %s vs %s", what, keys[i], u ? u : "-", v ? v : "-");
    }
    // History: everything but the timings.
    int hx = 0, hy = 0;
    for (int i = 0; i < x->n_meta; i++) hx += !strcmp(x->meta_key[i], "history");
    for (int i = 0; i < y->n_meta; i++) hy += !strcmp(y->meta_key[i], "history");
    CHECK(hx == hy, "%s: history lengths %d %d", what, hx, hy);
    for (int i = 0, j = 0; i < x->n_meta && j < y->n_meta; i++, j++) {
        while (i < x->n_meta && strcmp(x->meta_key[i], "history")) i++;
        while (j < y->n_meta && strcmp(y->meta_key[j], "history")) j++;
        if (i >= x->n_meta || j >= y->n_meta) break;
        // epoch, lr, train_loss, train_top1, val_loss, val_top1, val_top5 come first.
        const char *s = x->meta_val[i], *t = y->meta_val[j];
        int commas = 0;
        size_t k = 0;
        while (s[k] && s[k] == t[k] && commas < 7) commas += s[k++] == ',';
        CHECK(commas == 7, "%s: history '%s' vs '%s'", what, s, t);
    }
    rn_ckpt_free(x);
    rn_ckpt_free(y);
}

#endif
