// relu.c — Relu (ONNX): Y = max(X, 0). The backward reads Y, not X (dnnl_eltwise_relu_use_dst_for_bwd).
// Most Relus of a ResNet are fused into the BatchNormalization before them (see batchnorm.c);
// this one runs where a Relu follows an Add (v1) or where fusion is switched off.
#include <stdlib.h>

#include "layers/layer.h"
#include "src/mem.h"

typedef struct relu_impl {
    dnnl_primitive_t fwd, bwd;
} relu_impl;

static int relu_compile(rn_exec *ex, int k, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    relu_impl *r = rn_try_calloc(1, sizeof *r);
    if (!r) return rn_exec_alloc_fail(err, op, "its state", sizeof *r);
    ex->impl[k] = r;
    rn_act *x = rn_act_of(ex, op->in[0]);
    rn_pd fwd;
    dnnl_status_t st = rn_dnn_relu_fwd(&fwd, ex->eng, ex->opts.training, x->md);
    if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, "a relu", st);
    int rc = rn_exec_primitive(ex, k, fwd, "a relu", &r->fwd, err);
    if (!rc) rc = rn_exec_define_output(ex, op, rn_dnn_query(fwd, dnnl_query_dst_md, 0), err);
    rn_act *y = &ex->act[op->out];
    if (!rc && y->needs_grad) {
        rn_pd bwd;
        st = rn_dnn_relu_bwd(&bwd, ex->eng, x->md, y->md, fwd);
        if (st != dnnl_success) rc = rn_exec_dnnl_fail(err, op, "a relu backward", st);
        else {
            rc = rn_exec_primitive(ex, k, bwd, "a relu backward", &r->bwd, err);
            dnnl_primitive_desc_destroy(bwd);
        }
    }
    dnnl_primitive_desc_destroy(fwd);
    return rc;
}

static void relu_forward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    relu_impl *r = ex->impl[k];
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, rn_act_of(ex, op->in[0])->mem}, {DNNL_ARG_DST, ex->act[op->out].mem}};
    rn_exec_run(ex, r->fwd, 2, args);
}

static void relu_backward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    relu_impl *r = ex->impl[k];
    dnnl_memory_t dx = rn_exec_grad_begin(ex, op->in[0]);
    dnnl_exec_arg_t args[3] = {
        {DNNL_ARG_DST, ex->act[op->out].mem}, {DNNL_ARG_DIFF_DST, ex->act[op->out].dmem}, {DNNL_ARG_DIFF_SRC, dx}};
    rn_exec_run(ex, r->bwd, 3, args);
    rn_exec_grad_end(ex, op->in[0], dx);
}

static void relu_release(rn_exec *ex, int k) {
    relu_impl *r = ex->impl[k];
    if (r->fwd) dnnl_primitive_destroy(r->fwd);
    if (r->bwd) dnnl_primitive_destroy(r->bwd);
}

static void relu_ref_forward(rn_ref *r, const rn_op *op) {
    size_t n = rn_ref_numel(r, op->out);
    const double *x = r->val[op->in[0]];
    double *y = r->val[op->out];
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

static void relu_ref_backward(rn_ref *r, const rn_op *op) {
    size_t n = rn_ref_numel(r, op->out);
    const double *y = r->val[op->out], *dy = r->grad[op->out];
    double *dx = r->grad[op->in[0]];
    for (size_t i = 0; i < n; i++) dx[i] += y[i] > 0 ? dy[i] : 0;
}

const rn_layer rn_layer_relu = {relu_compile, relu_forward, relu_backward, relu_release, relu_ref_forward,
                                relu_ref_backward, RN_BWD_Y};
