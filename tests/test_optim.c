// test_optim.c — learning-rate schedules at given steps (against torch's values), and SGD updates
// against hand-computed examples: momentum, Nesterov, weight-decay exemptions, accumulation scale,
// frozen tensors and statistics left alone.
#include <stdio.h>
#include <string.h>

#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tests/check.h"

static double lr_at(const rn_sched_opts *o, int64_t step, int64_t spe, int epochs) {
    return rn_sched_lr(o, 0.4, step, spe, epochs);
}

static void test_schedules(void) {
    rn_sched_opts o = rn_sched_opts_default();
    // step: x0.1 every 30 epochs (10 steps per epoch).
    o.type = RN_SCHED_STEP;
    CHECK_CLOSE(lr_at(&o, 0, 10, 90), 0.4, 1e-12, "step @0");
    CHECK_CLOSE(lr_at(&o, 299, 10, 90), 0.4, 1e-12, "step @299");
    CHECK_CLOSE(lr_at(&o, 300, 10, 90), 0.04, 1e-12, "step @300");
    CHECK_CLOSE(lr_at(&o, 899, 10, 90), 0.004, 1e-12, "step @899");
    // multistep 30, 60, 80.
    o.type = RN_SCHED_MULTISTEP;
    CHECK_CLOSE(lr_at(&o, 599, 10, 90), 0.04, 1e-12, "multistep @599");
    CHECK_CLOSE(lr_at(&o, 600, 10, 90), 0.004, 1e-12, "multistep @600");
    CHECK_CLOSE(lr_at(&o, 805, 10, 90), 0.0004, 1e-12, "multistep @805");
    // cosine, torch CosineAnnealingLR(T_max=50, eta_min=0.001) values, one step per epoch.
    o.type = RN_SCHED_COSINE;
    o.min_lr = 0.001;
    CHECK_CLOSE(lr_at(&o, 0, 1, 50), 0.4, 1e-12, "cosine @0");
    CHECK_CLOSE(lr_at(&o, 10, 1, 50), 0.36189889037780204, 1e-12, "cosine @10");
    CHECK_CLOSE(lr_at(&o, 25, 1, 50), 0.20049999999999996, 1e-12, "cosine @25");
    CHECK_CLOSE(lr_at(&o, 40, 1, 50), 0.039101109622197996, 1e-12, "cosine @40");
    CHECK_CLOSE(lr_at(&o, 50, 1, 50), 0.001, 1e-12, "cosine @50");
    // cosine after 5 warm-up epochs of 105, 10 steps per epoch: linear from 0.01 x, then the curve.
    o.min_lr = 0;
    o.warmup_epochs = 5;
    CHECK_CLOSE(lr_at(&o, 0, 10, 105), 0.4 * 0.01, 1e-12, "warmup @0");
    CHECK_CLOSE(lr_at(&o, 25, 10, 105), 0.4 * (0.01 + 0.99 * 0.5), 1e-12, "warmup @25 (per step)");
    CHECK_CLOSE(lr_at(&o, 50, 10, 105), 0.4, 1e-12, "warmup end");
    CHECK_CLOSE(lr_at(&o, 550, 10, 105), 0.2, 1e-12, "cosine half way after warm-up");
    o.per_step = 0;  // per epoch: step 25 is epoch 2
    CHECK_CLOSE(lr_at(&o, 25, 10, 105), 0.4 * (0.01 + 0.99 * 0.4), 1e-12, "warmup @25 (per epoch)");
    CHECK_CLOSE(lr_at(&o, 555, 10, 105), 0.2, 1e-12, "cosine per epoch holds within the epoch");
    o.per_step = 1;
    o.warmup_epochs = 0;
    // poly (power 2) and linear half way.
    o.type = RN_SCHED_POLY;
    CHECK_CLOSE(lr_at(&o, 50, 10, 10), 0.1, 1e-12, "poly @half");
    o.type = RN_SCHED_LINEAR;
    CHECK_CLOSE(lr_at(&o, 50, 10, 10), 0.2, 1e-12, "linear @half");
    o.type = RN_SCHED_CONSTANT;
    CHECK_CLOSE(lr_at(&o, 77, 10, 10), 0.4, 1e-12, "constant");
    // onecycle: torch OneCycleLR(max_lr=0.4, total_steps=100, pct_start=0.3, cycle_momentum=False).
    o.type = RN_SCHED_ONECYCLE;
    static const struct {
        int step;
        double lr;
    } torch1c[] = {{0, 0.016000000000000014}, {10, 0.11806557938564033}, {29, 0.4}, {30, 0.39979861411380974},
                   {50, 0.3175573802302928},  {64, 0.2000008},           {90, 0.016095981111927928}, {99, 1.6e-06}};
    for (size_t i = 0; i < sizeof torch1c / sizeof *torch1c; i++) {
        char what[64];
        snprintf(what, sizeof what, "onecycle @%d", torch1c[i].step);
        CHECK_CLOSE(lr_at(&o, torch1c[i].step, 10, 10), torch1c[i].lr, 1e-9, what);
    }
}

