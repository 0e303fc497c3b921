// resnet-bench CONFIG [--batch N] [--iters K] [--warmup W] [--mode train|infer] [--profile] [--winograd]
//              [--threads T] [--no-overlap] [--set s.k=v]
//
// Under mpirun (train mode) every rank runs the step with the gradient all-reduce of resnet-train
// (src/dist.h) and rank 0 prints the global img/s (ranks x batch per step) and the time per step
// spent waiting for the all-reduce after backward (allreduce_wait_ms; --no-overlap starts it only
// after backward, which shows its whole cost).
//
// Throughput of a full training step (forward, loss, backward, SGD-momentum update) or of inference
// on random data, in images per second, plus peak RSS. --profile adds where the time goes, per op
// type. Compare with PyTorch in the same run: bench/compare.sh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <sys/resource.h>

#include "optim/sgd.h"
#include "optim/step.h"
#include "src/cli.h"
#include "src/config.h"
#include "src/dist.h"
#include "layers/exec.h"
#include "layers/exec_mem.h"
#include "src/rng.h"

static const rn_cli cli = {
    "resnet-bench",
    "usage: resnet-bench CONFIG [--batch N] [--iters K] [--warmup W] [--mode train|infer] [--profile] [--winograd]\n"
    "                    [--threads T] [--no-overlap] [--set section.key=value ...]\n",
    "Images per second of a full training step (forward, loss, backward, SGD update) or of inference\n"
    "on random data for CONFIG's network, and the peak RSS.\n\n"
    "  --batch N                batch size (default 32)\n"
    "  --iters K                timed iterations (default 5)\n"
    "  --warmup W               untimed iterations first (default 1)\n"
    "  --mode train|infer       what to time (default train)\n"
    "  --profile                also print where the time goes, per op type\n"
    "  --winograd               let oneDNN pick Winograd convolutions where it has them\n"
    "  --threads T              OpenMP threads (default: OpenMP's)\n"
    "  --no-overlap             under mpirun: all-reduce only after backward\n"
    "  --set section.key=value  override one key of the config (repeatable)\n"
    "  --help, --version        this text; the version, oneDNN's and its CPU ISA\n\n"
    "Example:\n"
    "  resnet-bench configs/resnet50v1.ini --batch 16 --iters 3\n",
};

static int bench(int argc, char **argv);

int main(int argc, char **argv) {
    rn_err err;
    if (rn_dist_init(&argc, &argv, &err)) {
        rn_dist_abort("resnet-bench", err.msg);
        return 1;
    }
    int rc = bench(argc, argv);
    rn_dist_finalize();
    return rc;
}

