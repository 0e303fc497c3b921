// onnx_import.c — reads ONNX ResNet graphs into the op list; see onnx.h and docs/ONNX.md.
//
// The bytes are untrusted: a bounded wire-format pre-scan (onnx_wire.c) comes before protobuf-c
// unpacks anything, then every name, attribute, shape and data length is checked before use; what
// the graph itself requires (input roles and counts, shapes, attribute values) is the op contract's,
// checked by rn_graph_finalize (src/op_contract.c) as for every other graph source.
// Nodes are mapped one by one in file order (ONNX requires topological order; a node that uses a
// value not yet defined is refused, which also refuses cycles):
//   Conv, BatchNormalization, Relu, Add, MaxPool, GlobalAveragePool, Gemm -> the same op
//   Flatten(axis=1) and Reshape(shape [0,-1] etc.) after GlobalAveragePool -> Flatten
//   Identity -> an alias (of an activation, or a copy of a constant); Constant -> a constant
//   BatchNormalization's training outputs (mean, var, saved statistics) -> unusable values
// Initializers become PARAM tensors (Conv W/B, BN scale/B, Gemm B/C) or STATE tensors (BN mean/var);
// one used by several nodes is copied per use (weights are never tied).
#define _POSIX_C_SOURCE 200809L
#include "export/onnx.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export/onnx.pb-c.h"
#include "export/onnx_wire.h"

#define MAX_NODES 20000         // a ResNet-152 has about 500; the graph's checks are quadratic
#define MAX_INITIALIZERS 20000
#define MAX_ELEMS ((int64_t)1 << 31)  // per tensor
#define DEFAULT_SIDE 224        // nominal H, W when the file leaves them symbolic

// ---- names -> values ----------------------------------------------------------------------------

// Open-addressing string map; keys are borrowed (they live in the unpacked model or the graph).
typedef struct smap {
    const char **keys;
    int *vals;
    size_t cap, n;
} smap;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int smap_get(const smap *m, const char *k) {
    if (!m->cap) return -1;
    for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (strcmp(m->keys[i], k) == 0) return m->vals[i];
    }
}

static void smap_put(smap *m, const char *k, int v) {
    if (2 * (m->n + 1) > m->cap) {
        smap old = *m;
        m->cap = old.cap ? 2 * old.cap : 256;
        m->keys = rn_calloc(m->cap, sizeof *m->keys);
        m->vals = rn_calloc(m->cap, sizeof *m->vals);
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i]) smap_put(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k) != 0) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) m->n++;
    m->keys[i] = k;
    m->vals[i] = v;
}

static void smap_free(smap *m) {
    free(m->keys);
    free(m->vals);
}

typedef enum vkind {
    V_DATA,   // the graph input
    V_ACT,    // an activation produced by an imported op
    V_CONST,  // an initializer or a Constant's value, not yet turned into a tensor
    V_DEAD,   // an output we do not compute (BatchNormalization's training statistics, MaxPool indices)
} vkind;

typedef struct value {
    const char *name;
    vkind kind;
    int tensor;                     // V_DATA, V_ACT: graph tensor index
    const Onnx__TensorProto *init;  // V_CONST
    int uses;                       // V_CONST: tensors made from it so far
    const char *node;               // V_DEAD: the node that produced it
} value;

// A graph tensor whose floats come from an initializer once the arena exists.
typedef struct pending {
    int tensor;
    const Onnx__TensorProto *init;
    int transpose;  // Gemm transB=0: the file holds (I, O), the graph wants (O, I)
} pending;

typedef struct reshape_check {
    int op;
    int64_t cols;  // the shape's second entry when it is explicit, else -1
} reshape_check;

typedef struct imp {
    const char *what;
    rn_graph *g;
    int64_t opset;
    smap names;    // ONNX value name -> index into vals
    smap tnames;   // graph tensor name -> 1 (names we made up must not clash)
    value *vals;
    int n_vals, cap_vals;
    pending *pend;
    int n_pend, cap_pend;
    reshape_check *rs;
    int n_rs;
    char label[256];  // "node 'NAME' (Conv)" for messages
    char opname[64];  // fallback op name for unnamed nodes
} imp;

static int add_value(imp *im, const char *name, vkind kind) {
    if (im->n_vals == im->cap_vals) {
        im->cap_vals = im->cap_vals ? 2 * im->cap_vals : 256;
        im->vals = rn_realloc(im->vals, (size_t)im->cap_vals * sizeof *im->vals);
    }
    value *v = &im->vals[im->n_vals];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->kind = kind;
    v->tensor = -1;
    smap_put(&im->names, name, im->n_vals);
    return im->n_vals++;
}

static void add_pending(imp *im, int tensor, const Onnx__TensorProto *init, int transpose) {
    if (im->n_pend == im->cap_pend) {
        im->cap_pend = im->cap_pend ? 2 * im->cap_pend : 128;
        im->pend = rn_realloc(im->pend, (size_t)im->cap_pend * sizeof *im->pend);
    }
    im->pend[im->n_pend++] = (pending){tensor, init, transpose};
}

static int new_tensor(imp *im, const char *name, rn_role role, int ndim, const int64_t *dims) {
    int t = rn_graph_tensor(im->g, name, role, ndim, dims);
    smap_put(&im->tnames, im->g->tensors[t].name, 1);
    return t;
}

static const char *nz(const char *s) { return s ? s : ""; }

// ---- tensors ------------------------------------------------------------------------------------

