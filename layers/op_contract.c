// op_contract.c — the op vocabulary and what each op type accepts, checked in one place.
//
// Every graph source (the ResNet builder, the checkpoint reader, the ONNX importer) ends in
// rn_graph_finalize, which runs rn_graph_check: the table below gives each op type's input count
// and the role of each input slot; rn_op_infer holds the shape and attribute rules. Executors,
// the exporter and the weight transfer then rely on them without checking again: a Conv weight
// has data (a parameter), a BatchNormalization has its five inputs, no op reads a slot it lacks.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/graph.h"

#define ACT RN_SLOT_ACT
#define PAR RN_SLOT_PARAM
#define STA RN_SLOT_STATE

// Input names are ONNX's (opset 7). Gemm's C is optional in ONNX; the graph always has one
// (the importer supplies a zero bias), because the inner product primitive reads it.
static const rn_op_contract contracts[RN_OP_COUNT] = {
    [RN_OP_CONV] = {"Conv", 2, 3, {ACT, PAR, PAR}, {"X", "W", "B"}},
    [RN_OP_BATCHNORM] = {"BatchNormalization", 5, 5, {ACT, PAR, PAR, STA, STA}, {"X", "scale", "B", "mean", "var"}},
    [RN_OP_RELU] = {"Relu", 1, 1, {ACT}, {"X"}},
    [RN_OP_ADD] = {"Add", 2, 2, {ACT, ACT}, {"A", "B"}},
    [RN_OP_MAXPOOL] = {"MaxPool", 1, 1, {ACT}, {"X"}},
    [RN_OP_GLOBALAVGPOOL] = {"GlobalAveragePool", 1, 1, {ACT}, {"X"}},
    [RN_OP_FLATTEN] = {"Flatten", 1, 1, {ACT}, {"input"}},
    [RN_OP_GEMM] = {"Gemm", 3, 3, {ACT, PAR, PAR}, {"A", "B", "C"}},
};

const rn_op_contract *rn_op_contract_of(int type) {
    return type >= 0 && type < RN_OP_COUNT ? &contracts[type] : NULL;
}

const char *rn_op_type_name(rn_op_type t) {
    const rn_op_contract *c = rn_op_contract_of((int)t);
    return c ? c->name : "?";
}

int rn_op_type_from_name(const char *s) {
    for (int i = 0; i < RN_OP_COUNT; i++)
        if (strcmp(contracts[i].name, s) == 0) return i;
    return -1;
}

static const char *role_name(rn_role r) {
    switch (r) {
    case RN_DATA: return "the graph input";
    case RN_ACT: return "an activation";
    case RN_PARAM: return "a parameter";
    case RN_STATE: return "state";
    }
    return "of unknown role";
}

static const char *slot_want(rn_slot_kind k) {
    return k == RN_SLOT_ACT ? "an activation or the graph input" : k == RN_SLOT_PARAM ? "a parameter" : "state";
}

static int slot_accepts(rn_slot_kind k, rn_role r) {
    return k == RN_SLOT_ACT ? (r == RN_ACT || r == RN_DATA) : k == RN_SLOT_PARAM ? r == RN_PARAM : r == RN_STATE;
}

