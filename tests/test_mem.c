// test_mem.c — the executor's memory estimate against the executor: the planned buffers (input,
// activations and gradients) equal what rn_exec_create allocates, byte for byte;
// the whole estimate is within 25% of the resident-memory growth measured in a child process (peak
// VmHWM after a forward and backward minus VmRSS before the executor); the estimate is affine in the
// batch (the largest fitting batch is solved from it); under an RLIMIT_AS too small for the buffers
// rn_exec_create returns an error naming the buffer instead of aborting.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layers/layer.h"
#include "layers/softmax_xent.h"
#include "layers/exec_mem.h"
#include "src/resnet.h"
#include "tests/check.h"
#include "tests/sanitize.h"

static double status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k) && line[k] == ':') v = strtod(line + k + 1, NULL) * 1024.0;
    if (f) fclose(f);
    return v;
}

typedef struct net_case {
    const char *name;
    int version, bottleneck, width, small_stem, size, batch, training;
} net_case;

static rn_graph *build(const net_case *c) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = 0;
    m.n_stages = 3;
    m.blocks[0] = m.blocks[1] = m.blocks[2] = 1;
    m.bottleneck = c->bottleneck;
    m.version = c->version;
    m.width = c->width;
    m.stem_small = c->small_stem;
    m.num_classes = 10;
    m.input_size = c->size;
    rn_graph *g = NULL;
    rn_err e;
    if (rn_resnet_build(&m, &g, &e)) {
        fprintf(stderr, "%s: build: %s\n", c->name, e.msg);
        return NULL;
    }
    rn_graph_init_params(g, 3);
    return g;
}

// One forward (and backward) so every workspace and scratchpad page is touched.
static void run_once(rn_exec *ex, rn_graph *g, const net_case *c) {
    rn_err err;
    size_t n_in = (size_t)c->batch * 3 * (size_t)c->size * (size_t)c->size;
    float *x = rn_malloc(n_in * sizeof *x), *y = rn_malloc((size_t)c->batch * 10 * sizeof *y);
    for (size_t i = 0; i < n_in; i++) x[i] = (float)(i % 17) * 0.1f - 0.8f;
    CHECK(rn_exec_set_input(ex, x, &err) == 0, "rn_exec_set_input: %s", err.msg);
    CHECK(rn_exec_forward(ex, &err) == 0, "rn_exec_forward: %s", err.msg);
    CHECK(rn_exec_get_output(ex, y, &err) == 0, "rn_exec_get_output: %s", err.msg);
    if (c->training) {
        for (int i = 0; i < c->batch * 10; i++) y[i] = 0.01f * (float)(i % 7);
        CHECK(rn_exec_backward(ex, y, &err) == 0, "rn_exec_backward: %s", err.msg);
    }
    (void)g;
    free(x);
    free(y);
}

// In a child: the estimate and the resident growth of creating and running the executor, in bytes.
static void measure_child(const net_case *c, int fd) {
    rn_graph *g = build(c);
    rn_err e;
    rn_exec_opts o = rn_exec_opts_default(c->training);
    rn_exec_mem m;
    if (!g || rn_exec_estimate(g, c->batch, c->size, c->size, &o, &m, &e)) _exit(3);
    // oneDNN's one-time start-up (engine, code generation for these shapes) is not the run's buffers:
    // a batch-1 executor pays it before the baseline.
    rn_exec *warm = NULL;
    if (rn_exec_create(g, 1, c->size, c->size, &o, &warm, &e)) _exit(3);
    net_case one = *c;
    one.batch = 1;
    run_once(warm, g, &one);
    rn_exec_destroy(warm);
    double before = status_kb("VmRSS");
    rn_exec *ex = NULL;
    if (rn_exec_create(g, c->batch, c->size, c->size, &o, &ex, &e)) _exit(4);
    run_once(ex, g, c);
    double out[2] = {status_kb("VmHWM") - before, (double)m.total};
    if (write(fd, out, sizeof out) != sizeof out) _exit(5);
    _exit(0);
}

// Forked before the parent allocates anything big: freed heap inherited from the parent would
// otherwise absorb the child's allocations and hide their growth.
static int measure(const net_case *c, double *grown, double *estimate) {
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        measure_child(c, p[1]);
    }
    close(p[1]);
    double v[2];
    int ok = read(p[0], v, sizeof v) == sizeof v;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    *grown = v[0];
    *estimate = v[1];
    return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static const net_case cases[] = {
    {"v2 basic w16 32px", 2, 0, 16, 1, 32, 32, 1},     {"v2 basic w16 32px", 2, 0, 16, 1, 32, 32, 0},
    {"v1 bottleneck w16 64px", 1, 1, 16, 0, 64, 24, 1}, {"v1 bottleneck w16 64px", 1, 1, 16, 0, 64, 64, 0},
    {"v2 basic w32 48px", 2, 0, 32, 1, 48, 16, 1},     {"v1 basic w64 96px", 1, 0, 64, 0, 96, 12, 1},
};