static const char *dtype_name(int32_t t) {
    static const char *const names[] = {"UNDEFINED", "FLOAT", "UINT8",  "INT8",   "UINT16",    "INT16",
                                        "INT32",     "INT64", "STRING", "BOOL",   "FLOAT16",   "DOUBLE",
                                        "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
    return t >= 0 && t < (int32_t)(sizeof names / sizeof *names) ? names[t] : "unknown";
}

// Checks an initializer's type, rank, dims and that all its data is present; *numel out.
static int check_tensor(imp *im, const char *name, const Onnx__TensorProto *t, int32_t want, int max_ndim,
                        size_t *numel, rn_err *err) {
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return rn_fail(err, "%s: %s: tensor '%s' keeps its data in an external file, which is not supported",
                       im->what, im->label, name);
    if (t->segment) return rn_fail(err, "%s: %s: tensor '%s' is segmented, which is not supported", im->what, im->label, name);
    int32_t dt = t->has_data_type ? t->data_type : 0;
    if (dt != want)
        return rn_fail(err, "%s: %s: tensor '%s' has data type %s, expected %s", im->what, im->label, name,
                       dtype_name(dt), dtype_name(want));
    if (t->n_dims > (size_t)max_ndim)
        return rn_fail(err, "%s: %s: tensor '%s' has %zu dimensions, at most %d expected", im->what, im->label, name,
                       t->n_dims, max_ndim);
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 1 || t->dims[i] > MAX_ELEMS || n > MAX_ELEMS / t->dims[i])
            return rn_fail(err, "%s: %s: tensor '%s' has an empty, negative or oversized dimension (%lld)", im->what,
                           im->label, name, (long long)t->dims[i]);
        n *= t->dims[i];
    }
    size_t esz = want == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? 8 : 4;
    size_t have;
    if (t->has_raw_data && t->raw_data.len > 0) {
        size_t typed = want == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? t->n_int64_data : t->n_float_data;
        if (typed)
            return rn_fail(err, "%s: %s: tensor '%s' holds both raw_data and typed data", im->what, im->label, name);
        if (t->raw_data.len % esz)
            return rn_fail(err, "%s: %s: tensor '%s' has %zu bytes of raw_data, not a multiple of %zu", im->what,
                           im->label, name, t->raw_data.len, esz);
        have = t->raw_data.len / esz;
    } else {
        have = want == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? t->n_int64_data : t->n_float_data;
    }
    if (have != (size_t)n)
        return rn_fail(err, "%s: %s: tensor '%s' holds %zu values but its dims say %lld", im->what, im->label, name,
                       have, (long long)n);
    *numel = (size_t)n;
    return 0;
}

static void read_floats(const Onnx__TensorProto *t, float *dst, size_t n) {
    if (t->has_raw_data && t->raw_data.len > 0) rn_le_load_f32(dst, t->raw_data.data, n);
    else memcpy(dst, t->float_data, n * sizeof(float));
}

static void read_int64s(const Onnx__TensorProto *t, int64_t *dst, size_t n) {
    if (t->has_raw_data && t->raw_data.len > 0) rn_le_load_i64(dst, t->raw_data.data, n);
    else memcpy(dst, t->int64_data, n * sizeof(int64_t));
}

// ---- attributes ---------------------------------------------------------------------------------

static const Onnx__AttributeProto *find_attr(const Onnx__NodeProto *nd, const char *name) {
    for (size_t i = 0; i < nd->n_attribute; i++)
        if (nd->attribute[i] && nd->attribute[i]->name && strcmp(nd->attribute[i]->name, name) == 0)
            return nd->attribute[i];
    return NULL;
}

// Every attribute must be one the op's schema knows, and appear once.
static int check_attr_names(imp *im, const Onnx__NodeProto *nd, const char *const *allowed, rn_err *err) {
    for (size_t i = 0; i < nd->n_attribute; i++) {
        const Onnx__AttributeProto *a = nd->attribute[i];
        const char *n = a ? nz(a->name) : "";
        int ok = 0;
        for (int j = 0; allowed[j]; j++) ok |= strcmp(allowed[j], n) == 0;
        if (!ok) return rn_fail(err, "%s: %s: attribute '%s' is not supported", im->what, im->label, n);
        for (size_t j = 0; j < i; j++)
            if (strcmp(nz(nd->attribute[j]->name), n) == 0)
                return rn_fail(err, "%s: %s: attribute '%s' appears twice", im->what, im->label, n);
    }
    return 0;
}

static int attr_type_ok(const Onnx__AttributeProto *a, Onnx__AttributeProto__AttributeType want, int present) {
    return a->has_type ? a->type == want : present;
}

static int attr_int(imp *im, const Onnx__NodeProto *nd, const char *name, int64_t def, int64_t *out, rn_err *err) {
    const Onnx__AttributeProto *a = find_attr(nd, name);
    *out = def;
    if (!a) return 0;
    if (!attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a->has_i))
        return rn_fail(err, "%s: %s: attribute '%s' must be an int", im->what, im->label, name);
    *out = a->i;
    return 0;
}

static int attr_float(imp *im, const Onnx__NodeProto *nd, const char *name, float def, float *out, rn_err *err) {
    const Onnx__AttributeProto *a = find_attr(nd, name);
    *out = def;
    if (!a) return 0;
    if (!attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, a->has_f))
        return rn_fail(err, "%s: %s: attribute '%s' must be a float", im->what, im->label, name);
    if (!isfinite(a->f)) return rn_fail(err, "%s: %s: attribute '%s' is not finite", im->what, im->label, name);
    *out = a->f;
    return 0;
}

