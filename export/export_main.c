// resnet-export — writes a model as ONNX (opset 7, the zoo's format; docs/ONNX.md).
//
//   resnet-export MODEL -o OUT.onnx          MODEL: a training checkpoint or an ONNX file
//   resnet-export --config CONFIG [--set section.key=value ...] [--seed S] -o OUT.onnx
//                                            a freshly initialised network of that config
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/model_io.h"
#include "export/onnx.h"
#include "src/config.h"

static int usage(void) {
    fprintf(stderr,
            "usage: resnet-export MODEL -o OUT.onnx\n"
            "       resnet-export --config CONFIG [--set section.key=value ...] [--seed S] -o OUT.onnx\n"
            "MODEL is a training checkpoint or an ONNX file; --config exports a freshly initialised network.\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *model = NULL, *config = NULL, *out = NULL;
    const char *overrides[64];
    int n_over = 0;
    unsigned long long seed = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) config = argv[++i];
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_over < 64) overrides[n_over++] = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' || model) return usage();
        else model = argv[i];
    }
    if (!out || (!model) == (!config)) return usage();
    rn_err err;
    rn_graph *g = NULL;
    if (config) {
        rn_config cfg;
        if (rn_config_load(&cfg, config, overrides, n_over, &err) || rn_resnet_build(&cfg.model, &g, &err)) {
            fprintf(stderr, "resnet-export: %s\n", err.msg);
            return 2;
        }
        rn_graph_init_params(g, seed);
    } else if (rn_model_load(model, &g, &err)) {
        fprintf(stderr, "resnet-export: %s\n", err.msg);
        return 1;
    }
    if (rn_onnx_export(g, out, &err)) {
        fprintf(stderr, "resnet-export: %s\n", err.msg);
        rn_graph_destroy(g);
        return 1;
    }
    size_t trainable, total;
    int tensors;
    double flops;
    rn_graph_stats(g, &trainable, &total, &tensors, &flops);
    printf("wrote %s: %d ops, %d initializers, %zu floats, %d classes\n", out, g->n_ops, tensors, total,
           rn_model_num_classes(g));
    rn_graph_destroy(g);
    return 0;
}
