// test_limits.c — runs at the edge of their resources.
// Signals: SIGTERM during an evaluation stops it within 2 s (measured from the signal to the exit, on
// the wall clock: a requirement, not a performance figure). resnet-train, stopped during its
// validation, exits 128 + SIGTERM having saved last.ckpt at the end of the epoch's training, and the
// resumed run ends bit-identical to one that never stopped; resnet-eval exits 128 + SIGTERM with a
// message saying how far it got.
// Memory: under an RLIMIT_AS too small for the run, resnet-train and resnet-eval exit 1 with the
// estimate, the limit and the largest batch that fits, having allocated nothing big (peak RSS); the
// loader's queue that cannot be allocated is an error, not an abort. With the check off, the programs
// run into the limit themselves and exit 1 with "out of memory" naming the node or buffer.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "data/loader.h"
#include "optim/checkpoint.h"
#include "src/rng.h"
#include "tests/check.h"
#include "tests/sanitize.h"
#include "tests/test_data_util.h"
#include "tests/test_run_util.h"

#define VAL_PER_CLASS 250  // 1,000 validation images: an evaluation of several seconds on 2 cores

static char dir[256], cfg_path[512];

static void make_dataset(void) { make_band_dataset(dir, 16, VAL_PER_CLASS, 4, 90, 4); }

static const char *config_text =
    "[model]\nblocks = 1,1\nbottleneck = no\nversion = 2\nnum_classes = 4\nwidth = 16\nstem = small\ninput_size = 16\n"
    "[data]\ntrain_dir = %s/train\nval_dir = %s/val\nsize = 16\nresize = 16\nbatch_size = 8\nworkers = 2\nseed = 3\n"
    "[train]\nepochs = 1\neval_batch_size = 8\nprogress = plain\nlog_every = 1\n"
    "[optim]\nlr = 0.1\n"
    "[checkpoint]\nevery_steps = 0\n"
    "[export]\nonnx = no\n";

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double as_limit;   // bytes of address space for the next run's child; 0: unlimited
static double peak_rss;   // the last run's child's peak resident size, bytes

static void limit_as(double bytes) {
    struct rlimit rl = {(rlim_t)bytes, (rlim_t)bytes};
    if (bytes > 0) setrlimit(RLIMIT_AS, &rl);
}

// Runs argv with stderr piped back. With `after` set: sends SIGTERM once a line containing it appears
// (wait_s < 0) or wait_s seconds after the start. Returns the exit status; *stop_s: signal to exit;
// out: the child's stderr.
static int run(char *const argv[], const char *after, double wait_s, double *stop_s, char *out, size_t cap) {
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        limit_as(as_limit);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    size_t n = 0;
    out[0] = 0;
    double t_sig = 0, t0 = now();
    if (after && wait_s >= 0) {
        while (now() - t0 < wait_s) usleep(10000);
        kill(pid, SIGTERM);
        t_sig = now();
    }
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        if (n + l < cap) memcpy(out + n, line, l + 1), n += l;
        if (after && wait_s < 0 && !t_sig && strstr(line, after)) {
            kill(pid, SIGTERM);
            t_sig = now();
        }
    }
    fclose(f);
    int st = 0;
    struct rusage ru;
    wait4(pid, &st, 0, &ru);
    peak_rss = ru.ru_maxrss * 1024.0;
    if (stop_s) *stop_s = t_sig ? now() - t_sig : -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static char out[1 << 16];

static int train(const char *run_dir, const char *resume, const char *after, double *stop_s) {
    char rd[600], rp[600];
    snprintf(rd, sizeof rd, "train.run_dir=%s/%s", dir, run_dir);
    snprintf(rp, sizeof rp, "%s/%s/last.ckpt", dir, resume ? resume : "");
    char *argv[] = {RESNET_TRAIN, cfg_path, "--set", rd, resume ? "--resume" : NULL, rp, NULL};
    return run(argv, after, -1, stop_s, out, sizeof out);
}

