// test_run_util.h — helpers of the tests that train whole runs (test_train, test_limits, test_dist):
// the config file of a test folder, a run in this process and a run's last checkpoint.
#ifndef RN_TEST_RUN_UTIL_H
#define RN_TEST_RUN_UTIL_H

#include <stdio.h>

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

#endif
