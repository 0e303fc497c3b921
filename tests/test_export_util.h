// test_export_util.h — models with non-trivial weights and graph comparison for the export tests.
#ifndef RN_TEST_EXPORT_UTIL_H
#define RN_TEST_EXPORT_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/graph.h"
#include "src/resnet.h"
#include "src/rng.h"

// A small ResNet for the format tests: 2 stages of 1 block, width 8, 16x16 input, 5 classes.
static inline rn_model_opts tiny_opts(int version, int bottleneck) {
    rn_model_opts o = rn_model_opts_default();
    o.depth = 0;
    o.n_stages = 2;
    o.blocks[0] = o.blocks[1] = 1;
    o.bottleneck = bottleneck;
    o.version = version;
    o.num_classes = 5;
    o.width = 8;
    o.stem_small = 0;
    o.input_size = 32;
    return o;
}

// Trained-looking values where the initialisation leaves constants: BN gamma U(0.5, 1.5), beta and
// biases U(-0.2, 0.2), running mean U(-0.2, 0.2), running variance U(0.5, 1.5). (The v2 input BN,
// frozen at scale 1 / shift 0, gets statistics only.)
static inline void perturb_params(rn_graph *g, uint64_t seed) {
    rn_rng r;
    rn_rng_seed3(&r, seed, 0xbeef, 7);
    for (int i = 0; i < g->n_tensors; i++) {
        rn_tensor *t = &g->tensors[i];
        if (!t->data || t->ndim != 1) continue;
        if (t->role == RN_PARAM && !t->trainable) continue;
        int is_var = t->role == RN_STATE && t->init == RN_INIT_ONE;
        int is_gamma = t->role == RN_PARAM && t->init == RN_INIT_ONE;
        for (size_t j = 0; j < rn_tensor_numel(t); j++)
            t->data[j] = (float)((is_var || is_gamma) ? rn_rng_range(&r, 0.5, 1.5) : rn_rng_range(&r, -0.2, 0.2));
    }
    g->version++;
}

static inline rn_graph *make_model(const rn_model_opts *o, uint64_t seed) {
    rn_graph *g;
    rn_err err;
    if (rn_resnet_build(o, &g, &err)) {
        fprintf(stderr, "build: %s\n", err.msg);
        exit(1);
    }
    rn_graph_init_params(g, seed);
    perturb_params(g, seed);
    return g;
}

static inline void fill_normal(float *x, size_t n, uint64_t seed) {
    rn_rng r;
    rn_rng_seed3(&r, seed, 0x1234, 1);
    for (size_t i = 0; i < n; i++) x[i] = (float)rn_rng_normal(&r);
}

// Differences between two graphs (structure, names, attributes, roles, shapes and bit-exact
// values); prints the first few and returns their count.
static inline int graph_diff(const rn_graph *a, const rn_graph *b) {
    int d = 0;
#define GD(cond, ...)                                          \
    do {                                                       \
        if (!(cond)) {                                         \
            if (d++ < 5) fprintf(stderr, "graph_diff: " __VA_ARGS__); \
        }                                                      \
    } while (0)
    GD(a->n_ops == b->n_ops, "%d vs %d ops\n", a->n_ops, b->n_ops);
    GD(a->n_tensors == b->n_tensors, "%d vs %d tensors\n", a->n_tensors, b->n_tensors);
    if (d) return d;
    GD(a->input == b->input && a->output == b->output, "input/output index\n");
    for (int i = 0; i < a->n_tensors; i++) {
        const rn_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        GD(strcmp(x->name, y->name) == 0, "tensor %d: name %s vs %s\n", i, x->name, y->name);
        GD(x->role == y->role && x->ndim == y->ndim && memcmp(x->dims, y->dims, sizeof x->dims[0] * (size_t)x->ndim) == 0,
           "tensor %s: role/shape\n", x->name);
        GD(x->role != RN_PARAM || x->trainable == y->trainable, "tensor %s: trainable %d vs %d\n", x->name,
           x->trainable, y->trainable);
        GD(!x->data == !y->data, "tensor %s: data presence\n", x->name);
        if (x->data && y->data && x->ndim == y->ndim)
            GD(memcmp(x->data, y->data, rn_tensor_numel(x) * sizeof(float)) == 0, "tensor %s: values differ\n", x->name);
    }
    for (int k = 0; k < a->n_ops; k++) {
        const rn_op *x = &a->ops[k], *y = &b->ops[k];
        GD(x->type == y->type && strcmp(x->name, y->name) == 0, "op %d: %s vs %s\n", k, x->name, y->name);
        GD(x->n_in == y->n_in && memcmp(x->in, y->in, sizeof x->in[0] * (size_t)x->n_in) == 0 && x->out == y->out,
           "op %s: connections\n", x->name);
        int same = 1;
        switch (x->type) {
        case RN_OP_CONV: same = memcmp(&x->a.conv, &y->a.conv, sizeof x->a.conv) == 0; break;
        case RN_OP_BATCHNORM: same = x->a.bn.epsilon == y->a.bn.epsilon && x->a.bn.momentum == y->a.bn.momentum; break;
        case RN_OP_MAXPOOL: same = memcmp(&x->a.pool, &y->a.pool, sizeof x->a.pool) == 0; break;
        case RN_OP_GEMM:
            same = x->a.gemm.alpha == y->a.gemm.alpha && x->a.gemm.beta == y->a.gemm.beta &&
                   x->a.gemm.trans_a == y->a.gemm.trans_a && x->a.gemm.trans_b == y->a.gemm.trans_b;
            break;
        default: break;
        }
        GD(same, "op %s: attributes differ\n", x->name);
    }
#undef GD
    return d;
}

#endif
