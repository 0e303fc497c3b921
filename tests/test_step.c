// test_step.c — the training step of optim/step.h with a gradient reducer attached, in one
// process (no mpirun needed): src/dist.c's bucketed reducer, with buckets small enough that the
// tiny ResNet's gradients span many of them, started during backward (the executor's per-op hook
// and per-op weight-gradient transfer) or after it, must leave every parameter and momentum
// bit-identical to the step without a reducer — with and without gradient accumulation (where the
// fresh gradient is added into the sum bucket by bucket). And the SyncBatchNorm path of the BN
// layer (statistics and gradient sums computed by us, reduced over the processes — here one)
// equals the primitive's own batch statistics: gradients and running statistics within 1e-5.
#include <math.h>
#include <string.h>

#include "layers/softmax_xent.h"

#include "optim/step.h"
#include "src/dist.h"
#include "src/resnet.h"
#include "src/rng.h"
#include "tests/check.h"

enum { B = 4, S = 16, K = 5, STEPS = 3 };

static rn_model_opts tiny_opts(void) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = 0, m.blocks[0] = m.blocks[1] = 1, m.n_stages = 2, m.bottleneck = 0, m.version = 2;
    m.width = 16, m.stem_small = 1, m.num_classes = K, m.input_size = S;
    return m;
}

// Trains STEPS steps of `accum` micro-batches on fixed random data; reducer: 0 none, 1 overlapped,
// 2 after backward. Returns the graph (caller destroys) and its momentum in *mom (caller frees).
static rn_graph *train(int accum, int reducer, float **mom, int *buckets) {
    rn_model_opts m = tiny_opts();
    rn_graph *g;
    rn_exec *ex;
    rn_err err;
    if (rn_resnet_build(&m, &g, &err)) return NULL;
    rn_graph_init_params(g, 7);
    rn_exec_opts eo = rn_exec_opts_default(1);
    if (rn_exec_create(g, B, S, S, &eo, &ex, &err)) return NULL;
    rn_sgd_opts so = rn_sgd_opts_default();
    so.nesterov = 1;
    rn_sgd *sgd = rn_sgd_create(g, &so);
    float *x = rn_malloc((size_t)B * 3 * S * S * sizeof(float)), scores[B * K], dscores[B * K];
    float *acc = rn_malloc_aligned(g->arena_size * sizeof(float) + 64);
    int32_t labels[B];
    rn_step st = {.g = g, .ex = ex, .sgd = sgd, .B = B, .K = K, .accum = accum, .smoothing = 0.1, .acc = acc,
                  .scores = scores, .dscores = dscores};
    rn_dist_reducer *red = reducer ? rn_dist_reducer_create(g, 0.002, reducer == 1) : NULL;
    if (red) st.reducer = rn_dist_reducer_hook(red), *buckets = rn_dist_reducer_buckets(red);
    rn_rng r;
    rn_rng_seed(&r, 11);
    for (int s = 0; s < STEPS; s++) {
        for (int a = 0; a < accum; a++) {
            for (int i = 0; i < B * 3 * S * S; i++) x[i] = (float)rn_rng_normal(&r);
            for (int i = 0; i < B; i++) labels[i] = (int32_t)rn_rng_below(&r, K);
            double loss;
            rn_err err;
            CHECK(rn_step_input(&st, x, &err) == 0 && rn_step_batch(&st, labels, a + 1 == accum, &loss, NULL, &err) == 0,
                  "step: %s", err.msg);
        }
        rn_step_update(&st, 0.05);
    }
    *mom = rn_malloc(g->arena_size * sizeof(float));
    memcpy(*mom, sgd->momentum, g->arena_size * sizeof(float));
    rn_dist_reducer_destroy(red);
    rn_sgd_destroy(sgd);
    rn_exec_destroy(ex);
    free(x);
    rn_free_aligned(acc);
    return g;
}

// Trainable parameters and their momentum, bit for bit.
static int same(const rn_graph *a, const float *ma, const rn_graph *b, const float *mb) {
    int diff = 0;
    for (int t = 0; t < a->n_tensors; t++) {
        const rn_tensor *x = &a->tensors[t];
        if (x->role != RN_PARAM || !x->trainable) continue;
        size_t n = rn_tensor_numel(x) * sizeof(float);
        diff += memcmp(x->data, b->tensors[t].data, n) != 0 || memcmp(ma + x->offset, mb + x->offset, n) != 0;
    }
    return diff == 0;
}