// data(1x1x2x2) -> Conv w(2x1x1x1) -> BN(gamma, beta, mean, var) -> GlobalAveragePool -> Flatten -> Gemm(W 3x2, b 3)
static rn_graph *tiny_graph(void) {
    rn_graph *g = rn_graph_create();
    int64_t d[4] = {1, 1, 2, 2}, w[4] = {2, 1, 1, 1}, c[1] = {2}, W[2] = {3, 2}, b[1] = {3};
    int x = rn_graph_tensor(g, "data", RN_DATA, 4, d);
    int in[5] = {x, rn_graph_tensor(g, "conv_w", RN_PARAM, 4, w)};
    int o = rn_graph_op(g, RN_OP_CONV, "conv", in, 2, "conv");
    g->ops[o].a.conv = (rn_conv_attr){1, 1, 1, 1, 0, 0, 0, 0, 1};
    int bin[5] = {g->ops[o].out, rn_graph_tensor(g, "gamma", RN_PARAM, 1, c), rn_graph_tensor(g, "beta", RN_PARAM, 1, c),
                  rn_graph_tensor(g, "mean", RN_STATE, 1, c), rn_graph_tensor(g, "var", RN_STATE, 1, c)};
    o = rn_graph_op(g, RN_OP_BATCHNORM, "bn", bin, 5, "bn");
    g->ops[o].a.bn = (rn_bn_attr){1e-5f, 0.9f};
    int p = g->ops[o].out;
    o = rn_graph_op(g, RN_OP_GLOBALAVGPOOL, "pool", &p, 1, "pool");
    p = g->ops[o].out;
    o = rn_graph_op(g, RN_OP_FLATTEN, "flat", &p, 1, "flat");
    int gin[3] = {g->ops[o].out, rn_graph_tensor(g, "fc_w", RN_PARAM, 2, W), rn_graph_tensor(g, "fc_b", RN_PARAM, 1, b)};
    o = rn_graph_op(g, RN_OP_GEMM, "fc", gin, 3, "fc");
    g->ops[o].a.gemm = (rn_gemm_attr){1, 1, 0, 1};
    rn_err e;
    if (rn_graph_finalize(g, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        abort();
    }
    return g;
}

// The update of one float in double precision: d = g s + wd w; v = m v + d; w -= lr (nesterov ? d + m v : v).
static void ref_step(double *w, double *v, double g, double s, double wd, double m, double lr, int nesterov) {
    double d = g * s + wd * *w;
    *v = m * *v + d;
    *w -= lr * (nesterov ? d + m * *v : *v);
}

static void test_sgd(int nesterov) {
    rn_graph *g = tiny_graph();
    for (size_t i = 0; i < g->arena_size; i++) {
        g->arena[i] = 1.0f - 0.01f * (float)i;
        g->grad_arena[i] = 0.5f + 0.02f * (float)i;
    }
    int fcw = rn_graph_find(g, "fc_w"), frozen = rn_graph_find(g, "fc_b");
    g->tensors[frozen].trainable = 0;
    rn_sgd_opts o = rn_sgd_opts_default();
    o.momentum = 0.9, o.weight_decay = 0.1, o.norm_weight_decay = 0, o.bias_weight_decay = 0.3, o.nesterov = nesterov;
    rn_sgd *s = rn_sgd_create(g, &o);
    CHECK(s->decay[rn_graph_find(g, "conv_w")] == 0.1f && s->decay[rn_graph_find(g, "gamma")] == 0.0f &&
              s->decay[rn_graph_find(g, "beta")] == 0.0f && s->decay[frozen] == 0.3f,
          "weight decay classes: conv %g gamma %g beta %g bias %g", s->decay[1], s->decay[rn_graph_find(g, "gamma")],
          s->decay[rn_graph_find(g, "beta")], s->decay[frozen]);
    size_t n = g->arena_size;
    double *w = malloc(n * sizeof *w), *v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) w[i] = g->arena[i];
    float *before = malloc(n * sizeof *before);
    memcpy(before, g->arena, n * sizeof *before);
    uint64_t ver = g->version;
    for (int it = 0; it < 3; it++) {
        rn_sgd_step(s, g, g->grad_arena, 0.5f, 0.1);
        for (int t = 0; t < g->n_tensors; t++) {
            const rn_tensor *T = &g->tensors[t];
            if (T->role != RN_PARAM || !T->trainable) continue;
            for (size_t j = T->offset; j < T->offset + rn_tensor_numel(T); j++)
                ref_step(&w[j], &v[j], g->grad_arena[j], 0.5, s->decay[t], 0.9, 0.1, nesterov);
        }
    }
    CHECK(g->version == ver + 3, "version bumped once per step");
    double worst = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const rn_tensor *T = &g->tensors[t];
        for (size_t j = T->offset; T->data && j < T->offset + rn_tensor_numel(T); j++) {
            if (T->role == RN_PARAM && T->trainable) {
                double e = fabs(g->arena[j] - w[j]);
                worst = e > worst ? e : worst;
            } else {
                CHECK(g->arena[j] == before[j], "%s: frozen or statistic changed", T->name);
            }
        }
    }
    CHECK(worst < 1e-6, "nesterov %d: largest difference to the double reference %g", nesterov, worst);
    // One element by hand: fc_w[0] = w0, g = 0.5 + 0.02 k; three steps at lr 0.1, m 0.9, wd 0.1, scale 0.5.
    size_t k = g->tensors[fcw].offset;
    double w0 = 1.0 - 0.01 * (double)k, gr = (0.5 + 0.02 * (double)k) * 0.5, vv = 0, ww = w0;
    for (int it = 0; it < 3; it++) {
        double d = gr + 0.1 * ww;
        vv = 0.9 * vv + d;
        ww -= 0.1 * (nesterov ? d + 0.9 * vv : vv);
    }
    CHECK_CLOSE(g->arena[k], ww, 1e-6, "fc_w[0] by hand");
    free(w), free(v), free(before);
    rn_sgd_destroy(s);
    rn_graph_destroy(g);
}