// resnet-train with [data] size and resize set to `size`.
static int train_sized(const char *run_dir, const char *size) {
    char rd[600], s1[64], s2[64];
    snprintf(rd, sizeof rd, "train.run_dir=%s/%s", dir, run_dir);
    snprintf(s1, sizeof s1, "data.size=%s", size);
    snprintf(s2, sizeof s2, "data.resize=%s", size);
    char *argv[] = {RESNET_TRAIN, cfg_path, "--set", rd, "--set", s1, "--set", s2, NULL};
    return run(argv, NULL, 0, NULL, out, sizeof out);
}

static const char *meta(rn_ckpt *c, const char *key) {
    const char *v = c ? rn_ckpt_meta(c, key) : NULL;
    return v ? v : "-";
}

static int history_rows(rn_ckpt *c) {
    int n = 0;
    for (int i = 0; c && i < c->n_meta; i++) n += !strcmp(c->meta_key[i], "history");
    return n;
}

static rn_ckpt *read_ckpt(const char *run_dir) { return run_last_ckpt(dir, run_dir); }

static void test_train_stopped_in_validation(void) {
    double t0 = now();
    int rc = train("full", NULL, NULL, NULL);
    double full_s = now() - t0;
    CHECK(rc == 0, "uninterrupted run: status %d\n%s", rc, out);
    fprintf(stderr, "uninterrupted run (8 steps + evaluation of %d images): %.1f s\n", 4 * VAL_PER_CLASS, full_s);

    // The last step's progress line comes right before the evaluation starts.
    double stop_s = -1;
    rc = train("stopped", NULL, "step 8/8", &stop_s);
    CHECK(rc == 128 + SIGTERM, "SIGTERM in the validation: status %d, want %d\n%s", rc, 128 + SIGTERM, out);
    fprintf(stderr, "resnet-train: SIGTERM during the evaluation -> exit in %.2f s\n", stop_s);
    CHECK(stop_s >= 0 && stop_s <= 2.0, "resnet-train stopped %.2f s after SIGTERM (at most 2 s)", stop_s);
    // (A signal that beat the last step's stop check would stop before the evaluation, saving the same.)
    CHECK(strstr(out, "stopped during the evaluation") || strstr(out, "stopped after step 8 (signal)"),
          "says where it stopped:\n%s", out);
    rn_ckpt *c = read_ckpt("stopped");
    // Saved at the end of the epoch's training, before any evaluation result.
    CHECK(!strcmp(meta(c, "state.epoch"), "0") && !strcmp(meta(c, "state.batch"), "8") &&
              !strcmp(meta(c, "state.step"), "8") && history_rows(c) == 0,
          "last.ckpt: epoch %s batch %s step %s, %d history rows (want 0, 8, 8, 0)", meta(c, "state.epoch"),
          meta(c, "state.batch"), meta(c, "state.step"), history_rows(c));
    rn_ckpt_free(c);

    rc = train("stopped", "stopped", NULL, NULL);
    CHECK(rc == 0, "resume: status %d\n%s", rc, out);
    rn_ckpt *a = read_ckpt("full"), *b = read_ckpt("stopped");
    if (a && b) {
        int same = a->n_entries == b->n_entries && a->n_entries > 0;
        for (int i = 0; same && i < a->n_entries; i++) {
            const rn_ckpt_entry *p = &a->entries[i], *q = rn_ckpt_find(b, p->name, p->kind);
            same = q && q->numel == p->numel && !memcmp(p->data, q->data, p->numel * 4);
        }
        CHECK(same, "resumed run's tensors bit-identical to the uninterrupted run's");
        CHECK(history_rows(a) == 1 && history_rows(b) == 1, "one epoch recorded in both (%d, %d)", history_rows(a),
              history_rows(b));
        // Everything the evaluation computed: epoch, lr, train loss/top-1, val loss/top-1/top-5.
        const char *ha = NULL, *hb = NULL;
        for (int i = 0; i < a->n_meta; i++) if (!strcmp(a->meta_key[i], "history")) ha = a->meta_val[i];
        for (int i = 0; i < b->n_meta; i++) if (!strcmp(b->meta_key[i], "history")) hb = b->meta_val[i];
        int commas = 0;
        size_t k = 0;
        while (ha && hb && ha[k] && ha[k] == hb[k] && commas < 7) commas += ha[k++] == ',';
        CHECK(commas == 7, "history '%s' vs '%s'", ha ? ha : "-", hb ? hb : "-");
        CHECK(!strcmp(meta(a, "state.best_top1"), meta(b, "state.best_top1")), "best top-1 %s vs %s",
              meta(a, "state.best_top1"), meta(b, "state.best_top1"));
    }
    rn_ckpt_free(a);
    rn_ckpt_free(b);
}