// An INTS attribute of exactly `n` entries, each in [lo, hi]; absent leaves out[] alone (0 returned,
// *found = 0).
static int attr_ints(imp *im, const Onnx__NodeProto *nd, const char *name, size_t n, int64_t lo, int64_t hi,
                     int *out, int *found, rn_err *err) {
    const Onnx__AttributeProto *a = find_attr(nd, name);
    *found = 0;
    if (!a) return 0;
    if (!attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, a->n_ints > 0))
        return rn_fail(err, "%s: %s: attribute '%s' must be a list of ints", im->what, im->label, name);
    if (a->n_ints != n)
        return rn_fail(err, "%s: %s: attribute '%s' has %zu entries, expected %zu (2-D only)", im->what, im->label,
                       name, a->n_ints, n);
    for (size_t i = 0; i < n; i++) {
        if (a->ints[i] < lo || a->ints[i] > hi)
            return rn_fail(err, "%s: %s: attribute '%s' entry %lld is outside [%lld, %lld]", im->what, im->label,
                           name, (long long)a->ints[i], (long long)lo, (long long)hi);
        out[i] = (int)a->ints[i];
    }
    *found = 1;
    return 0;
}

// auto_pad must be absent, NOTSET or VALID (no padding); *valid says which.
static int attr_auto_pad(imp *im, const Onnx__NodeProto *nd, int *valid, rn_err *err) {
    const Onnx__AttributeProto *a = find_attr(nd, "auto_pad");
    *valid = 0;
    if (!a) return 0;
    if (!attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, a->has_s))
        return rn_fail(err, "%s: %s: attribute 'auto_pad' must be a string", im->what, im->label);
    size_t n = a->s.len;
    const char *s = (const char *)a->s.data;
    if (n == 6 && memcmp(s, "NOTSET", 6) == 0) return 0;
    if (n == 5 && memcmp(s, "VALID", 5) == 0) {
        *valid = 1;
        return 0;
    }
    return rn_fail(err, "%s: %s: auto_pad=%.*s is not supported (give explicit pads)", im->what, im->label,
                   (int)(n > 32 ? 32 : n), n ? s : "");
}

// ---- inputs -------------------------------------------------------------------------------------

static int n_inputs(const Onnx__NodeProto *nd) {
    size_t n = nd->n_input;
    while (n > 0 && (!nd->input[n - 1] || !nd->input[n - 1][0])) n--;  // trailing "" = omitted optional input
    return (int)n;
}

static int lookup(imp *im, const Onnx__NodeProto *nd, int i, value **out, rn_err *err) {
    const char *name = nd->input[i];
    if (!name || !name[0])
        return rn_fail(err, "%s: %s: input %d is empty (a required input is missing)", im->what, im->label, i);
    int v = smap_get(&im->names, name);
    if (v < 0)
        return rn_fail(err, "%s: %s: input '%s' is not defined before this node (unknown name, or nodes not in "
                            "topological order)", im->what, im->label, name);
    *out = &im->vals[v];
    return 0;
}

static int act_input(imp *im, const Onnx__NodeProto *nd, int i, int *tensor, rn_err *err) {
    value *v = NULL;
    if (lookup(im, nd, i, &v, err)) return -1;
    if (v->kind == V_DEAD)
        return rn_fail(err, "%s: %s: input '%s' is an output of '%s' that is not supported (training statistics "
                            "or indices)", im->what, im->label, v->name, v->node);
    if (v->kind == V_CONST)
        return rn_fail(err, "%s: %s: input %d '%s' is a constant where an activation is expected", im->what,
                       im->label, i, v->name);
    *tensor = v->tensor;
    return 0;
}

// Makes a graph tensor from constant input i. ndim_want: required rank (-1: 1 or, for Gemm's C,
// 2-D [1, O] flattened to [O]).
static int param_input(imp *im, const Onnx__NodeProto *nd, int i, rn_role role, rn_init init, int ndim_want,
                       int *tensor, rn_err *err) {
    value *v = NULL;
    if (lookup(im, nd, i, &v, err)) return -1;
    if (v->kind != V_CONST)
        return rn_fail(err, "%s: %s: input %d '%s' must be a constant (an initializer); computed weights are not "
                            "supported", im->what, im->label, i, v->name);
    size_t numel;
    if (check_tensor(im, v->name, v->init, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, RN_MAX_DIMS, &numel, err)) return -1;
    int64_t dims[RN_MAX_DIMS];
    int nd_ = (int)v->init->n_dims;
    for (int k = 0; k < nd_; k++) dims[k] = v->init->dims[k];
    if (ndim_want == -1) {  // a vector; [1, O] is accepted as [O]
        if (nd_ == 2 && dims[0] == 1) {
            dims[0] = dims[1];
            nd_ = 1;
        }
        ndim_want = 1;
    }
    if (nd_ != ndim_want)
        return rn_fail(err, "%s: %s: input %d '%s' has %d dimensions, expected %d", im->what, im->label, i, v->name,
                       nd_, ndim_want);
    // One tensor per use: the first takes the value's name, copies get a suffix.
    char name[512];
    const char *nm = v->name;
    if (v->uses > 0 || smap_get(&im->tnames, v->name) >= 0) {
        for (int k = v->uses > 0 ? v->uses : 1;; k++) {
            snprintf(name, sizeof name, "%.480s_copy%d", v->name, k);
            if (smap_get(&im->tnames, name) < 0 && smap_get(&im->names, name) < 0) break;
        }
        nm = name;
    }
    v->uses++;
    int t = new_tensor(im, nm, role, nd_, dims);
    im->g->tensors[t].init = init;
    add_pending(im, t, v->init, 0);
    *tensor = t;
    return 0;
}

