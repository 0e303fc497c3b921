// onnx_export.c — writes a graph as an opset-7 ONNX model in the zoo's shape; see onnx.h.
//
// The op list already speaks ONNX, so export is one walk: each rn_op becomes one NodeProto with
// the attributes its opset-7 schema defines, each PARAM/STATE tensor one initializer (raw_data,
// little-endian) that is also declared as a graph input, as IR version 3 requires.
#define _POSIX_C_SOURCE 200809L
#include "export/onnx.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/onnx.pb-c.h"
#include "export/onnx_wire.h"

// Every message of the model lives in one of these arrays; free_model releases them all.
// Strings point into the graph (never freed here) except the few built with snprintf.
typedef struct writer {
    const rn_graph *g;
    const rn_kv *meta;                  // metadata_props, or NULL
    Onnx__StringStringEntryProto *props, **prop_ptrs;
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1];
    Onnx__NodeProto *nodes;             // (n_ops)
    Onnx__NodeProto **node_ptrs;
    char ***node_inputs;                // (n_ops) arrays of input names
    char **node_outputs;                // (n_ops) one name each
    Onnx__AttributeProto *attrs;        // (n_ops * MAX_ATTRS)
    Onnx__AttributeProto **attr_ptrs;
    int64_t *ints;                      // (n_ops * MAX_ATTRS * 4) backing of INTS attributes
    Onnx__TensorProto *inits;           // (n_params)
    Onnx__TensorProto **init_ptrs;
    int64_t *init_dims;                 // (n_params * RN_MAX_DIMS)
    uint8_t **swapped;                  // (n_params) little-endian copies on big-endian hosts
    Onnx__ValueInfoProto *vis;          // (n_params + 2): inputs then output
    Onnx__ValueInfoProto **in_ptrs, *out_ptr[1];
    Onnx__TypeProto *types;
    Onnx__TypeProto__Tensor *ttypes;
    Onnx__TensorShapeProto *shapes;
    Onnx__TensorShapeProto__Dimension *dims;  // ((n_params + 2) * RN_MAX_DIMS)
    Onnx__TensorShapeProto__Dimension **dim_ptrs;
    int n_params;
} writer;

#define MAX_ATTRS 6

static char batch_param[] = "N";
static char input_name[] = "data";

static void free_model(writer *w) {
    if (w->node_inputs)
        for (int k = 0; k < w->g->n_ops; k++) free(w->node_inputs[k]);
    if (w->swapped)
        for (int i = 0; i < w->n_params; i++) free(w->swapped[i]);
    free(w->nodes);
    free(w->node_ptrs);
    free(w->node_inputs);
    free(w->node_outputs);
    free(w->attrs);
    free(w->attr_ptrs);
    free(w->ints);
    free(w->inits);
    free(w->init_ptrs);
    free(w->init_dims);
    free(w->swapped);
    free(w->vis);
    free(w->in_ptrs);
    free(w->types);
    free(w->ttypes);
    free(w->shapes);
    free(w->dims);
    free(w->dim_ptrs);
    free(w->props);
    free(w->prop_ptrs);
}

// The ONNX name of tensor i: the graph input is always "data".
static char *tname(writer *w, int i) { return i == w->g->input ? input_name : w->g->tensors[i].name; }

// A tensor-typed value info: float, with dims (dim_param "N" where batch_dim is set).
static Onnx__ValueInfoProto *value_info(writer *w, int slot, char *name, int ndim, const int64_t *d, int batch_dim) {
    Onnx__ValueInfoProto *vi = &w->vis[slot];
    onnx__value_info_proto__init(vi);
    Onnx__TypeProto *tp = &w->types[slot];
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = &w->ttypes[slot];
    onnx__type_proto__tensor__init(tt);
    Onnx__TensorShapeProto *sh = &w->shapes[slot];
    onnx__tensor_shape_proto__init(sh);
    Onnx__TensorShapeProto__Dimension **dp = &w->dim_ptrs[(size_t)slot * RN_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        Onnx__TensorShapeProto__Dimension *dim = &w->dims[(size_t)slot * RN_MAX_DIMS + i];
        onnx__tensor_shape_proto__dimension__init(dim);
        if (i == 0 && batch_dim) {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim->dim_param = batch_param;
        } else {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim->dim_value = d[i];
        }
        dp[i] = dim;
    }
    sh->n_dim = (size_t)ndim;
    sh->dim = dp;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = name;
    vi->type = tp;
    return vi;
}