static void test_eval_stopped(void) {
    char model[600], val[600];
    snprintf(model, sizeof model, "%s/full/last.ckpt", dir);
    snprintf(val, sizeof val, "%s/val", dir);
    char *argv[] = {RESNET_EVAL, model, "--data", val, "--batch", "8", "--size", "16", "--resize", "16", NULL};
    // The faster of two uninterrupted runs: the first may pay for a cold page cache (6.8 s against
    // under 2 s once seen), and a signal timed by it could arrive after the next run has finished.
    double full_s = 1e30;
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        double t0 = now();
        rc = run(argv, NULL, 0, NULL, out, sizeof out);
        if (now() - t0 < full_s) full_s = now() - t0;
    }
    CHECK(rc == 0, "resnet-eval: status %d\n%s", rc, out);
    fprintf(stderr, "resnet-eval over %d images: %.1f s\n", 4 * VAL_PER_CLASS, full_s);
    // A quarter of the way in, by the uninterrupted run's clock.
    double stop_s = -1;
    rc = run(argv, "", full_s / 4, &stop_s, out, sizeof out);
    CHECK(rc == 128 + SIGTERM, "resnet-eval after SIGTERM: status %d, want %d\n%s", rc, 128 + SIGTERM, out);
    fprintf(stderr, "resnet-eval: SIGTERM -> exit in %.2f s\n", stop_s);
    CHECK(stop_s >= 0 && stop_s <= 2.0, "resnet-eval stopped %.2f s after SIGTERM (at most 2 s)", stop_s);
    long long n = -1;
    const char *m = strstr(out, "stopped by signal 15 after ");
    if (m) n = atoll(m + strlen("stopped by signal 15 after "));
    CHECK(n >= 0 && n < 4 * VAL_PER_CLASS, "says how many images it evaluated before stopping (%lld):\n%s", n, out);
}

// The largest batch the message offers, or -1.
static long long offered_batch(void) {
    const char *m = strstr(out, "to spare is ");
    return m ? atoll(m + strlen("to spare is ")) : -1;
}

