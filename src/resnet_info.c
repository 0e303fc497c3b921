// resnet-info CONFIG — prints the network of a config, one line per op with its output shape,
// and ends with exactly one line: params: trainable=N total=N tensors=N flops=N
#include <stdio.h>
#include <string.h>

#include "src/config.h"

int main(int argc, char **argv) {
    const char *overrides[64];
    int n_over = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_over < 64) overrides[n_over++] = argv[++i];
        else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "usage: resnet-info CONFIG [--set section.key=value ...]\n");
            return 2;
        } else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: resnet-info CONFIG [--set section.key=value ...]\n");
        return 2;
    }
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
