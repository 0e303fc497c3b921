// test_layers.c — each op, forward and backward, oneDNN vs the plain-C reference (1e-4 relative)
// and the reference vs finite differences in double precision (graphcheck.h).
#include <stdio.h>

#include <oneapi/dnnl/dnnl.h>

#include "tests/graphcheck.h"

// Random, non-trivial parameters: weights N(0, 1/fan_in), BN scale in [0.5, 1.5], shift and
// running mean N(0, 0.5), running variance in [0.5, 1.5].
static void random_params(rn_graph *g, uint64_t seed) {
    rn_rng r;
    rn_rng_seed(&r, seed);
    for (int i = 0; i < g->n_tensors; i++) {
        rn_tensor *t = &g->tensors[i];
        if (!t->data) continue;
        size_t n = rn_tensor_numel(t);
        const char *nm = t->name;
        int is_scale = strstr(nm, "gamma") != NULL, is_var = strstr(nm, "var") != NULL;
        double fan = t->ndim > 1 ? (double)(n / (size_t)t->dims[0]) : 1.0;
        for (size_t j = 0; j < n; j++) {
            if (is_scale || is_var) t->data[j] = (float)rn_rng_range(&r, 0.5, 1.5);
            else if (t->ndim == 1) t->data[j] = (float)(0.5 * rn_rng_normal(&r));
            else t->data[j] = (float)(rn_rng_normal(&r) / sqrt(fan));
        }
    }
    g->version++;
}

static int param(rn_graph *g, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    int64_t d[4] = {d0, d1, d2, d3};
    return rn_graph_tensor(g, name, RN_PARAM, ndim, d);
}

static int state(rn_graph *g, const char *name, int64_t c) { return rn_graph_tensor(g, name, RN_STATE, 1, &c); }

static int add_conv(rn_graph *g, int x, int64_t cin, int64_t cout, int k, int s, int pad, int bias, const char *nm) {
    char b[128];
    int in[3] = {x, 0, 0};
    snprintf(b, sizeof b, "%s_weight", nm);
    in[1] = param(g, b, 4, cout, cin, k, k);
    if (bias) {
        snprintf(b, sizeof b, "%s_bias", nm);
        in[2] = param(g, b, 1, cout, 0, 0, 0);
    }
    snprintf(b, sizeof b, "%s_out", nm);
    int op = rn_graph_op(g, RN_OP_CONV, nm, in, bias ? 3 : 2, b);
    g->ops[op].a.conv = (rn_conv_attr){k, k, s, s, pad, pad, pad, pad, 1};
    return g->ops[op].out;
}

static int add_bn(rn_graph *g, int x, int64_t c, const char *nm) {
    char b[128];
    int in[5] = {x};
    snprintf(b, sizeof b, "%s_gamma", nm), in[1] = param(g, b, 1, c, 0, 0, 0);
    snprintf(b, sizeof b, "%s_beta", nm), in[2] = param(g, b, 1, c, 0, 0, 0);
    snprintf(b, sizeof b, "%s_running_mean", nm), in[3] = state(g, b, c);
    snprintf(b, sizeof b, "%s_running_var", nm), in[4] = state(g, b, c);
    snprintf(b, sizeof b, "%s_out", nm);
    int op = rn_graph_op(g, RN_OP_BATCHNORM, nm, in, 5, b);
    g->ops[op].a.bn = (rn_bn_attr){1e-5f, 0.9f};
    return g->ops[op].out;
}

static int add_simple(rn_graph *g, rn_op_type t, int x, const char *nm) {
    char b[128];
    snprintf(b, sizeof b, "%s_out", nm);
    int op = rn_graph_op(g, t, nm, &x, 1, b);
    return g->ops[op].out;
}

static rn_graph *start(int64_t c, int *x) {
    rn_graph *g = rn_graph_create();
    int64_t d[4] = {1, c, 8, 8};
    *x = rn_graph_tensor(g, "data", RN_DATA, 4, d);
    return g;
}

static void finish_and_check(rn_graph *g, const gc_opts *o, const char *name) {
    rn_err err;
    int rc = rn_graph_finalize(g, &err);
    CHECK(rc == 0, "%s: finalize: %s", name, err.msg);
    if (rc == 0) {
        random_params(g, o->seed);
        graphcheck(g, o, name);
    }
    rn_graph_destroy(g);
}

