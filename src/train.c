// resnet-train CONFIG [--set section.key=value ...] [--resume CKPT|RUN_DIR]
//
// Trains the config's network on its [data]; see docs/TRAINING.md. Exit status: 0 when training
// finished (or stopped by [train] stop_after_steps), 2 for a bad config or command line, 1 for
// any other failure (a NaN loss included), 128 + signal after Ctrl-C / SIGTERM (having saved).
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "src/signals.h"
#include "src/train.h"

static int usage(void) {
    fprintf(stderr, "usage: resnet-train CONFIG [--set section.key=value ...] [--resume CKPT|RUN_DIR]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *overrides[128], *path = NULL, *resume = NULL;
    int n_over = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_over < 128) overrides[n_over++] = argv[++i];
        else if (strcmp(argv[i], "--resume") == 0 && i + 1 < argc) resume = argv[++i];
        else if (argv[i][0] == '-' || path) return usage();
        else path = argv[i];
    }
    if (!path) return usage();
    static rn_config cfg;  // large: keep it off the stack
    rn_err err;
    if (rn_config_load(&cfg, path, overrides, n_over, &err)) {
        fprintf(stderr, "resnet-train: %s\n", err.msg);
        return 2;
    }
    // First signal: finish the step, save, stop. Second: leave at once (last.ckpt is written atomically).
    rn_stop_signals_install(rn_train_request_stop);
    int rc = rn_train_run(&cfg, resume, &err);
    if (rc == RN_TRAIN_FAILED) {
        fprintf(stderr, "resnet-train: %s\n", err.msg);
        return 1;
    }
    return rc == RN_TRAIN_STOPPED && rn_stop_signal() ? 128 + rn_stop_signal() : 0;
}
