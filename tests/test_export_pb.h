// test_export_pb.h — editing serialised ONNX models in the tests: unpack with protobuf-c, change
// nodes, attributes and initializers, pack again. Everything added is malloc'ed, so protobuf-c's
// free_unpacked (default allocator: free) releases edited models like untouched ones.
#ifndef RN_TEST_EXPORT_PB_H
#define RN_TEST_EXPORT_PB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx.pb-c.h"

static inline Onnx__ModelProto *pb_unpack(const uint8_t *buf, size_t len) {
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m) {
        fprintf(stderr, "pb_unpack failed\n");
        exit(1);
    }
    return m;
}

static inline void pb_pack(const Onnx__ModelProto *m, uint8_t **buf, size_t *len) {
    *len = onnx__model_proto__get_packed_size(m);
    *buf = malloc(*len ? *len : 1);
    onnx__model_proto__pack(m, *buf);
}

static inline void pb_set_str(char **dst, const char *s) {
    free(*dst);
    *dst = s ? strdup(s) : NULL;
}

// Index of the nth node (0-based) of op type `type`, or -1.
static inline int pb_node(const Onnx__GraphProto *g, const char *type, int nth) {
    for (size_t i = 0; i < g->n_node; i++)
        if (strcmp(g->node[i]->op_type, type) == 0 && nth-- == 0) return (int)i;
    return -1;
}

static inline Onnx__TensorProto *pb_init(const Onnx__GraphProto *g, const char *name) {
    for (size_t i = 0; i < g->n_initializer; i++)
        if (strcmp(g->initializer[i]->name, name) == 0) return g->initializer[i];
    return NULL;
}

