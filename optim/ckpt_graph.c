// ckpt_graph.c — the GRPH section of a checkpoint; see ckpt_graph.h, layout in docs/TRAINING.md.
#include "optim/ckpt_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORD 64  // longest op type, role or init name accepted from a file

// What the enums of graph.h are called on disk. Version 2 stores these names, so reordering or
// extending an enum never changes what a file means. Op types use the ONNX names of graph.c.
typedef struct word {
    int v;
    const char *name;
} word;
static const word ROLES[] = {{RN_DATA, "data"}, {RN_ACT, "activation"}, {RN_PARAM, "parameter"}, {RN_STATE, "state"}};
static const word INITS[] = {{RN_INIT_NONE, "none"},
                             {RN_INIT_ZERO, "zero"},
                             {RN_INIT_ONE, "one"},
                             {RN_INIT_HE_NORMAL, "he_normal"},
                             {RN_INIT_UNIFORM_FAN, "uniform_fan"}};
#define N_ROLES (int)(sizeof ROLES / sizeof *ROLES)
#define N_INITS (int)(sizeof INITS / sizeof *INITS)

// Version 1 stored rn_op_type, rn_role and rn_init as enum indices. These are the orders those
// enums had when version 1 was written (commit 0bd3cb2), frozen: never edit them, whatever
// graph.h becomes, or old files change meaning.
static const char *const V1_OPS[] = {"Conv",    "BatchNormalization", "Relu",    "Add",
                                     "MaxPool", "GlobalAveragePool",  "Flatten", "Gemm"};
static const char *const V1_ROLES[] = {"data", "activation", "parameter", "state"};
static const char *const V1_INITS[] = {"none", "zero", "one", "he_normal", "uniform_fan"};

static const char *word_name(const word *w, int n, int v) {
    for (int i = 0; i < n; i++)
        if (w[i].v == v) return w[i].name;
    return NULL;
}
static int word_value(const word *w, int n, const char *s) {
    for (int i = 0; i < n; i++)
        if (strcmp(w[i].name, s) == 0) return w[i].v;
    return -1;
}

static int is_declared(const rn_tensor *t) { return t->role != RN_ACT; }

// ---- writing ------------------------------------------------------------------------------------

const char *rn_ckpt_graph_unwritable(const rn_graph *g) {
    int nd = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        nd += is_declared(&g->tensors[i]);
        if (strlen(g->tensors[i].name) > RN_CKPT_MAX_STR) return "a tensor name is longer than 65535 bytes";
    }
    for (int k = 0; k < g->n_ops; k++)
        if (strlen(g->ops[k].name) > RN_CKPT_MAX_STR) return "a node name is longer than 65535 bytes";
    if (nd > RN_CKPT_MAX_TENSORS) return "more declared tensors than a checkpoint holds (16384)";
    if (g->n_ops > RN_CKPT_MAX_OPS) return "more nodes than a checkpoint holds (16384)";
    return NULL;
}

static void put_attrs(rn_bw *b, const rn_op *op) {
    switch (op->type) {
    case RN_OP_CONV: {
        const rn_conv_attr *a = &op->a.conv;
        int v[9] = {a->kh, a->kw, a->sh, a->sw, a->pt, a->pl, a->pb, a->pr, a->group};
        for (int i = 0; i < 9; i++) rn_bw_uint(b, (uint32_t)v[i], 4);
        break;
    }
    case RN_OP_BATCHNORM:
        rn_bw_f32(b, op->a.bn.epsilon);
        rn_bw_f32(b, op->a.bn.momentum);
        break;
    case RN_OP_MAXPOOL: {
        const rn_pool_attr *a = &op->a.pool;
        int v[8] = {a->kh, a->kw, a->sh, a->sw, a->pt, a->pl, a->pb, a->pr};
        for (int i = 0; i < 8; i++) rn_bw_uint(b, (uint32_t)v[i], 4);
        break;
    }
    case RN_OP_GEMM:
        rn_bw_f32(b, op->a.gemm.alpha);
        rn_bw_f32(b, op->a.gemm.beta);
        rn_bw_uint(b, (uint32_t)op->a.gemm.trans_a, 4);
        rn_bw_uint(b, (uint32_t)op->a.gemm.trans_b, 4);
        break;
    default: break;
    }
}

