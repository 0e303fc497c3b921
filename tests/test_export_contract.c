// test_export_contract — crafted models that break the op contract (layers/op_contract.c) are refused
// at load, with a message naming the node, never imported or exported: ONNX files edited at the
// protobuf level (a Conv whose weight is the graph input, a BatchNormalization with one input, a
// Gemm whose B is an activation, attribute values the executors do not run), and checkpoints
// written from a graph edited after finalize. resnet-export, given such a file, exits 1 with the
// file's and the node's name and writes nothing. Run under -DRN_SANITIZE=ON too.
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export/onnx.h"
#include "optim/checkpoint.h"
#include "tests/check.h"
#include "tests/test_export_pb.h"
#include "tests/test_export_util.h"

typedef void (*edit_fn)(Onnx__ModelProto *m);

static uint8_t *base_buf;
static size_t base_len;
static char dir[256];

static Onnx__NodeProto *node(Onnx__ModelProto *m, const char *type, int nth) {
    int k = pb_node(m->graph, type, nth);
    if (k < 0) {
        fprintf(stderr, "no %s #%d\n", type, nth);
        exit(1);
    }
    return m->graph->node[k];
}

static void drop_inputs_after(Onnx__NodeProto *n, size_t keep) {
    for (size_t i = keep; i < n->n_input; i++) free(n->input[i]);
    n->n_input = keep;
}

static void e_conv_w_is_data(Onnx__ModelProto *m) { pb_set_str(&node(m, "Conv", 0)->input[1], "data"); }
static void e_conv_w_is_act(Onnx__ModelProto *m) {
    pb_set_str(&node(m, "Conv", 1)->input[1], node(m, "Relu", 0)->output[0]);
}
static void e_conv_one_input(Onnx__ModelProto *m) { drop_inputs_after(node(m, "Conv", 0), 1); }
static void e_bn_one_input(Onnx__ModelProto *m) { drop_inputs_after(node(m, "BatchNormalization", 0), 1); }
static void e_bn_scale_is_data(Onnx__ModelProto *m) { pb_set_str(&node(m, "BatchNormalization", 1)->input[1], "data"); }
static void e_add_one_input(Onnx__ModelProto *m) { drop_inputs_after(node(m, "Add", 0), 1); }
static void e_gemm_b_is_act(Onnx__ModelProto *m) {
    Onnx__NodeProto *g = node(m, "Gemm", 0);
    pb_set_str(&g->input[1], g->input[0]);
}
static void e_gemm_c_is_act(Onnx__ModelProto *m) {
    Onnx__NodeProto *g = node(m, "Gemm", 0);
    pb_set_str(&g->input[2], g->input[0]);
}
static void e_bn_eps0(Onnx__ModelProto *m) { pb_attr_f(node(m, "BatchNormalization", 0), "epsilon", 0.0f); }
static void e_bn_momentum(Onnx__ModelProto *m) { pb_attr_f(node(m, "BatchNormalization", 0), "momentum", 2.0f); }
static void e_conv_group(Onnx__ModelProto *m) { pb_attr_i(node(m, "Conv", 1), "group", 2); }
static void e_conv_pads(Onnx__ModelProto *m) {
    static const int64_t p[4] = {3, 3, 3, 3};  // on a 3x3 kernel
    pb_attr_ints(node(m, "Conv", 1), "pads", 4, p);
}

static const struct {
    const char *what;
    edit_fn f;
    const char *f1, *f2;
} cases[] = {
    {"Conv weight is the graph input", e_conv_w_is_data, "node 'stem_conv' (Conv)", "input 1 'data' must be a constant"},
    {"Conv weight is an activation", e_conv_w_is_act, "stage1_block0_conv1", "must be a constant"},
    {"Conv with one input", e_conv_one_input, "stem_conv", "has 1 inputs, expected 2 to 3"},
    {"BN with one input", e_bn_one_input, "stem_bn", "has 1 inputs, expected 5"},
    {"BN scale is the graph input", e_bn_scale_is_data, "stage1_block0_bn1", "input 1 'data' must be a constant"},
    {"Add with one input", e_add_one_input, "stage1_block0_add", "has 1 inputs, expected 2"},
    {"Gemm B is an activation", e_gemm_b_is_act, "node 'fc' (Gemm)", "must be a constant"},
    {"Gemm C is an activation", e_gemm_c_is_act, "node 'fc' (Gemm)", "input 2"},
    {"BN epsilon 0", e_bn_eps0, "op 'stem_bn' (BatchNormalization)", "epsilon 0 must be positive"},
    {"BN momentum 2", e_bn_momentum, "op 'stem_bn'", "momentum 2 is outside [0, 1]"},
    {"Conv group 2", e_conv_group, "op 'stage1_block0_conv1' (Conv)", "group=2 is not supported"},
    {"Conv pads = kernel", e_conv_pads, "op 'stage1_block0_conv1'", "pads must be smaller than the kernel"},
};