static void test_conv(void) {
    struct {
        int cin, cout, k, s, pad, bias, blocked, hw;
    } cases[] = {
        {16, 16, 3, 1, 1, 0, 1, 8},  // 3x3 stride 1, blocked input
        {16, 32, 3, 2, 1, 1, 1, 9},  // 3x3 stride 2, odd size, bias
        {16, 32, 1, 1, 0, 1, 1, 8},  // 1x1 with bias (v1 bottleneck)
        {16, 32, 1, 2, 0, 0, 1, 8},  // 1x1 stride 2 projection
        {3, 16, 7, 2, 3, 0, 0, 16},  // the 7x7/2 stem on plain RGB
        {3, 16, 3, 1, 1, 1, 0, 8},   // the small stem with bias
        {32, 16, 3, 1, 0, 0, 1, 7},  // no padding
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int x;
        rn_graph *g = start(cases[i].cin, &x);
        add_conv(g, x, cases[i].cin, cases[i].cout, cases[i].k, cases[i].s, cases[i].pad, cases[i].bias, "conv");
        gc_opts o = gc_default(2, cases[i].hw, cases[i].hw);
        o.input_blocked = cases[i].blocked;
        char name[128];
        snprintf(name, sizeof name, "Conv %dx%d/%d pad %d %s %d->%d", cases[i].k, cases[i].k, cases[i].s, cases[i].pad,
                 cases[i].bias ? "bias" : "no-bias", cases[i].cin, cases[i].cout);
        finish_and_check(g, &o, name);
    }
}

