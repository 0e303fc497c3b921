// onnx_values.c — the ONNX reader's values: protobuf -> names, initializers, attributes and node
// inputs, each bounds-checked before use; see onnx_reader.h.
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx_reader.h"
#include "export/onnx_wire.h"

// ---- names -> values ----------------------------------------------------------------------------

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

int imp_smap_get(const smap *m, const char *k) {
    if (!m->cap) return -1;
    for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (strcmp(m->keys[i], k) == 0) return m->vals[i];
    }
}

void imp_smap_put(smap *m, const char *k, int v) {
    if (2 * (m->n + 1) > m->cap) {
        smap old = *m;
        m->cap = old.cap ? 2 * old.cap : 256;
        m->keys = rn_calloc(m->cap, sizeof *m->keys);
        m->vals = rn_calloc(m->cap, sizeof *m->vals);
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i]) imp_smap_put(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k) != 0) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) m->n++;
    m->keys[i] = k;
    m->vals[i] = v;
}

void imp_smap_free(smap *m) {
    free(m->keys);
    free(m->vals);
}

int imp_add_value(imp *im, const char *name, vkind kind) {
    if (im->n_vals == im->cap_vals) {
        im->cap_vals = im->cap_vals ? 2 * im->cap_vals : 256;
        im->vals = rn_realloc(im->vals, (size_t)im->cap_vals * sizeof *im->vals);
    }
    value *v = &im->vals[im->n_vals];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->kind = kind;
    v->tensor = -1;
    imp_smap_put(&im->names, name, im->n_vals);
    return im->n_vals++;
}

void imp_add_pending(imp *im, int tensor, const Onnx__TensorProto *init, int transpose) {
    if (im->n_pend == im->cap_pend) {
        im->cap_pend = im->cap_pend ? 2 * im->cap_pend : 128;
        im->pend = rn_realloc(im->pend, (size_t)im->cap_pend * sizeof *im->pend);
    }
    im->pend[im->n_pend++] = (pending){tensor, init, transpose};
}

int imp_new_tensor(imp *im, const char *name, rn_role role, int ndim, const int64_t *dims) {
    int t = rn_graph_tensor(im->g, name, role, ndim, dims);
    imp_smap_put(&im->tnames, im->g->tensors[t].name, 1);
    return t;
}

const char *imp_nz(const char *s) { return s ? s : ""; }

// ---- tensors ------------------------------------------------------------------------------------

