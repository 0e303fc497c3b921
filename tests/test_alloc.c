// test_alloc.c — every allocation and oneDNN creation of the executor that can run out of memory is
// an error naming the node or buffer, never an abort, and leaves nothing behind (the sanitizer build
// checks for leaks on every path).
//
// The walk: rn_fault_inject(n) (src/mem.h) makes the n-th fallible call fail as if memory had run
// out, for n = 1, 2, ... until rn_exec_create gets through without reaching it; each failing create
// must return -1, no executor, and a message saying "out of memory" and naming what it allocated.
// The same walk over a training step (input copy, forward, output copy, backward): each failure is
// -1 naming the node (or the copy), and the next step on the same executor gives the same scores
// and gradients as before the failure (relative 1e-5: the executor is still usable). Every walk uses
// one OpenMP thread.
#include <math.h>
#include <omp.h>

#include "layers/exec.h"
#include "src/mem.h"
#include "src/resnet.h"
#include "tests/check.h"

typedef struct walk_case {
    const char *name;
    int version, bottleneck, training, fuse, bn_frozen, input_blocked;
} walk_case;

static const walk_case cases[] = {
    {"v2 basic, training", 2, 0, 1, 1, 0, 0},
    {"v1 bottleneck, training", 1, 1, 1, 1, 0, 0},
    {"v1 basic, training, BN frozen, blocked input", 1, 0, 1, 1, 1, 1},
    {"v1 bottleneck, inference (BN folded into convs)", 1, 1, 0, 1, 0, 0},
    {"v2 basic, inference, unfused", 2, 0, 0, 0, 0, 0},
};

enum { B = 2, S = 16, K = 5 };

static rn_graph *build(const walk_case *c) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = 0;
    m.n_stages = 2;
    m.blocks[0] = m.blocks[1] = 1;
    m.bottleneck = c->bottleneck;
    m.version = c->version;
    m.width = 8;
    m.stem_small = 1;
    m.num_classes = K;
    m.input_size = S;
    rn_graph *g = NULL;
    rn_err e;
    if (rn_resnet_build(&m, &g, &e)) {
        fprintf(stderr, "%s: build: %s\n", c->name, e.msg);
        return NULL;
    }
    rn_graph_init_params(g, 3);
    return g;
}

static rn_exec_opts opts_of(const walk_case *c) {
    rn_exec_opts o = rn_exec_opts_default(c->training);
    o.fuse = c->fuse;
    o.bn_frozen = c->bn_frozen;
    o.input_blocked = c->input_blocked;
    return o;
}

// Says out of memory and names a node, a tensor or one of the executor's own buffers.
static int names_it(const char *msg) {
    return strstr(msg, "out of memory") && (strstr(msg, "node '") || strstr(msg, "'") || strstr(msg, "executor"));
}

static long walk_create(rn_graph *g, const walk_case *c) {
    rn_exec_opts o = opts_of(c);
    long n = 1;
    for (;; n++) {
        rn_exec *ex = (rn_exec *)1;
        rn_err e = {{0}};
        rn_fault_inject(n);
        int rc = rn_exec_create(g, B, S, S, &o, &ex, &e);
        int reached = !rn_fault_armed();
        rn_fault_inject(0);
        if (!reached) {
            CHECK(rc == 0 && ex, "%s: create without a failure: %s", c->name, e.msg);
            rn_exec_destroy(ex);
            break;
        }
        CHECK(rc == -1 && !ex, "%s: failure %ld: create returned %d (want -1 and no executor)", c->name, n, rc);
        CHECK(names_it(e.msg), "%s: failure %ld: message '%s'", c->name, n, e.msg);
        if (rc == 0) rn_exec_destroy(ex);
        if (n == 1 || n % 40 == 0) fprintf(stderr, "  %s, failure %ld: %s\n", c->name, n, e.msg);
        if (n > 5000) {
            CHECK(0, "%s: more than 5000 fallible calls in one create", c->name);
            break;
        }
    }
    return n - 1;
}