// Defines output 0 as the activation `tensor` and the rest as unusable values.
static int define_outputs(imp *im, const Onnx__NodeProto *nd, size_t max_out, rn_err *err) {
    if (nd->n_output < 1 || !nd->output[0] || !nd->output[0][0])
        return rn_fail(err, "%s: %s: has no output", im->what, im->label);
    size_t n = nd->n_output;
    while (n > 1 && (!nd->output[n - 1] || !nd->output[n - 1][0])) n--;  // trailing "" = omitted optional output
    if (n > max_out)
        return rn_fail(err, "%s: %s: has %zu outputs, at most %zu supported", im->what, im->label, n, max_out);
    for (size_t i = 0; i < nd->n_output; i++) {
        const char *o = nd->output[i];
        if (!o || !o[0]) continue;
        if (smap_get(&im->names, o) >= 0)
            return rn_fail(err, "%s: %s: output '%s' is defined twice", im->what, im->label, o);
        for (size_t j = 0; j < i; j++)
            if (nd->output[j] && strcmp(nd->output[j], o) == 0)
                return rn_fail(err, "%s: %s: output '%s' is listed twice", im->what, im->label, o);
    }
    return 0;
}

static void mark_dead_outputs(imp *im, const Onnx__NodeProto *nd) {
    for (size_t i = 1; i < nd->n_output; i++)
        if (nd->output[i] && nd->output[i][0]) {
            int v = add_value(im, nd->output[i], V_DEAD);
            im->vals[v].node = nd->name && nd->name[0] ? nd->name : nd->output[0];
        }
}

// Adds the op with output 0 of the node as its activation.
static int add_op(imp *im, const Onnx__NodeProto *nd, rn_op_type type, const int *in, int n_in) {
    const char *name = nd->name && nd->name[0] ? nd->name : im->opname;
    int o = rn_graph_op(im->g, type, name, in, n_in, nd->output[0]);
    int out = im->g->ops[o].out;
    smap_put(&im->tnames, im->g->tensors[out].name, 1);
    int v = add_value(im, nd->output[0], V_ACT);
    im->vals[v].tensor = out;
    mark_dead_outputs(im, nd);
    return o;
}

static int producer_type(imp *im, int tensor) {
    int p = im->g->tensors[tensor].producer;
    return p >= 0 ? (int)im->g->ops[p].type : -1;
}

// ---- the ops ------------------------------------------------------------------------------------

static int want_inputs(imp *im, const Onnx__NodeProto *nd, int lo, int hi, rn_err *err) {
    int n = n_inputs(nd);
    if (n < lo || n > hi) {
        if (lo == hi) return rn_fail(err, "%s: %s: has %d inputs, expected %d", im->what, im->label, n, lo);
        return rn_fail(err, "%s: %s: has %d inputs, expected %d to %d", im->what, im->label, n, lo, hi);
    }
    return 0;
}

// The input count of the op's contract (ONNX's own range for every op but Gemm).
static int contract_inputs(imp *im, const Onnx__NodeProto *nd, rn_op_type type, rn_err *err) {
    const rn_op_contract *c = rn_op_contract_of((int)type);
    return want_inputs(im, nd, c->min_in, c->max_in, err);
}

static int map_conv(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL};
    int in[3], n = n_inputs(nd), valid, found;
    if (contract_inputs(im, nd, RN_OP_CONV, err) || check_attr_names(im, nd, allowed, err) ||
        define_outputs(im, nd, 1, err) || attr_auto_pad(im, nd, &valid, err))
        return -1;
    int64_t group;
    if (attr_int(im, nd, "group", 1, &group, err)) return -1;
    if (group < 1 || group > RN_MAX_SIDE)  // the graph's contract refuses any group but 1
        return rn_fail(err, "%s: %s: group=%lld is not supported", im->what, im->label, (long long)group);
    int dil[2] = {1, 1}, ks[2] = {0, 0}, st[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, has_ks;
    if (attr_ints(im, nd, "dilations", 2, 1, 1, dil, &found, err) ||
        attr_ints(im, nd, "kernel_shape", 2, 1, RN_MAX_SIDE, ks, &has_ks, err) ||
        attr_ints(im, nd, "strides", 2, 1, RN_MAX_SIDE, st, &found, err) ||
        attr_ints(im, nd, "pads", 4, 0, RN_MAX_SIDE, pads, &found, err))
        return -1;
    if (valid && found && (pads[0] || pads[1] || pads[2] || pads[3]))
        return rn_fail(err, "%s: %s: auto_pad=VALID with non-zero pads", im->what, im->label);
    if (act_input(im, nd, 0, &in[0], err) ||
        param_input(im, nd, 1, RN_PARAM, RN_INIT_HE_NORMAL, 4, &in[1], err) ||
        (n == 3 && param_input(im, nd, 2, RN_PARAM, RN_INIT_ZERO, 1, &in[2], err)))
        return -1;
    const rn_tensor *w = &im->g->tensors[in[1]];
    if (w->dims[2] > RN_MAX_SIDE || w->dims[3] > RN_MAX_SIDE)
        return rn_fail(err, "%s: %s: kernel %lldx%lld is too large", im->what, im->label, (long long)w->dims[2],
                       (long long)w->dims[3]);
    if (has_ks && (ks[0] != w->dims[2] || ks[1] != w->dims[3]))
        return rn_fail(err, "%s: %s: kernel_shape %dx%d differs from the weight's %lldx%lld", im->what, im->label,
                       ks[0], ks[1], (long long)w->dims[2], (long long)w->dims[3]);
    int o = add_op(im, nd, RN_OP_CONV, in, n);
    im->g->ops[o].a.conv = (rn_conv_attr){(int)w->dims[2], (int)w->dims[3], st[0], st[1],
                                          pads[0], pads[1], pads[2], pads[3], (int)group};
    return 0;
}

