// model_io.c — model files by content (ONNX or checkpoint); see model_io.h.
#include "export/model_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx.h"
#include "optim/checkpoint.h"

static int load_any(const char *path, rn_weights which, rn_graph **out, rn_model_meta *meta, rn_err *err);

int rn_model_load(const char *path, rn_graph **out, rn_err *err) { return rn_model_load_meta(path, out, NULL, err); }

int rn_model_load_meta(const char *path, rn_graph **out, rn_model_meta *meta, rn_err *err) {
    return rn_model_load_weights(path, RN_WEIGHTS_TRAINED, out, meta, err);
}

static int has_ema(const rn_ckpt *c) {
    for (int i = 0; i < c->n_entries; i++)
        if (c->entries[i].kind == RN_CKPT_EMA) return 1;
    return 0;
}

static int from_ckpt(const char *path, rn_weights which, rn_graph **out, rn_model_meta *meta, rn_err *err) {
    rn_ckpt *ck;
    if (rn_ckpt_read(path, &ck, err)) return -1;
    int rc = 0;
    if (which == RN_WEIGHTS_EMA && !has_ema(ck))
        rc = rn_fail(err, "%s: the checkpoint holds no EMA of the weights (its run had no [train] ema_decay)", path);
    if (!rc && meta)
        rc = rn_model_meta_decode(path, ck->n_meta, (const char *const *)ck->meta_key,
                                  (const char *const *)ck->meta_val, meta, err);
    if (!rc) rc = rn_ckpt_build_graph(ck, out, err);
    // The EMA has the weights' layout (arena offsets), so it is read straight over them.
    if (!rc && which == RN_WEIGHTS_EMA) rc = rn_ckpt_load_kind(ck, *out, RN_CKPT_EMA, (*out)->arena, err);
    rn_ckpt_free(ck);
    return rc;
}

static int from_onnx(const char *path, rn_weights which, rn_graph **out, rn_model_meta *meta, rn_err *err) {
    if (which == RN_WEIGHTS_EMA)
        return rn_fail(err, "%s: an ONNX file holds one set of weights, no EMA (export it with [export] weights = ema, "
                            "or resnet-export --ema from the checkpoint)", path);
    if (!meta) return rn_onnx_import(path, out, err);
    rn_kv kv = {0};
    int rc = rn_onnx_import_kv(path, out, &kv, err);
    if (!rc) rc = rn_model_meta_decode(path, kv.n, (const char *const *)kv.key, (const char *const *)kv.val, meta, err);
    rn_kv_free(&kv);
    return rc;
}

int rn_model_load_weights(const char *path, rn_weights which, rn_graph **out, rn_model_meta *meta, rn_err *err) {
    *out = NULL;
    if (meta) memset(meta, 0, sizeof *meta);
    int rc = load_any(path, which, out, meta, err);
    if (!rc && meta && meta->n_classes) {
        int k = rn_model_num_classes(*out);
        if (k < 0 && (*out)->output >= 0) k = (int)(*out)->tensors[(*out)->output].dims[1];
        if (meta->n_classes != k)
            rc = rn_fail(err, "%s: metadata '%s' names %d classes, the model has %d", path, RN_META_CLASSES,
                         meta->n_classes, k);
    }
    if (rc) {
        if (meta) rn_model_meta_free(meta);
        rn_graph_destroy(*out);
        *out = NULL;
    }
    return rc;
}

static int load_any(const char *path, rn_weights which, rn_graph **out, rn_model_meta *meta, rn_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail(err, "%s: %s", path, strerror(errno));
    uint8_t head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 0) return rn_fail(err, "%s: empty file", path);
    // A checkpoint starts with its magic (optim/checkpoint.h); an ONNX model with a ModelProto field.
    if (n >= 8 && memcmp(head, "\x89RNCKPT\n", 8) == 0) {
        return from_ckpt(path, which, out, meta, err);
    }
    if (rn_onnx_sniff(head, n)) return from_onnx(path, which, out, meta, err);
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
