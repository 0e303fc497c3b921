// test_dist.c — data-parallel training under mpirun (issue 11), on the band dataset of test_train
// with its tiny ResNet v2, every run a few seconds:
//   * 2 ranks x batch B for K steps equal 1 process with accum_steps = 2 x B (and 2 ranks x accum 2
//     equal 1 process x accum 4): every parameter and momentum within 1e-5 relative;
//   * with sync_bn, 2 ranks x B equal 1 process x 2B within 1e-5, running statistics included;
//   * BN running statistics follow the documented rule: rank 0's, from its own batches only
//     (checked with lr = 0 against one process fed exactly rank 0's batches);
//   * a 2-rank run stopped (stop_after_steps) and resumed twice is bit-identical to one that never
//     stopped (also with EMA, AdamW and gradient clipping); a checkpoint of 2 ranks resumes on 1 and the other way, at the same global position;
//   * a rank killed with SIGKILL ends the job within 30 s with a message, and last.ckpt loads;
//     SIGTERM to one rank stops every rank after the same step, saved;
//   * an error on the ranks ends the job with a message naming the rank.
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "optim/checkpoint.h"
#include "src/train.h"
#include "tests/check.h"
#include "tests/test_data_util.h"
#include "tests/test_run_util.h"

static char dir[256], cfg_path[512];

static const char *config_text =
    "[model]\nblocks = 1,1\nbottleneck = no\nversion = 2\nnum_classes = 4\nwidth = 16\nstem = small\ninput_size = 16\n"
    "[data]\ntrain_dir = %s/train\nval_dir = %s/val\nsize = 16\nresize = 16\nbatch_size = 8\nworkers = 1\nseed = 3\n"
    "[augment]\nflip = yes\npad_crop = 2\n"
    "[train]\nepochs = 2\neval_batch_size = 12\nprogress = off\nlabel_smoothing = 0.1\nthreads = 1\nbucket_mb = 0.01\n"
    "[optim]\nlr = 0.2\nnesterov = yes\nnorm_weight_decay = 0\n"
    "[schedule]\ntype = cosine\nwarmup_epochs = 1\n"
    "[export]\nonnx = no\n";

// Open MPI does not free everything it allocates (its plugins' buffers stay at MPI_Finalize), so in
// a sanitizer build the ranks run without LeakSanitizer's exit check (everything else of ASan stays
// on); the trainer's own leaks are checked by test_train and test_step, in one process.
static void ranks_without_leak_check(void) {
    const char *was = getenv("ASAN_OPTIONS");
    char v[1024];
    snprintf(v, sizeof v, "%s%sdetect_leaks=0", was ? was : "", was && *was ? ":" : "");
    setenv("ASAN_OPTIONS", v, 1);
}

// mpirun -np N resnet-train with the test config, run folder `run`, extra "--set k=v" text; its
// output goes to DIR/run.log. Returns the exit status.
static int mpi(int n, const char *run, const char *sets) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s --allow-run-as-root --oversubscribe -x ASAN_OPTIONS -np %d %s %s --set train.run_dir=%s/%s %s > %s/%s.log 2>&1",
             MPIRUN,
             n, RESNET_TRAIN, cfg_path, dir, run, sets, dir, run);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// One process, in this process (no mpirun: rank 0 of 1); resume relative to DIR.
static int one(const char *run, const char *resume, const char *const *sets, int n_sets) {
    rn_err err;
    int rc = train_run(dir, cfg_path, run, resume, sets, n_sets, &err);
    if (rc == RN_TRAIN_FAILED) fprintf(stderr, "%s: %s\n", run, err.msg);
    return rc;
}

static rn_ckpt *ckpt(const char *run) { return run_last_ckpt(dir, run); }

static long long meta_ll(const rn_ckpt *c, const char *key) {
    const char *v = c ? rn_ckpt_meta(c, key) : NULL;
    return v ? atoll(v) : -1;
}