static void edited(edit_fn f, uint8_t **buf, size_t *len) {
    Onnx__ModelProto *m = pb_unpack(base_buf, base_len);
    f(m);
    pb_pack(m, buf, len);
    onnx__model_proto__free_unpacked(m, NULL);
}

static void write_file(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

// resnet-export MODEL -o OUT: must exit 1, name MODEL and `frag` on stderr, and leave no OUT.
static void export_refuses(const char *model, const char *frag, const char *what) {
    char out[512], errf[512], cmd[2048];
    snprintf(out, sizeof out, "%s/out.onnx", dir);
    snprintf(errf, sizeof errf, "%s/stderr.txt", dir);
    unlink(out);
    snprintf(cmd, sizeof cmd, "'%s' '%s' -o '%s' 2>'%s' >/dev/null", RESNET_EXPORT, model, out, errf);
    int st = system(cmd);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: resnet-export status %d", what, st);
    char msg[2048] = {0};
    FILE *f = fopen(errf, "r");
    if (f) {
        size_t n = fread(msg, 1, sizeof msg - 1, f);
        msg[n] = 0;
        fclose(f);
    }
    CHECK(strstr(msg, model) && strstr(msg, frag), "%s: resnet-export said '%s' (wanted %s and '%s')", what, msg,
          model, frag);
    struct stat sb;
    CHECK(stat(out, &sb) != 0, "%s: resnet-export wrote %s", what, out);
}

static void test_onnx(void) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *buf;
        size_t len;
        edited(cases[i].f, &buf, &len);
        rn_graph *g = NULL;
        rn_err err;
        err.msg[0] = 0;
        int rc = rn_onnx_import_buffer(buf, len, "crafted.onnx", &g, &err);
        CHECK(rc == -1 && g == NULL, "%s: imported", cases[i].what);
        CHECK(strstr(err.msg, "crafted.onnx") && strstr(err.msg, cases[i].f1) && strstr(err.msg, cases[i].f2),
              "%s: message '%s' lacks '%s' or '%s'", cases[i].what, err.msg, cases[i].f1, cases[i].f2);
        rn_graph_destroy(g);
        if (i == 0 || i == 3 || i == 6 || i == 8) {  // the tool, for the three graphs and one attribute
            char path[512];
            snprintf(path, sizeof path, "%s/crafted%zu.onnx", dir, i);
            write_file(path, buf, len);
            export_refuses(path, cases[i].f1, cases[i].what);
        }
        free(buf);
    }
}

// Checkpoints of graphs broken after finalize: the reader rebuilds the graph, finalize refuses it.
static void test_checkpoint(void) {
    static const char *const what[3] = {"Conv weight is the graph input", "BN with one input", "Gemm B is an activation"};
    static const char *const frag[3] = {"op 'stem_conv' (Conv): input 1 (W) 'data' must be a parameter, is the graph input",
                                        "op 'stem_bn' (BatchNormalization): has 1 inputs, expected 5",
                                        "op 'fc' (Gemm): input 1 (B) 'flatten' must be a parameter, is an activation"};
    for (int c = 0; c < 3; c++) {
        rn_model_opts o = tiny_opts(1, 0);
        rn_graph *g = make_model(&o, 11);
        for (int k = 0; k < g->n_ops; k++) {
            rn_op *op = &g->ops[k];
            if (c == 0 && !strcmp(op->name, "stem_conv")) op->in[1] = g->input;
            if (c == 1 && !strcmp(op->name, "stem_bn")) op->n_in = 1;
            if (c == 2 && op->type == RN_OP_GEMM) op->in[1] = op->in[0];
        }
        char path[512];
        snprintf(path, sizeof path, "%s/crafted%d.ckpt", dir, c);
        rn_err err;
        CHECK(rn_checkpoint_save(path, g, NULL, NULL, &err) == 0, "%s: save: %s", what[c], err.msg);
        rn_graph_destroy(g);
        rn_graph *h = NULL;
        err.msg[0] = 0;
        int rc = rn_checkpoint_load_model(path, &h, &err);
        CHECK(rc == -1 && h == NULL, "%s: checkpoint loaded", what[c]);
        CHECK(strstr(err.msg, frag[c]) != NULL, "%s: message '%s' lacks '%s'", what[c], err.msg, frag[c]);
        rn_graph_destroy(h);
        export_refuses(path, frag[c], what[c]);
    }
}

int main(void) {
    snprintf(dir, sizeof dir, "test_export_contract.d");
    mkdir(dir, 0755);
    rn_model_opts o = tiny_opts(1, 0);
    rn_graph *g = make_model(&o, 7);
    rn_err err;
    if (rn_onnx_export_buffer(g, &base_buf, &base_len, &err)) {
        fprintf(stderr, "export: %s\n", err.msg);
        return 1;
    }
    rn_graph *back = NULL;
    CHECK(rn_onnx_import_buffer(base_buf, base_len, "base.onnx", &back, &err) == 0, "the unedited model: %s", err.msg);
    rn_graph_destroy(back);
    rn_graph_destroy(g);
    test_onnx();
    test_checkpoint();
    free(base_buf);
    return check_summary();
}
