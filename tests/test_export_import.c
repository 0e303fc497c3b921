// test_export_import — what ONNX import accepts and what it refuses, on small models edited at the
// protobuf level: the zoo's and PyTorch's variants of our own export (float_data, IR 4 inputs,
// Identity, Reshape, 5-output and training-mode BN, transB=0, shared initializers, BN folded), and
// malformed graphs, each refused with a message naming the node or tensor. No executor: weights and
// structure are compared exactly. Also built with ASan/UBSan (test_export_import_asan).
#include "export/onnx.h"
#include "tests/check.h"
#include "tests/test_export_pb.h"
#include "tests/test_export_util.h"

typedef void (*edit_fn)(Onnx__ModelProto *m);

static uint8_t *base_buf[2];
static size_t base_len[2];
static rn_graph *base_g[2];  // [0] v1 basic, [1] v2 bottleneck

// Exports model `which`, applies the edit, imports the result. Returns the graph or NULL (err set).
static rn_graph *edited(int which, edit_fn f, rn_err *err) {
    Onnx__ModelProto *m = pb_unpack(base_buf[which], base_len[which]);
    if (f) f(m);
    uint8_t *buf;
    size_t len;
    pb_pack(m, &buf, &len);
    onnx__model_proto__free_unpacked(m, NULL);
    rn_graph *g = NULL;
    if (rn_onnx_import_buffer(buf, len, "edited.onnx", &g, err)) g = NULL;
    free(buf);
    return g;
}

static void expect_ok(const char *what, int which, edit_fn f, int same) {
    rn_err err;
    rn_graph *g = edited(which, f, &err);
    CHECK(g != NULL, "%s: import failed: %s", what, err.msg);
    if (g && same) CHECK(graph_diff(g, base_g[which]) == 0, "%s: imported graph differs from the original", what);
    rn_graph_destroy(g);
}

// Import must fail and the message must contain every fragment given.
static void expect_fail(const char *what, int which, edit_fn f, const char *frag1, const char *frag2) {
    rn_err err;
    err.msg[0] = 0;
    rn_graph *g = edited(which, f, &err);
    CHECK(g == NULL, "%s: import should have failed", what);
    if (!g) {
        CHECK(strstr(err.msg, frag1) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, frag1);
        if (frag2) CHECK(strstr(err.msg, frag2) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, frag2);
    }
    rn_graph_destroy(g);
}

static Onnx__NodeProto *node(Onnx__ModelProto *m, const char *type, int nth) {
    int k = pb_node(m->graph, type, nth);
    if (k < 0) {
        fprintf(stderr, "no %s #%d\n", type, nth);
        exit(1);
    }
    return m->graph->node[k];
}

// ---- accepted variants --------------------------------------------------------------------------

static void e_zoo_storage(Onnx__ModelProto *m) {  // float_data, IR 4 style inputs
    pb_to_float_data(m->graph);
    pb_drop_init_inputs(m->graph);
    m->ir_version = 4;
}

static void e_identity(Onnx__ModelProto *m) {
    Onnx__GraphProto *g = m->graph;
    int k = pb_node(g, "Relu", 0);
    char *y = strdup(g->node[k]->output[0]);
    pb_rewire(g, (size_t)k + 1, y, "relu_identity");
    const char *in[1] = {y}, *out[1] = {"relu_identity"};
    pb_insert_node(g, (size_t)k + 1, pb_new_node("Identity", "identity0", 1, in, 1, out));
    free(y);
}

static void e_identity_weight(Onnx__ModelProto *m) {  // PyTorch's de-duplicated initializers
    Onnx__GraphProto *g = m->graph;
    Onnx__NodeProto *c = node(m, "Conv", 0);
    const char *in[1] = {c->input[1]}, *out[1] = {"stem_weight_alias"};
    Onnx__NodeProto *id = pb_new_node("Identity", "Identity_0", 1, in, 1, out);
    pb_set_str(&c->input[1], "stem_weight_alias");
    pb_insert_node(g, 0, id);
}

