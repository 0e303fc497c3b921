// test_export — ONNX round trip: export -> import gives the same graph (names, attributes, roles,
// bit-identical weights) and bit-identical scores from the oneDNN executor, for ResNet-18 v1 and
// ResNet-50 v2 at 224 px and small v1/v2 models; a second export of the import is byte-identical
// (stable names); an imported model (also a BN-folded one) trains (forward + backward); model files
// are told apart by content.
#include <unistd.h>

#include "export/model_io.h"
#include "export/onnx.h"
#include "layers/exec.h"
#include "tests/check.h"
#include "tests/test_export_pb.h"
#include "tests/test_export_util.h"
#include "optim/checkpoint.h"

// Scores of g for a fixed random batch (caller frees).
static float *scores(rn_graph *g, int64_t batch, int64_t size, size_t *n_out) {
    rn_exec_opts eo = rn_exec_opts_default(0);
    rn_exec *ex;
    rn_err err;
    if (rn_exec_create(g, batch, size, size, &eo, &ex, &err)) {
        fprintf(stderr, "exec: %s\n", err.msg);
        exit(1);
    }
    size_t n = (size_t)(batch * 3 * size * size);
    float *x = malloc(n * sizeof *x);
    fill_normal(x, n, 99);
    *n_out = rn_exec_numel(ex, g->output);
    float *y = malloc(*n_out * sizeof *y);
    CHECK(rn_exec_set_input(ex, x, &err) == 0, "rn_exec_set_input: %s", err.msg);
    CHECK(rn_exec_forward(ex, &err) == 0, "rn_exec_forward: %s", err.msg);
    CHECK(rn_exec_get_output(ex, y, &err) == 0, "rn_exec_get_output: %s", err.msg);
    rn_exec_destroy(ex);
    free(x);
    return y;
}

static void roundtrip(const char *what, const rn_model_opts *o, int64_t batch) {
    rn_graph *g = make_model(o, 7);
    rn_err err;
    char path[256];
    snprintf(path, sizeof path, "test_export_%s.onnx", what);
    CHECK(rn_onnx_export(g, path, &err) == 0, "%s: export: %s", what, err.msg);
    rn_graph *h = NULL;
    CHECK(rn_model_load(path, &h, &err) == 0, "%s: import: %s", what, err.msg);
    if (!h) {
        rn_graph_destroy(g);
        return;
    }
    CHECK(graph_diff(h, g) == 0, "%s: imported graph differs", what);

    // Stable names and format: exporting the import gives the same bytes.
    uint8_t *a, *b;
    size_t la, lb;
    CHECK(rn_onnx_export_buffer(g, &a, &la, &err) == 0, "%s: export_buffer", what);
    CHECK(rn_onnx_export_buffer(h, &b, &lb, &err) == 0, "%s: re-export", what);
    CHECK(la == lb && memcmp(a, b, la) == 0, "%s: re-export differs (%zu vs %zu bytes)", what, la, lb);
    FILE *f = fopen(path, "rb");
    uint8_t *c = malloc(la + 1);
    size_t lc = f ? fread(c, 1, la + 1, f) : 0;
    if (f) fclose(f);
    CHECK(lc == la && memcmp(a, c, la) == 0, "%s: file and buffer exports differ", what);
    free(c);

    // Format facts the zoo's files have.
    Onnx__ModelProto *m = pb_unpack(a, la);
    CHECK(m->ir_version == 3 && m->n_opset_import == 1 && m->opset_import[0]->version == 7 &&
              strcmp(m->opset_import[0]->domain, "") == 0, "%s: ir 3 / opset 7", what);
    CHECK(strcmp(m->producer_name, RN_ONNX_PRODUCER) == 0 && strcmp(m->producer_version, RN_ONNX_PRODUCER_VERSION) == 0,
          "%s: producer", what);
    Onnx__GraphProto *gp = m->graph;
    CHECK(gp->n_input == gp->n_initializer + 1 && strcmp(gp->input[0]->name, "data") == 0, "%s: inputs", what);
    const Onnx__TensorShapeProto *s = gp->input[0]->type->tensor_type->shape;
    CHECK(s->n_dim == 4 && s->dim[0]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
              s->dim[1]->dim_value == 3 && s->dim[2]->dim_value == o->input_size, "%s: input shape", what);
    CHECK(gp->n_output == 1 && gp->output[0]->type->tensor_type->shape->n_dim == 2 &&
              gp->output[0]->type->tensor_type->shape->dim[1]->dim_value == o->num_classes, "%s: output", what);
    for (size_t k = 0; k < gp->n_node; k++) {
        const Onnx__NodeProto *nd = gp->node[k];
        if (strcmp(nd->op_type, "BatchNormalization") == 0) {
            const Onnx__AttributeProto *sp = NULL;
            for (size_t i = 0; i < nd->n_attribute; i++)
                if (strcmp(nd->attribute[i]->name, "spatial") == 0) sp = nd->attribute[i];
            CHECK(sp && sp->i == 1 && nd->n_attribute == 3, "%s: BN attributes", what);
        }
        if (strcmp(nd->op_type, "Conv") == 0) CHECK(nd->n_attribute == 5, "%s: Conv attributes", what);
    }
    onnx__model_proto__free_unpacked(m, NULL);
    free(a);
    free(b);

    // Identical scores.
    size_t n1, n2;
    float *y1 = scores(g, batch, o->input_size, &n1), *y2 = scores(h, batch, o->input_size, &n2);
    CHECK(n1 == n2 && n1 == (size_t)(batch * o->num_classes), "%s: output size", what);
    CHECK(memcmp(y1, y2, n1 * sizeof *y1) == 0, "%s: scores differ", what);
    int distinct = 0;
    for (size_t i = 1; i < n1; i++) distinct += y1[i] != y1[0] && isfinite(y1[i]);
    CHECK(distinct > (int)n1 / 2, "%s: scores look degenerate", what);
    free(y1);
    free(y2);
    unlink(path);
    rn_graph_destroy(h);
    rn_graph_destroy(g);
}

