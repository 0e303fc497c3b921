// graph.c — building, parameter layout and initialisation of the op list (the op contract and shape
// inference are in op_contract.c).
#include "layers/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/rng.h"

rn_graph *rn_graph_create(void) {
    rn_graph *g = rn_calloc(1, sizeof *g);
    g->input = g->output = -1;
    return g;
}

void rn_graph_destroy(rn_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    for (int i = 0; i < g->n_ops; i++) free(g->ops[i].name);
    free(g->tensors);
    free(g->ops);
    rn_free_aligned(g->arena);
    rn_free_aligned(g->grad_arena);
    free(g);
}

size_t rn_tensor_numel(const rn_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->dims[i];
    return n;
}

int rn_graph_tensor(rn_graph *g, const char *name, rn_role role, int ndim, const int64_t *dims) {
    RN_CHECK(ndim >= 0 && ndim <= RN_MAX_DIMS);
    if (g->n_tensors == g->cap_tensors) {
        g->cap_tensors = g->cap_tensors ? 2 * g->cap_tensors : 64;
        g->tensors = rn_realloc(g->tensors, (size_t)g->cap_tensors * sizeof *g->tensors);
    }
    rn_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = rn_strdup(name);
    t->role = role;
    t->trainable = role == RN_PARAM;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
    t->producer = -1;
    if (role == RN_DATA) g->input = g->n_tensors;
    return g->n_tensors++;
}

int rn_graph_op(rn_graph *g, rn_op_type type, const char *name, const int *in, int n_in,
                const char *out_name) {
    RN_CHECK(n_in >= 1 && n_in <= RN_MAX_IN);
    int out = rn_graph_tensor(g, out_name, RN_ACT, 0, NULL);
    if (g->n_ops == g->cap_ops) {
        g->cap_ops = g->cap_ops ? 2 * g->cap_ops : 64;
        g->ops = rn_realloc(g->ops, (size_t)g->cap_ops * sizeof *g->ops);
    }
    rn_op *op = &g->ops[g->n_ops];
    memset(op, 0, sizeof *op);
    op->type = type;
    op->name = rn_strdup(name);
    op->n_in = n_in;
    for (int i = 0; i < n_in; i++) op->in[i] = in[i];
    op->out = out;
    g->tensors[out].producer = g->n_ops;
    g->output = out;
    return g->n_ops++;
}

int rn_graph_finalize(rn_graph *g, rn_err *err) {
    if (rn_graph_check(g, err)) return -1;
    size_t n = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM && t->role != RN_STATE) continue;
        t->offset = n;
        n += (rn_tensor_numel(t) + 15) & ~(size_t)15;  // 64-byte aligned starts
    }
    rn_free_aligned(g->arena);
    rn_free_aligned(g->grad_arena);
    g->arena_size = n;
    g->arena = rn_malloc_aligned(n * sizeof(float));
    g->grad_arena = rn_malloc_aligned(n * sizeof(float));
    memset(g->arena, 0, n * sizeof(float));
    memset(g->grad_arena, 0, n * sizeof(float));
    for (int i = 0; i < g->n_tensors; i++) {
        rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM && t->role != RN_STATE) continue;
        t->data = g->arena + t->offset;
        t->grad = t->role == RN_PARAM ? g->grad_arena + t->offset : NULL;
    }
    g->version++;
    return 0;
}

int rn_graph_find(const rn_graph *g, const char *name) {
    for (int i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return i;
    return -1;
}

// fan_in of a weight tensor: everything but the output dimension.
static double fan_in(const rn_tensor *t, const rn_graph *g) {
    // Biases carry no fan-in of their own: they take the one of the weight of the same op.
    if (t->ndim == 1) {
        for (int k = 0; k < g->n_ops; k++) {
            const rn_op *op = &g->ops[k];
            if ((op->type == RN_OP_CONV || op->type == RN_OP_GEMM) && op->n_in > 2 &&
                &g->tensors[op->in[2]] == t)
                return fan_in(&g->tensors[op->in[1]], g);
        }
        return 1;
    }
    double f = 1;
    for (int i = 1; i < t->ndim; i++) f *= (double)t->dims[i];
    return f;
}

void rn_graph_init_params(rn_graph *g, uint64_t seed) {
    for (int i = 0; i < g->n_tensors; i++) {
        rn_tensor *t = &g->tensors[i];
        if (!t->data) continue;
        size_t n = rn_tensor_numel(t);
        rn_rng r;
        rn_rng_seed3(&r, seed, 0x5eed, (uint64_t)i);  // per-tensor stream: adding a tensor moves no other
        switch (t->init) {
        case RN_INIT_NONE:
        case RN_INIT_ZERO:
            memset(t->data, 0, n * sizeof(float));
            break;
        case RN_INIT_ONE:
            for (size_t j = 0; j < n; j++) t->data[j] = 1.0f;
            break;
        case RN_INIT_HE_NORMAL: {
            double fan_out = (double)t->dims[0] * (t->ndim == 4 ? (double)(t->dims[2] * t->dims[3]) : 1.0);
            double sd = sqrt(2.0 / fan_out);
            for (size_t j = 0; j < n; j++) t->data[j] = (float)(sd * rn_rng_normal(&r));
            break;
        }
        case RN_INIT_UNIFORM_FAN: {
            double b = 1.0 / sqrt(fan_in(t, g));
            for (size_t j = 0; j < n; j++) t->data[j] = (float)rn_rng_range(&r, -b, b);
            break;
        }
        }
    }
    g->version++;
}

void rn_graph_stats(const rn_graph *g, size_t *trainable, size_t *total, int *tensors, double *flops) {
    size_t tr = 0, tot = 0;
    int nt = 0;
    double f = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM && t->role != RN_STATE) continue;
        nt++;
        tot += rn_tensor_numel(t);
        if (t->role == RN_PARAM && t->trainable) tr += rn_tensor_numel(t);
    }
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        const rn_tensor *o = &g->tensors[op->out];
        if (op->type == RN_OP_CONV) {
            const rn_tensor *w = &g->tensors[op->in[1]];
            f += 2.0 * (double)(o->dims[1] * o->dims[2] * o->dims[3]) * (double)(w->dims[1] * w->dims[2] * w->dims[3]);
        } else if (op->type == RN_OP_GEMM) {
            const rn_tensor *w = &g->tensors[op->in[1]];
            f += 2.0 * (double)w->dims[0] * (double)w->dims[1];
        }
    }
    *trainable = tr;
    *total = tot;
    *tensors = nt;
    *flops = f;
}