// Largest |a - b| / max|b| per tensor over the BN running statistics (state = 1) or the parameters
// (their values or momentum), by the graph's roles.
static double max_rel(const rn_ckpt *x, const rn_ckpt *y, int kind, int state) {
    rn_graph *g = NULL;
    rn_err e;
    if (!x || !y || rn_ckpt_build_graph(x, &g, &e)) return INFINITY;
    double worst = 0;
    int n = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const rn_tensor *tt = &g->tensors[t];
        if (tt->role != (state ? RN_STATE : RN_PARAM) || (kind == RN_CKPT_MOMENTUM && !tt->trainable)) continue;
        const rn_ckpt_entry *p = rn_ckpt_find(x, tt->name, kind), *q = rn_ckpt_find(y, tt->name, kind);
        if (!p || !q || p->numel != q->numel) {
            worst = INFINITY;
            continue;
        }
        float *a = rn_malloc(p->numel * 4), *b = rn_malloc(q->numel * 4);
        rn_ckpt_entry_read(p, a);
        rn_ckpt_entry_read(q, b);
        double m = 0, d = 0;
        for (size_t i = 0; i < p->numel; i++) {
            m = fmax(m, fabs(b[i]));
            d = fmax(d, fabs((double)a[i] - b[i]));
        }
        if (m > 0) worst = fmax(worst, d / m);
        free(a), free(b);
        n++;
    }
    rn_graph_destroy(g);
    return n ? worst : INFINITY;
}

static void test_equivalence(void) {
    CHECK(mpi(2, "m2", "--set train.stop_after_steps=4") == 0, "2 ranks: see %s/m2.log", dir);
    const char *s1[] = {"train.accum_steps=2", "train.stop_after_steps=4"};
    CHECK(one("p1", NULL, s1, 2) == RN_TRAIN_STOPPED, "1 process, accum_steps 2");
    rn_ckpt *x = ckpt("m2"), *y = ckpt("p1");
    double dp = max_rel(x, y, RN_CKPT_VALUE, 0), dm = max_rel(x, y, RN_CKPT_MOMENTUM, 0);
    fprintf(stderr, "2 ranks x 8 vs 1 x accum 2 x 8, 4 steps: parameters %.3g, momentum %.3g (max rel diff)\n", dp, dm);
    CHECK(dp <= 1e-5 && dm <= 1e-5, "parameters %.3g, momentum %.3g: want <= 1e-5", dp, dm);
    CHECK(meta_ll(x, "state.step") == 4 && meta_ll(x, "state.batch") == 4, "2 ranks: step %lld batch %lld (per rank)",
          meta_ll(x, "state.step"), meta_ll(x, "state.batch"));
    // Running statistics are rank 0's alone, so they differ from the one process that saw all batches.
    CHECK(max_rel(x, y, RN_CKPT_VALUE, 1) > 1e-4, "running statistics of 2 ranks are not those of all batches");
    rn_ckpt_free(x), rn_ckpt_free(y);

    // Accumulation on every rank: the fresh gradient is added per bucket during the reduction.
    CHECK(mpi(2, "m2a", "--set train.stop_after_steps=2 --set train.accum_steps=2") == 0, "2 ranks x accum 2");
    const char *s2[] = {"train.accum_steps=4", "train.stop_after_steps=2"};
    CHECK(one("p1a", NULL, s2, 2) == RN_TRAIN_STOPPED, "1 process, accum_steps 4");
    x = ckpt("m2a"), y = ckpt("p1a");
    dp = max_rel(x, y, RN_CKPT_VALUE, 0), dm = max_rel(x, y, RN_CKPT_MOMENTUM, 0);
    CHECK(dp <= 1e-5 && dm <= 1e-5, "2 x accum 2 vs accum 4: parameters %.3g, momentum %.3g", dp, dm);
    rn_ckpt_free(x), rn_ckpt_free(y);

    // Mixup / cutmix draw per global batch (batch x ranks + rank), so the equivalence holds with them.
    CHECK(mpi(2, "mx2", "--set train.stop_after_steps=3 --set augment.mixup_alpha=0.4 --set augment.cutmix_alpha=1") == 0,
          "2 ranks, mixup and cutmix: see %s/mx2.log", dir);
    const char *s3[] = {"train.accum_steps=2", "train.stop_after_steps=3", "augment.mixup_alpha=0.4", "augment.cutmix_alpha=1"};
    CHECK(one("mx1", NULL, s3, 4) == RN_TRAIN_STOPPED, "1 process, accum_steps 2, mixup and cutmix");
    x = ckpt("mx2"), y = ckpt("mx1");
    dp = max_rel(x, y, RN_CKPT_VALUE, 0), dm = max_rel(x, y, RN_CKPT_MOMENTUM, 0);
    CHECK(dp <= 1e-5 && dm <= 1e-5, "mixed batches, 2 ranks vs accum 2: parameters %.3g, momentum %.3g", dp, dm);
    rn_ckpt_free(x), rn_ckpt_free(y);
}