static inline Onnx__AttributeProto *pb_attr(const Onnx__NodeProto *n, const char *name) {
    for (size_t i = 0; i < n->n_attribute; i++)
        if (strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
    return NULL;
}

static inline void pb_remove_attr(Onnx__NodeProto *n, const char *name) {
    for (size_t i = 0; i < n->n_attribute; i++)
        if (strcmp(n->attribute[i]->name, name) == 0) {
            onnx__attribute_proto__free_unpacked(n->attribute[i], NULL);
            memmove(&n->attribute[i], &n->attribute[i + 1], (n->n_attribute - i - 1) * sizeof *n->attribute);
            n->n_attribute--;
            return;
        }
}

static inline Onnx__AttributeProto *pb_add_attr(Onnx__NodeProto *n, const char *name, Onnx__AttributeProto__AttributeType t) {
    pb_remove_attr(n, name);
    Onnx__AttributeProto *a = malloc(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = strdup(name);
    a->has_type = 1;
    a->type = t;
    n->attribute = realloc(n->attribute, (n->n_attribute + 1) * sizeof *n->attribute);
    n->attribute[n->n_attribute++] = a;
    return a;
}

static inline void pb_attr_i(Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = pb_add_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

static inline void pb_attr_f(Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = pb_add_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

static inline void pb_attr_s(Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = pb_add_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)strdup(v);
}

static inline void pb_attr_ints(Onnx__NodeProto *n, const char *name, size_t k, const int64_t *v) {
    Onnx__AttributeProto *a = pb_add_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = k;
    a->ints = malloc(k * sizeof *a->ints);
    memcpy(a->ints, v, k * sizeof *v);
}

static inline char **pb_strs(size_t n, const char *const *s) {
    char **r = calloc(n ? n : 1, sizeof *r);
    for (size_t i = 0; i < n; i++) r[i] = strdup(s[i]);
    return r;
}

static inline Onnx__NodeProto *pb_new_node(const char *type, const char *name, size_t n_in, const char *const *in,
                                           size_t n_out, const char *const *out) {
    Onnx__NodeProto *n = malloc(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = strdup(type);
    n->name = name ? strdup(name) : NULL;
    n->n_input = n_in;
    n->input = pb_strs(n_in, in);
    n->n_output = n_out;
    n->output = pb_strs(n_out, out);
    return n;
}

static inline void pb_insert_node(Onnx__GraphProto *g, size_t at, Onnx__NodeProto *n) {
    g->node = realloc(g->node, (g->n_node + 1) * sizeof *g->node);
    memmove(&g->node[at + 1], &g->node[at], (g->n_node - at) * sizeof *g->node);
    g->node[at] = n;
    g->n_node++;
}

static inline void pb_remove_node(Onnx__GraphProto *g, size_t at) {
    onnx__node_proto__free_unpacked(g->node[at], NULL);
    memmove(&g->node[at], &g->node[at + 1], (g->n_node - at - 1) * sizeof *g->node);
    g->n_node--;
}

// Sets node input/output i (growing the list with "" as needed).
static inline void pb_set_io(char ***list, size_t *n, size_t i, const char *s) {
    if (i >= *n) {
        *list = realloc(*list, (i + 1) * sizeof **list);
        for (size_t j = *n; j <= i; j++) (*list)[j] = strdup("");
        *n = i + 1;
    }
    pb_set_str(&(*list)[i], s);
}

// Every use of value `from` as a node input (and graph output) becomes `to`, from node `start` on.
static inline void pb_rewire(Onnx__GraphProto *g, size_t start, const char *from, const char *to) {
    for (size_t k = start; k < g->n_node; k++)
        for (size_t i = 0; i < g->node[k]->n_input; i++)
            if (strcmp(g->node[k]->input[i], from) == 0) pb_set_str(&g->node[k]->input[i], to);
    for (size_t i = 0; i < g->n_output; i++)
        if (strcmp(g->output[i]->name, from) == 0) pb_set_str(&g->output[i]->name, to);
}

static inline Onnx__TensorProto *pb_new_tensor(const char *name, int32_t type, size_t nd, const int64_t *dims) {
    Onnx__TensorProto *t = malloc(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = strdup(name);
    t->has_data_type = 1;
    t->data_type = type;
    t->n_dims = nd;
    t->dims = malloc((nd ? nd : 1) * sizeof *t->dims);
    memcpy(t->dims, dims, nd * sizeof *dims);
    return t;
}

static inline void pb_add_init(Onnx__GraphProto *g, Onnx__TensorProto *t) {
    g->initializer = realloc(g->initializer, (g->n_initializer + 1) * sizeof *g->initializer);
    g->initializer[g->n_initializer++] = t;
}

// An INT64 vector initializer in int64_data.
static inline Onnx__TensorProto *pb_i64_init(const char *name, size_t n, const int64_t *v) {
    int64_t d = (int64_t)n;
    Onnx__TensorProto *t = pb_new_tensor(name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, &d);
    t->n_int64_data = n;
    t->int64_data = malloc(n * sizeof *v);
    memcpy(t->int64_data, v, n * sizeof *v);
    return t;
}

// A FLOAT initializer with values in float_data.
static inline Onnx__TensorProto *pb_f32_init(const char *name, size_t nd, const int64_t *dims, const float *v) {
    Onnx__TensorProto *t = pb_new_tensor(name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, nd, dims);
    size_t n = 1;
    for (size_t i = 0; i < nd; i++) n *= (size_t)dims[i];
    t->n_float_data = n;
    t->float_data = malloc(n * sizeof(float));
    memcpy(t->float_data, v, n * sizeof(float));
    return t;
}

// Drops graph inputs that name an initializer (IR >= 4 files list only the real inputs).
static inline void pb_drop_init_inputs(Onnx__GraphProto *g) {
    size_t w = 0;
    for (size_t i = 0; i < g->n_input; i++) {
        if (pb_init(g, g->input[i]->name)) onnx__value_info_proto__free_unpacked(g->input[i], NULL);
        else g->input[w++] = g->input[i];
    }
    g->n_input = w;
}

// raw_data -> float_data for every FLOAT initializer (as the zoo's files store weights).
static inline void pb_to_float_data(Onnx__GraphProto *g) {
    for (size_t i = 0; i < g->n_initializer; i++) {
        Onnx__TensorProto *t = g->initializer[i];
        if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || !t->has_raw_data) continue;
        size_t n = t->raw_data.len / 4;
        t->float_data = malloc((n ? n : 1) * sizeof(float));
        memcpy(t->float_data, t->raw_data.data, n * 4);  // the tests run on little-endian hosts
        t->n_float_data = n;
        free(t->raw_data.data);
        t->raw_data.data = NULL;
        t->raw_data.len = 0;
        t->has_raw_data = 0;
    }
}

// Removes every BatchNormalization, wiring its consumers to its input, and gives each Conv a bias
// (zeros): the structure of torch.onnx.export's eval-mode files, where BN is folded into the conv.
// (The values are not folded: structure tests only.)
static inline void pb_fold_bn(Onnx__GraphProto *g) {
    int k;
    while ((k = pb_node(g, "BatchNormalization", 0)) >= 0) {
        Onnx__NodeProto *bn = g->node[k];
        char *x = strdup(bn->input[0]), *y = strdup(bn->output[0]);
        pb_remove_node(g, (size_t)k);
        pb_rewire(g, (size_t)k, y, x);
        free(x);
        free(y);
    }
    for (int c = 0; (k = pb_node(g, "Conv", c)) >= 0; c++) {
        Onnx__NodeProto *n = g->node[k];
        if (n->n_input >= 3) continue;
        Onnx__TensorProto *w = pb_init(g, n->input[1]);
        char name[256];
        snprintf(name, sizeof name, "%s_folded_bias", n->input[1]);
        int64_t d = w->dims[0];
        float *z = calloc((size_t)d, sizeof *z);
        pb_add_init(g, pb_f32_init(name, 1, &d, z));
        free(z);
        pb_set_io(&n->input, &n->n_input, 2, name);
    }
}

#endif