static void reshape_with(Onnx__ModelProto *m, int64_t a, int64_t b, int raw) {
    Onnx__NodeProto *f = node(m, "Flatten", 0);
    pb_set_str(&f->op_type, "Reshape");
    pb_remove_attr(f, "axis");
    int64_t v[2] = {a, b};
    Onnx__TensorProto *t = pb_i64_init("reshape_attr_tensor118", 2, v);
    if (raw) {  // as raw little-endian bytes instead of int64_data
        t->has_raw_data = 1;
        t->raw_data.len = 16;
        t->raw_data.data = malloc(16);
        memcpy(t->raw_data.data, v, 16);
        free(t->int64_data);
        t->int64_data = NULL;
        t->n_int64_data = 0;
    }
    pb_add_init(m->graph, t);
    pb_set_io(&f->input, &f->n_input, 1, "reshape_attr_tensor118");
}
static void e_reshape0(Onnx__ModelProto *m) { reshape_with(m, 0, -1, 0); }
static void e_reshape1(Onnx__ModelProto *m) { reshape_with(m, 1, -1, 1); }
static void e_reshape_c(Onnx__ModelProto *m) { reshape_with(m, -1, 64, 0); }  // v2 tiny: 64 channels
static void e_reshape_badc(Onnx__ModelProto *m) { reshape_with(m, -1, 100, 0); }
static void e_reshape_bad(Onnx__ModelProto *m) { reshape_with(m, 2, -1, 0); }

static void e_reshape_constant(Onnx__ModelProto *m) {
    reshape_with(m, 0, -1, 0);
    Onnx__GraphProto *g = m->graph;
    Onnx__TensorProto *t = g->initializer[--g->n_initializer];  // move it into a Constant node
    const char *out[1] = {"reshape_attr_tensor118"};
    Onnx__NodeProto *c = pb_new_node("Constant", "shape_const", 0, NULL, 1, out);
    Onnx__AttributeProto *a = pb_add_attr(c, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
    pb_insert_node(g, (size_t)pb_node(g, "Reshape", 0), c);
}

static void bn_outputs(Onnx__ModelProto *m, int n) {
    for (int i = 0; pb_node(m->graph, "BatchNormalization", i) >= 0; i++) {
        Onnx__NodeProto *b = node(m, "BatchNormalization", i);
        for (int j = 1; j < n; j++) {
            char name[300];
            snprintf(name, sizeof name, "%s_out%d", b->output[0], j);
            pb_set_io(&b->output, &b->n_output, (size_t)j, name);
        }
    }
}
static void e_bn5(Onnx__ModelProto *m) { bn_outputs(m, 5); }
static void e_bn_training14(Onnx__ModelProto *m) {
    m->opset_import[0]->version = 14;
    bn_outputs(m, 3);
    for (int i = 0; pb_node(m->graph, "BatchNormalization", i) >= 0; i++) {
        Onnx__NodeProto *b = node(m, "BatchNormalization", i);
        pb_remove_attr(b, "spatial");
        pb_attr_i(b, "training_mode", 1);
    }
}
static void e_bn_spatial0(Onnx__ModelProto *m) { pb_attr_i(node(m, "BatchNormalization", 1), "spatial", 0); }
static void e_bn_stats_used(Onnx__ModelProto *m) {
    bn_outputs(m, 5);
    Onnx__NodeProto *b = node(m, "BatchNormalization", 0);
    pb_set_str(&node(m, "Relu", 0)->input[0], b->output[1]);
}

static void e_opset11_torch(Onnx__ModelProto *m) {
    m->opset_import[0]->version = 11;
    m->ir_version = 6;
    for (int i = 0; pb_node(m->graph, "BatchNormalization", i) >= 0; i++)
        pb_remove_attr(node(m, "BatchNormalization", i), "spatial");
    for (int i = 0; pb_node(m->graph, "Conv", i) >= 0; i++) pb_remove_attr(node(m, "Conv", i), "group");
}

static void e_gemm_transb0(Onnx__ModelProto *m) {
    Onnx__NodeProto *gm = node(m, "Gemm", 0);
    pb_attr_i(gm, "transB", 0);
    Onnx__TensorProto *w = pb_init(m->graph, gm->input[1]);
    int64_t O = w->dims[0], I = w->dims[1];
    float *src = (float *)w->raw_data.data, *dst = malloc((size_t)(O * I) * sizeof *dst);
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++) dst[i * O + o] = src[o * I + i];
    memcpy(src, dst, (size_t)(O * I) * sizeof *dst);
    free(dst);
    w->dims[0] = I;
    w->dims[1] = O;
}

