// test_run_util.h — helpers of the tests that train whole runs (test_train, test_limits, test_dist):
// the config file of a test folder and a run's last checkpoint.
#ifndef RN_TEST_RUN_UTIL_H
#define RN_TEST_RUN_UTIL_H

#include <stdio.h>

#include "optim/checkpoint.h"
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