static int map_batchnorm(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed7[] = {"epsilon", "momentum", "spatial", NULL};
    static const char *const allowed9[] = {"epsilon", "momentum", NULL};
    static const char *const allowed14[] = {"epsilon", "momentum", "training_mode", NULL};
    const char *const *allowed = im->opset < 9 ? allowed7 : im->opset < 14 ? allowed9 : allowed14;
    int in[5];
    // Outputs beyond Y are the training statistics (5 up to opset 13, 3 from 14): not computed.
    if (contract_inputs(im, nd, RN_OP_BATCHNORM, err) || check_attr_names(im, nd, allowed, err) ||
        define_outputs(im, nd, 5, err))
        return -1;
    float eps, mom;
    int64_t spatial, training;
    if (attr_float(im, nd, "epsilon", 1e-5f, &eps, err) || attr_float(im, nd, "momentum", 0.9f, &mom, err) ||
        attr_int(im, nd, "spatial", 1, &spatial, err) || attr_int(im, nd, "training_mode", 0, &training, err))
        return -1;
    // spatial=0 with per-channel (1-D) parameters computes the same thing; the 1-D check below
    // refuses genuinely per-activation parameters.
    if (spatial != 0 && spatial != 1) return rn_fail(err, "%s: %s: spatial=%lld", im->what, im->label, (long long)spatial);
    if (act_input(im, nd, 0, &in[0], err) ||
        param_input(im, nd, 1, RN_PARAM, RN_INIT_ONE, 1, &in[1], err) ||
        param_input(im, nd, 2, RN_PARAM, RN_INIT_ZERO, 1, &in[2], err) ||
        param_input(im, nd, 3, RN_STATE, RN_INIT_ZERO, 1, &in[3], err) ||
        param_input(im, nd, 4, RN_STATE, RN_INIT_ONE, 1, &in[4], err))
        return -1;
    // A BatchNormalization on the raw input (v2's data_bn) keeps scale 1 and shift 0, as the builder.
    if (in[0] == im->g->input) im->g->tensors[in[1]].trainable = im->g->tensors[in[2]].trainable = 0;
    int o = add_op(im, nd, RN_OP_BATCHNORM, in, 5);
    im->g->ops[o].a.bn = (rn_bn_attr){eps, mom};
    return 0;
}

static int map_simple(imp *im, const Onnx__NodeProto *nd, rn_op_type type, rn_err *err) {
    static const char *const none[] = {NULL};
    int in[2], n_in = rn_op_contract_of((int)type)->max_in;
    if (contract_inputs(im, nd, type, err) || check_attr_names(im, nd, none, err) || define_outputs(im, nd, 1, err))
        return -1;
    for (int i = 0; i < n_in; i++)
        if (act_input(im, nd, i, &in[i], err)) return -1;
    add_op(im, nd, type, in, n_in);
    return 0;
}

static int map_maxpool(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                                          "storage_order", "strides", NULL};
    int in, valid, found, has_ks;
    if (contract_inputs(im, nd, RN_OP_MAXPOOL, err) || check_attr_names(im, nd, allowed, err) ||
        define_outputs(im, nd, 2, err) || attr_auto_pad(im, nd, &valid, err))
        return -1;
    int64_t ceil_mode, storage;
    if (attr_int(im, nd, "ceil_mode", 0, &ceil_mode, err) || attr_int(im, nd, "storage_order", 0, &storage, err))
        return -1;
    if (ceil_mode != 0) return rn_fail(err, "%s: %s: ceil_mode=%lld is not supported", im->what, im->label, (long long)ceil_mode);
    int dil[2], ks[2], st[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    if (attr_ints(im, nd, "dilations", 2, 1, 1, dil, &found, err) ||
        attr_ints(im, nd, "kernel_shape", 2, 1, RN_MAX_SIDE, ks, &has_ks, err) ||
        attr_ints(im, nd, "strides", 2, 1, RN_MAX_SIDE, st, &found, err) ||
        attr_ints(im, nd, "pads", 4, 0, RN_MAX_SIDE, pads, &found, err))
        return -1;
    if (!has_ks) return rn_fail(err, "%s: %s: kernel_shape is required", im->what, im->label);
    if (valid && found && (pads[0] || pads[1] || pads[2] || pads[3]))
        return rn_fail(err, "%s: %s: auto_pad=VALID with non-zero pads", im->what, im->label);
    if (act_input(im, nd, 0, &in, err)) return -1;
    int o = add_op(im, nd, RN_OP_MAXPOOL, &in, 1);
    im->g->ops[o].a.pool = (rn_pool_attr){ks[0], ks[1], st[0], st[1], pads[0], pads[1], pads[2], pads[3]};
    return 0;
}

static int after_gap(imp *im, int in, rn_err *err) {
    if (producer_type(im, in) != RN_OP_GLOBALAVGPOOL)
        return rn_fail(err, "%s: %s: supported only directly after GlobalAveragePool", im->what, im->label);
    return 0;
}