static void test_plan_matches_executor(void) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const net_case *c = &cases[i];
        rn_graph *g = build(c);
        if (!g) continue;
        rn_exec_opts o = rn_exec_opts_default(c->training);
        rn_exec_mem m;
        rn_exec *ex = NULL;
        rn_err e;
        CHECK(rn_exec_estimate(g, c->batch, c->size, c->size, &o, &m, &e) == 0, "%s: estimate: %s", c->name, e.msg);
        CHECK(rn_exec_create(g, c->batch, c->size, c->size, &o, &ex, &e) == 0, "%s: create: %s", c->name, e.msg);
        if (ex) {
            size_t planned = m.input + m.acts;
            CHECK(planned == rn_exec_act_bytes(ex), "%s (%s, batch %d): planned %zu bytes, executor %zu", c->name,
                  c->training ? "training" : "inference", c->batch, planned, rn_exec_act_bytes(ex));
            rn_exec_destroy(ex);
        }
        // Affine in the batch: the plan's two-point fit reproduces the estimate at other batches.
        rn_mem_plan p = {0};
        CHECK(rn_exec_mem_plan(g, c->batch, 1, c->size, c->size, &o, &p, &e) == 0, "%s: plan: %s", c->name, e.msg);
        for (int b = 1; b <= 3 * c->batch; b += c->batch) {
            rn_exec_mem mb;
            rn_exec_estimate(g, b, c->size, c->size, &o, &mb, &e);
            CHECK_CLOSE(rn_mem_total(&p, b, 1), (double)mb.total, 1e-3, "affine estimate");
        }
        double bytes = rn_mem_total(&p, 5, 1);
        CHECK(rn_mem_largest_batch(&p, bytes, INFINITY) == 5, "largest batch in exactly 5 batches' memory: %lld",
              (long long)rn_mem_largest_batch(&p, bytes, INFINITY));
        CHECK(rn_mem_largest_batch(&p, bytes - 1, INFINITY) == 4, "one byte less: 4");
        CHECK(rn_mem_largest_batch(&p, INFINITY, rn_mem_address_total(&p, 3)) == 3, "address space for 3: 3");
        rn_graph_destroy(g);
    }
}

static void test_estimate_vs_rss(void) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const net_case *c = &cases[i];
        double grown = 0, est = 0;
        int rc = measure(c, &grown, &est);
        CHECK(rc == 0, "%s: measurement ran", c->name);
        fprintf(stderr, "%-24s %-9s batch %3d: estimate %7.1f MiB, measured %7.1f MiB\n", c->name,
                c->training ? "training" : "inference", c->batch, est / 1048576.0, grown / 1048576.0);
        CHECK(rc == 0 && fabs(est - grown) <= 0.25 * grown, "%s (%s, batch %d): estimate %.1f MiB vs measured %.1f MiB (25%%)",
              c->name, c->training ? "training" : "inference", c->batch, est / 1048576.0, grown / 1048576.0);
    }
}

// Under an address-space limit the executor's buffers do not fit in: rn_exec_create fails with a
// message naming the buffer and its size (in a child: a regression would abort it).
static void test_create_fails_cleanly(void) {
    const net_case c = {"v1 bottleneck w16 64px", 1, 1, 16, 0, 64, 4096, 0};
    pid_t pid = fork();
    if (pid == 0) {
        rn_graph *g = build(&c);
        rn_exec_opts o = rn_exec_opts_default(0);
        rn_exec_mem m;
        rn_err e;
        if (!g || rn_exec_estimate(g, c.batch, c.size, c.size, &o, &m, &e)) _exit(3);
        if (m.total < (512u << 20)) _exit(3);  // the test needs buffers well past the headroom below
        double room = status_kb("VmSize") + 256.0 * 1048576;
        struct rlimit rl = {(rlim_t)room, (rlim_t)room};
        setrlimit(RLIMIT_AS, &rl);
        rn_exec *ex = NULL;
        int rc = rn_exec_create(g, c.batch, c.size, c.size, &o, &ex, &e);
        fprintf(stderr, "rn_exec_create under RLIMIT_AS: %s\n", rc ? e.msg : "succeeded");
        _exit(rc == -1 && !ex && strstr(e.msg, "out of memory allocating") && strstr(e.msg, "buffer") ? 0 : 4);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "rn_exec_create under RLIMIT_AS: %s %d (want exit 0: an error message)",
          WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

// ResNet-50 at batch 32, 224 px (the estimate only: nothing is allocated). Activations and gradients
// share one arena by liveness over the step (layers/exec_plan.c): 2,479 MB in training, the peak of
// bytes alive at once; kept activations plus separately shared gradients took 4,041 MB, and PyTorch
// 1.13 peaks at ~3.6 GB RSS for the whole step. Inference shares by liveness and adds in place: 231 MB.
static void test_resnet50_arena(void) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = 50;
    m.version = 1;
    m.num_classes = 1000;
    m.input_size = 224;
    rn_graph *g = NULL;
    rn_err e;
    CHECK(rn_resnet_build(&m, &g, &e) == 0, "ResNet-50: %s", e.msg);
    if (!g) return;
    for (int training = 1; training >= 0; training--) {
        rn_exec_opts o = rn_exec_opts_default(training);
        rn_exec_mem x;
        CHECK(rn_exec_estimate(g, 32, 224, 224, &o, &x, &e) == 0, "estimate: %s", e.msg);
        double mb = (double)x.acts / 1e6, want = training ? 2500 : 240;
        fprintf(stderr, "ResNet-50 batch 32 %s: arena %.0f MB (at most %.0f)\n", training ? "training" : "inference", mb,
                want);
        CHECK(mb <= want, "ResNet-50 batch 32 %s: arena %.0f MB, want at most %.0f", training ? "training" : "inference",
              mb, want);
    }
    rn_graph_destroy(g);
}

int main(void) {
    if (RN_UNDER_ASAN) {
        fprintf(stderr, "AddressSanitizer: address-space limits and resident sizes are its own; skipping those parts\n");
    } else {
        test_create_fails_cleanly();
        test_estimate_vs_rss();
    }
    test_plan_matches_executor();
    test_resnet50_arena();
    return check_summary();
}