// Winograd F(4x4, 3x3): exact in exact arithmetic, so the same reference and tolerance (its float
// rounding, ~1e-6 relative here, is larger than the direct algorithm's but far inside 1e-4).
static void test_conv_winograd(void) {
    for (int hw = 8; hw <= 13; hw += 5) {
        int x;
        rn_graph *g = start(32, &x);
        add_conv(g, x, 32, 32, 3, 1, 1, 0, "conv");
        gc_opts o = gc_default(2, hw, hw);
        o.input_blocked = 1;
        o.winograd = 1;
        o.fd_samples = 0;
        rn_err err;
        rn_exec *ex;
        rn_exec_opts eo = rn_exec_opts_default(1);
        eo.input_blocked = eo.input_grad = eo.winograd = 1;
        CHECK(rn_graph_finalize(g, &err) == 0 && rn_exec_create(g, 2, hw, hw, &eo, &ex, &err) == 0, "%s", err.msg);
        const char *names[4];
        int n = rn_exec_impls(ex, 0, names, 4), wino = 0;
        for (int i = 0; i < n; i++) wino += strstr(names[i], "wino") != NULL;
        // oneDNN 2.x has f32 Winograd kernels for AVX-512 only; 3.x has none on x86 (its library has no
        // Winograd implementation left). Elsewhere each primitive falls back to direct.
#if DNNL_VERSION_MAJOR >= 3
        int offered = 0;
#else
        dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
        int offered = (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
#endif
        if (offered) CHECK(n == 3 && wino == 3, "Winograd: %d of %d primitives use it", wino, n);
        else CHECK(n == 3 && wino == 0, "Winograd not offered here: %d of %d primitives use it", wino, n);
        rn_exec_destroy(ex);
        char name[64];
        snprintf(name, sizeof name, "Conv 3x3/1 Winograd %dx%d", hw, hw);
        finish_and_check(g, &o, name);
    }
}

static void test_batchnorm(void) {
    for (int training = 0; training <= 1; training++)
        for (int relu = 0; relu <= 1; relu++)
            for (int blocked = 0; blocked <= 1; blocked++) {
                int x;
                rn_graph *g = start(16, &x);
                int y = add_bn(g, x, 16, "bn");
                if (relu) add_simple(g, RN_OP_RELU, y, "relu");
                gc_opts o = gc_default(3, 5, 5);
                o.training = training;
                o.input_blocked = blocked;
                char name[128];
                snprintf(name, sizeof name, "BatchNormalization%s %s %s", relu ? "+Relu (fused)" : "",
                         training ? "training" : "inference", blocked ? "nChw16c" : "nchw");
                finish_and_check(g, &o, name);
            }
    for (int relu = 0; relu <= 1; relu++) {
        int x;
        rn_graph *g = start(16, &x);
        int y = add_bn(g, x, 16, "bn");
        if (relu) add_simple(g, RN_OP_RELU, y, "relu");
        gc_opts o = gc_default(2, 5, 5);
        o.bn_frozen = 1;
        o.input_blocked = 1;
        finish_and_check(g, &o, relu ? "BatchNormalization+Relu, statistics frozen" : "BatchNormalization, statistics frozen");
    }
    // The v2 input BN: 3 channels, plain layout, frozen scale and shift.
    int x;
    rn_graph *g = start(3, &x);
    add_bn(g, x, 3, "bn_data");
    g->tensors[1].trainable = g->tensors[2].trainable = 0;
    gc_opts o = gc_default(2, 6, 6);
    o.fd_samples = 0;
    finish_and_check(g, &o, "BatchNormalization on data, frozen");
}

static void test_relu_add_pool(void) {
    for (int blocked = 0; blocked <= 1; blocked++) {
        int x;
        rn_graph *g = start(16, &x);
        add_simple(g, RN_OP_RELU, x, "relu");
        gc_opts o = gc_default(2, 6, 6);
        o.input_blocked = blocked;
        finish_and_check(g, &o, blocked ? "Relu nChw16c" : "Relu nchw");
    }
    // Add = conv(x) + x (a branch point: d(x) sums two gradients), or conv(x) + conv(x) (a tensor
    // added to itself), optionally followed by a fused Relu; blocked or plain input. The conv output
    // dies at the Add, which then runs in place over it (layers/exec_plan.c): as its first input, or
    // as its second (y + conv(y), y = conv0(x) so that both have the conv layout: add.c swaps the
    // operands).
    struct {
        int c, k, self, relu, blocked, hw, second;
        const char *name;
    } adds[] = {
        {16, 3, 0, 0, 1, 6, 0, "Add with a branch point"},
        {8, 3, 0, 1, 0, 6, 0, "Add+Relu of inputs in different layouts (plain data, blocked conv output)"},
        {16, 1, 1, 0, 1, 5, 0, "Add of a tensor to itself"},
        {16, 3, 0, 1, 1, 6, 0, "Add+Relu (fused, as in v1 blocks)"},
        {16, 3, 0, 0, 1, 6, 1, "Add in place over its second input"},
        {16, 1, 0, 1, 1, 5, 1, "Add+Relu in place over its second input"},
    };
    for (size_t i = 0; i < sizeof adds / sizeof *adds; i++) {
        int x;
        rn_graph *g = start(adds[i].c, &x);
        if (adds[i].second) x = add_conv(g, x, adds[i].c, adds[i].c, 1, 1, 0, 0, "conv0");
        int c = add_conv(g, x, adds[i].c, adds[i].c, adds[i].k, 1, adds[i].k / 2, 0, "conv");
        int in[2] = {c, adds[i].self ? c : x};
        if (adds[i].second) in[0] = x, in[1] = c;
        int op = rn_graph_op(g, RN_OP_ADD, "add", in, 2, "add_out");
        if (adds[i].relu) add_simple(g, RN_OP_RELU, g->ops[op].out, "relu");
        gc_opts o = gc_default(2, adds[i].hw, adds[i].hw);
        o.input_blocked = adds[i].blocked;
        finish_and_check(g, &o, adds[i].name);
    }
    {
        int x;
        rn_graph *g = start(16, &x);
        int op = rn_graph_op(g, RN_OP_MAXPOOL, "pool", &x, 1, "pool_out");
        g->ops[op].a.pool = (rn_pool_attr){3, 3, 2, 2, 1, 1, 1, 1};
        gc_opts o = gc_default(2, 9, 9);
        o.input_blocked = 1;
        finish_and_check(g, &o, "MaxPool 3x3/2 pad 1");
    }
    {
        // The head: GlobalAveragePool -> Flatten -> Gemm (transB = 1, bias).
        int x;
        rn_graph *g = start(32, &x);
        int p = add_simple(g, RN_OP_GLOBALAVGPOOL, x, "gap");
        int f = add_simple(g, RN_OP_FLATTEN, p, "flatten");
        int in[3] = {f, param(g, "fc_weight", 2, 10, 32, 0, 0), param(g, "fc_bias", 1, 10, 0, 0, 0)};
        int op = rn_graph_op(g, RN_OP_GEMM, "fc", in, 3, "fc_out");
        g->ops[op].a.gemm = (rn_gemm_attr){1, 1, 0, 1};
        gc_opts o = gc_default(4, 5, 5);
        o.input_blocked = 1;
        finish_and_check(g, &o, "GlobalAveragePool+Flatten+Gemm");
    }
}

int main(void) {
    test_conv();
    test_conv_winograd();
    test_batchnorm();
    test_relu_add_pool();
    return check_summary();
}