void rn_ckpt_graph_encode(rn_bw *b, const rn_graph *g) {
    uint32_t nd = 0;
    for (int i = 0; i < g->n_tensors; i++) nd += is_declared(&g->tensors[i]);
    rn_bw_uint(b, nd, 4);
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!is_declared(t)) continue;
        const char *role = word_name(ROLES, N_ROLES, (int)t->role), *init = word_name(INITS, N_INITS, (int)t->init);
        RN_CHECK(role && init);  // every enum value has its name in the tables above
        rn_bw_str(b, t->name);
        rn_bw_str(b, role);
        rn_bw_uint(b, t->trainable ? 1 : 0, 1);
        rn_bw_str(b, init);
        rn_bw_uint(b, (uint64_t)t->ndim, 1);
        for (int d = 0; d < t->ndim; d++) rn_bw_uint(b, (uint64_t)t->dims[d], 8);
    }
    rn_bw_uint(b, (uint64_t)g->n_ops, 4);
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        RN_CHECK(op->type >= 0 && op->type < RN_OP_COUNT);
        rn_bw_str(b, rn_op_type_name(op->type));
        rn_bw_str(b, op->name);
        rn_bw_uint(b, (uint64_t)op->n_in, 1);
        for (int i = 0; i < op->n_in; i++) rn_bw_str(b, g->tensors[op->in[i]].name);
        rn_bw_str(b, g->tensors[op->out].name);
        put_attrs(b, op);
    }
    rn_bw_str(b, g->tensors[g->output].name);
}

// ---- reading ------------------------------------------------------------------------------------

typedef struct dec {
    rn_br c;
    uint32_t version;
    rn_err *err;
} dec;

// An enum field: version 1 stored its index, read through the frozen table (an index past it
// becomes "#N", which matches no name), version 2 its name. NULL, or why the field is unreadable.
static const char *get_word(dec *d, const char *const *v1, int n_v1, char word[MAX_WORD + 1]) {
    if (d->version == 1) {
        int i = (int)rn_br_uint(&d->c, 1);
        if (d->c.bad) return "is truncated";
        if (i < n_v1) snprintf(word, MAX_WORD + 1, "%s", v1[i]);
        else snprintf(word, MAX_WORD + 1, "#%d", i);
        return NULL;
    }
    char *s;
    const char *why = rn_br_str(&d->c, MAX_WORD, &s);
    if (why) return why;
    snprintf(word, MAX_WORD + 1, "%s", s);
    free(s);
    return NULL;
}

static int get_declared(dec *d, rn_graph *g, uint32_t i) {
    char *name = NULL, role[MAX_WORD + 1], init[MAX_WORD + 1];
    const char *why = rn_br_str(&d->c, RN_CKPT_MAX_STR, &name);
    if (why) return rn_fail(d->err, "GRPH: the name of declared tensor #%u %s", i, why);
    int rc = -1;
    if ((why = get_word(d, V1_ROLES, 4, role))) {
        rn_fail(d->err, "GRPH: tensor '%s': its role %s", name, why);
        goto done;
    }
    int r = word_value(ROLES, N_ROLES, role);
    int trainable = (int)rn_br_uint(&d->c, 1);
    if ((why = get_word(d, V1_INITS, 5, init))) {
        rn_fail(d->err, "GRPH: tensor '%s': its init kind %s", name, why);
        goto done;
    }
    int in = word_value(INITS, N_INITS, init);
    int ndim = (int)rn_br_uint(&d->c, 1);
    if (d->c.bad) {
        rn_fail(d->err, "GRPH: tensor '%s' is truncated", name);
    } else if (r < 0 || r == RN_ACT) {
        rn_fail(d->err, "GRPH: tensor '%s': role '%s' is not data, parameter or state", name, role);
    } else if (trainable > 1) {
        rn_fail(d->err, "GRPH: tensor '%s': trainable flag %d is neither 0 nor 1", name, trainable);
    } else if (in < 0) {
        rn_fail(d->err, "GRPH: tensor '%s': unknown init kind '%s'", name, init);
    } else if (ndim > RN_MAX_DIMS) {
        rn_fail(d->err, "GRPH: tensor '%s': rank %d exceeds %d", name, ndim, RN_MAX_DIMS);
    } else {
        int64_t dims[RN_MAX_DIMS] = {0};
        uint64_t numel;
        if ((why = rn_br_dims(&d->c, ndim, dims, &numel))) {
            rn_fail(d->err, "GRPH: tensor '%s': its dimensions %s", name, why);
        } else if (rn_graph_find(g, name) >= 0) {
            rn_fail(d->err, "GRPH: tensor '%s' is declared twice", name);
        } else if (r == RN_DATA && g->input >= 0) {
            rn_fail(d->err, "GRPH: tensor '%s': a second graph input (the first is '%s')", name,
                    g->tensors[g->input].name);
        } else {
            int t = rn_graph_tensor(g, name, (rn_role)r, ndim, dims);
            g->tensors[t].trainable = r == RN_PARAM && trainable;
            g->tensors[t].init = (rn_init)in;
            rc = 0;
        }
    }
done:
    free(name);
    return rc;
}