typedef struct node_attrs {
    writer *w;
    int op;
    int n;
} node_attrs;

static Onnx__AttributeProto *attr(node_attrs *na, const char *name, Onnx__AttributeProto__AttributeType type) {
    RN_CHECK(na->n < MAX_ATTRS);
    Onnx__AttributeProto *a = &na->w->attrs[(size_t)na->op * MAX_ATTRS + na->n];
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = type;
    na->w->attr_ptrs[(size_t)na->op * MAX_ATTRS + na->n] = a;
    na->n++;
    return a;
}

static void attr_f(node_attrs *na, const char *name, float v) {
    Onnx__AttributeProto *a = attr(na, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

static void attr_i(node_attrs *na, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attr(na, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

static void attr_ints(node_attrs *na, const char *name, int n, int64_t v0, int64_t v1, int64_t v2, int64_t v3) {
    int slot = na->n;
    Onnx__AttributeProto *a = attr(na, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *iv = &na->w->ints[((size_t)na->op * MAX_ATTRS + (size_t)slot) * 4];
    iv[0] = v0, iv[1] = v1, iv[2] = v2, iv[3] = v3;
    a->n_ints = (size_t)n;
    a->ints = iv;
}

// The attributes of the op's opset-7 schema, all written explicitly.
static void node_attributes(writer *w, int k, Onnx__NodeProto *nd) {
    const rn_op *op = &w->g->ops[k];
    node_attrs na = {w, k, 0};
    switch (op->type) {
    case RN_OP_CONV: {
        const rn_conv_attr *c = &op->a.conv;
        attr_ints(&na, "dilations", 2, 1, 1, 0, 0);
        attr_i(&na, "group", c->group);
        attr_ints(&na, "kernel_shape", 2, c->kh, c->kw, 0, 0);
        attr_ints(&na, "pads", 4, c->pt, c->pl, c->pb, c->pr);
        attr_ints(&na, "strides", 2, c->sh, c->sw, 0, 0);
        break;
    }
    case RN_OP_BATCHNORM:
        attr_f(&na, "epsilon", op->a.bn.epsilon);
        attr_f(&na, "momentum", op->a.bn.momentum);
        attr_i(&na, "spatial", 1);  // spatial=0 (per-activation statistics) breaks onnxruntime
        break;
    case RN_OP_MAXPOOL: {
        const rn_pool_attr *p = &op->a.pool;
        attr_ints(&na, "kernel_shape", 2, p->kh, p->kw, 0, 0);
        attr_ints(&na, "pads", 4, p->pt, p->pl, p->pb, p->pr);
        attr_ints(&na, "strides", 2, p->sh, p->sw, 0, 0);
        break;
    }
    case RN_OP_FLATTEN:
        attr_i(&na, "axis", 1);
        break;
    case RN_OP_GEMM:
        attr_f(&na, "alpha", op->a.gemm.alpha);
        attr_f(&na, "beta", op->a.gemm.beta);
        attr_i(&na, "transA", op->a.gemm.trans_a);
        attr_i(&na, "transB", op->a.gemm.trans_b);
        break;
    default:
        break;
    }
    nd->n_attribute = (size_t)na.n;
    nd->attribute = na.n ? &w->attr_ptrs[(size_t)k * MAX_ATTRS] : NULL;
}

static int build_model(writer *w, rn_err *err) {
    const rn_graph *g = w->g;
    if (!g->arena || g->input < 0 || g->output < 0 || g->n_ops == 0)
        return rn_fail(err, "export: the graph is not finalised");
    const rn_tensor *in = &g->tensors[g->input];
    if (in->ndim != 4) return rn_fail(err, "export: the graph input '%s' is not 4-D", in->name);
    for (int i = 0; i < g->n_tensors; i++)
        if (i != g->input && strcmp(g->tensors[i].name, input_name) == 0)
            return rn_fail(err, "export: tensor '%s' clashes with the graph input's ONNX name 'data'",
                           g->tensors[i].name);
    const rn_tensor *out = &g->tensors[g->output];
    if (out->role != RN_ACT || out->ndim != 2)
        return rn_fail(err, "export: the graph output '%s' is not the (N, classes) scores", out->name);
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].role == RN_PARAM || g->tensors[i].role == RN_STATE) w->n_params++;

    size_t nops = (size_t)g->n_ops, np = (size_t)w->n_params, nvi = np + 2;
    w->nodes = rn_calloc(nops, sizeof *w->nodes);
    w->node_ptrs = rn_calloc(nops, sizeof *w->node_ptrs);
    w->node_inputs = rn_calloc(nops, sizeof *w->node_inputs);
    w->node_outputs = rn_calloc(nops, sizeof *w->node_outputs);
    w->attrs = rn_calloc(nops * MAX_ATTRS, sizeof *w->attrs);
    w->attr_ptrs = rn_calloc(nops * MAX_ATTRS, sizeof *w->attr_ptrs);
    w->ints = rn_calloc(nops * MAX_ATTRS * 4, sizeof *w->ints);
    w->inits = rn_calloc(np, sizeof *w->inits);
    w->init_ptrs = rn_calloc(np, sizeof *w->init_ptrs);
    w->init_dims = rn_calloc(np * RN_MAX_DIMS, sizeof *w->init_dims);
    w->swapped = rn_calloc(np, sizeof *w->swapped);
    w->vis = rn_calloc(nvi, sizeof *w->vis);
    w->in_ptrs = rn_calloc(np + 1, sizeof *w->in_ptrs);
    w->types = rn_calloc(nvi, sizeof *w->types);
    w->ttypes = rn_calloc(nvi, sizeof *w->ttypes);
    w->shapes = rn_calloc(nvi, sizeof *w->shapes);
    w->dims = rn_calloc(nvi * RN_MAX_DIMS, sizeof *w->dims);
    w->dim_ptrs = rn_calloc(nvi * RN_MAX_DIMS, sizeof *w->dim_ptrs);

    // Graph input "data" first, then every initializer again as an input (IR 3).
    w->in_ptrs[0] = value_info(w, 0, input_name, 4, in->dims, 1);
    int p = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM && t->role != RN_STATE) continue;
        Onnx__TensorProto *tp = &w->inits[p];
        onnx__tensor_proto__init(tp);
        int64_t *d = &w->init_dims[(size_t)p * RN_MAX_DIMS];
        for (int j = 0; j < t->ndim; j++) d[j] = t->dims[j];
        tp->n_dims = (size_t)t->ndim;
        tp->dims = d;
        tp->has_data_type = 1;
        tp->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        tp->name = t->name;
        size_t n = rn_tensor_numel(t);
        tp->has_raw_data = 1;
        tp->raw_data.len = n * sizeof(float);
        if (rn_host_is_le()) {
            tp->raw_data.data = (uint8_t *)t->data;  // the arena is already little-endian floats
        } else {
            w->swapped[p] = rn_malloc(n * sizeof(float));
            rn_le_store_f32(w->swapped[p], t->data, n);
            tp->raw_data.data = w->swapped[p];
        }
        w->init_ptrs[p] = tp;
        w->in_ptrs[p + 1] = value_info(w, p + 1, t->name, t->ndim, t->dims, 0);
        p++;
    }
    w->out_ptr[0] = value_info(w, (int)np + 1, out->name, 2, out->dims, 1);

    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        Onnx__NodeProto *nd = &w->nodes[k];
        onnx__node_proto__init(nd);
        w->node_inputs[k] = rn_calloc((size_t)op->n_in, sizeof(char *));
        for (int i = 0; i < op->n_in; i++) w->node_inputs[k][i] = tname(w, op->in[i]);
        w->node_outputs[k] = tname(w, op->out);
        nd->n_input = (size_t)op->n_in;
        nd->input = w->node_inputs[k];
        nd->n_output = 1;
        nd->output = &w->node_outputs[k];
        nd->name = op->name;
        nd->op_type = (char *)rn_op_type_name(op->type);
        node_attributes(w, k, nd);
        w->node_ptrs[k] = nd;
    }

    onnx__graph_proto__init(&w->graph);
    w->graph.name = "resnet";
    w->graph.n_node = nops;
    w->graph.node = w->node_ptrs;
    w->graph.n_initializer = np;
    w->graph.initializer = w->init_ptrs;
    w->graph.n_input = np + 1;
    w->graph.input = w->in_ptrs;
    w->graph.n_output = 1;
    w->graph.output = w->out_ptr;

    onnx__operator_set_id_proto__init(&w->opset);
    w->opset.domain = "";
    w->opset.has_version = 1;
    w->opset.version = RN_ONNX_OPSET;
    w->opsets[0] = &w->opset;

    onnx__model_proto__init(&w->model);
    w->model.has_ir_version = 1;
    w->model.ir_version = RN_ONNX_IR_VERSION;
    w->model.n_opset_import = 1;
    w->model.opset_import = w->opsets;
    w->model.producer_name = RN_ONNX_PRODUCER;
    w->model.producer_version = RN_ONNX_PRODUCER_VERSION;
    w->model.graph = &w->graph;
    if (w->meta && w->meta->n > 0) {  // the strings stay the caller's
        int n = w->meta->n;
        w->props = rn_calloc((size_t)n, sizeof *w->props);
        w->prop_ptrs = rn_calloc((size_t)n, sizeof *w->prop_ptrs);
        for (int i = 0; i < n; i++) {
            onnx__string_string_entry_proto__init(&w->props[i]);
            w->props[i].key = w->meta->key[i];
            w->props[i].value = w->meta->val[i];
            w->prop_ptrs[i] = &w->props[i];
        }
        w->model.n_metadata_props = (size_t)n;
        w->model.metadata_props = w->prop_ptrs;
    }
    return 0;
}

