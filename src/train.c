// resnet-train CONFIG [--set section.key=value ...] [--resume CKPT|RUN_DIR | --overwrite]
// resnet-train --print-config CONFIG [--set ...]  |  --print-config-doc
//
// Trains the config's network on its [data]; see docs/TRAINING.md. Exit status: 0 when training
// finished (or stopped by [train] stop_after_steps), 2 for a bad config or command line, 1 for
// any other failure (a NaN loss included), 128 + signal after Ctrl-C / SIGTERM (having saved).
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/dist.h"
#include "src/signals.h"
#include "src/train.h"

static const rn_cli cli = {
    "resnet-train",
    "usage: resnet-train CONFIG [--set section.key=value ...] [--resume CKPT|RUN_DIR | --overwrite]\n"
    "       resnet-train --print-config CONFIG [--set section.key=value ...]\n"
    "       resnet-train --print-config-doc\n",
    "Trains the network of CONFIG's [model] on its [data] (docs/TRAINING.md).\n\n"
    "  --set section.key=value  override one key of the config (repeatable, applied in order)\n"
    "  --resume CKPT|RUN_DIR    continue a run from a checkpoint or a run folder's last.ckpt, in the\n"
    "                           checkpoint's folder (the config's [model] must match the checkpoint's)\n"
    "  --overwrite              a new run into a [train] run_dir that holds a previous run: remove that\n"
    "                           run's files first (without it, such a run_dir is refused)\n"
    "  --print-config           print the effective configuration (every key) as INI and exit\n"
    "  --print-config-doc       print the Markdown reference of every key and exit\n"
    "  --help, --version        this text; the version, oneDNN's and its CPU ISA\n\n"
    "Exit status: 0 done (or stopped by [train] stop_after_steps), 1 failure, 2 bad config or\n"
    "command line, 128 + signal after Ctrl-C or SIGTERM (having saved).\n\n"
    "Example:\n"
    "  resnet-train configs/fashion-mnist-resnet18v2.ini --set train.epochs=1\n",
};

// Under mpirun a failing rank ends the whole job (MPI_Abort), naming itself; alone, it prints.
static int fail(const char *msg, int status) {
    rn_dist_abort("resnet-train", msg);
    return status;
}

static int run(int argc, char **argv);

int main(int argc, char **argv) {
    rn_err err;
    if (rn_dist_init(&argc, &argv, &err)) return fail(err.msg, 1);
    int rc = run(argc, argv);  // its failures have ended an MPI job already (fail)
    rn_dist_finalize();
    return rc;
}

static int run(int argc, char **argv) {
    // Static, so that it stays reachable (not a leak) whichever way main returns.
    static const char **overrides;
    overrides = rn_calloc((size_t)argc, sizeof *overrides);
    const char *path = NULL, *resume = NULL;
    int n_over = 0, print = 0, overwrite = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (rn_cli_info(&cli, a)) return 0;
        if (strcmp(a, "--print-config-doc") == 0) {
            rn_config_doc(stdout);
            return 0;
        }
        if (strcmp(a, "--print-config") == 0) print = 1;
        else if (strcmp(a, "--overwrite") == 0) overwrite = 1;
        else if (strcmp(a, "--set") == 0 || strcmp(a, "--resume") == 0) {
            const char *v = rn_cli_value(&cli, argc, argv, &i);
            if (!v) return 2;
            if (strcmp(a, "--set") == 0) overrides[n_over++] = v;
            else resume = v;
        } else if (a[0] == '-') return rn_cli_fail(&cli, "unknown option '%s'", a);
        else if (path) return rn_cli_fail(&cli, "one CONFIG only, got '%s' and '%s'", path, a);
        else path = a;
    }
    if (!path) return rn_cli_fail(&cli, "no CONFIG given");
    if (overwrite && resume) return rn_cli_fail(&cli, "--overwrite starts a new run; --resume continues one: not both");
    static rn_config cfg;  // large: keep it off the stack
    rn_err err;
    if (rn_config_load(&cfg, path, overrides, n_over, &err) || (!print && rn_config_check_train_data(&cfg, &err)))
        return fail(err.msg, 2);
    cfg.overwrite = overwrite;
    if (print) {
        rn_config_print(&cfg, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    // First signal: finish the step, save, stop. Second: leave at once (last.ckpt is written atomically).
    rn_stop_signals_install(rn_train_request_stop);
    int rc = rn_train_run(&cfg, resume, &err);
    if (rc == RN_TRAIN_FAILED) return fail(err.msg, 1);
    return rc == RN_TRAIN_STOPPED && rn_stop_signal() ? 128 + rn_stop_signal() : 0;
}