static void test_memory_check(void) {
    // 512 px: the executors alone want several GiB at batch 8; 2 GiB of address space is too little.
    as_limit = 2.0 * 0x1p30;
    int rc = train_sized("big", "512");
    CHECK(rc == 1, "resnet-train at 512 px under RLIMIT_AS 2 GiB: status %d, want 1\n%s", rc, out);
    CHECK(strstr(out, "not enough memory for [data] batch_size = 8") && strstr(out, "RLIMIT_AS"),
          "names the batch, the estimate and the limit:\n%s", out);
    fprintf(stderr, "refused: %s", out);
    long long fits = offered_batch();
    CHECK(fits >= 1 && fits < 8, "offers a smaller batch (%lld)", fits);
    CHECK(peak_rss < 256e6, "refused before allocating: peak RSS %.0f MiB", peak_rss / 1048576.0);
    if (fits >= 1) {
        // The offered batch is computed, not guessed: it passes the check (and then trains).
        char b[64], rd[600];
        snprintf(b, sizeof b, "data.batch_size=%lld", fits);
        snprintf(rd, sizeof rd, "train.run_dir=%s/fits", dir);
        char *argv[] = {RESNET_TRAIN, cfg_path, "--set", rd, "--set", "data.size=512", "--set", "data.resize=512",
                        "--set", b, "--set", "train.stop_after_steps=1", NULL};
        rc = run(argv, NULL, 0, NULL, out, sizeof out);
        CHECK(!strstr(out, "not enough memory"), "batch %lld passes the memory check:\n%s", fits, out);
        CHECK(rc == 0 && !strstr(out, "out of memory"), "batch %lld trains a step under the same limit: status %d\n%s",
              fits, rc, out);
    }
    // [data] prefetch = 1024 with 1024 px images: a queue of 96 GiB.
    char rd[600];
    snprintf(rd, sizeof rd, "train.run_dir=%s/queue", dir);
    char *argv[] = {RESNET_TRAIN, cfg_path, "--set", rd, "--set", "data.prefetch=1024", "--set", "data.size=1024",
                    "--set", "data.resize=1024", NULL};
    rc = run(argv, NULL, 0, NULL, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "not enough memory") && strstr(out, "loader"),
          "prefetch 1024 at 1024 px: status %d, the loader named:\n%s", rc, out);

    char model[600], val[600];
    snprintf(model, sizeof model, "%s/full/last.ckpt", dir);
    snprintf(val, sizeof val, "%s/val", dir);
    char *ev[] = {RESNET_EVAL, model, "--data", val, "--batch", "256", "--size", "512", "--resize", "512", NULL};
    rc = run(ev, NULL, 0, NULL, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "not enough memory for --batch = 256") && offered_batch() >= 1,
          "resnet-eval at batch 256, 512 px: status %d\n%s", rc, out);
    CHECK(peak_rss < 256e6, "resnet-eval refused before allocating: peak RSS %.0f MiB", peak_rss / 1048576.0);
    as_limit = 0;
}

