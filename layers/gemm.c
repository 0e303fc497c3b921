// gemm.c — Gemm (ONNX, alpha = beta = 1, transB = 1): Y = A * B^T + C, the classifier.
// A arrives as the 4-D (N, C, 1, 1) output of GlobalAveragePool (Flatten shares it), so the inner
// product takes it in its blocked layout and B as (O, C, 1, 1); Y is plain (N, O).
#include <stdlib.h>

#include "layers/layer.h"
#include "src/mem.h"

typedef rn_weighted gemm_impl;

// The primitives for the descriptors of gemm_compile; the caller frees the descriptors.
static int gemm_prims(rn_exec *ex, int k, rn_cmd w_any, rn_cmd b_md, rn_cmd y_md, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    gemm_impl *c = ex->impl[k];
    rn_tensor *w = &ex->g->tensors[op->in[1]], *b = &ex->g->tensors[op->in[2]];
    rn_act *x = rn_act_of(ex, op->in[0]);
    int nd = rn_md_ndims(x->md);
    int64_t wdims[4] = {w->dims[0], w->dims[1], 1, 1};
    rn_pd fwd;
    dnnl_status_t st = rn_dnn_ip_fwd(&fwd, ex->eng, ex->opts.training, x->md, w_any, b_md, y_md);
    if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, "an inner product", st);
    int rc = rn_exec_primitive(ex, k, fwd, "an inner product", &c->fwd, err);
    if (!rc) rc = rn_exec_define_output(ex, op, y_md, err);
    if (!rc) rc = rn_exec_memory(ex, b_md, b->data, op, "its bias", &c->bias, err);
    if (!rc) {
        c->w_fwd = rn_exec_weights(ex, op, nd, wdims, w->data, rn_dnn_query(fwd, dnnl_query_weights_md, 0),
                                   RN_W_FORWARD, err);
        rc = c->w_fwd ? 0 : -1;
    }
    if (!rc && x->needs_grad) {
        rn_pd bd = NULL;
        st = rn_dnn_ip_bwd_data(&bd, ex->eng, x->md, w_any, y_md, fwd);
        rc = rn_weighted_adopt(ex, k, st, bd, "an inner product backward-data", &c->bwd_data, &c->w_bwd_data, nd, wdims,
                               w->data, dnnl_query_weights_md, RN_W_BACKWARD_DATA, err);
    }
    if (!rc && ex->opts.training && w->trainable) {
        rn_pd bw = NULL;
        st = rn_dnn_ip_bwd_weights(&bw, ex->eng, x->md, w_any, b_md, y_md, fwd);
        rc = rn_weighted_adopt(ex, k, st, bw, "an inner product backward-weights", &c->bwd_weights, &c->dw, nd, wdims,
                               w->grad, dnnl_query_diff_weights_md, RN_W_GRADIENT, err);
        if (!rc) rc = rn_exec_memory(ex, b_md, b->grad, op, "its bias gradient", &c->dbias, err);
    }
    dnnl_primitive_desc_destroy(fwd);
    return rc;
}

static int gemm_compile(rn_exec *ex, int k, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    if (!(ex->impl[k] = rn_try_calloc(1, sizeof(gemm_impl))))
        return rn_exec_alloc_fail(err, op, "its state", sizeof(gemm_impl));
    rn_tensor *w = &ex->g->tensors[op->in[1]], *b = &ex->g->tensors[op->in[2]];
    int64_t wdims[4] = {w->dims[0], w->dims[1], 1, 1};
    rn_md w_any = rn_md_create(rn_md_ndims(rn_act_of(ex, op->in[0])->md), wdims, dnnl_format_tag_any);
    rn_md b_md = rn_md_create(1, b->dims, dnnl_x), y_md = rn_md_create(2, ex->act[op->out].dims, dnnl_nc);
    int rc = w_any && b_md && y_md ? gemm_prims(ex, k, w_any, b_md, y_md, err)
                                   : rn_exec_alloc_fail(err, op, "its memory descriptors", 0);
    rn_md_destroy(w_any);
    rn_md_destroy(b_md);
    rn_md_destroy(y_md);
    return rc;
}

static void gemm_forward(rn_exec *ex, int k) { rn_weighted_forward(ex, &ex->g->ops[k], ex->impl[k]); }

static void gemm_backward(rn_exec *ex, int k) { rn_weighted_backward(ex, &ex->g->ops[k], ex->impl[k]); }

static void gemm_release(rn_exec *ex, int k) { rn_weighted_release(ex->impl[k]); }

static void gemm_ref_forward(rn_ref *r, const rn_op *op) {
    int64_t N = r->dims[op->out][0], O = r->dims[op->out][1], C = r->dims[op->in[0]][1];
    const double *x = r->val[op->in[0]], *w = r->val[op->in[1]], *b = r->val[op->in[2]];
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++) {
            double s = b[o];
            for (int64_t c = 0; c < C; c++) s += x[n * C + c] * w[o * C + c];
            r->val[op->out][n * O + o] = s;
        }
}

static void gemm_ref_backward(rn_ref *r, const rn_op *op) {
    int64_t N = r->dims[op->out][0], O = r->dims[op->out][1], C = r->dims[op->in[0]][1];
    const double *x = r->val[op->in[0]], *w = r->val[op->in[1]], *dy = r->grad[op->out];
    double *dx = r->grad[op->in[0]], *dw = r->grad[op->in[1]], *db = r->grad[op->in[2]];
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++) {
            double g = dy[n * O + o];
            db[o] += g;
            for (int64_t c = 0; c < C; c++) {
                dx[n * C + c] += g * w[o * C + c];
                dw[o * C + c] += g * x[n * C + c];
            }
        }
}

const rn_layer rn_layer_gemm = {gemm_compile, gemm_forward, gemm_backward, gemm_release, gemm_ref_forward,
                                gemm_ref_backward, RN_BWD_X};