// SyncBatchNorm: 2 ranks x batch 8 normalise over the 16 images one process sees in its batch of
// 16 (rank r's batch is global batch 2s + r of 8, i.e. half s of the 16), so parameters, momentum
// and running statistics agree within 1e-5.
static void test_sync_bn(void) {
    CHECK(mpi(2, "s2", "--set train.stop_after_steps=4 --set train.sync_bn=yes") == 0, "2 ranks, sync_bn: see %s/s2.log", dir);
    const char *s1[] = {"data.batch_size=16", "train.stop_after_steps=4"};
    CHECK(one("s1", NULL, s1, 2) == RN_TRAIN_STOPPED, "1 process, batch 16");
    rn_ckpt *x = ckpt("s2"), *y = ckpt("s1");
    double dp = max_rel(x, y, RN_CKPT_VALUE, 0), dm = max_rel(x, y, RN_CKPT_MOMENTUM, 0), ds = max_rel(x, y, RN_CKPT_VALUE, 1);
    fprintf(stderr, "sync_bn, 2 ranks x 8 vs 1 x 16, 4 steps: parameters %.3g, momentum %.3g, running statistics %.3g\n", dp, dm, ds);
    CHECK(dp <= 1e-5 && dm <= 1e-5 && ds <= 1e-5, "sync_bn: parameters %.3g, momentum %.3g, running statistics %.3g", dp, dm, ds);
    rn_ckpt_free(x), rn_ckpt_free(y);
}

// lr = 0 keeps the parameters; no shuffling and no augmentation (a crop of the whole image) make a
// batch a fixed list of files.
// Rank 0 of 2 takes batches 0, 2, ..., 10 (samples 0-7, 16-23, ... of the folder order); one process
// reading just those files in that order must end with the same running statistics.
static void test_running_stats_rule(void) {
    const char *fixed = "--set optim.lr=0 --set data.shuffle=no --set augment.flip=no --set augment.pad_crop=0 "
                        "--set augment.scale=1,1 --set augment.ratio=1,1";
    char sets[512];
    snprintf(sets, sizeof sets, "%s --set train.stop_after_steps=6", fixed);
    CHECK(mpi(2, "bn2", sets) == 0, "2 ranks, lr 0: see %s/bn2.log", dir);
    char list[600];
    snprintf(list, sizeof list, "%s/rank0.txt", dir);
    FILE *f = fopen(list, "w");
    for (int b = 0; b < 12; b += 2)
        for (int i = 0; i < 8; i++) {
            int s = b * 8 + i;  // 24 files per class folder, in class order
            fprintf(f, "class%d/%03d.jpg %d\n", s / 24, s % 24, s / 24);
        }
    fclose(f);
    char vlist[600];  // the list's classes are numbers: the validation set as a list too
    snprintf(vlist, sizeof vlist, "%s/val.txt", dir);
    f = fopen(vlist, "w");
    for (int s = 0; s < 32; s++) fprintf(f, "class%d/%03d.jpg %d\n", s / 8, s % 8, s / 8);
    fclose(f);
    char tl[700], vl[700];
    snprintf(tl, sizeof tl, "data.train_list=%s", list);
    snprintf(vl, sizeof vl, "data.val_list=%s", vlist);
    const char *s1[] = {"optim.lr=0", "data.shuffle=no", "augment.flip=no", "augment.pad_crop=0", "augment.scale=1,1", "augment.ratio=1,1",
                        "train.stop_after_steps=6", tl, vl};
    CHECK(one("bn1", NULL, s1, 9) == RN_TRAIN_STOPPED, "1 process on rank 0's batches");
    rn_ckpt *x = ckpt("bn2"), *y = ckpt("bn1");
    double ds = max_rel(x, y, RN_CKPT_VALUE, 1);
    fprintf(stderr, "running statistics, 2 ranks vs rank 0's batches alone: %.3g\n", ds);
    CHECK(ds <= 1e-5, "running statistics are rank 0's: rel diff %.3g", ds);
    rn_ckpt_free(x), rn_ckpt_free(y);
}

// Every tensor and momentum bit-identical, and the same position.
static void expect_same(const char *a, const char *b) {
    rn_ckpt *x = ckpt(a), *y = ckpt(b);
    if (!x || !y) return;
    int diff = 0;
    for (int i = 0; i < x->n_entries; i++) {
        const rn_ckpt_entry *p = &x->entries[i], *q = rn_ckpt_find(y, p->name, p->kind);
        diff += !q || q->numel != p->numel || memcmp(p->data, q->data, p->numel * 4);
    }
    CHECK(diff == 0 && x->n_entries == y->n_entries, "%s vs %s: %d tensors differ", a, b, diff);
    static const char *keys[] = {"state.epoch", "state.batch", "state.step", "state.best_top1", "state.lr"};
    for (int i = 0; i < 5; i++) {
        const char *u = rn_ckpt_meta(x, keys[i]), *v = rn_ckpt_meta(y, keys[i]);
        CHECK(u && v && !strcmp(u, v), "%s vs %s: %s %s vs %s", a, b, keys[i], u ? u : "-", v ? v : "-");
    }
    rn_ckpt_free(x), rn_ckpt_free(y);
}