// "op 'NAME' (Type): " then the message: every contract error starts this way.
static int op_fail(rn_err *err, const rn_op *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int op_fail(rn_err *err, const rn_op *op, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rn_fail(err, "op '%.200s' (%s): %s", op->name, rn_op_type_name(op->type), msg);
}

static int count_ok(const rn_op *op, rn_err *err) {
    const rn_op_contract *c = rn_op_contract_of((int)op->type);
    if (!c) return rn_fail(err, "op '%.200s': unknown op type %d", op->name, (int)op->type);
    if (op->n_in < c->min_in || op->n_in > c->max_in) {
        if (c->min_in == c->max_in) return op_fail(err, op, "has %d inputs, expected %d", op->n_in, c->min_in);
        return op_fail(err, op, "has %d inputs, expected %d to %d", op->n_in, c->min_in, c->max_in);
    }
    return 0;
}

// Op k against the table: input count, each input's role and order; first_use[t] records
// (op * RN_MAX_IN + slot) of parameter/state t's one consumer.
static int op_check(const rn_graph *g, int k, int *first_use, rn_err *err) {
    const rn_op *op = &g->ops[k];
    if (count_ok(op, err)) return -1;
    const rn_op_contract *c = rn_op_contract_of((int)op->type);
    for (int i = 0; i < op->n_in; i++) {
        int ti = op->in[i];
        if (ti < 0 || ti >= g->n_tensors) return op_fail(err, op, "input %d (%s) is tensor %d, which does not exist", i, c->slot_name[i], ti);
        const rn_tensor *t = &g->tensors[ti];
        if (!slot_accepts(c->slot[i], t->role))
            return op_fail(err, op, "input %d (%s) '%s' must be %s, is %s", i, c->slot_name[i], t->name,
                           slot_want(c->slot[i]), role_name(t->role));
        if (t->role == RN_ACT && t->producer >= k)
            return op_fail(err, op, "input %d (%s) '%s' is produced later, by op '%s' (ops out of order)", i,
                           c->slot_name[i], t->name, g->ops[t->producer].name);
        if (c->slot[i] == RN_SLOT_ACT) continue;
        // One consumer per parameter: each op keeps its own layouts and copies its weight
        // gradient back, so a tied parameter would silently lose all but one gradient.
        if (first_use[ti] >= 0) {
            const rn_op *o = &g->ops[first_use[ti] / RN_MAX_IN];
            return op_fail(err, op, "input %d (%s) '%s' is already input %d of op '%s'; parameters and state "
                           "are never shared", i, c->slot_name[i], t->name, first_use[ti] % RN_MAX_IN, o->name);
        }
        first_use[ti] = k * RN_MAX_IN + i;
    }
    return 0;
}

// Attributes the executors run: kernels, strides in [1, RN_MAX_SIDE], pads in [0, kernel) so
// every window sees an input pixel; BatchNormalization epsilon > 0, momentum in [0, 1]; Gemm
// as Y = A B^T + C.
static int check_window(const rn_op *op, int kh, int kw, int sh, int sw, const int *pads, rn_err *err) {
    if (kh < 1 || kw < 1 || kh > RN_MAX_SIDE || kw > RN_MAX_SIDE)
        return op_fail(err, op, "kernel %dx%d is outside [1, %d]", kh, kw, RN_MAX_SIDE);
    if (sh < 1 || sw < 1 || sh > RN_MAX_SIDE || sw > RN_MAX_SIDE)
        return op_fail(err, op, "strides %dx%d are outside [1, %d]", sh, sw, RN_MAX_SIDE);
    for (int i = 0; i < 4; i++)
        if (pads[i] < 0 || pads[i] >= (i % 2 ? kw : kh))
            return op_fail(err, op, "pads must be smaller than the kernel and not negative (pads %d,%d,%d,%d, "
                           "kernel %dx%d)", pads[0], pads[1], pads[2], pads[3], kh, kw);
    return 0;
}

static int check_attrs(const rn_op *op, rn_err *err) {
    switch (op->type) {
    case RN_OP_CONV: {
        const rn_conv_attr *a = &op->a.conv;
        int pads[4] = {a->pt, a->pl, a->pb, a->pr};
        if (a->group != 1) return op_fail(err, op, "group=%d is not supported (only 1)", a->group);
        return check_window(op, a->kh, a->kw, a->sh, a->sw, pads, err);
    }
    case RN_OP_MAXPOOL: {
        const rn_pool_attr *a = &op->a.pool;
        int pads[4] = {a->pt, a->pl, a->pb, a->pr};
        return check_window(op, a->kh, a->kw, a->sh, a->sw, pads, err);
    }
    case RN_OP_BATCHNORM: {
        const rn_bn_attr *a = &op->a.bn;
        if (!(a->epsilon > 0) || !isfinite(a->epsilon))
            return op_fail(err, op, "epsilon %g must be positive and finite", (double)a->epsilon);
        if (!(a->momentum >= 0 && a->momentum <= 1))
            return op_fail(err, op, "momentum %g is outside [0, 1]", (double)a->momentum);
        return 0;
    }
    case RN_OP_GEMM: {
        const rn_gemm_attr *a = &op->a.gemm;
        if (a->alpha != 1.0f || a->beta != 1.0f || a->trans_a != 0 || a->trans_b != 1)
            return op_fail(err, op, "only alpha=1, beta=1, transA=0, transB=1 is supported (got alpha=%g beta=%g "
                           "transA=%d transB=%d)", (double)a->alpha, (double)a->beta, a->trans_a, a->trans_b);
        return 0;
    }
    default: return 0;
    }
}

// Output length of a window sweep; 0 when the window does not fit (C division truncates toward 0).
static int64_t window_out(int64_t in, int k, int s, int p0, int p1) {
    return in + p0 + p1 < k ? 0 : (in + p0 + p1 - k) / s + 1;
}

// Tensor name of input i for messages (g may be NULL when a caller checks a lone op).
static const char *in_name(const rn_graph *g, const rn_op *op, int i) {
    return g && op->in[i] >= 0 && op->in[i] < g->n_tensors ? g->tensors[op->in[i]].name : "?";
}

// Input i of the op has rank `nd`, or the message names it.
static int want_rank(const rn_graph *g, const rn_op *op, int i, const int *in_ndim, int nd, rn_err *err) {
    if (in_ndim[i] == nd) return 0;
    return op_fail(err, op, "input %d (%s) '%s' has %d dimensions, expected %d", i,
                   rn_op_contract_of((int)op->type)->slot_name[i], in_name(g, op, i), in_ndim[i], nd);
}

// Input i is the vector [n].
static int want_vector(const rn_graph *g, const rn_op *op, int i, const int64_t in_dims[][RN_MAX_DIMS],
                       const int *in_ndim, int64_t n, const char *why, rn_err *err) {
    if (in_ndim[i] == 1 && in_dims[i][0] == n) return 0;
    return op_fail(err, op, "input %d (%s) '%s' must be a vector of %lld entries (%s)", i,
                   rn_op_contract_of((int)op->type)->slot_name[i], in_name(g, op, i), (long long)n, why);
}

int rn_op_infer(const rn_graph *g, const rn_op *op, const int64_t in_dims[][RN_MAX_DIMS], const int *in_ndim,
                int64_t *o, int *ondim, rn_err *err) {
    if (count_ok(op, err) || check_attrs(op, err)) return -1;  // never read a slot the op lacks
    for (int i = 0; i < op->n_in; i++)
        if (in_ndim[i] < 1 || in_ndim[i] > RN_MAX_DIMS) return want_rank(g, op, i, in_ndim, 1, err);
    const int64_t *x = in_dims[0];
    switch (op->type) {
    case RN_OP_CONV: {
        const rn_conv_attr *a = &op->a.conv;
        const int64_t *w = in_dims[1];
        if (want_rank(g, op, 0, in_ndim, 4, err) || want_rank(g, op, 1, in_ndim, 4, err)) return -1;
        if (w[1] * a->group != x[1])
            return op_fail(err, op, "weight '%s' has %lld input channels, input '%s' has %lld (group %d)",
                           in_name(g, op, 1), (long long)w[1], in_name(g, op, 0),
                           (long long)x[1], a->group);
        if (w[2] != a->kh || w[3] != a->kw)
            return op_fail(err, op, "weight kernel %lldx%lld differs from kernel_shape %dx%d", (long long)w[2],
                           (long long)w[3], a->kh, a->kw);
        if (op->n_in > 2 && want_vector(g, op, 2, in_dims, in_ndim, w[0], "one per output channel", err)) return -1;
        *ondim = 4;
        o[0] = x[0];
        o[1] = w[0];
        o[2] = window_out(x[2], a->kh, a->sh, a->pt, a->pb);
        o[3] = window_out(x[3], a->kw, a->sw, a->pl, a->pr);
        return 0;
    }
    case RN_OP_BATCHNORM:
        if (want_rank(g, op, 0, in_ndim, 4, err)) return -1;
        for (int i = 1; i < 5; i++)
            if (want_vector(g, op, i, in_dims, in_ndim, x[1], "one per channel of X", err)) return -1;
        *ondim = 4;
        memcpy(o, x, 4 * sizeof *o);
        return 0;
    case RN_OP_RELU:
        *ondim = in_ndim[0];
        memcpy(o, x, (size_t)in_ndim[0] * sizeof *o);
        return 0;
    case RN_OP_ADD:
        if (in_ndim[0] != in_ndim[1] || memcmp(x, in_dims[1], (size_t)in_ndim[0] * sizeof *x) != 0)
            return op_fail(err, op, "input shapes differ (no broadcasting): '%s' and '%s'", in_name(g, op, 0),
                           in_name(g, op, 1));
        *ondim = in_ndim[0];
        memcpy(o, x, (size_t)in_ndim[0] * sizeof *o);
        return 0;
    case RN_OP_MAXPOOL: {
        const rn_pool_attr *a = &op->a.pool;
        if (want_rank(g, op, 0, in_ndim, 4, err)) return -1;
        *ondim = 4;
        o[0] = x[0];
        o[1] = x[1];
        o[2] = window_out(x[2], a->kh, a->sh, a->pt, a->pb);
        o[3] = window_out(x[3], a->kw, a->sw, a->pl, a->pr);
        return 0;
    }
    case RN_OP_GLOBALAVGPOOL:
        if (want_rank(g, op, 0, in_ndim, 4, err)) return -1;
        *ondim = 4;
        o[0] = x[0];
        o[1] = x[1];
        o[2] = o[3] = 1;
        return 0;
    case RN_OP_FLATTEN:
        if (in_ndim[0] < 2) return want_rank(g, op, 0, in_ndim, 4, err);
        *ondim = 2;
        o[0] = x[0];
        o[1] = 1;
        for (int i = 1; i < in_ndim[0]; i++) o[1] *= x[i];  // bounded: every tensor holds at most RN_MAX_NUMEL
        return 0;
    case RN_OP_GEMM:
        if (want_rank(g, op, 0, in_ndim, 2, err) || want_rank(g, op, 1, in_ndim, 2, err)) return -1;
        if (in_dims[1][1] != x[1])
            return op_fail(err, op, "B '%s' has %lld columns, A '%s' has %lld features (transB=1: B is [out, in])",
                           in_name(g, op, 1), (long long)in_dims[1][1], in_name(g, op, 0),
                           (long long)x[1]);
        if (want_vector(g, op, 2, in_dims, in_ndim, in_dims[1][0], "one per row of B", err)) return -1;
        *ondim = 2;
        o[0] = x[0];
        o[1] = in_dims[1][0];
        return 0;
    default: break;
    }
    return op_fail(err, op, "unknown op type");
}

// numel of a shape, or -1 when a dimension is below 1 or the product exceeds RN_MAX_NUMEL.
static int64_t bounded_numel(int ndim, const int64_t *d) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (d[i] < 1 || d[i] > RN_MAX_NUMEL || n > RN_MAX_NUMEL / d[i]) return -1;
        n *= d[i];
    }
    return n;
}