// One step: input, forward, scores (and backward, with the gradient arena into grad).
static int step(rn_exec *ex, rn_graph *g, const float *x, float *scores, float *grad, int training, rn_err *e) {
    if (rn_exec_set_input(ex, x, e) || rn_exec_forward(ex, e) || rn_exec_get_output(ex, scores, e)) return -1;
    if (!training) return 0;
    float dy[B * K];
    for (int i = 0; i < B * K; i++) dy[i] = 0.1f * (float)(i % 3) - 0.1f;
    if (rn_exec_backward(ex, dy, e)) return -1;
    memcpy(grad, g->grad_arena, g->arena_size * sizeof(float));
    return 0;
}

static double rel_diff(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs((double)a[i] - b[i]));
        den = fmax(den, fabs((double)b[i]));
    }
    return num / (den > 0 ? den : 1);
}

static long walk_step(rn_graph *g, const walk_case *c) {
    rn_exec_opts o = opts_of(c);
    rn_exec *ex = NULL;
    rn_err e;
    if (rn_exec_create(g, B, S, S, &o, &ex, &e)) {
        CHECK(0, "%s: create: %s", c->name, e.msg);
        return 0;
    }
    size_t n_in = (size_t)B * 3 * S * S;
    float *x = malloc(n_in * sizeof *x), s0[B * K], s1[B * K];
    float *g0 = calloc(g->arena_size, sizeof *g0), *g1 = calloc(g->arena_size, sizeof *g1);
    for (size_t i = 0; i < n_in; i++) x[i] = (float)((i * 7) % 23) * 0.1f - 1.1f;
    CHECK(step(ex, g, x, s0, g0, c->training, &e) == 0, "%s: step: %s", c->name, e.msg);
    long n = 1;
    for (; n < 2000; n++) {
        rn_fault_inject(n);
        int rc = step(ex, g, x, s1, g1, c->training, &e);
        int reached = !rn_fault_armed();
        rn_fault_inject(0);
        if (!reached) {
            CHECK(rc == 0, "%s: step without a failure: %s", c->name, e.msg);
            break;
        }
        CHECK(rc == -1 && strstr(e.msg, "out of memory") && (strstr(e.msg, "node '") || strstr(e.msg, "copy")),
              "%s: step failure %ld: rc %d, message '%s'", c->name, n, rc, e.msg);
        if (n == 1 || n % 10 == 0) fprintf(stderr, "  %s, step failure %ld: %s\n", c->name, n, e.msg);
        // The executor recovers: the next step is the step before the failure.
        CHECK(step(ex, g, x, s1, g1, c->training, &e) == 0, "%s: step after failure %ld: %s", c->name, n, e.msg);
        double ds = rel_diff(s1, s0, B * K), dg = c->training ? rel_diff(g1, g0, g->arena_size) : 0;
        CHECK(ds < 1e-5 && dg < 1e-5, "%s: after failure %ld: scores differ by %.3g, gradients by %.3g", c->name, n, ds, dg);
    }
    rn_exec_destroy(ex);
    free(x);
    free(g0);
    free(g1);
    return n - 1;
}

int main(void) {
    // One thread: the walk is about failure paths, and on a busy machine OpenMP's spinning workers
    // would cost most of its time (thousands of executors are created).
    omp_set_num_threads(1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const walk_case *c = &cases[i];
        rn_graph *g = build(c);
        CHECK(g != NULL, "%s: graph", c->name);
        if (!g) continue;
        long nc = walk_create(g, c), ns = walk_step(g, c);
        fprintf(stderr, "%s: %ld failure points in rn_exec_create, %ld in a step: each an error\n", c->name, nc, ns);
        CHECK(nc > 20 && ns > 5, "%s: the walks reached the executor's sites (%ld, %ld)", c->name, nc, ns);
        rn_graph_destroy(g);
    }
    return check_summary();
}