// An imported graph trains: forward + backward in training mode, gradients finite and non-zero.
static void trains(const char *what, rn_graph *g) {
    rn_exec_opts eo = rn_exec_opts_default(1);
    rn_exec *ex;
    rn_err err;
    int64_t B = 2, S = g->tensors[g->input].dims[2];
    CHECK(rn_exec_create(g, B, S, S, &eo, &ex, &err) == 0, "%s: training exec: %s", what, err.msg);
    if (!ex) return;
    size_t n = (size_t)(B * 3 * S * S), no = rn_exec_numel(ex, g->output);
    float *x = malloc(n * sizeof *x), *dy = malloc(no * sizeof *dy);
    fill_normal(x, n, 5);
    fill_normal(dy, no, 6);
    memset(g->grad_arena, 0, g->arena_size * sizeof(float));
    CHECK(rn_exec_set_input(ex, x, &err) == 0, "rn_exec_set_input: %s", err.msg);
    CHECK(rn_exec_forward(ex, &err) == 0, "rn_exec_forward: %s", err.msg);
    CHECK(rn_exec_backward(ex, dy, &err) == 0, "rn_exec_backward: %s", err.msg);
    int params = 0, nonzero = 0, finite = 1;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM || !t->trainable) continue;
        params++;
        double s = 0;
        for (size_t j = 0; j < rn_tensor_numel(t); j++) {
            s += fabs(t->grad[j]);
            finite &= isfinite(t->grad[j]);
        }
        nonzero += s > 0;
    }
    CHECK(finite && nonzero == params, "%s: %d of %d trainable tensors got a gradient", what, nonzero, params);
    rn_exec_destroy(ex);
    free(x);
    free(dy);
}

static void test_training(void) {
    rn_model_opts o = tiny_opts(1, 1);
    o.width = 16;  // channel counts the executor's blocked layouts take in training
    rn_graph *g = make_model(&o, 3);
    trains("built", g);
    uint8_t *buf, *fb;
    size_t len, flen;
    rn_err err;
    rn_onnx_export_buffer(g, &buf, &len, &err);
    rn_graph *h = NULL;
    CHECK(rn_onnx_import_buffer(buf, len, "tiny", &h, &err) == 0, "import: %s", err.msg);
    if (h) trains("imported", h);
    rn_graph_destroy(h);
    // The structure torch.onnx.export writes in eval mode: no BN, convs with bias.
    Onnx__ModelProto *m = pb_unpack(buf, len);
    pb_fold_bn(m->graph);
    pb_pack(m, &fb, &flen);
    onnx__model_proto__free_unpacked(m, NULL);
    h = NULL;
    CHECK(rn_onnx_import_buffer(fb, flen, "folded", &h, &err) == 0, "folded import: %s", err.msg);
    if (h) trains("BN-folded", h);
    rn_graph_destroy(h);
    free(buf);
    free(fb);
    rn_graph_destroy(g);
}