static int map_flatten(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"axis", NULL};
    int in;
    int64_t axis;
    if (contract_inputs(im, nd, RN_OP_FLATTEN, err) || check_attr_names(im, nd, allowed, err) ||
        define_outputs(im, nd, 1, err) || attr_int(im, nd, "axis", 1, &axis, err) || act_input(im, nd, 0, &in, err) || after_gap(im, in, err))
        return -1;
    if (axis != 1 && axis != -3)  // -3 is axis 1 of GlobalAveragePool's 4-D output
        return rn_fail(err, "%s: %s: axis=%lld is not supported (only 1)", im->what, im->label, (long long)axis);
    add_op(im, nd, RN_OP_FLATTEN, &in, 1);
    return 0;
}

// The zoo's v2 files flatten with Reshape(x, [0, -1]); any shape that means "(N, C)" after
// GlobalAveragePool becomes a Flatten.
static int map_reshape(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"allowzero", NULL};
    int in;
    int64_t allowzero;
    if (want_inputs(im, nd, 2, 2, err) || check_attr_names(im, nd, allowed, err) || define_outputs(im, nd, 1, err) ||
        attr_int(im, nd, "allowzero", 0, &allowzero, err) || act_input(im, nd, 0, &in, err) || after_gap(im, in, err))
        return -1;
    value *v = NULL;
    size_t n;
    if (lookup(im, nd, 1, &v, err)) return -1;
    if (v->kind != V_CONST)
        return rn_fail(err, "%s: %s: the shape '%s' must be a constant", im->what, im->label, v->name);
    if (check_tensor(im, v->name, v->init, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, &n, err)) return -1;
    int64_t s[2];
    if (n != 2) return rn_fail(err, "%s: %s: the shape '%s' has %zu entries; only (N, C) is supported", im->what, im->label, v->name, n);
    read_int64s(v->init, s, 2);
    int first_ok = s[0] == 0 ? !allowzero : (s[0] == 1 || (s[0] == -1 && s[1] > 0));
    int second_ok = s[1] == -1 ? s[0] != -1 : s[1] > 0;
    if (!first_ok || !second_ok)
        return rn_fail(err, "%s: %s: shape [%lld, %lld] is not a flatten to (N, C)", im->what, im->label,
                       (long long)s[0], (long long)s[1]);
    int o = add_op(im, nd, RN_OP_FLATTEN, &in, 1);
    im->rs = rn_realloc(im->rs, (size_t)(im->n_rs + 1) * sizeof *im->rs);
    im->rs[im->n_rs++] = (reshape_check){o, s[1] > 0 ? s[1] : -1};
    return 0;
}

static int map_gemm(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"alpha", "beta", "transA", "transB", NULL};
    int in[3], n = n_inputs(nd);  // ONNX's C is optional; the graph's is not (a zero bias is made below)
    float alpha, beta;
    int64_t ta, tb;
    if (want_inputs(im, nd, 2, 3, err) || check_attr_names(im, nd, allowed, err) || define_outputs(im, nd, 1, err) ||
        attr_float(im, nd, "alpha", 1.0f, &alpha, err) || attr_float(im, nd, "beta", 1.0f, &beta, err) ||
        attr_int(im, nd, "transA", 0, &ta, err) || attr_int(im, nd, "transB", 0, &tb, err))
        return -1;
    if (alpha != 1.0f || (n == 3 && beta != 1.0f) || ta != 0 || (tb != 0 && tb != 1))
        return rn_fail(err, "%s: %s: only alpha=1, beta=1, transA=0 is supported (got alpha=%g beta=%g transA=%lld "
                            "transB=%lld)", im->what, im->label, (double)alpha, (double)beta, (long long)ta, (long long)tb);
    if (act_input(im, nd, 0, &in[0], err) || param_input(im, nd, 1, RN_PARAM, RN_INIT_UNIFORM_FAN, 2, &in[1], err))
        return -1;
    rn_tensor *w = &im->g->tensors[in[1]];
    if (!tb) {  // stored (I, O): the graph keeps (O, I), transposed when the data is copied
        int64_t t = w->dims[0];
        w->dims[0] = w->dims[1];
        w->dims[1] = t;
        im->pend[im->n_pend - 1].transpose = 1;
    }
    if (n == 3) {
        if (param_input(im, nd, 2, RN_PARAM, RN_INIT_UNIFORM_FAN, -1, &in[2], err)) return -1;
    } else {  // no C: a zero bias, so the op has the form the executors run
        char name[512];
        snprintf(name, sizeof name, "%.480s_bias", nd->output[0]);
        for (int k = 1; smap_get(&im->tnames, name) >= 0 || smap_get(&im->names, name) >= 0; k++)
            snprintf(name, sizeof name, "%.470s_bias%d", nd->output[0], k);
        int64_t d = im->g->tensors[in[1]].dims[0];
        in[2] = new_tensor(im, name, RN_PARAM, 1, &d);
        im->g->tensors[in[2]].init = RN_INIT_UNIFORM_FAN;
    }
    int o = add_op(im, nd, RN_OP_GEMM, in, 3);
    im->g->ops[o].a.gemm = (rn_gemm_attr){1.0f, 1.0f, 0, 1};
    return 0;
}

static int map_identity(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const none[] = {NULL};
    value *src;
    if (want_inputs(im, nd, 1, 1, err) || check_attr_names(im, nd, none, err) || define_outputs(im, nd, 1, err) ||
        lookup(im, nd, 0, &src, err))
        return -1;
    value s = *src;  // add_value may move the table
    int v = add_value(im, nd->output[0], s.kind);
    im->vals[v].tensor = s.tensor;
    im->vals[v].init = s.init;
    im->vals[v].node = s.node;
    return 0;
}

