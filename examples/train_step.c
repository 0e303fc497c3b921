// train_step.c — libresnet example: one SGD step of a ResNet from an INI config on a batch of
// random images (forward, softmax cross-entropy, backward, update) and the loss on the same batch
// before and after it.
//
//   train_step CONFIG [OUT.onnx]
//
// The step is the trainer's (src/train_loop.c) without data loading: the loss is the batch mean,
// so its gradient is already what rn_sgd_step expects. OUT.onnx receives the updated network.
// Build: cc train_step.c $(pkg-config --cflags --libs resnet)   (or CMake: examples/CMakeLists.txt)
#include <stdio.h>
#include <stdlib.h>

#include "export/onnx.h"
#include "layers/softmax_xent.h"
#include "optim/sgd.h"
#include "src/config.h"
#include "layers/exec.h"
#include "src/resnet.h"
#include "src/rng.h"

enum { BATCH = 4 };

static rn_config cfg;  // every section of the INI; static: its path buffers make it large

// Forward on the batch; the loss, and d(loss)/d(scores) into dscores. -1 when oneDNN fails (out of memory).
static int forward_loss(rn_exec *ex, const float *x, const int32_t *labels, int64_t classes, float *scores,
                        float *dscores, double *loss, rn_err *err) {
    if (rn_exec_set_input(ex, x, err) || rn_exec_forward(ex, err) || rn_exec_get_output(ex, scores, err)) return -1;
    *loss = rn_softmax_xent(scores, labels, BATCH, classes, cfg.train.label_smoothing, dscores);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: train_step CONFIG [OUT.onnx]\n");
        return 2;
    }
    rn_err err;
    rn_graph *g = NULL;
    rn_exec *ex = NULL;
    int size = 0;
    rn_exec_opts opts = rn_exec_opts_default(1);  // training: batch statistics, backward
    if (rn_config_load(&cfg, argv[1], NULL, 0, &err) || rn_resnet_build(&cfg.model, &g, &err)) {
        fprintf(stderr, "train_step: %s\n", err.msg);
        return 1;
    }
    rn_graph_init_params(g, cfg.train.seed);
    size = cfg.data.size;
    if (rn_exec_create(g, BATCH, size, size, &opts, &ex, &err)) {
        fprintf(stderr, "train_step: %s\n", err.msg);
        rn_graph_destroy(g);
        return 1;
    }

    // The batch: standard-normal pixels (N, 3, size, size) and labels 0, 1, 2, ...
    size_t n_x = (size_t)BATCH * 3 * size * size;
    int64_t classes = (int64_t)(rn_exec_numel(ex, g->output) / BATCH);
    float *x = malloc(n_x * sizeof *x);
    float *scores = malloc((size_t)(BATCH * classes) * sizeof *scores);   // (N, classes)
    float *dscores = malloc((size_t)(BATCH * classes) * sizeof *dscores);
    int32_t labels[BATCH];
    rn_rng rng;
    rn_rng_seed(&rng, cfg.data.seed);
    for (size_t i = 0; i < n_x; i++) x[i] = (float)rn_rng_normal(&rng);
    for (int i = 0; i < BATCH; i++) labels[i] = (int32_t)(i % classes);

    rn_sgd *sgd = rn_sgd_create(g, &cfg.optim);
    double lr = rn_sgd_scaled_lr(&cfg.optim, BATCH);
    double before = 0, after = 0;
    int rc = forward_loss(ex, x, labels, classes, scores, dscores, &before, &err) ||
             rn_exec_backward(ex, dscores, &err);  // gradients into g->grad_arena
    if (!rc) {
        rn_sgd_step(sgd, g, g->grad_arena, 1.0f, lr);  // bumps g->version: the executor refreshes its weights
        rc = forward_loss(ex, x, labels, classes, scores, NULL, &after, &err);
    }
    if (!rc) printf("loss before %.6f after %.6f (lr %g, batch %d)\n", before, after, lr, BATCH);
    else fprintf(stderr, "train_step: %s\n", err.msg);

    if (!rc && argc == 3 && rn_onnx_export(g, argv[2], &err)) {
        fprintf(stderr, "train_step: %s\n", err.msg);
        rc = 1;
    }
    rn_sgd_destroy(sgd);
    free(dscores);
    free(scores);
    free(x);
    rn_exec_destroy(ex);
    rn_graph_destroy(g);
    return rc;
}
