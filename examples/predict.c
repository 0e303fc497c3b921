// predict.c — libresnet example: build a ResNet from an INI config, run one JPEG through it and
// print the most likely class, as `resnet-predict --top 1` does ("1 probability index name").
//
//   predict CONFIG IMAGE.jpg [MODEL]
//
// Without MODEL the weights are the config's fresh initialisation (seeded by [train] seed): the
// class is arbitrary, but every step runs. MODEL is a checkpoint or an ONNX file.
// Build: cc predict.c $(pkg-config --cflags --libs resnet)   (or CMake: examples/CMakeLists.txt)
#include <stdio.h>
#include <stdlib.h>

#include "data/image.h"
#include "data/transform.h"
#include "export/classes.h"
#include "export/model_io.h"
#include "src/config.h"
#include "layers/exec.h"
#include "src/resnet.h"

static rn_config cfg;  // every section of the INI; static: its path buffers make it large

// The network: the config's [model] with fresh weights, or a model file with its own.
static int load_net(const char *model, rn_graph **g, rn_err *err) {
    if (model) return rn_model_load(model, g, err);
    if (rn_resnet_build(&cfg.model, g, err)) return -1;
    rn_graph_init_params(*g, cfg.train.seed);
    return 0;
}

// The image as the evaluation sees it ([data] resize, size, mean, std): (3, size, size).
static int load_image(const char *path, float *x, rn_err *err) {
    uint8_t *jpeg = NULL;
    size_t cap = 0, len = 0;
    rn_decoder *dec = rn_decoder_create();
    rn_xform_ws ws = {0};
    rn_err e;
    int rc = rn_read_file(path, &jpeg, &cap, &len, &e) ||
             rn_preprocess_image(dec, &ws, jpeg, len, &cfg.data, NULL, x, &e);
    if (rc) rn_fail(err, "%s: %s", path, e.msg);
    rn_xform_ws_free(&ws);
    rn_decoder_destroy(dec);
    free(jpeg);
    return rc ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: predict CONFIG IMAGE.jpg [MODEL]\n");
        return 2;
    }
    rn_err err;
    rn_graph *g = NULL;
    rn_exec *ex = NULL;
    int size = 0;
    float *x = NULL;
    rn_exec_opts opts = rn_exec_opts_default(0);  // inference: running statistics, no backward
    int rc = rn_config_load(&cfg, argv[1], NULL, 0, &err) || load_net(argc == 4 ? argv[3] : NULL, &g, &err);
    if (!rc) {
        size = cfg.data.size;
        x = malloc((size_t)3 * size * size * sizeof *x);
        rc = load_image(argv[2], x, &err) || rn_exec_create(g, 1, size, size, &opts, &ex, &err);
    }
    if (rc) {
        fprintf(stderr, "predict: %s\n", err.msg);
        free(x);
        if (g) rn_graph_destroy(g);
        return 1;
    }

    size_t classes = rn_exec_numel(ex, g->output);  // batch 1: (1, classes)
    float *scores = malloc(classes * sizeof *scores);
    double *p = malloc(classes * sizeof *p);
    size_t best;
    if (rn_exec_set_input(ex, x, &err) || rn_exec_forward(ex, &err) || rn_exec_get_output(ex, scores, &err)) {
        fprintf(stderr, "predict: %s\n", err.msg);  // oneDNN out of memory while running
        return 1;
    }
    rn_softmax(scores, classes, p);
    rn_topk(p, classes, 1, &best);

    // Class names: the ImageNet list installed with the library, for a 1000-class model.
    rn_labels names = {NULL, 0};
    char path[4096];
    if (classes == 1000 && (rn_labels_imagenet_path(path, sizeof path, &err) || rn_labels_load(path, &names, &err)))
        fprintf(stderr, "predict: no class names: %s\n", err.msg);
    printf("1 %.6f %zu %s\n", p[best], best, names.n > (int)best ? names.names[best] : "-");

    rn_labels_free(&names);
    free(p);
    free(scores);
    free(x);
    rn_exec_destroy(ex);
    rn_graph_destroy(g);
    return 0;
}