static int map_constant(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"value", NULL};
    if (want_inputs(im, nd, 0, 0, err) || check_attr_names(im, nd, allowed, err) || define_outputs(im, nd, 1, err))
        return -1;
    const Onnx__AttributeProto *a = find_attr(nd, "value");
    if (!a || !a->t || !attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR, 1))
        return rn_fail(err, "%s: %s: only a tensor 'value' is supported", im->what, im->label);
    int v = add_value(im, nd->output[0], V_CONST);
    im->vals[v].init = a->t;
    return 0;
}

static int map_node(imp *im, const Onnx__NodeProto *nd, int k, rn_err *err) {
    const char *type = nz(nd->op_type);
    snprintf(im->opname, sizeof im->opname, "%.40s_%d", type, k);
    if (nd->name && nd->name[0]) snprintf(im->label, sizeof im->label, "node '%.200s' (%.40s)", nd->name, type);
    else snprintf(im->label, sizeof im->label, "node %d (%.40s)", k, type);
    const char *dom = nz(nd->domain);
    if (dom[0] && strcmp(dom, "ai.onnx") != 0)
        return rn_fail(err, "%s: %s: domain '%.100s' is not supported", im->what, im->label, dom);
    if (strcmp(type, "Conv") == 0) return map_conv(im, nd, err);
    if (strcmp(type, "BatchNormalization") == 0) return map_batchnorm(im, nd, err);
    if (strcmp(type, "Relu") == 0) return map_simple(im, nd, RN_OP_RELU, err);
    if (strcmp(type, "Add") == 0) return map_simple(im, nd, RN_OP_ADD, err);
    if (strcmp(type, "MaxPool") == 0) return map_maxpool(im, nd, err);
    if (strcmp(type, "GlobalAveragePool") == 0) return map_simple(im, nd, RN_OP_GLOBALAVGPOOL, err);
    if (strcmp(type, "Flatten") == 0) return map_flatten(im, nd, err);
    if (strcmp(type, "Reshape") == 0) return map_reshape(im, nd, err);
    if (strcmp(type, "Gemm") == 0) return map_gemm(im, nd, err);
    if (strcmp(type, "Identity") == 0) return map_identity(im, nd, err);
    if (strcmp(type, "Constant") == 0) return map_constant(im, nd, err);
    return rn_fail(err, "%s: %s: op type '%.40s' is not supported (a ResNet uses Conv, BatchNormalization, Relu, Add, "
                        "MaxPool, GlobalAveragePool, Flatten/Reshape, Gemm, Identity, Constant)", im->what, im->label, type);
}

// ---- the model ----------------------------------------------------------------------------------

// The one graph input that is not an initializer: (C, H, W) with H, W = 224 where symbolic.
static int graph_input(imp *im, const Onnx__GraphProto *gp, rn_err *err) {
    const Onnx__ValueInfoProto *data = NULL;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *n = nz(vi->name);
        if (!n[0]) return rn_fail(err, "%s: graph input %zu has no name", im->what, i);
        int v = smap_get(&im->names, n);
        if (v >= 0 && im->vals[v].kind == V_CONST) continue;  // an initializer listed as an input (IR 3)
        if (v >= 0) return rn_fail(err, "%s: graph input '%s' is listed twice", im->what, n);
        if (data)
            return rn_fail(err, "%s: graph inputs '%s' and '%s' have no initializer; only one input (the image "
                                "batch) is supported", im->what, nz(data->name), n);
        data = vi;
        add_value(im, n, V_DATA);  // the tensor itself is made below, once the shape is known
    }
    if (!data) return rn_fail(err, "%s: the graph has no input without an initializer (no image input)", im->what);
    const char *n = data->name;
    const Onnx__TypeProto *tp = data->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return rn_fail(err, "%s: graph input '%s' is not a tensor", im->what, n);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return rn_fail(err, "%s: graph input '%s' has element type %s, expected FLOAT", im->what, n,
                       dtype_name(tt->elem_type));
    if (!tt->shape || tt->shape->n_dim != 4)
        return rn_fail(err, "%s: graph input '%s' must be 4-D (N, C, H, W)", im->what, n);
    int64_t d[4] = {1, 0, DEFAULT_SIDE, DEFAULT_SIDE};
    for (int i = 1; i < 4; i++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[i];
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (dim->dim_value < 1 || dim->dim_value > RN_MAX_SIDE)
                return rn_fail(err, "%s: graph input '%s' dimension %d is %lld, outside [1, %d]", im->what, n, i,
                               (long long)dim->dim_value, RN_MAX_SIDE);
            d[i] = dim->dim_value;
        } else if (i == 1) {
            return rn_fail(err, "%s: graph input '%s' must give its channel count", im->what, n);
        }
    }
    int t = new_tensor(im, n, RN_DATA, 4, d);
    im->vals[smap_get(&im->names, n)].tensor = t;
    return 0;
}

static int opset_version(imp *im, const Onnx__ModelProto *m, rn_err *err) {
    im->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = nz(m->opset_import[i]->domain);
        if (d[0] && strcmp(d, "ai.onnx") != 0) continue;
        if (!m->opset_import[i]->has_version) return rn_fail(err, "%s: the default opset import has no version", im->what);
        im->opset = m->opset_import[i]->version;
    }
    if (im->opset < 0) return rn_fail(err, "%s: no opset import for the default ONNX domain", im->what);
    if (im->opset < 7 || im->opset > RN_ONNX_OPSET_MAX)
        return rn_fail(err, "%s: opset %lld is not supported (7 to %d)", im->what, (long long)im->opset,
                       RN_ONNX_OPSET_MAX);
    return 0;
}

