// onnx_import.c — reads ONNX ResNet graphs into the op list; see onnx.h and docs/ONNX.md.
//
// The bytes are untrusted: a bounded wire-format pre-scan (onnx_wire.c) comes before protobuf-c
// unpacks anything, then every name, attribute, shape and data length is checked before use
// (onnx_values.c); what the graph itself requires (input roles and counts, shapes, attribute
// values) is the op contract's, checked by rn_graph_finalize (layers/op_contract.c) as for every
// other graph source. Nodes are mapped one by one in file order (onnx_ops.c; ONNX requires
// topological order: a node that uses a value not yet defined is refused, which also refuses cycles).
// This file: the model (IR and opset versions, the graph input, initializers, the nodes in order,
// the graph output), then finalize and the weights.
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export/onnx_reader.h"
#include "export/onnx_wire.h"

#define MAX_NODES 20000         // a ResNet-152 has about 500
#define MAX_INITIALIZERS 20000
#define DEFAULT_SIDE 224        // nominal H, W when the file leaves them symbolic

// ---- the model ----------------------------------------------------------------------------------

// The one graph input that is not an initializer: (C, H, W) with H, W = 224 where symbolic.
static int graph_input(imp *im, const Onnx__GraphProto *gp, rn_err *err) {
    const Onnx__ValueInfoProto *data = NULL;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *n = imp_nz(vi->name);
        if (!n[0]) return rn_fail(err, "%s: graph input %zu has no name", im->what, i);
        int v = imp_smap_get(&im->names, n);
        if (v >= 0 && im->vals[v].kind == V_CONST) continue;  // an initializer listed as an input (IR 3)
        if (v >= 0) return rn_fail(err, "%s: graph input '%s' is listed twice", im->what, n);
        if (data)
            return rn_fail(err, "%s: graph inputs '%s' and '%s' have no initializer; only one input (the image "
                                "batch) is supported", im->what, imp_nz(data->name), n);
        data = vi;
        imp_add_value(im, n, V_DATA);  // the tensor itself is made below, once the shape is known
    }
    if (!data) return rn_fail(err, "%s: the graph has no input without an initializer (no image input)", im->what);
    const char *n = data->name;
    const Onnx__TypeProto *tp = data->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return rn_fail(err, "%s: graph input '%s' is not a tensor", im->what, n);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return rn_fail(err, "%s: graph input '%s' has element type %s, expected FLOAT", im->what, n,
                       imp_dtype_name(tt->elem_type));
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
    int t = imp_new_tensor(im, n, RN_DATA, 4, d);
    im->vals[imp_smap_get(&im->names, n)].tensor = t;
    return 0;
}

static int opset_version(imp *im, const Onnx__ModelProto *m, rn_err *err) {
    im->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = imp_nz(m->opset_import[i]->domain);
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
        const char *n = imp_nz(gp->initializer[i]->name);
        if (!n[0]) return rn_fail(err, "%s: initializer %zu has no name", im->what, i);
        if (imp_smap_get(&im->names, n) >= 0) return rn_fail(err, "%s: initializer '%s' is defined twice", im->what, n);
        int v = imp_add_value(im, n, V_CONST);
        im->vals[v].init = gp->initializer[i];
    }
    if (graph_input(im, gp, err)) return -1;
    for (size_t k = 0; k < gp->n_node; k++)
        if (imp_map_node(im, gp->node[k], (int)k, err)) return -1;
    if (gp->n_output != 1)
        return rn_fail(err, "%s: the graph has %zu outputs; exactly one (the class scores) is supported", im->what,
                       gp->n_output);
    const char *on = imp_nz(gp->output[0]->name);
    int v = imp_smap_get(&im->names, on);
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
            imp_read_floats(p->init, t->data, n);
            continue;
        }
        float *tmp = rn_malloc(n * sizeof(float));
        imp_read_floats(p->init, tmp, n);
        size_t O = (size_t)t->dims[0], I = (size_t)t->dims[1];
        for (size_t r = 0; r < I; r++)
            for (size_t c = 0; c < O; c++) t->data[c * I + r] = tmp[r * O + c];
        free(tmp);
    }
    im->g->version++;
    return 0;
}

// metadata_props into meta: strings are copied, since the unpacked message is freed.
static int read_props(const Onnx__ModelProto *m, const char *what, rn_kv *meta, rn_err *err) {
    if (m->n_metadata_props > RN_ONNX_MAX_META)
        return rn_fail(err, "%s: %zu metadata_props, more than %d", what, m->n_metadata_props, RN_ONNX_MAX_META);
    for (size_t i = 0; i < m->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = m->metadata_props[i];
        if (!e->key || !e->key[0]) return rn_fail(err, "%s: metadata_props entry %zu has no key", what, i);
        rn_kv_add(meta, e->key, e->value ? e->value : "");
    }
    return 0;
}

int rn_onnx_import_buffer(const uint8_t *buf, size_t len, const char *what, rn_graph **out, rn_err *err) {
    return rn_onnx_import_buffer_kv(buf, len, what, out, NULL, err);
}

int rn_onnx_import_buffer_kv(const uint8_t *buf, size_t len, const char *what, rn_graph **out, rn_kv *meta,
                             rn_err *err) {
    *out = NULL;
    if (meta) rn_kv_free(meta);
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
    if (!rc && meta) rc = read_props(m, what, meta, err);
    imp_smap_free(&im.names);
    imp_smap_free(&im.tnames);
    free(im.vals);
    free(im.pend);
    free(im.rs);
    onnx__model_proto__free_unpacked(m, NULL);
    if (rc) {
        if (meta) rn_kv_free(meta);
        rn_graph_destroy(im.g);
        return -1;
    }
    *out = im.g;
    return 0;
}

int rn_onnx_import(const char *path, rn_graph **out, rn_err *err) { return rn_onnx_import_kv(path, out, NULL, err); }

int rn_onnx_import_kv(const char *path, rn_graph **out, rn_kv *meta, rn_err *err) {
    *out = NULL;
    if (meta) rn_kv_free(meta);
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
    int rc = rn_onnx_import_buffer_kv(buf, n, path, out, meta, err);
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

