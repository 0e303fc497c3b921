// resnet-info CONFIG — prints the network of a config, one line per op with its output shape,
// and ends with exactly one line: params: trainable=N total=N tensors=N flops=N
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/config.h"

static const rn_cli cli = {
    "resnet-info",
    "usage: resnet-info CONFIG [--set section.key=value ...]\n",
    "Prints the network of CONFIG's [model]: one line per op with its output shape and parameter\n"
    "count, then one line: params: trainable=N total=N tensors=N flops=N\n\n"
    "  --set section.key=value  override one key of the config (repeatable)\n"
    "  --help, --version        this text; the version, oneDNN's and its CPU ISA\n\n"
    "Exit status: 0, or 2 for a bad config or command line.\n\n"
    "Example:\n"
    "  resnet-info configs/resnet50v1.ini --set model.num_classes=10\n",
};

int main(int argc, char **argv) {
    // Static, so that it stays reachable (not a leak) whichever way main returns.
    static const char **overrides;
    overrides = rn_calloc((size_t)argc, sizeof *overrides);
    const char *path = NULL;
    int n_over = 0;
    for (int i = 1; i < argc; i++) {
        if (rn_cli_info(&cli, argv[i])) return 0;
        if (strcmp(argv[i], "--set") == 0) {
            if (!(overrides[n_over++] = rn_cli_value(&cli, argc, argv, &i))) return 2;
        } else if (argv[i][0] == '-') return rn_cli_fail(&cli, "unknown option '%s'", argv[i]);
        else if (path) return rn_cli_fail(&cli, "one CONFIG only, got '%s' and '%s'", path, argv[i]);
        else path = argv[i];
    }
    if (!path) return rn_cli_fail(&cli, "no CONFIG given");
    rn_config cfg;
    rn_err err;
    rn_graph *g = NULL;
    if (rn_config_load(&cfg, path, overrides, n_over, &err) || rn_resnet_build(&cfg.model, &g, &err)) {
        fprintf(stderr, "resnet-info: %s\n", err.msg);
        return 2;
    }
    printf("%-4s %-20s %-34s %-20s %s\n", "#", "op", "name", "output", "params");
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        const rn_tensor *o = &g->tensors[op->out];
        char shape[64] = "";
        for (int i = 0; i < o->ndim; i++) {
            size_t l = strlen(shape);
            snprintf(shape + l, sizeof shape - l, "%s%lld", i ? "x" : "", (long long)o->dims[i]);
        }
        size_t np = 0;
        for (int i = 0; i < op->n_in; i++)
            if (g->tensors[op->in[i]].role == RN_PARAM || g->tensors[op->in[i]].role == RN_STATE)
                np += rn_tensor_numel(&g->tensors[op->in[i]]);
        printf("%-4d %-20s %-34s %-20s %zu\n", k, rn_op_type_name(op->type), op->name, shape, np);
    }
    size_t trainable, total;
    int tensors;
    double flops;
    rn_graph_stats(g, &trainable, &total, &tensors, &flops);
    printf("params: trainable=%zu total=%zu tensors=%d flops=%.0f\n", trainable, total, tensors, flops);
    rn_graph_destroy(g);
    return 0;
}