static int build(imp *im, const Onnx__ModelProto *m, rn_err *err) {
    if (!m->has_ir_version || m->ir_version < 3 || m->ir_version > 10)
        return rn_fail(err, "%s: IR version %lld is not supported (3 to 10)", im->what,
                       m->has_ir_version ? (long long)m->ir_version : 0LL);
    if (opset_version(im, m, err)) return -1;
    const Onnx__GraphProto *gp = m->graph;
    if (!gp) return rn_fail(err, "%s: the model has no graph", im->what);
    if (gp->n_node > MAX_NODES || gp->n_initializer > MAX_INITIALIZERS)
        return rn_fail(err, "%s: %zu nodes and %zu initializers: far more than any ResNet", im->what, gp->n_node,
                       gp->n_initializer);
    snprintf(im->label, sizeof im->label, "graph");
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const char *n = nz(gp->initializer[i]->name);
        if (!n[0]) return rn_fail(err, "%s: initializer %zu has no name", im->what, i);
        if (smap_get(&im->names, n) >= 0) return rn_fail(err, "%s: initializer '%s' is defined twice", im->what, n);
        int v = add_value(im, n, V_CONST);
        im->vals[v].init = gp->initializer[i];
    }
    if (graph_input(im, gp, err)) return -1;
    for (size_t k = 0; k < gp->n_node; k++)
        if (map_node(im, gp->node[k], (int)k, err)) return -1;
    if (gp->n_output != 1)
        return rn_fail(err, "%s: the graph has %zu outputs; exactly one (the class scores) is supported", im->what,
                       gp->n_output);
    const char *on = nz(gp->output[0]->name);
    int v = smap_get(&im->names, on);
    if (v < 0 || im->vals[v].kind != V_ACT)
        return rn_fail(err, "%s: the graph output '%s' is not computed by any supported node", im->what, on);
    im->g->output = im->vals[v].tensor;

    rn_err e2;
    if (rn_graph_finalize(im->g, &e2)) return rn_fail(err, "%s: %s", im->what, e2.msg);
    for (int i = 0; i < im->n_rs; i++) {
        const rn_op *op = &im->g->ops[im->rs[i].op];
        const rn_tensor *o = &im->g->tensors[op->out];
        if (im->rs[i].cols > 0 && im->rs[i].cols != o->dims[1])
            return rn_fail(err, "%s: node '%s' (Reshape): shape asks for %lld columns, the input has %lld channels",
                           im->what, op->name, (long long)im->rs[i].cols, (long long)o->dims[1]);
    }
    const rn_tensor *out = &im->g->tensors[im->g->output];
    if (out->ndim != 2)
        return rn_fail(err, "%s: the graph output '%s' is %d-D; expected the (N, classes) scores", im->what,
                       out->name, out->ndim);
    for (int i = 0; i < im->n_pend; i++) {
        const pending *p = &im->pend[i];
        rn_tensor *t = &im->g->tensors[p->tensor];
        size_t n = rn_tensor_numel(t);
        if (!p->transpose) {
            read_floats(p->init, t->data, n);
            continue;
        }
        float *tmp = rn_malloc(n * sizeof(float));
        read_floats(p->init, tmp, n);
        size_t O = (size_t)t->dims[0], I = (size_t)t->dims[1];
        for (size_t r = 0; r < I; r++)
            for (size_t c = 0; c < O; c++) t->data[c * I + r] = tmp[r * O + c];
        free(tmp);
    }
    im->g->version++;
    return 0;
}

int rn_onnx_import_buffer(const uint8_t *buf, size_t len, const char *what, rn_graph **out, rn_err *err) {
    *out = NULL;
    if (len == 0) return rn_fail(err, "%s: empty file", what);
    if (len > RN_ONNX_MAX_BYTES) return rn_fail(err, "%s: %zu bytes, over protobuf's 2 GiB limit", what, len);
    rn_err e2;
    if (rn_wire_check(&onnx__model_proto__descriptor, buf, len, &e2))
        return rn_fail(err, "%s: not a valid ONNX protobuf: %s", what, e2.msg);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m) return rn_fail(err, "%s: not a valid ONNX protobuf (protobuf-c cannot decode it)", what);
    imp im;
    memset(&im, 0, sizeof im);
    im.what = what;
    im.g = rn_graph_create();
    int rc = build(&im, m, err);
    smap_free(&im.names);
    smap_free(&im.tnames);
    free(im.vals);
    free(im.pend);
    free(im.rs);
    onnx__model_proto__free_unpacked(m, NULL);
    if (rc) {
        rn_graph_destroy(im.g);
        return -1;
    }
    *out = im.g;
    return 0;
}

int rn_onnx_import(const char *path, rn_graph **out, rn_err *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail(err, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return rn_fail(err, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > RN_ONNX_MAX_BYTES) {
        fclose(f);
        return rn_fail(err, "%s: %lld bytes, over protobuf's 2 GiB limit", path, (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = rn_malloc(n ? n : 1);
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n) {
        free(buf);
        return rn_fail(err, "%s: read error", path);
    }
    int rc = rn_onnx_import_buffer(buf, n, path, out, err);
    free(buf);
    return rc;
}

int rn_onnx_sniff(const uint8_t *buf, size_t len) {
    uint32_t field;
    int wt;
    if (rn_wire_first_tag(buf, len, &field, &wt)) return 0;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(&onnx__model_proto__descriptor, field);
    if (!f) return 0;
    int want = (f->type == PROTOBUF_C_TYPE_INT64) ? 0 : 2;  // ModelProto's fields: int64s or length-delimited
    return wt == want;
}