const char *imp_dtype_name(int32_t t) {
    static const char *const names[] = {"UNDEFINED", "FLOAT", "UINT8",  "INT8",   "UINT16",    "INT16",
                                        "INT32",     "INT64", "STRING", "BOOL",   "FLOAT16",   "DOUBLE",
                                        "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
    return t >= 0 && t < (int32_t)(sizeof names / sizeof *names) ? names[t] : "unknown";
}

// Checks an initializer's type, rank, dims and that all its data is present; *numel out.
int imp_check_tensor(imp *im, const char *name, const Onnx__TensorProto *t, int32_t want, int max_ndim,
                        size_t *numel, rn_err *err) {
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return rn_fail(err, "%s: %s: tensor '%s' keeps its data in an external file, which is not supported",
                       im->what, im->label, name);
    if (t->segment) return rn_fail(err, "%s: %s: tensor '%s' is segmented, which is not supported", im->what, im->label, name);
    int32_t dt = t->has_data_type ? t->data_type : 0;
    if (dt != want)
        return rn_fail(err, "%s: %s: tensor '%s' has data type %s, expected %s", im->what, im->label, name,
                       imp_dtype_name(dt), imp_dtype_name(want));
    if (t->n_dims > (size_t)max_ndim)
        return rn_fail(err, "%s: %s: tensor '%s' has %zu dimensions, at most %d expected", im->what, im->label, name,
                       t->n_dims, max_ndim);
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 1 || t->dims[i] > RN_MAX_NUMEL || n > RN_MAX_NUMEL / t->dims[i])
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

void imp_read_floats(const Onnx__TensorProto *t, float *dst, size_t n) {
    if (t->has_raw_data && t->raw_data.len > 0) rn_le_load_f32(dst, t->raw_data.data, n);
    else memcpy(dst, t->float_data, n * sizeof(float));
}

void imp_read_int64s(const Onnx__TensorProto *t, int64_t *dst, size_t n) {
    if (t->has_raw_data && t->raw_data.len > 0) rn_le_load_i64(dst, t->raw_data.data, n);
    else memcpy(dst, t->int64_data, n * sizeof(int64_t));
}

// ---- attributes ---------------------------------------------------------------------------------

const Onnx__AttributeProto *imp_find_attr(const Onnx__NodeProto *nd, const char *name) {
    for (size_t i = 0; i < nd->n_attribute; i++)
        if (nd->attribute[i] && nd->attribute[i]->name && strcmp(nd->attribute[i]->name, name) == 0)
            return nd->attribute[i];
    return NULL;
}

// Every attribute must be one the op's schema knows, and appear once.
int imp_check_attr_names(imp *im, const Onnx__NodeProto *nd, const char *const *allowed, rn_err *err) {
    for (size_t i = 0; i < nd->n_attribute; i++) {
        const Onnx__AttributeProto *a = nd->attribute[i];
        const char *n = a ? imp_nz(a->name) : "";
        int ok = 0;
        for (int j = 0; allowed[j]; j++) ok |= strcmp(allowed[j], n) == 0;
        if (!ok) return rn_fail(err, "%s: %s: attribute '%s' is not supported", im->what, im->label, n);
        for (size_t j = 0; j < i; j++)
            if (strcmp(imp_nz(nd->attribute[j]->name), n) == 0)
                return rn_fail(err, "%s: %s: attribute '%s' appears twice", im->what, im->label, n);
    }
    return 0;
}

int imp_attr_type_ok(const Onnx__AttributeProto *a, Onnx__AttributeProto__AttributeType want, int present) {
    return a->has_type ? a->type == want : present;
}

int imp_attr_int(imp *im, const Onnx__NodeProto *nd, const char *name, int64_t def, int64_t *out, rn_err *err) {
    const Onnx__AttributeProto *a = imp_find_attr(nd, name);
    *out = def;
    if (!a) return 0;
    if (!imp_attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a->has_i))
        return rn_fail(err, "%s: %s: attribute '%s' must be an int", im->what, im->label, name);
    *out = a->i;
    return 0;
}

int imp_attr_float(imp *im, const Onnx__NodeProto *nd, const char *name, float def, float *out, rn_err *err) {
    const Onnx__AttributeProto *a = imp_find_attr(nd, name);
    *out = def;
    if (!a) return 0;
    if (!imp_attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, a->has_f))
        return rn_fail(err, "%s: %s: attribute '%s' must be a float", im->what, im->label, name);
    if (!isfinite(a->f)) return rn_fail(err, "%s: %s: attribute '%s' is not finite", im->what, im->label, name);
    *out = a->f;
    return 0;
}

// An INTS attribute of exactly `n` entries, each in [lo, hi]; absent leaves out[] alone (0 returned,
// *found = 0).
int imp_attr_ints(imp *im, const Onnx__NodeProto *nd, const char *name, size_t n, int64_t lo, int64_t hi,
                     int *out, int *found, rn_err *err) {
    const Onnx__AttributeProto *a = imp_find_attr(nd, name);
    *found = 0;
    if (!a) return 0;
    if (!imp_attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, a->n_ints > 0))
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
int imp_attr_auto_pad(imp *im, const Onnx__NodeProto *nd, int *valid, rn_err *err) {
    const Onnx__AttributeProto *a = imp_find_attr(nd, "auto_pad");
    *valid = 0;
    if (!a) return 0;
    if (!imp_attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, a->has_s))
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

int imp_n_inputs(const Onnx__NodeProto *nd) {
    size_t n = nd->n_input;
    while (n > 0 && (!nd->input[n - 1] || !nd->input[n - 1][0])) n--;  // trailing "" = omitted optional input
    return (int)n;
}

int imp_lookup(imp *im, const Onnx__NodeProto *nd, int i, value **out, rn_err *err) {
    const char *name = nd->input[i];
    if (!name || !name[0])
        return rn_fail(err, "%s: %s: input %d is empty (a required input is missing)", im->what, im->label, i);
    int v = imp_smap_get(&im->names, name);
    if (v < 0)
        return rn_fail(err, "%s: %s: input '%s' is not defined before this node (unknown name, or nodes not in "
                            "topological order)", im->what, im->label, name);
    *out = &im->vals[v];
    return 0;
}