static void shape_str(char *s, size_t cap, int ndim, const int64_t *d) {
    size_t u = 0;
    s[0] = 0;
    for (int i = 0; i < ndim && u < cap; i++) u += (size_t)snprintf(s + u, cap - u, i ? "x%lld" : "%lld", (long long)d[i]);
    if (ndim == 0) snprintf(s, cap, "scalar");
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

// Tensor names are unique (sorting keeps this fast for imported graphs of many thousand tensors).
static int names_unique(const rn_graph *g, rn_err *err) {
    const char **v = rn_malloc((size_t)g->n_tensors * sizeof *v + 1);
    const char ***p = rn_malloc((size_t)g->n_tensors * sizeof *p + 1);
    for (int i = 0; i < g->n_tensors; i++) {
        v[i] = g->tensors[i].name;
        p[i] = &v[i];
    }
    qsort(p, (size_t)g->n_tensors, sizeof *p, cmp_name);
    int rc = 0;
    for (int i = 1; i < g->n_tensors && !rc; i++)
        if (strcmp(*p[i - 1], *p[i]) == 0) rc = rn_fail(err, "tensor name '%s' is used twice", *p[i]);
    free(p);
    free(v);
    return rc;
}

// Tensors on their own: roles, ranks, sizes, producers; exactly one graph input.
static int check_tensors(const rn_graph *g, rn_err *err) {
    int n_data = 0;
    char s[96];
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if ((int)t->role < (int)RN_DATA || (int)t->role > (int)RN_STATE) return rn_fail(err, "tensor '%s': unknown role %d", t->name, (int)t->role);
        if ((int)t->init < (int)RN_INIT_NONE || (int)t->init > (int)RN_INIT_UNIFORM_FAN)
            return rn_fail(err, "tensor '%s': unknown init kind %d", t->name, (int)t->init);
        if (t->trainable && t->role != RN_PARAM) return rn_fail(err, "tensor '%s': only a parameter can be trainable", t->name);
        if (t->ndim < 0 || t->ndim > RN_MAX_DIMS) return rn_fail(err, "tensor '%s': rank %d", t->name, t->ndim);
        if (t->role == RN_ACT) {
            int p = t->producer;
            if (p < 0 || p >= g->n_ops || g->ops[p].out != i)
                return rn_fail(err, "activation '%s' is not the output of any op", t->name);
            continue;
        }
        if (t->producer != -1) return rn_fail(err, "tensor '%s' is %s but has a producer", t->name, role_name(t->role));
        if (t->role == RN_DATA) {
            n_data++;
            if (t->ndim != 4) return rn_fail(err, "the graph input '%s' must be 4-D (N, C, H, W), is %d-D", t->name, t->ndim);
            if (t->dims[2] > RN_MAX_SIDE || t->dims[3] > RN_MAX_SIDE)
                return rn_fail(err, "the graph input '%s' is %lldx%lld, over %d", t->name, (long long)t->dims[2],
                               (long long)t->dims[3], RN_MAX_SIDE);
        }
        if (bounded_numel(t->ndim, t->dims) < 0) {
            shape_str(s, sizeof s, t->ndim, t->dims);
            return rn_fail(err, "tensor '%s': shape %s has an empty dimension or more than %lld elements", t->name, s,
                           (long long)RN_MAX_NUMEL);
        }
    }
    if (n_data != 1) return rn_fail(err, "the graph has %d input tensors (role data), expected exactly 1", n_data);
    if (g->input < 0 || g->input >= g->n_tensors || g->tensors[g->input].role != RN_DATA)
        return rn_fail(err, "the graph's input index does not name its input tensor");
    return 0;
}