// Differences between graphs that may order their tensors differently: ops in order with their
// input names, and every tensor's role, shape and bits found by name.
static int graph_diff_by_name(const rn_graph *a, const rn_graph *b) {
    int d = 0;
    if (a->n_ops != b->n_ops) return 1;
    for (int k = 0; k < a->n_ops; k++) {
        const rn_op *x = &a->ops[k], *y = &b->ops[k];
        d += x->type != y->type || strcmp(x->name, y->name) != 0 || x->n_in != y->n_in ||
             strcmp(a->tensors[x->out].name, b->tensors[y->out].name) != 0;
        for (int i = 0; i < x->n_in && i < y->n_in; i++)
            d += strcmp(a->tensors[x->in[i]].name, b->tensors[y->in[i]].name) != 0;
    }
    for (int i = 0; i < a->n_tensors; i++) {
        const rn_tensor *x = &a->tensors[i];
        int j = rn_graph_find(b, x->name);
        if (j < 0) {
            d++;
            continue;
        }
        const rn_tensor *y = &b->tensors[j];
        d += x->role != y->role || x->ndim != y->ndim || (x->role == RN_PARAM && x->trainable != y->trainable);
        if (x->data && y->data && x->ndim == y->ndim && rn_tensor_numel(x) == rn_tensor_numel(y))
            d += memcmp(x->data, y->data, rn_tensor_numel(x) * sizeof(float)) != 0;
    }
    if (d) fprintf(stderr, "graph_diff_by_name: %d differences\n", d);
    return d;
}

static void write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

static void test_model_load(void) {
    rn_graph *g = NULL;
    rn_err err;
    write_file("test_export_junk.bin", "not a model at all", 18);
    CHECK(rn_model_load("test_export_junk.bin", &g, &err) != 0 && strstr(err.msg, "neither"), "junk: %s", err.msg);
    unlink("test_export_junk.bin");
    CHECK(rn_model_load("test_export_missing.onnx", &g, &err) != 0 && strstr(err.msg, "test_export_missing.onnx"),
          "missing: %s", err.msg);
    rn_model_opts o = tiny_opts(2, 0);
    rn_graph *m = make_model(&o, 4);
    CHECK(rn_model_num_classes(m) == 5, "num_classes");
    CHECK(rn_checkpoint_save("test_export.ckpt", m, NULL, NULL, &err) == 0, "checkpoint save: %s", err.msg);
    CHECK(rn_model_load("test_export.ckpt", &g, &err) == 0, "checkpoint load: %s", err.msg);
    if (g) CHECK(graph_diff_by_name(g, m) == 0, "checkpoint model equals the original");
    rn_graph_destroy(g);
    unlink("test_export.ckpt");
    // An export over an existing file replaces it whole (temporary file + rename).
    write_file("test_export_replace.onnx", "old", 3);
    CHECK(rn_onnx_export(m, "test_export_replace.onnx", &err) == 0, "export over a file: %s", err.msg);
    CHECK(rn_model_load("test_export_replace.onnx", &g, &err) == 0 && graph_diff(g, m) == 0, "replaced file loads");
    rn_graph_destroy(g);
    unlink("test_export_replace.onnx");
    CHECK(rn_onnx_export(m, "/nonexistent-dir/x.onnx", &err) != 0 && strstr(err.msg, "/nonexistent-dir/x.onnx"),
          "unwritable path: %s", err.msg);
    rn_graph_destroy(m);
}

int main(void) {
    rn_model_opts r18 = rn_model_opts_default(), r50 = rn_model_opts_default();
    r18.depth = 18;
    r18.version = 1;
    r50.depth = 50;
    r50.version = 2;
    rn_model_opts r50v1 = r50;
    r50v1.version = 1;  // the zoo's v1 bottleneck: 1x1 convs with bias, stride on the first 1x1
    r50v1.input_size = 64;
    rn_model_opts r50v15 = r50v1;
    r50v15.stride_in_3x3 = 1;  // torchvision's v1.5
    rn_model_opts small = tiny_opts(1, 0);
    small.stem_small = 1;
    roundtrip("resnet18v1", &r18, 2);
    roundtrip("resnet50v2", &r50, 2);
    roundtrip("resnet50v1_64px", &r50v1, 2);
    roundtrip("resnet50v15_64px", &r50v15, 2);
    roundtrip("small_stem", &small, 3);
    test_training();
    test_model_load();
    return check_summary();
}