static int bench(int argc, char **argv) {
    // Static, so that it stays reachable (not a leak) whichever way main returns.
    static const char **overrides;
    overrides = rn_calloc((size_t)argc, sizeof *overrides);
    const char *path = NULL;
    int n_over = 0, batch = 32, iters = 5, warmup = 1, train = 1, profile = 0, winograd = 0, threads = 0, overlap = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (rn_cli_info(&cli, a)) return 0;
        int takes = !strcmp(a, "--batch") || !strcmp(a, "--iters") || !strcmp(a, "--warmup") || !strcmp(a, "--mode") ||
                    !strcmp(a, "--set") || !strcmp(a, "--threads");
        if (takes && !(v = rn_cli_value(&cli, argc, argv, &i))) return 2;
        if (!strcmp(a, "--batch")) {
            if (rn_cli_int(&cli, a, v, 1, 1 << 20, &batch)) return 2;
        } else if (!strcmp(a, "--iters")) {
            if (rn_cli_int(&cli, a, v, 1, 1 << 30, &iters)) return 2;
        } else if (!strcmp(a, "--threads")) {
            if (rn_cli_int(&cli, a, v, 1, 4096, &threads)) return 2;
        } else if (!strcmp(a, "--warmup")) {
            if (rn_cli_int(&cli, a, v, 0, 1 << 30, &warmup)) return 2;
        } else if (!strcmp(a, "--mode")) {
            if (strcmp(v, "train") && strcmp(v, "infer")) return rn_cli_fail(&cli, "--mode: expected train or infer, got '%s'", v);
            train = strcmp(v, "train") == 0;
        } else if (!strcmp(a, "--set")) overrides[n_over++] = v;
        else if (!strcmp(a, "--profile")) profile = 1;
        else if (!strcmp(a, "--winograd")) winograd = 1;
        else if (!strcmp(a, "--no-overlap")) overlap = 0;
        else if (a[0] == '-') return rn_cli_fail(&cli, "unknown option '%s'", a);
        else if (path) return rn_cli_fail(&cli, "one CONFIG only, got '%s' and '%s'", path, a);
        else path = a;
    }
    if (!path) return rn_cli_fail(&cli, "no CONFIG given");
    rn_config cfg;
    rn_err err;
    rn_graph *g = NULL;
    rn_exec *ex = NULL;
    if (rn_config_load(&cfg, path, overrides, n_over, &err) || rn_resnet_build(&cfg.model, &g, &err)) {
        fprintf(stderr, "resnet-bench: %s\n", err.msg);
        return 2;
    }
    if (threads > 0) omp_set_num_threads(threads);
    rn_graph_init_params(g, 1);
    int S = cfg.model.input_size;
    rn_exec_opts eo = rn_exec_opts_default(train);
    eo.profile = profile;
    eo.winograd = winograd;
    int64_t K = cfg.model.num_classes;
    // Its input, scores and their gradient per image; momentum when training.
    rn_mem_plan plan = {0};
    rn_mem_add(&plan, "input and scores", 0, (3.0 * S * S + 2.0 * (double)K) * sizeof(float), RN_MEM_NEW);
    if (train) rn_mem_add(&plan, "momentum", (double)g->arena_size * sizeof(float), 0, RN_MEM_NEW);
    size_t n_in = (size_t)batch * 3 * S * S;
    float *x = NULL, *scores = NULL, *dscores = NULL;
    int rc = rn_exec_mem_check(&plan, g, batch, S, S, &eo, "--batch", &err);
    if (!rc && (!(x = rn_try_malloc_aligned(n_in * sizeof(float))) ||
                !(scores = rn_try_malloc_aligned((size_t)batch * K * sizeof(float))) ||
                !(dscores = rn_try_malloc_aligned((size_t)batch * K * sizeof(float)))))
        rc = rn_alloc_fail(&err, "the input and scores", (n_in + 2 * (size_t)batch * K) * sizeof(float));
    if (rc || rn_exec_create(g, batch, S, S, &eo, &ex, &err)) {
        fprintf(stderr, "resnet-bench: %s\n", err.msg);
        return 1;
    }
    rn_sgd_opts so = rn_sgd_opts_default();  // momentum 0.9, weight decay 1e-4, as PyTorch's peer
    rn_sgd *sgd = rn_sgd_create(g, &so);
    int32_t *labels = rn_malloc((size_t)batch * sizeof(int32_t));
    rn_rng r;
    rn_rng_seed(&r, 5);
    for (size_t i = 0; i < n_in; i++) x[i] = (float)rn_rng_normal(&r);
    for (int i = 0; i < batch; i++) labels[i] = (int32_t)rn_rng_below(&r, (uint32_t)K);
    rn_step step = {.g = g, .ex = ex, .sgd = sgd, .B = batch, .K = (int)K, .accum = 1, .scores = scores, .dscores = dscores};
    const int world = rn_dist_size();
    rn_dist_reducer *red = train && world > 1 ? rn_dist_reducer_create(g, cfg.train.bucket_mb, overlap) : NULL;
    if (red) step.reducer = rn_dist_reducer_hook(red);
    double t0 = 0, loss = 0, wait0 = 0;
    for (int it = 0; it < warmup + iters; it++) {
        if (it == warmup) {
            t0 = rn_now();
            wait0 = red ? rn_dist_reducer_wait_seconds(red) : 0;
            rn_exec_profile_reset(ex);
        }
        int bad = train ? rn_step_input(&step, x, &err) || rn_step_batch(&step, labels, 1, &loss, NULL, &err)
                        : rn_exec_set_input(ex, x, &err) || rn_exec_forward(ex, &err) || rn_exec_get_output(ex, scores, &err);
        if (!bad && train) rn_step_update(&step, 0.01);
        if (bad) {
            fprintf(stderr, "resnet-bench: %s\n", err.msg);
            return 1;
        }
    }
    double sec = rn_now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (red) {
        if (rn_dist_rank() == 0)
            printf("ranks=%d global_img_per_s=%.3f per_rank_img_per_s=%.3f allreduce_wait_ms=%.2f buckets=%d overlap=%s\n", world,
                   (double)world * batch * iters / sec, (double)batch * iters / sec,
                   1e3 * (rn_dist_reducer_wait_seconds(red) - wait0) / iters, rn_dist_reducer_buckets(red),
                   overlap ? "yes" : "no");
        rn_dist_reducer_destroy(red);
    }
    if (rn_dist_rank() == 0)
        printf("mode=%s batch=%d iters=%d img_per_s=%.3f sec_per_iter=%.3f peak_rss_mb=%.0f act_mb=%.0f est_mb=%.0f "
           "loss=%.4f\n",
           train ? "train" : "infer", batch, iters, (double)batch * iters / sec, sec / iters, ru.ru_maxrss / 1024.0,
           rn_exec_act_bytes(ex) / 1048576.0, rn_mem_total(&plan, batch, 1) / 1048576.0, loss);
    if (profile && rn_dist_rank() == 0) {
        double fwd[RN_OP_COUNT] = {0}, bwd[RN_OP_COUNT] = {0}, tot = 0;
        for (int k = 0; k < g->n_ops; k++) {
            double f, b;
            rn_exec_profile(ex, k, &f, &b);
            fwd[g->ops[k].type] += f / iters;
            bwd[g->ops[k].type] += b / iters;
            tot += (f + b) / iters;
        }
        printf("%-20s %10s %10s %7s\n", "op", "fwd_ms", "bwd_ms", "share");
        for (int t = 0; t < RN_OP_COUNT; t++)
            if (fwd[t] + bwd[t] > 0)
                printf("%-20s %10.1f %10.1f %6.1f%%\n", rn_op_type_name(t), 1e3 * fwd[t], 1e3 * bwd[t],
                       100 * (fwd[t] + bwd[t]) / (sec / iters));
        printf("%-20s %10.1f %10s %6.1f%%\n", "other (loss, SGD, copies)", 1e3 * (sec / iters - tot), "",
               100 * (sec / iters - tot) / (sec / iters));
    }
    rn_free_aligned(x), rn_free_aligned(scores), rn_free_aligned(dscores), free(labels);
    rn_sgd_destroy(sgd);
    rn_exec_destroy(ex);
    rn_graph_destroy(g);
    return 0;
}
