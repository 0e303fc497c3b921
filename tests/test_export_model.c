// test_export_model — writes an ONNX model with trained-looking weights for the comparisons with
// other runtimes (tests/export/check_export.py):
//
//   test_export_model OUT.onnx --depth D --version V [--classes N] [--size S] [--seed S]
//
// Weights: the builder's initialisation, then BN scale/shift, biases and running statistics drawn
// around their defaults (test_export_util.h), then three forward passes in training mode on random
// batches, so every BN's running statistics also move towards real batch statistics (momentum 0.9)
// and no BN is an identity.
#include "export/onnx.h"
#include "layers/exec.h"
#include "tests/test_export_util.h"

int main(int argc, char **argv) {
    rn_model_opts o = rn_model_opts_default();
    const char *out = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        int more = i + 1 < argc;
        if (strcmp(argv[i], "--depth") == 0 && more) o.depth = atoi(argv[++i]);
        else if (strcmp(argv[i], "--version") == 0 && more) o.version = atoi(argv[++i]);
        else if (strcmp(argv[i], "--classes") == 0 && more) o.num_classes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--size") == 0 && more) o.input_size = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && more) seed = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !out) out = argv[i];
        else {
            fprintf(stderr, "usage: test_export_model OUT.onnx --depth D --version V [--classes N] [--size S] [--seed S]\n");
            return 2;
        }
    }
    if (!out) return 2;
    rn_graph *g = make_model(&o, seed);
    rn_exec_opts eo = rn_exec_opts_default(1);
    rn_exec *ex;
    rn_err err;
    int64_t B = 2, S = o.input_size;
    if (rn_exec_create(g, B, S, S, &eo, &ex, &err)) {
        fprintf(stderr, "test_export_model: %s\n", err.msg);
        return 1;
    }
    size_t n = (size_t)(B * 3 * S * S);
    float *x = malloc(n * sizeof *x);
    for (int step = 0; step < 3; step++) {
        fill_normal(x, n, seed * 10 + (uint64_t)step);
        if (rn_exec_set_input(ex, x, &err) || rn_exec_forward(ex, &err)) {
            fprintf(stderr, "test_export_model: %s\n", err.msg);
            return 1;
        }
    }
    rn_exec_destroy(ex);
    free(x);
    g->version++;
    if (rn_onnx_export(g, out, &err)) {
        fprintf(stderr, "test_export_model: %s\n", err.msg);
        return 1;
    }
    rn_graph_destroy(g);
    return 0;
}