int rn_graph_check(rn_graph *g, rn_err *err) {
    if (g->n_ops == 0) return rn_fail(err, "graph has no ops");
    if (names_unique(g, err) || check_tensors(g, err)) return -1;
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        if (op->out < 0 || op->out >= g->n_tensors || g->tensors[op->out].role != RN_ACT ||
            g->tensors[op->out].producer != k)
            return rn_fail(err, "op '%s': its output is not a fresh activation of its own", op->name);
    }
    if (g->output < 0 || g->output >= g->n_tensors || g->tensors[g->output].role != RN_ACT)
        return rn_fail(err, "the graph output is not an activation computed by an op");
    int *first_use = rn_malloc((size_t)g->n_tensors * sizeof *first_use);
    for (int i = 0; i < g->n_tensors; i++) first_use[i] = -1;
    int rc = 0;
    char s[96];
    for (int k = 0; k < g->n_ops && !rc; k++) {
        rn_op *op = &g->ops[k];
        if ((rc = op_check(g, k, first_use, err))) break;
        int64_t dims[RN_MAX_IN][RN_MAX_DIMS];
        int nd[RN_MAX_IN];
        for (int i = 0; i < op->n_in; i++) {
            const rn_tensor *t = &g->tensors[op->in[i]];
            memcpy(dims[i], t->dims, sizeof dims[i]);
            nd[i] = t->ndim;
        }
        rn_tensor *o = &g->tensors[op->out];
        if ((rc = rn_op_infer(g, op, (const int64_t(*)[RN_MAX_DIMS])dims, nd, o->dims, &o->ndim, err))) break;
        if (bounded_numel(o->ndim, o->dims) < 0) {
            shape_str(s, sizeof s, o->ndim, o->dims);
            rc = op_fail(err, op, "empty output %s at the nominal input size, or more than %lld elements", s,
                         (long long)RN_MAX_NUMEL);
        }
    }
    free(first_use);
    return rc;
}