int rn_onnx_export_buffer(const rn_graph *g, uint8_t **buf, size_t *len, rn_err *err) {
    return rn_onnx_export_buffer_kv(g, NULL, buf, len, err);
}

int rn_onnx_export_buffer_kv(const rn_graph *g, const rn_kv *meta, uint8_t **buf, size_t *len, rn_err *err) {
    writer w;
    memset(&w, 0, sizeof w);
    w.g = g;
    w.meta = meta;
    *buf = NULL;
    *len = 0;
    if (build_model(&w, err)) {
        free_model(&w);
        return -1;
    }
    size_t n = onnx__model_proto__get_packed_size(&w.model);
    if (n > RN_ONNX_MAX_BYTES) {
        free_model(&w);
        return rn_fail(err, "export: the model needs %zu bytes, over protobuf's 2 GiB limit", n);
    }
    *buf = rn_malloc(n);
    *len = onnx__model_proto__pack(&w.model, *buf);
    free_model(&w);
    RN_CHECK(*len == n);
    return 0;
}

// Streams the packed model into a stdio file instead of one large buffer.
typedef struct file_sink {
    ProtobufCBuffer base;
    FILE *f;
    int failed;
} file_sink;

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
    file_sink *s = (file_sink *)b;
    if (!s->failed && len && fwrite(data, 1, len, s->f) != len) s->failed = 1;
}

