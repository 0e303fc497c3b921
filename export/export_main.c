// resnet-export — writes a model as ONNX (opset 7, the zoo's format; docs/ONNX.md).
//
//   resnet-export MODEL [--ema] -o OUT.onnx  MODEL: a training checkpoint or an ONNX file
//   resnet-export --config CONFIG [--set section.key=value ...] [--seed S] -o OUT.onnx
//                                            a freshly initialised network of that config
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/model_io.h"
#include "export/onnx.h"
#include "src/cli.h"
#include "src/config.h"
#include "src/parse.h"

static const rn_cli cli = {
    "resnet-export",
    "usage: resnet-export MODEL [--ema] -o OUT.onnx\n"
    "       resnet-export --config CONFIG [--set section.key=value ...] [--seed S] -o OUT.onnx\n",
    "Writes a model as ONNX (opset 7; docs/ONNX.md). MODEL is a training checkpoint or an ONNX file;\n"
    "--config exports a freshly initialised network of that config instead.\n\n"
    "  -o OUT.onnx              the file to write (required)\n"
    "  --ema                    a checkpoint's EMA of the weights ([train] ema_decay) instead of its weights\n"
    "  --config CONFIG          the network of CONFIG's [model], initialised from --seed\n"
    "  --set section.key=value  override one key of CONFIG (repeatable)\n"
    "  --seed S                 parameter initialisation seed (default 0)\n"
    "  --help, --version        this text; the version, oneDNN's and its CPU ISA\n\n"
    "Exit status: 0, 1 for a model that cannot be read or written, 2 for a bad config or command line.\n\n"
    "Example:\n"
    "  resnet-export runs/fashion-mnist-resnet18v2/best.ckpt -o model.onnx\n"
    "  resnet-export runs/resnet50v1-torchvision-recipe/last.ckpt --ema -o model-ema.onnx\n",
};

int main(int argc, char **argv) {
    // Static, so that it stays reachable (not a leak) whichever way main returns.
    static const char **overrides;
    overrides = rn_calloc((size_t)argc, sizeof *overrides);
    const char *model = NULL, *config = NULL, *out = NULL;
    int n_over = 0, ema = 0;
    unsigned long long seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (rn_cli_info(&cli, a)) return 0;
        int takes = !strcmp(a, "-o") || !strcmp(a, "--config") || !strcmp(a, "--set") || !strcmp(a, "--seed");
        if (takes && !(v = rn_cli_value(&cli, argc, argv, &i))) return 2;
        if (!strcmp(a, "-o")) out = v;
        else if (!strcmp(a, "--ema")) ema = 1;
        else if (!strcmp(a, "--config")) config = v;
        else if (!strcmp(a, "--set")) overrides[n_over++] = v;
        else if (!strcmp(a, "--seed")) {
            if (rn_parse_u64(v, &seed)) return rn_cli_fail(&cli, "--seed: expected an integer >= 0, got '%s'", v);
        } else if (a[0] == '-') return rn_cli_fail(&cli, "unknown option '%s'", a);
        else if (model) return rn_cli_fail(&cli, "one MODEL only, got '%s' and '%s'", model, a);
        else model = a;
    }
    if (!out) return rn_cli_fail(&cli, "no -o OUT.onnx given");
    if ((!model) == (!config)) return rn_cli_fail(&cli, "give either MODEL or --config CONFIG");
    if (ema && config) return rn_cli_fail(&cli, "--ema picks a checkpoint's weights: it needs MODEL, not --config");
    rn_err err;
    rn_graph *g = NULL;
    rn_model_meta meta = {0};  // carried into the ONNX file's metadata_props (docs/ONNX.md)
    if (config) {
        rn_config cfg;
        if (rn_config_load(&cfg, config, overrides, n_over, &err) || rn_resnet_build(&cfg.model, &g, &err)) {
            fprintf(stderr, "resnet-export: %s\n", err.msg);
            return 2;
        }
        rn_graph_init_params(g, seed);
        meta.has_preproc = 1;
        meta.pre = rn_data_preproc(&cfg.data);
    } else if (rn_model_load_weights(model, ema ? RN_WEIGHTS_EMA : RN_WEIGHTS_TRAINED, &g, &meta, &err)) {
        fprintf(stderr, "resnet-export: %s\n", err.msg);
        return 1;
    }
    rn_kv kv = {0};
    rn_model_meta_encode(&meta, &kv);
    rn_model_meta_free(&meta);
    int rc = rn_onnx_export_kv(g, &kv, out, &err);
    rn_kv_free(&kv);
    if (rc) {
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