static void test_resume(void) {
    CHECK(mpi(2, "full", "") == 0, "2 ranks uninterrupted: see %s/full.log", dir);
    CHECK(mpi(2, "cut", "--set train.stop_after_steps=4") == 0, "2 ranks, stopped at step 4");
    char r[800];
    snprintf(r, sizeof r, "--set train.stop_after_steps=9 --resume %s/cut", dir);
    CHECK(mpi(2, "cut", r) == 0, "2 ranks, resumed, stopped at step 9 (after an evaluation)");
    snprintf(r, sizeof r, "--resume %s/cut", dir);
    CHECK(mpi(2, "cut", r) == 0, "2 ranks, resumed to the end");
    expect_same("full", "cut");

    // Another rank count: the same global position, the step count in the new run's steps.
    const char *s1[] = {"train.stop_after_steps=10"};  // m2: 2 ranks after 4 steps, 8 global batches of 12
    CHECK(one("to1", "m2/last.ckpt", s1, 1) == RN_TRAIN_STOPPED, "2-rank checkpoint resumed by 1 process");
    rn_ckpt *c = ckpt("m2");  // a resume continues in the checkpoint's folder (to1 is left alone)
    CHECK(meta_ll(c, "state.batch") == 10 && meta_ll(c, "state.epoch") == 0, "1 process went on from batch 8: batch %lld",
          meta_ll(c, "state.batch"));
    rn_ckpt_free(c);
    const char *s2[] = {"train.stop_after_steps=5"};
    CHECK(one("p5", NULL, s2, 1) == RN_TRAIN_STOPPED, "1 process, 5 steps");
    snprintf(r, sizeof r, "--set train.stop_after_steps=3 --resume %s/p5", dir);
    CHECK(mpi(2, "to2", r) == 0, "1-process checkpoint resumed by 2 ranks: see %s/to2.log", dir);
    c = ckpt("p5");  // in the checkpoint's folder again; 5 global batches: 2 ranks go on from their batch 2 (global 4), i.e. step 2
    CHECK(meta_ll(c, "state.batch") == 3 && meta_ll(c, "state.step") == 3, "2 ranks went on from step 2: batch %lld step %lld",
          meta_ll(c, "state.batch"), meta_ll(c, "state.step"));
    rn_ckpt_free(c);
}

// Issue 14 under mpirun: EMA (BN statistics rank 0's, as the model saved), AdamW's two moments and
// clipping after the all-reduce continue bit-identically across a stop and resume on 2 ranks.
static void test_resume_ema(void) {
    const char *on = "--set train.ema_decay=0.9 --set train.ema_every_steps=2 --set optim.type=adamw --set optim.lr=0.003 "
                     "--set optim.clip_grad_norm=0.5";
    char r[1200];
    CHECK(mpi(2, "efull", on) == 0, "2 ranks, EMA + AdamW + clip: see %s/efull.log", dir);
    snprintf(r, sizeof r, "%s --set train.stop_after_steps=5", on);
    CHECK(mpi(2, "ecut", r) == 0, "2 ranks, EMA, stopped at step 5: see %s/ecut.log", dir);
    snprintf(r, sizeof r, "%s --resume %s/ecut", on, dir);
    CHECK(mpi(2, "ecut", r) == 0, "2 ranks, EMA, resumed to the end: see %s/ecut.log", dir);
    expect_same("efull", "ecut");
    rn_ckpt *c = ckpt("efull");
    int ema = 0;
    for (int i = 0; c && i < c->n_entries; i++) ema += c->entries[i].kind == RN_CKPT_EMA;
    CHECK(ema > 0, "the 2-rank checkpoint holds the EMA (%d entries)", ema);
    rn_ckpt_free(c);
}