static void sum_over_one(double *x, int n) { (void)x, (void)n; }

// One forward and backward; gradients and the arena (running statistics) of the graph.
static rn_graph *fwd_bwd(int sync, int version) {
    rn_model_opts m = tiny_opts();
    m.version = version;
    rn_graph *g;
    rn_exec *ex;
    rn_err err;
    if (rn_resnet_build(&m, &g, &err)) return NULL;
    rn_graph_init_params(g, 3);
    rn_exec_opts eo = rn_exec_opts_default(1);
    if (sync) eo.bn_sync = sum_over_one;
    if (rn_exec_create(g, B, S, S, &eo, &ex, &err)) return NULL;
    float x[B * 3 * S * S], scores[B * K], dscores[B * K];
    int32_t labels[B] = {0, 1, 2, 3};
    rn_rng r;
    rn_rng_seed(&r, 5);
    for (int i = 0; i < B * 3 * S * S; i++) x[i] = (float)(rn_rng_normal(&r) + 0.5);
    int bad = rn_exec_set_input(ex, x, &err) || rn_exec_forward(ex, &err) || rn_exec_get_output(ex, scores, &err);
    if (!bad) rn_softmax_xent(scores, labels, B, K, 0, dscores);
    bad = bad || rn_exec_backward(ex, dscores, &err);
    CHECK(!bad, "sync BN step: %s", err.msg);
    rn_exec_destroy(ex);
    return bad ? NULL : g;
}

static double rel(const float *a, const float *b, size_t n) {
    double m = 0, d = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(b[i])), d = fmax(d, fabs((double)a[i] - b[i]));
    return m > 0 ? d / m : d;
}

static void test_sync_bn_path(int version) {
    rn_graph *a = fwd_bwd(0, version), *b = fwd_bwd(1, version);
    CHECK(a && b, "built");
    if (!a || !b) return;
    double dg = 0, ds = 0;
    int n = 0;
    for (int t = 0; t < a->n_tensors; t++) {
        const rn_tensor *x = &a->tensors[t];
        size_t k = rn_tensor_numel(x);
        if (x->role == RN_PARAM && x->trainable) dg = fmax(dg, rel(b->tensors[t].grad, x->grad, k)), n++;
        if (x->role == RN_STATE) ds = fmax(ds, rel(b->tensors[t].data, x->data, k));
    }
    fprintf(stderr, "v%d SyncBatchNorm path vs the primitive's statistics: gradients %.3g, running statistics %.3g\n",
            version, dg, ds);
    CHECK(n > 10 && dg <= 1e-5 && ds <= 1e-5, "v%d sync BN path: gradients %.3g, running statistics %.3g (want <= 1e-5)",
          version, dg, ds);
    rn_graph_destroy(a), rn_graph_destroy(b);
}

int main(void) {
    test_sync_bn_path(1);
    test_sync_bn_path(2);
    for (int accum = 1; accum <= 2; accum++) {
        float *m0, *m1, *m2;
        int nb = 0;
        rn_graph *g0 = train(accum, 0, &m0, &nb), *g1 = train(accum, 1, &m1, &nb), *g2 = train(accum, 2, &m2, &nb);
        CHECK(g0 && g1 && g2, "tiny ResNet built");
        if (!g0 || !g1 || !g2) return check_summary();
        CHECK(nb >= 4, "the gradients span %d buckets (want several)", nb);
        CHECK(same(g0, m0, g1, m1), "accum %d: the overlapped bucket reducer leaves the step bit-identical", accum);
        CHECK(same(g0, m0, g2, m2), "accum %d: the reducer after backward leaves the step bit-identical", accum);
        // And the step did something.
        rn_graph *fresh;
        rn_err err;
        rn_model_opts m = tiny_opts();
        if (rn_resnet_build(&m, &fresh, &err) == 0) {
            rn_graph_init_params(fresh, 7);
            CHECK(memcmp(fresh->arena, g0->arena, g0->arena_size * sizeof(float)) != 0, "the steps changed the weights");
            rn_graph_destroy(fresh);
        }
        rn_graph_destroy(g0), rn_graph_destroy(g1), rn_graph_destroy(g2);
        free(m0), free(m1), free(m2);
    }
    return check_summary();
}