// Kernels and strides in [1, 4096], pads in [0, kernel): shape inference divides by strides.
static int window_ok(const int v[8]) {
    for (int i = 0; i < 4; i++)
        if (v[i] < 1 || v[i] > 4096) return 0;
    for (int i = 4; i < 8; i++)
        if (v[i] < 0 || v[i] >= v[i % 2])  // pt, pb against kh; pl, pr against kw
            return 0;
    return 1;
}

static int get_attrs(dec *d, rn_op *op) {
    int v[9];
    const char *bad = NULL;
    switch (op->type) {
    case RN_OP_CONV:
        for (int i = 0; i < 9; i++) v[i] = (int32_t)rn_br_uint(&d->c, 4);
        op->a.conv = (rn_conv_attr){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
        if (!window_ok(v) || v[8] < 1) bad = "kernel, stride, pads or group out of range";
        break;
    case RN_OP_BATCHNORM:
        op->a.bn.epsilon = rn_br_f32(&d->c);
        op->a.bn.momentum = rn_br_f32(&d->c);
        if (!(op->a.bn.epsilon > 0 && isfinite(op->a.bn.epsilon)) || !(op->a.bn.momentum >= 0 && op->a.bn.momentum <= 1))
            bad = "epsilon must be positive and momentum in [0, 1]";
        break;
    case RN_OP_MAXPOOL:
        for (int i = 0; i < 8; i++) v[i] = (int32_t)rn_br_uint(&d->c, 4);
        op->a.pool = (rn_pool_attr){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
        if (!window_ok(v)) bad = "kernel, stride or pads out of range";
        break;
    case RN_OP_GEMM: {
        rn_gemm_attr *a = &op->a.gemm;
        a->alpha = rn_br_f32(&d->c);
        a->beta = rn_br_f32(&d->c);
        a->trans_a = (int32_t)rn_br_uint(&d->c, 4);
        a->trans_b = (int32_t)rn_br_uint(&d->c, 4);
        if (!isfinite(a->alpha) || !isfinite(a->beta) || (unsigned)a->trans_a > 1 || (unsigned)a->trans_b > 1)
            bad = "alpha and beta must be finite, transA and transB 0 or 1";
        break;
    }
    default: return 0;
    }
    if (d->c.bad) return rn_fail(d->err, "GRPH: node '%s': attributes are truncated", op->name);
    if (bad) return rn_fail(d->err, "GRPH: node '%s': %s", op->name, bad);
    return 0;
}

static int get_op(dec *d, rn_graph *g, uint32_t k) {
    char type[MAX_WORD + 1], *name = NULL, *nm = NULL;
    const char *why = get_word(d, V1_OPS, 8, type);
    if (why) return rn_fail(d->err, "GRPH: the op type of node #%u %s", k, why);
    if ((why = rn_br_str(&d->c, RN_CKPT_MAX_STR, &name)))
        return rn_fail(d->err, "GRPH: the name of node #%u (%s) %s", k, type, why);
    int rc = -1, t = rn_op_type_from_name(type), n_in = (int)rn_br_uint(&d->c, 1), in[RN_MAX_IN];
    if (d->c.bad) {
        rn_fail(d->err, "GRPH: node '%s' is truncated", name);
        goto done;
    }
    if (t < 0) {
        rn_fail(d->err, "GRPH: node '%s': unknown op type '%s'", name, type);
        goto done;
    }
    if (n_in < 1 || n_in > RN_MAX_IN) {
        rn_fail(d->err, "GRPH: node '%s': %d inputs (1 to %d allowed)", name, n_in, RN_MAX_IN);
        goto done;
    }
    for (int i = 0; i <= n_in; i++) {  // the inputs, then (i == n_in) the output
        if ((why = rn_br_str(&d->c, RN_CKPT_MAX_STR, &nm))) {
            rn_fail(d->err, "GRPH: node '%s': the name of its %s %s", name, i < n_in ? "input" : "output", why);
            goto done;
        }
        int j = rn_graph_find(g, nm);
        if (i < n_in && j < 0) {
            rn_fail(d->err, "GRPH: node '%s': input '%s' is neither declared nor produced by an earlier node", name, nm);
            goto done;
        }
        if (i == n_in && j >= 0) {
            rn_fail(d->err, "GRPH: node '%s': output '%s' is already a tensor of the graph", name, nm);
            goto done;
        }
        if (i < n_in) {
            in[i] = j;
            free(nm);
            nm = NULL;
        }
    }
    int o = rn_graph_op(g, (rn_op_type)t, name, in, n_in, nm);
    rc = get_attrs(d, &g->ops[o]);
done:
    free(name);
    free(nm);
    return rc;
}

int rn_ckpt_graph_decode(const unsigned char *p, size_t n, uint32_t version, rn_graph **out, rn_err *err) {
    RN_CHECK(version >= 1 && version <= 3);  // version 3 changed only TENS (entry kinds)
    *out = NULL;
    dec d = {rn_br_make(p, n), version, err};
    rn_graph *g = rn_graph_create();
    char *name = NULL;
    int rc = -1;
    uint32_t nd = (uint32_t)rn_br_uint(&d.c, 4);
    if (d.c.bad || nd > RN_CKPT_MAX_TENSORS) {
        if (d.c.bad) rn_fail(err, "GRPH: truncated before the count of declared tensors");
        else rn_fail(err, "GRPH: %u declared tensors (at most %d)", nd, RN_CKPT_MAX_TENSORS);
        goto done;
    }
    for (uint32_t i = 0; i < nd; i++)
        if (get_declared(&d, g, i)) goto done;
    uint32_t nops = (uint32_t)rn_br_uint(&d.c, 4);
    if (d.c.bad || nops > RN_CKPT_MAX_OPS) {
        if (d.c.bad) rn_fail(err, "GRPH: truncated before the count of nodes");
        else rn_fail(err, "GRPH: %u nodes (at most %d)", nops, RN_CKPT_MAX_OPS);
        goto done;
    }
    for (uint32_t k = 0; k < nops; k++)
        if (get_op(&d, g, k)) goto done;
    const char *why = rn_br_str(&d.c, RN_CKPT_MAX_STR, &name);
    if (why) {
        rn_fail(err, "GRPH: the name of the graph output %s", why);
        goto done;
    }
    g->output = rn_graph_find(g, name);
    if (g->output < 0 || g->tensors[g->output].role != RN_ACT) {
        rn_fail(err, "GRPH: graph output '%s' is not produced by any node", name);
        goto done;
    }
    if (rn_br_left(&d.c) > 0) {
        rn_fail(err, "GRPH: %zu bytes after the graph output's name", rn_br_left(&d.c));
        goto done;
    }
    *out = g;
    g = NULL;
    rc = 0;
done:
    free(name);
    rn_graph_destroy(g);
    return rc;
}