// The pid of rank `rank` among the processes mpirun `parent` started (OMPI_COMM_WORLD_RANK).
static pid_t find_rank(pid_t parent, int rank) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    char want[64];
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    while (!found && d && (e = readdir(d))) {
        pid_t p = (pid_t)atoi(e->d_name);
        if (p <= 0) continue;
        char path[128], buf[1 << 16];
        snprintf(path, sizeof path, "/proc/%d/stat", p);
        FILE *f = fopen(path, "r");
        int pp = 0;
        if (!f) continue;
        if (fscanf(f, "%*d (%*[^)]) %*c %d", &pp) != 1) pp = 0;
        fclose(f);
        if (pp != parent) continue;
        snprintf(path, sizeof path, "/proc/%d/environ", p);
        f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
            if (!strcmp(buf + i, want)) found = p;
    }
    if (d) closedir(d);
    return found;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// kill9 = 1: rank 1 gets SIGKILL and the job must end within 30 s with mpirun's message; 0: rank 1
// gets SIGTERM (as from a scheduler or `kill`), and every rank stops after the same step, rank 0
// saving — the ranks agree on the stop. (Not SIGTERM to mpirun: Open MPI 4's mpirun forwards it,
// Open MPI 5's, on Debian 13, ends the ranks at once, before any could save.) Either way
// last.ckpt loads afterwards.
static void test_signal(int kill9) {
    const char *run = kill9 ? "K" : "T";
    char rd[600], log[600], ck[600];
    snprintf(rd, sizeof rd, "train.run_dir=%s/%s", dir, run);
    snprintf(log, sizeof log, "%s/%s.log", dir, run);
    snprintf(ck, sizeof ck, "%s/%s/last.ckpt", dir, run);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(log, "w", stderr)) _exit(126);
        dup2(2, 1);
        execl(MPIRUN, MPIRUN, "--allow-run-as-root", "--oversubscribe", "-x", "ASAN_OPTIONS", "-np", "2", RESNET_TRAIN, cfg_path, "--set", rd,
              "--set", "train.epochs=100000", "--set", "train.progress=plain", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600 && access(ck, F_OK) != 0; i++) usleep(50000);
    pid_t victim = find_rank(pid, 1);
    CHECK(victim > 0, "rank 1 of mpirun %d found", (int)pid);
    double t0 = now_s();
    if (victim > 0) kill(victim, kill9 ? SIGKILL : SIGTERM);
    int st = 0, done = 0;
    while (!(done = waitpid(pid, &st, WNOHANG)) && now_s() - t0 < 30) usleep(50000);
    double dt = now_s() - t0;
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    CHECK(done && dt < 30, "%s: the job ended %.1f s after the signal", run, dt);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0, "%s: a failure status (%d)", run, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    FILE *f = fopen(log, "r");
    static char buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    if (kill9) CHECK(strstr(buf, "rank 1") && strstr(buf, "signal 9"), "mpirun names rank 1 and the signal:\n%s", buf);
    else CHECK(strstr(buf, "(signal): saved"), "SIGTERM: the ranks stopped and saved:\n%s", buf);
    fprintf(stderr, "%s: the job ended %.1f s after the signal\n", kill9 ? "rank 1 killed" : "SIGTERM to rank 1", dt);
    rn_ckpt *c = NULL;
    rn_graph *g = NULL;
    rn_err e;
    CHECK(rn_ckpt_read(ck, &c, &e) == 0 && rn_ckpt_build_graph(c, &g, &e) == 0, "%s/last.ckpt loads: %s", run, e.msg);
    if (c && !kill9) {
        // Saved by the stop itself (after a step, or during an evaluation): the step the log names.
        char want[64];
        snprintf(want, sizeof want, "after step %lld (signal)", meta_ll(c, "state.step"));
        CHECK(strstr(buf, want) != NULL, "last.ckpt holds the step the stop names (%s)", want);
    }
    rn_graph_destroy(g);
    rn_ckpt_free(c);
}

static void test_error(void) {
    int rc = mpi(2, "E", "--set data.val_dir=/nonexistent");
    char log[600];
    snprintf(log, sizeof log, "%s/E.log", dir);
    FILE *f = fopen(log, "r");
    char buf[1 << 14] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    CHECK(rc != 0 && strstr(buf, "resnet-train: rank ") && strstr(buf, "/nonexistent"),
          "an error names the rank and the cause (status %d):\n%s", rc, buf);
}

int main(void) {
    tmp_dir(dir, sizeof dir, "dist");
    make_band_dataset(dir, 24, 8, 9, 95, 3);
    write_test_config(dir, config_text, cfg_path, sizeof cfg_path);
    ranks_without_leak_check();  // this process read its own ASAN_OPTIONS at its start: unchanged
    test_equivalence();
    test_running_stats_rule();
    test_sync_bn();
    test_resume();
    test_resume_ema();
    test_signal(1);
    test_signal(0);
    test_error();
    if (!check_failed) rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return check_summary();
}