// The formula on numbers small enough to do on paper: w = 1, g = 0.5, wd = 0.1, m = 0.9, lr = 0.1.
static void test_paper(void) {
    rn_graph *g = tiny_graph();
    for (size_t i = 0; i < g->arena_size; i++) g->arena[i] = 1.0f, g->grad_arena[i] = 0.5f;
    rn_sgd_opts o = rn_sgd_opts_default();
    o.momentum = 0.9, o.weight_decay = 0.1, o.norm_weight_decay = 0;
    rn_sgd *s = rn_sgd_create(g, &o);
    int cw = rn_graph_find(g, "conv_w"), ga = rn_graph_find(g, "gamma");
    rn_sgd_step(s, g, g->grad_arena, 1.0f, 0.1);
    CHECK_CLOSE(g->tensors[cw].data[0], 0.94, 1e-6, "step 1: d = 0.6, v = 0.6, w = 0.94");
    CHECK_CLOSE(g->tensors[ga].data[0], 0.95, 1e-6, "step 1 without decay: w = 0.95");
    rn_sgd_step(s, g, g->grad_arena, 1.0f, 0.1);
    CHECK_CLOSE(g->tensors[cw].data[0], 0.8266, 1e-6, "step 2: d = 0.594, v = 1.134, w = 0.8266");
    CHECK_CLOSE(g->tensors[ga].data[0], 0.855, 1e-6, "step 2 without decay: v = 0.95, w = 0.855");
    rn_sgd_destroy(s);
    for (size_t i = 0; i < g->arena_size; i++) g->arena[i] = 1.0f;
    o.nesterov = 1;
    s = rn_sgd_create(g, &o);
    rn_sgd_step(s, g, g->grad_arena, 1.0f, 0.1);
    CHECK_CLOSE(g->tensors[cw].data[0], 0.886, 1e-6, "nesterov step 1: w = 1 - 0.1 (0.6 + 0.54)");
    rn_sgd_step(s, g, g->grad_arena, 1.0f, 0.1);
    CHECK_CLOSE(g->tensors[cw].data[0], 0.725566, 1e-6, "nesterov step 2");
    rn_sgd_destroy(s);
    rn_graph_destroy(g);
    // Linear scaling: lr 0.1 for 256 samples is 0.05 for 128.
    o.lr = 0.1, o.lr_base_batch = 256;
    CHECK_CLOSE(rn_sgd_scaled_lr(&o, 128), 0.05, 1e-12, "linear lr scaling");
}