int rn_onnx_export(const rn_graph *g, const char *path, rn_err *err) { return rn_onnx_export_kv(g, NULL, path, err); }

int rn_onnx_export_kv(const rn_graph *g, const rn_kv *meta, const char *path, rn_err *err) {
    writer w;
    memset(&w, 0, sizeof w);
    w.g = g;
    w.meta = meta;
    if (build_model(&w, err)) {
        free_model(&w);
        return -1;
    }
    if (onnx__model_proto__get_packed_size(&w.model) > RN_ONNX_MAX_BYTES) {
        free_model(&w);
        return rn_fail(err, "export: the model is over protobuf's 2 GiB limit");
    }
    size_t pl = strlen(path);
    char *tmp = rn_malloc(pl + 16);
    snprintf(tmp, pl + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        free_model(&w);
        return rn_fail(err, "export: cannot create a temporary file next to %s: %s", path, strerror(e));
    }
    fchmod(fd, 0644);  // mkstemp creates 0600; a model file is meant to be shared
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        free_model(&w);
        return rn_fail(err, "export: fdopen failed for %s", path);
    }
    file_sink s = {{sink_append}, f, 0};
    onnx__model_proto__pack_to_buffer(&w.model, &s.base);
    free_model(&w);
    int bad = s.failed || fflush(f) != 0 || fsync(fileno(f)) != 0;
    int e = errno;
    if (fclose(f) != 0) bad = 1;
    if (!bad && rename(tmp, path) != 0) {
        e = errno;
        bad = 1;
    }
    if (bad) {
        unlink(tmp);
        free(tmp);
        return rn_fail(err, "export: cannot write %s: %s", path, strerror(e));
    }
    free(tmp);
    // Make the rename itself durable.
    char *dcopy = rn_strdup(path);
    int dfd = open(dirname(dcopy), O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dcopy);
    return 0;
}
