// model_io.c — model files by content (ONNX or checkpoint); see model_io.h.
#include "export/model_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx.h"
#include "optim/checkpoint.h"

int rn_model_load(const char *path, rn_graph **out, rn_err *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail(err, "%s: %s", path, strerror(errno));
    uint8_t head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 0) return rn_fail(err, "%s: empty file", path);
    // A checkpoint starts with its magic (optim/checkpoint.h); an ONNX model with a ModelProto field.
    if (n >= 8 && memcmp(head, "\x89RNCKPT\n", 8) == 0) {
        return rn_checkpoint_load_model(path, out, err);
    }
    if (rn_onnx_sniff(head, n)) return rn_onnx_import(path, out, err);
    return rn_fail(err, "%s: neither an ONNX model nor a training checkpoint", path);
}

// The Gemm that produces the graph output, or -1.
static int classifier(const rn_graph *g) {
    if (g->output < 0) return -1;
    int p = g->tensors[g->output].producer;
    if (p < 0 || g->ops[p].type != RN_OP_GEMM || g->ops[p].n_in != 3) return -1;
    const rn_op *op = &g->ops[p];
    if (g->tensors[op->in[1]].role != RN_PARAM || g->tensors[op->in[2]].role != RN_PARAM) return -1;
    return p;
}

int rn_model_num_classes(const rn_graph *g) {
    int p = classifier(g);
    return p < 0 ? -1 : (int)g->tensors[g->ops[p].in[1]].dims[0];
}