// LARS on numbers done on paper: conv_w = (3, 4), g = (0.6, 0.8): |w| = 5, |g| = 1; eta = 0.1,
// wd = 0.01, m = 0.9, lr = 1. Step 1: local = 0.1 * 5 / (1 + 0.05) = 0.5 / 1.05, v = local (g + wd w)
// = (0.5 / 1.05) (0.63, 0.84) = (0.3, 0.4), w = (2.7, 3.6). Step 2: |w| = 4.5, local = 0.45 / 1.045,
// g + wd w = 1.045 (0.6, 0.8), so v = 0.9 (0.3, 0.4) + 0.45 (0.6, 0.8) = (0.54, 0.72), w = (2.16, 2.88).
// BN scale (gamma) and the fc bias are exempt: plain momentum SGD without decay, v = g = 0.5, then
// 0.95. fc_w starts at 0 (|w| = 0): local = 1.
static void test_lars(void) {
    rn_graph *g = tiny_graph();
    int cw = rn_graph_find(g, "conv_w"), ga = rn_graph_find(g, "gamma"), fb = rn_graph_find(g, "fc_b"),
        fw = rn_graph_find(g, "fc_w");
    for (size_t i = 0; i < g->arena_size; i++) g->arena[i] = 1.0f, g->grad_arena[i] = 0.5f;
    for (size_t i = 0; i < 6; i++) g->tensors[fw].data[i] = 0;
    float w0[2] = {3, 4}, g0[2] = {0.6f, 0.8f};
    memcpy(g->tensors[cw].data, w0, sizeof w0);
    memcpy(g->tensors[cw].grad, g0, sizeof g0);
    rn_sgd_opts o = rn_sgd_opts_default();
    o.type = RN_OPT_LARS, o.trust = 0.1, o.momentum = 0.9, o.weight_decay = 0.01, o.nesterov = 1;  // nesterov: ignored
    rn_sgd *s = rn_sgd_create(g, &o);
    rn_sgd_step(s, g, g->grad_arena, 1.0f, 1.0);
    CHECK_CLOSE(g->tensors[cw].data[0], 2.7, 1e-6, "LARS step 1: w0 = 3 - 0.3");
    CHECK_CLOSE(g->tensors[cw].data[1], 3.6, 1e-6, "LARS step 1: w1 = 4 - 0.4");
    CHECK_CLOSE(g->tensors[ga].data[0], 0.5, 1e-6, "LARS exempts BN scale: w = 1 - 0.5, no decay");
    CHECK_CLOSE(g->tensors[fb].data[0], 0.5, 1e-6, "LARS exempts biases");
    CHECK_CLOSE(g->tensors[fw].data[0], -0.5, 1e-6, "LARS with |w| = 0: local lr 1");
    rn_sgd_step(s, g, g->grad_arena, 1.0f, 1.0);
    CHECK_CLOSE(g->tensors[cw].data[0], 2.16, 1e-6, "LARS step 2: w0 = 2.7 - 0.54");
    CHECK_CLOSE(g->tensors[cw].data[1], 2.88, 1e-6, "LARS step 2: w1 = 3.6 - 0.72");
    CHECK_CLOSE(g->tensors[ga].data[0], -0.45, 1e-6, "LARS exempt step 2: v = 0.95");
    // The gradient scale (accumulation, ranks) applies before the norms: (1.2, 1.6) x 0.5 is step 1's g.
    rn_sgd_destroy(s);
    memcpy(g->tensors[cw].data, w0, sizeof w0);
    float g2[2] = {1.2f, 1.6f};
    memcpy(g->tensors[cw].grad, g2, sizeof g2);
    s = rn_sgd_create(g, &o);
    rn_sgd_step(s, g, g->grad_arena, 0.5f, 1.0);
    CHECK_CLOSE(g->tensors[cw].data[0], 2.7, 1e-6, "LARS with grad_scale 0.5 on twice the gradient");
    rn_sgd_destroy(s);
    rn_graph_destroy(g);
}

int main(void) {
    test_lars();
    test_schedules();
    test_sgd(0);
    test_sgd(1);
    test_paper();
    return check_summary();
}