int imp_act_input(imp *im, const Onnx__NodeProto *nd, int i, int *tensor, rn_err *err) {
    value *v = NULL;
    if (imp_lookup(im, nd, i, &v, err)) return -1;
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
int imp_param_input(imp *im, const Onnx__NodeProto *nd, int i, rn_role role, rn_init init, int ndim_want,
                       int *tensor, rn_err *err) {
    value *v = NULL;
    if (imp_lookup(im, nd, i, &v, err)) return -1;
    if (v->kind != V_CONST)
        return rn_fail(err, "%s: %s: input %d '%s' must be a constant (an initializer); computed weights are not "
                            "supported", im->what, im->label, i, v->name);
    size_t numel;
    if (imp_check_tensor(im, v->name, v->init, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, RN_MAX_DIMS, &numel, err)) return -1;
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
    if (v->uses > 0 || imp_smap_get(&im->tnames, v->name) >= 0) {
        for (int k = v->uses > 0 ? v->uses : 1;; k++) {
            snprintf(name, sizeof name, "%.480s_copy%d", v->name, k);
            if (imp_smap_get(&im->tnames, name) < 0 && imp_smap_get(&im->names, name) < 0) break;
        }
        nm = name;
    }
    v->uses++;
    int t = imp_new_tensor(im, nm, role, nd_, dims);
    im->g->tensors[t].init = init;
    imp_add_pending(im, t, v->init, 0);
    *tensor = t;
    return 0;
}

// Defines output 0 as the activation `tensor` and the rest as unusable values.
int imp_define_outputs(imp *im, const Onnx__NodeProto *nd, size_t max_out, rn_err *err) {
    if (nd->n_output < 1 || !nd->output[0] || !nd->output[0][0])
        return rn_fail(err, "%s: %s: has no output", im->what, im->label);
    size_t n = nd->n_output;
    while (n > 1 && (!nd->output[n - 1] || !nd->output[n - 1][0])) n--;  // trailing "" = omitted optional output
    if (n > max_out)
        return rn_fail(err, "%s: %s: has %zu outputs, at most %zu supported", im->what, im->label, n, max_out);
    for (size_t i = 0; i < nd->n_output; i++) {
        const char *o = nd->output[i];
        if (!o || !o[0]) continue;
        if (imp_smap_get(&im->names, o) >= 0)
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
            int v = imp_add_value(im, nd->output[i], V_DEAD);
            im->vals[v].node = nd->name && nd->name[0] ? nd->name : nd->output[0];
        }
}

// Adds the op with output 0 of the node as its activation.
int imp_add_op(imp *im, const Onnx__NodeProto *nd, rn_op_type type, const int *in, int n_in) {
    const char *name = nd->name && nd->name[0] ? nd->name : im->opname;
    int o = rn_graph_op(im->g, type, name, in, n_in, nd->output[0]);
    int out = im->g->ops[o].out;
    imp_smap_put(&im->tnames, im->g->tensors[out].name, 1);
    int v = imp_add_value(im, nd->output[0], V_ACT);
    im->vals[v].tensor = out;
    mark_dead_outputs(im, nd);
    return o;
}

int imp_want_inputs(imp *im, const Onnx__NodeProto *nd, int lo, int hi, rn_err *err) {
    int n = imp_n_inputs(nd);
    if (n < lo || n > hi) {
        if (lo == hi) return rn_fail(err, "%s: %s: has %d inputs, expected %d", im->what, im->label, n, lo);
        return rn_fail(err, "%s: %s: has %d inputs, expected %d to %d", im->what, im->label, n, lo, hi);
    }
    return 0;
}

// The input count of the op's contract (ONNX's own range for every op but Gemm).
int imp_contract_inputs(imp *im, const Onnx__NodeProto *nd, rn_op_type type, rn_err *err) {
    const rn_op_contract *c = rn_op_contract_of((int)type);
    return imp_want_inputs(im, nd, c->min_in, c->max_in, err);
}