// A queue allocation that fails (under RLIMIT_AS, in a child) is an error naming the queue.
static void test_loader_queue_failure(void) {
    pid_t pid = fork();
    if (pid == 0) {
        char train_dir[600];
        snprintf(train_dir, sizeof train_dir, "%s/train", dir);
        rn_dataset *ds;
        rn_dataset_view v;
        rn_err e;
        if (rn_dataset_open_folder(&ds, train_dir, NULL, &e) || rn_view_init(&v, ds, 0, 1, &e)) _exit(3);
        rn_data_opts o = rn_data_opts_default();
        o.size = o.resize = 1024;
        o.batch_size = 64;  // 768 MiB per slot
        o.prefetch = 4;
        limit_as(1.0 * 0x1p30);
        rn_loader *l = NULL;
        int rc = rn_loader_create(&v, &o, 0, &l, &e);
        _exit(rc == -1 && !l && strstr(e.msg, "batch queue") && strstr(e.msg, "out of memory") ? 0 : 4);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "loader under RLIMIT_AS: %s %d (want exit 0: an error, not an abort)",
          WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

// With the memory check off (RN_MEM_CHECK=off), each program runs into the RLIMIT_AS itself: every
// allocation the run makes in the executor and its layers (buffers, weight copies, workspaces,
// oneDNN's scratchpads) is then an error saying "out of memory" and naming the node or buffer, and
// the program exits 1, never with a signal. Several limits, so that different allocations are the
// first to fail; one OpenMP thread, so that the address space taken before the executor is the same
// from run to run.
static void test_out_of_memory_unchecked(void) {
    setenv("RN_MEM_CHECK", "off", 1);
    setenv("OMP_NUM_THREADS", "1", 1);
    char rd[600], model[600], img[600];
    snprintf(rd, sizeof rd, "train.run_dir=%s/oom", dir);
    snprintf(model, sizeof model, "%s/full/last.ckpt", dir);
    snprintf(img, sizeof img, "%s/val/class0/%04d.jpg", dir, 0);
    char val[600];
    snprintf(val, sizeof val, "%s/val", dir);
    char *train512[] = {RESNET_TRAIN, cfg_path, "--set", rd, "--set", "data.size=512", "--set", "data.resize=512", NULL};
    char *eval512[] = {RESNET_EVAL, model, "--data", val, "--batch", "64", "--size", "512", "--resize", "512", NULL};
    char *predict1024[] = {RESNET_PREDICT, model, "--size", "1024", "--resize", "1024", img, img, img, img, img,
                           img, img, img, NULL};
    struct {
        const char *name;
        char **argv;
    } progs[] = {{"resnet-train 512 px", train512}, {"resnet-eval 512 px", eval512},
                 {"resnet-predict 1024 px", predict1024}};
    const double limits[] = {0.75, 1.0, 1.25, 1.5};
    for (size_t p = 0; p < sizeof progs / sizeof *progs; p++)
        for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
            as_limit = limits[i] * 0x1p30;
            int rc = run(progs[p].argv, NULL, 0, NULL, out, sizeof out);
            const char *m = strstr(out, "out of memory");
            const char *nl = m ? strchr(m, '\n') : NULL;
            fprintf(stderr, "%s under RLIMIT_AS %.2f GiB: status %d: %.*s\n", progs[p].name, limits[i], rc,
                    m ? (int)(nl ? nl - m : (long)strlen(m)) : 0, m ? m : "");
            CHECK(rc == 1, "%s, RLIMIT_AS %.2f GiB, no memory check: status %d (want 1; 200+N is signal N)\n%s",
                  progs[p].name, limits[i], rc, out);
            CHECK(m && (strstr(out, "node '") || strstr(out, "buffer") || strstr(out, "executor") ||
                        strstr(out, "queue")),
                  "%s, RLIMIT_AS %.2f GiB: says out of memory, naming the node or buffer:\n%s", progs[p].name,
                  limits[i], out);
        }
    // ResNet-18 at batch 64 needs 1.05 GiB for its activations and gradients alone; the lower the
    // limit, the earlier the failure: the executor's arena, then its layers' weight copies, workspaces
    // and primitives.
    char r18[600];
    snprintf(r18, sizeof r18, "%s/configs/resnet18v2.ini", RN_SOURCE_DIR);
    char *bench18[] = {RESNET_BENCH, r18, "--batch", "64", "--iters", "1", "--warmup", "0", NULL};
    const int mib[] = {200, 230, 250, 270, 300, 340, 400, 500, 600, 700, 850, 1000};
    int nodes = 0, buffers = 0;
    for (size_t i = 0; i < sizeof mib / sizeof *mib; i++) {
        as_limit = mib[i] * 1048576.0;
        int rc = run(bench18, NULL, 0, NULL, out, sizeof out);
        const char *m = strstr(out, "out of memory");
        const char *nl = m ? strchr(m, '\n') : NULL;
        fprintf(stderr, "resnet-bench resnet18v2 batch 64 under RLIMIT_AS %d MiB: status %d: %.*s\n", mib[i], rc,
                m ? (int)(nl ? nl - m : (long)strlen(m)) : 0, m ? m : "");
        CHECK(rc == 1 && m, "resnet-bench under RLIMIT_AS %d MiB: status %d (want 1 and out of memory)\n%s", mib[i], rc,
              out);
        nodes += strstr(out, "out of memory") && strstr(out, "node '");
        buffers += strstr(out, "out of memory allocating the executor's activations and gradients") != NULL;
    }
    CHECK(nodes >= 2 && buffers >= 2, "the sweep failed in layers (%d runs naming a node) and in the executor's "
                                      "buffers (%d runs)", nodes, buffers);
    as_limit = 0;
    unsetenv("RN_MEM_CHECK");
    unsetenv("OMP_NUM_THREADS");
}

int main(void) {
    tmp_dir(dir, sizeof dir, "signal");
    make_dataset();
    write_test_config(dir, config_text, cfg_path, sizeof cfg_path);
    test_train_stopped_in_validation();
    test_eval_stopped();
    if (RN_UNDER_ASAN) {
        fprintf(stderr, "AddressSanitizer: its shadow memory does not fit under an RLIMIT_AS; skipping the memory part\n");
    } else {
        test_memory_check();
        test_loader_queue_failure();
        test_out_of_memory_unchecked();
    }
    if (!check_failed) rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return check_summary();
}