static void e_gemm_noc(Onnx__ModelProto *m) {
    Onnx__NodeProto *gm = node(m, "Gemm", 0);
    free(gm->input[2]);
    gm->n_input = 2;
}

static void e_shared_gamma(Onnx__ModelProto *m) {  // stem_bn and stage1 bn1 both have 8 channels
    Onnx__NodeProto *a = node(m, "BatchNormalization", 0), *b = node(m, "BatchNormalization", 1);
    pb_set_str(&b->input[1], a->input[1]);
}

static void e_input_renamed(Onnx__ModelProto *m) {
    Onnx__GraphProto *g = m->graph;
    pb_rewire(g, 0, "data", "input.1");
    pb_set_str(&g->input[0]->name, "input.1");
    Onnx__TensorShapeProto *s = g->input[0]->type->tensor_type->shape;
    for (int i = 2; i < 4; i++) {
        s->dim[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        s->dim[i]->dim_param = strdup(i == 2 ? "height" : "width");
    }
}

static void e_fold(Onnx__ModelProto *m) { pb_fold_bn(m->graph); }

// ---- refused ------------------------------------------------------------------------------------

static void e_unknown_op(Onnx__ModelProto *m) { pb_set_str(&node(m, "Relu", 1)->op_type, "Softmax"); }
static void e_out_of_order(Onnx__ModelProto *m) {
    Onnx__NodeProto **n = m->graph->node, *t = n[1];
    n[1] = n[2];
    n[2] = t;
}
static void e_self_cycle(Onnx__ModelProto *m) {
    Onnx__NodeProto *r = node(m, "Relu", 0);
    pb_set_str(&r->input[0], r->output[0]);
}
static void e_truncated_data(Onnx__ModelProto *m) { pb_init(m->graph, "stem_conv_weight")->raw_data.len -= 4; }
static void e_double(Onnx__ModelProto *m) { pb_init(m->graph, "stem_conv_weight")->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE; }
static void e_int64_weight(Onnx__ModelProto *m) {
    Onnx__TensorProto *t = pb_init(m->graph, "fc_bias");
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
}
static void e_huge_dims(Onnx__ModelProto *m) {
    Onnx__TensorProto *t = pb_init(m->graph, "stem_conv_weight");
    t->dims[0] = (int64_t)1 << 40;
    t->dims[1] = (int64_t)1 << 40;
}
static void e_negative_dim(Onnx__ModelProto *m) { pb_init(m->graph, "stem_conv_weight")->dims[1] = -3; }
static void e_no_data(Onnx__ModelProto *m) {
    Onnx__TensorProto *t = pb_init(m->graph, "fc_weight");
    free(t->raw_data.data);
    t->raw_data.data = NULL;
    t->raw_data.len = 0;
    t->has_raw_data = 0;
}
static void e_external(Onnx__ModelProto *m) {
    Onnx__TensorProto *t = pb_init(m->graph, "fc_weight");
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
}
static void e_group(Onnx__ModelProto *m) { pb_attr_i(node(m, "Conv", 1), "group", 2); }
static void e_dilation(Onnx__ModelProto *m) {
    int64_t d[2] = {2, 2};
    pb_attr_ints(node(m, "Conv", 1), "dilations", 2, d);
}
static void e_stride0(Onnx__ModelProto *m) {
    int64_t d[2] = {0, 1};
    pb_attr_ints(node(m, "Conv", 1), "strides", 2, d);
}
static void e_pads3(Onnx__ModelProto *m) {
    int64_t d[3] = {1, 1, 1};
    pb_attr_ints(node(m, "Conv", 1), "pads", 3, d);
}
static void e_unknown_attr(Onnx__ModelProto *m) { pb_attr_i(node(m, "Conv", 1), "foo", 1); }
static void e_auto_pad(Onnx__ModelProto *m) { pb_attr_s(node(m, "Conv", 1), "auto_pad", "SAME_UPPER"); }
static void e_weight_from_act(Onnx__ModelProto *m) { pb_set_str(&node(m, "Conv", 1)->input[1], "data"); }
static void e_channel_mismatch(Onnx__ModelProto *m) {  // stage1's conv2 gets stage2's 16-channel weight
    Onnx__NodeProto *a = node(m, "Conv", 2), *b = node(m, "Conv", 4);
    char *t = a->input[1];
    a->input[1] = b->input[1];
    b->input[1] = t;
}
static void e_two_outputs(Onnx__ModelProto *m) {
    Onnx__GraphProto *g = m->graph;
    g->output = realloc(g->output, 2 * sizeof *g->output);
    Onnx__ValueInfoProto *v = malloc(sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = strdup(node(m, "Relu", 0)->output[0]);
    g->output[g->n_output++] = v;
}
static void e_output_is_input(Onnx__ModelProto *m) { pb_set_str(&m->graph->output[0]->name, "data"); }
static void e_two_inputs(Onnx__ModelProto *m) {
    Onnx__GraphProto *g = m->graph;
    g->input = realloc(g->input, (g->n_input + 1) * sizeof *g->input);
    Onnx__ValueInfoProto *v = malloc(sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = strdup("mask");
    g->input[g->n_input++] = v;
}
static void e_input_3d(Onnx__ModelProto *m) {
    Onnx__TensorShapeProto *s = m->graph->input[0]->type->tensor_type->shape;
    protobuf_c_message_free_unpacked(&s->dim[3]->base, NULL);
    s->n_dim = 3;
}
static void e_opset6(Onnx__ModelProto *m) { m->opset_import[0]->version = 6; }
static void e_opset_none(Onnx__ModelProto *m) { pb_set_str(&m->opset_import[0]->domain, "ai.onnx.ml"); }
static void e_ir2(Onnx__ModelProto *m) { m->ir_version = 2; }
static void e_domain(Onnx__ModelProto *m) { pb_set_str(&node(m, "Relu", 0)->domain, "com.microsoft"); }
static void e_flatten_not_gap(Onnx__ModelProto *m) {
    pb_set_str(&node(m, "Flatten", 0)->input[0], node(m, "Relu", 0)->output[0]);
}
static void e_flatten_axis(Onnx__ModelProto *m) { pb_attr_i(node(m, "Flatten", 0), "axis", 2); }
static void e_gemm_alpha(Onnx__ModelProto *m) { pb_attr_f(node(m, "Gemm", 0), "alpha", 2.0f); }
static void e_gemm_transa(Onnx__ModelProto *m) { pb_attr_i(node(m, "Gemm", 0), "transA", 1); }
static void e_gemm_w3d(Onnx__ModelProto *m) {
    Onnx__TensorProto *w = pb_init(m->graph, "fc_weight");
    w->dims = realloc(w->dims, 3 * sizeof *w->dims);
    w->dims[2] = 1;
    w->n_dims = 3;
}
static void e_ceil(Onnx__ModelProto *m) {
    e_opset11_torch(m);
    pb_attr_i(node(m, "MaxPool", 0), "ceil_mode", 1);
}
static void e_pool_pads(Onnx__ModelProto *m) {
    int64_t p[4] = {3, 3, 3, 3};
    pb_attr_ints(node(m, "MaxPool", 0), "pads", 4, p);
}
static void e_pool_huge(Onnx__ModelProto *m) {  // a window larger than the padded input
    int64_t k[2] = {64, 64};
    pb_attr_ints(node(m, "MaxPool", 0), "kernel_shape", 2, k);
}
static void e_dup_output(Onnx__ModelProto *m) {
    pb_set_str(&node(m, "Relu", 1)->output[0], node(m, "Relu", 0)->output[0]);
}
static void e_dup_init(Onnx__ModelProto *m) {
    Onnx__TensorProto *t = pb_init(m->graph, "fc_bias");
    int64_t d = t->dims[0];
    float *z = calloc((size_t)d, sizeof *z);
    pb_add_init(m->graph, pb_f32_init("fc_bias", 1, &d, z));
    free(z);
}
static void e_missing_input(Onnx__ModelProto *m) { pb_set_str(&node(m, "Add", 0)->input[0], ""); }
static void e_bn_4inputs(Onnx__ModelProto *m) {
    Onnx__NodeProto *b = node(m, "BatchNormalization", 0);
    free(b->input[4]);
    b->n_input = 4;
}
static void e_no_graph(Onnx__ModelProto *m) {
    onnx__graph_proto__free_unpacked(m->graph, NULL);
    m->graph = NULL;
}
static void e_constant_sparse(Onnx__ModelProto *m) {
    const char *out[1] = {"c0"};
    Onnx__NodeProto *c = pb_new_node("Constant", "const0", 0, NULL, 1, out);
    pb_attr_f(c, "value_float", 1.0f);
    pb_insert_node(m->graph, 0, c);
}

// Nested Attribute.g graphs far deeper than any model: refused before protobuf-c recurses.
static void test_deep_nesting(void) {
    size_t depth = 3 * 1666, cap = depth * 16 + 64, len = 0;
    uint8_t *buf = malloc(cap), *tmp = malloc(cap);
    // Innermost first: GraphProto{ node: NodeProto{ attribute: AttributeProto{ g: GraphProto{...} } } }
    for (size_t i = 0; i < depth; i++) {
        static const uint8_t tags[3] = {0x32 /* Attribute.g = 6 */, 0x2a /* Node.attribute = 5 */, 0x0a /* Graph.node = 1 */};
        uint8_t tag = tags[i % 3];
        size_t n = 0;
        tmp[n++] = tag;
        size_t l = len;
        do {
            tmp[n++] = (uint8_t)((l & 0x7f) | (l > 0x7f ? 0x80 : 0));
            l >>= 7;
        } while (l);
        memcpy(tmp + n, buf, len);
        len += n;
        memcpy(buf, tmp, len);
    }
    // ModelProto.graph = 7
    memmove(buf + 8, buf, len);
    size_t n = 0, l = len;
    buf[n++] = 0x3a;
    do {
        buf[n++] = (uint8_t)((l & 0x7f) | (l > 0x7f ? 0x80 : 0));
        l >>= 7;
    } while (l);
    memmove(buf + n, buf + 8, len);
    len += n;
    rn_graph *g = NULL;
    rn_err err;
    int rc = rn_onnx_import_buffer(buf, len, "deep.onnx", &g, &err);
    CHECK(rc != 0 && strstr(err.msg, "nested deeper"), "deep nesting: rc %d: %s", rc, rc ? err.msg : "");
    rn_graph_destroy(g);
    free(buf);
    free(tmp);
}

static void test_buffers(void) {
    rn_graph *g = NULL;
    rn_err err;
    CHECK(rn_onnx_import_buffer((const uint8_t *)"", 0, "empty.onnx", &g, &err) != 0 && strstr(err.msg, "empty"),
          "empty buffer: %s", err.msg);
    const char *junk = "hello, world: certainly not a protobuf";
    CHECK(rn_onnx_import_buffer((const uint8_t *)junk, strlen(junk), "junk.onnx", &g, &err) != 0 &&
              strstr(err.msg, "junk.onnx"), "junk: %s", err.msg);
    CHECK(rn_onnx_sniff(base_buf[0], base_len[0]) == 1, "sniff of our export");
    CHECK(rn_onnx_sniff((const uint8_t *)"\x89RNCKPT\n", 8) == 0, "sniff of a checkpoint header");
    CHECK(rn_onnx_sniff((const uint8_t *)junk, strlen(junk)) == 0, "sniff of text");
    CHECK(rn_onnx_import("/nonexistent/model.onnx", &g, &err) != 0 && strstr(err.msg, "/nonexistent/model.onnx"),
          "missing file: %s", err.msg);
    CHECK(g == NULL, "no graph on failure");
}

// Details of the accepted variants beyond "same graph".
static void test_variant_details(void) {
    rn_err err;
    rn_graph *g = edited(0, e_identity_weight, &err);
    CHECK(g && rn_graph_find(g, "stem_weight_alias") >= 0 && rn_graph_find(g, "stem_conv_weight") < 0,
          "Identity of a weight: the alias names the tensor");
    if (g) {
        const rn_tensor *a = &g->tensors[rn_graph_find(g, "stem_weight_alias")];
        const rn_tensor *b = &base_g[0]->tensors[rn_graph_find(base_g[0], "stem_conv_weight")];
        CHECK(memcmp(a->data, b->data, rn_tensor_numel(b) * 4) == 0, "Identity of a weight: values");
    }
    rn_graph_destroy(g);

    g = edited(0, e_shared_gamma, &err);
    CHECK(g != NULL, "shared initializer: %s", err.msg);
    if (g) {
        int a = rn_graph_find(g, "stem_bn_gamma"), b = rn_graph_find(g, "stem_bn_gamma_copy1");
        CHECK(a >= 0 && b >= 0 && a != b, "shared initializer: one tensor per use");
        if (a >= 0 && b >= 0) CHECK(memcmp(g->tensors[a].data, g->tensors[b].data, 8 * 4) == 0, "copy values");
        CHECK(rn_graph_find(g, "stage1_block0_bn1_gamma") < 0, "unused initializer not imported");
    }
    rn_graph_destroy(g);

    g = edited(1, e_reshape0, &err);
    CHECK(g != NULL, "Reshape: %s", err.msg);
    if (g) {
        int k = g->tensors[g->output].producer;
        CHECK(g->ops[k - 1].type == RN_OP_FLATTEN, "Reshape became Flatten");
        CHECK(graph_diff(g, base_g[1]) == 0, "Reshape model equals the Flatten model (names included)");
    }
    rn_graph_destroy(g);

    g = edited(0, e_gemm_noc, &err);
    CHECK(g != NULL, "Gemm without C: %s", err.msg);
    if (g) {
        const rn_op *fc = &g->ops[g->tensors[g->output].producer];
        const rn_tensor *b = &g->tensors[fc->in[2]];
        CHECK(fc->n_in == 3 && b->role == RN_PARAM && b->ndim == 1 && b->dims[0] == 5 && b->data[0] == 0.0f &&
                  b->data[4] == 0.0f && strncmp(b->name, "fc_bias", 7) == 0,
              "a zero bias named after the output: %s", b->name);
    }
    rn_graph_destroy(g);

    g = edited(0, e_input_renamed, &err);
    CHECK(g != NULL, "input.1: %s", err.msg);
    if (g) {
        const rn_tensor *in = &g->tensors[g->input];
        CHECK(strcmp(in->name, "input.1") == 0 && in->dims[1] == 3 && in->dims[2] == 224 && in->dims[3] == 224,
              "symbolic H, W give the nominal 224: %s %lld", in->name, (long long)in->dims[2]);
        uint8_t *buf;
        size_t len;
        CHECK(rn_onnx_export_buffer(g, &buf, &len, &err) == 0, "re-export: %s", err.msg);
        Onnx__ModelProto *m = pb_unpack(buf, len);
        CHECK(strcmp(m->graph->input[0]->name, "data") == 0, "export names the input 'data'");
        onnx__model_proto__free_unpacked(m, NULL);
        free(buf);
    }
    rn_graph_destroy(g);

    g = edited(0, e_fold, &err);
    CHECK(g != NULL, "BN folded: %s", err.msg);
    if (g) {
        int bns = 0, biased = 0, convs = 0;
        for (int k = 0; k < g->n_ops; k++) {
            bns += g->ops[k].type == RN_OP_BATCHNORM;
            convs += g->ops[k].type == RN_OP_CONV;
            biased += g->ops[k].type == RN_OP_CONV && g->ops[k].n_in == 3;
        }
        CHECK(bns == 0 && convs > 0 && biased == convs, "folded: %d BN, %d/%d convs with bias", bns, biased, convs);
    }
    rn_graph_destroy(g);

    g = edited(1, NULL, &err);
    CHECK(g && g->tensors[rn_graph_find(g, "data_bn_gamma")].trainable == 0 &&
              g->tensors[rn_graph_find(g, "stem_bn_gamma")].trainable == 1,
          "the input BN's scale stays frozen, others train");
    rn_graph_destroy(g);
}

int main(void) {
    rn_err err;
    rn_model_opts o1 = tiny_opts(1, 0), o2 = tiny_opts(2, 1);
    base_g[0] = make_model(&o1, 11);
    base_g[1] = make_model(&o2, 12);
    for (int i = 0; i < 2; i++)
        if (rn_onnx_export_buffer(base_g[i], &base_buf[i], &base_len[i], &err)) {
            fprintf(stderr, "export: %s\n", err.msg);
            return 1;
        }

    // Accepted, and the same graph as exported.
    expect_ok("plain", 0, NULL, 1);
    expect_ok("plain v2", 1, NULL, 1);
    expect_ok("float_data + IR 4 inputs", 0, e_zoo_storage, 1);
    expect_ok("float_data + IR 4 inputs v2", 1, e_zoo_storage, 1);
    expect_ok("Identity on an activation", 0, e_identity, 1);
    expect_ok("Reshape [0,-1]", 1, e_reshape0, 1);
    expect_ok("Reshape [1,-1] raw", 1, e_reshape1, 1);
    expect_ok("Reshape [-1,C]", 1, e_reshape_c, 1);
    expect_ok("Reshape shape from Constant", 1, e_reshape_constant, 1);
    expect_ok("BN with 5 outputs", 0, e_bn5, 1);
    expect_ok("BN training_mode opset 14", 1, e_bn_training14, 1);
    expect_ok("BN spatial=0", 0, e_bn_spatial0, 1);
    expect_ok("opset 11, PyTorch attributes", 0, e_opset11_torch, 1);
    expect_ok("Gemm transB=0", 0, e_gemm_transb0, 1);
    expect_ok("Identity on a weight", 0, e_identity_weight, 0);
    expect_ok("shared initializer", 0, e_shared_gamma, 0);
    expect_ok("Gemm without C", 0, e_gemm_noc, 0);
    expect_ok("input named input.1, symbolic H and W", 0, e_input_renamed, 0);
    expect_ok("BN folded into convs", 0, e_fold, 0);
    test_variant_details();

    // Refused, with the node or tensor named.
    expect_fail("unknown op", 0, e_unknown_op, "op type 'Softmax' is not supported", "stage1_block0_relu");
    expect_fail("nodes out of order", 0, e_out_of_order, "not defined before this node", "node '");
    expect_fail("self cycle", 0, e_self_cycle, "not defined before this node", "stem_relu");
    expect_fail("truncated raw_data", 0, e_truncated_data, "stem_conv_weight", "holds 1175 values");
    expect_fail("DOUBLE weights", 0, e_double, "stem_conv_weight", "data type DOUBLE");
    expect_fail("INT64 weights", 0, e_int64_weight, "fc_bias", "data type INT64");
    expect_fail("huge dims", 0, e_huge_dims, "stem_conv_weight", "oversized");
    expect_fail("negative dim", 0, e_negative_dim, "stem_conv_weight", "negative");
    expect_fail("missing data", 0, e_no_data, "fc_weight", "holds 0 values");
    expect_fail("external data", 0, e_external, "fc_weight", "external");
    expect_fail("group=2", 0, e_group, "group", "stage1_block0_conv1");
    expect_fail("dilations", 0, e_dilation, "dilations", "stage1_block0_conv1");
    expect_fail("stride 0", 0, e_stride0, "strides", "outside");
    expect_fail("3 pads", 0, e_pads3, "pads", "entries");
    expect_fail("unknown attribute", 0, e_unknown_attr, "attribute 'foo'", "stage1_block0_conv1");
    expect_fail("auto_pad SAME_UPPER", 0, e_auto_pad, "auto_pad=SAME_UPPER", "stage1_block0_conv1");
    expect_fail("weight from an activation", 0, e_weight_from_act, "must be a constant", "stage1_block0_conv1");
    expect_fail("channel mismatch", 0, e_channel_mismatch, "stage1_block0_conv2", "input channels");
    expect_fail("two graph outputs", 0, e_two_outputs, "2 outputs", NULL);
    expect_fail("output is the input", 0, e_output_is_input, "graph output 'data'", NULL);
    expect_fail("two graph inputs", 0, e_two_inputs, "'mask'", "only one input");
    expect_fail("3-D input", 0, e_input_3d, "4-D", NULL);
    expect_fail("opset 6", 0, e_opset6, "opset 6", NULL);
    expect_fail("no default opset", 0, e_opset_none, "no opset import", NULL);
    expect_fail("IR 2", 0, e_ir2, "IR version 2", NULL);
    expect_fail("foreign domain", 0, e_domain, "domain 'com.microsoft'", "stem_relu");
    expect_fail("Flatten not after GAP", 0, e_flatten_not_gap, "after GlobalAveragePool", "flatten");
    expect_fail("Flatten axis 2", 0, e_flatten_axis, "axis=2", "flatten");
    expect_fail("Reshape to (2, -1)", 1, e_reshape_bad, "not a flatten", "flatten");
    expect_fail("Reshape to wrong C", 1, e_reshape_badc, "100 columns", "flatten");
    expect_fail("Gemm alpha", 0, e_gemm_alpha, "alpha=2", "fc");
    expect_fail("Gemm transA", 0, e_gemm_transa, "transA=1", "fc");
    expect_fail("Gemm 3-D weight", 0, e_gemm_w3d, "fc_weight", "3 dimensions");
    expect_fail("MaxPool ceil_mode", 0, e_ceil, "ceil_mode=1", "stem_pool");
    expect_fail("MaxPool pads >= kernel", 0, e_pool_pads, "pads must be smaller", "stem_pool");
    expect_fail("MaxPool window over the input", 0, e_pool_huge, "empty output", "stem_pool");
    expect_fail("value defined twice", 0, e_dup_output, "defined twice", "stage1_block0_relu1");
    expect_fail("initializer defined twice", 0, e_dup_init, "'fc_bias' is defined twice", NULL);
    expect_fail("missing required input", 0, e_missing_input, "input 0 is empty", "stage1_block0_add");
    expect_fail("BN with 4 inputs", 0, e_bn_4inputs, "4 inputs, expected 5", "stem_bn");
    expect_fail("BN statistics used", 0, e_bn_stats_used, "not supported", "stem_bn");
    expect_fail("no graph", 0, e_no_graph, "no graph", NULL);
    expect_fail("Constant value_float", 0, e_constant_sparse, "attribute 'value_float'", "const0");
    test_deep_nesting();
    test_buffers();

    for (int i = 0; i < 2; i++) {
        free(base_buf[i]);
        rn_graph_destroy(base_g[i]);
    }
    return check_summary();
}
