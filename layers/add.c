// add.c — Add (ONNX, same shapes): Y = A + B, the residual connection. dA = dB = dY.
// When the executor fuses the Relu after it (v1 blocks), Y = relu(A + B) and dA = dB = dY * (Y > 0).
// Y may share the buffer of an input that no backward reads (a block's last BN or Conv output).
#include <stdlib.h>

#include "layers/layer.h"
#include "src/mem.h"

typedef struct add_impl {
    dnnl_primitive_t fwd;
    dnnl_primitive_t to_b;  // dY into B's layout, when B's differs from A's (narrow networks)
} add_impl;

static int add_compile(rn_exec *ex, int k, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    add_impl *a = rn_try_calloc(1, sizeof *a);
    if (!a) return rn_exec_alloc_fail(err, op, "its state", sizeof *a);
    ex->impl[k] = a;
    rn_act *x0 = rn_act_of(ex, op->in[0]), *x1 = rn_act_of(ex, op->in[1]);
    // The output takes the first input's layout; the backward then copies without reorders.
    rn_pd pd;
    dnnl_status_t st = rn_dnn_add(&pd, ex->eng, x0->md, x1->md, x0->md, ex->fuse_relu[k]);
    if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, "a binary add", st);
    int rc = rn_exec_primitive(ex, k, pd, "a binary add", &a->fwd, err);
    if (!rc) rc = rn_exec_define_output(ex, op, rn_dnn_query(pd, dnnl_query_dst_md, 0), err);
    dnnl_primitive_desc_destroy(pd);
    if (!rc && x1->needs_grad && !rn_md_equal(x0->md, x1->md)) {
        st = rn_dnn_reorder(&pd, ex->eng, x0->md, x1->md);
        if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, "a gradient reorder", st);
        rc = rn_exec_primitive(ex, k, pd, "a gradient reorder", &a->to_b, err);
        dnnl_primitive_desc_destroy(pd);
    }
    return rc;
}

static void add_forward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    add_impl *a = ex->impl[k];
    const rn_act *x0 = rn_act_of(ex, op->in[0]), *x1 = rn_act_of(ex, op->in[1]), *y = &ex->act[op->out];
    // The buffer plan may put Y over an input that dies here (layers/exec_plan.c); oneDNN runs in
    // place over its first source, so a second one in place is passed first (the plan only does that
    // when both inputs have the same layout, and the sum is the same).
    int swap = y->buf == x1->buf && x0 != x1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, swap ? x1->mem : x0->mem},
                               {DNNL_ARG_SRC_1, swap ? x0->mem : x1->mem},
                               {DNNL_ARG_DST, y->mem}};
    rn_exec_run(ex, a->fwd, 3, args);
}

static float *handle(dnnl_memory_t m) {
    void *p = NULL;
    dnnl_memory_get_data_handle(m, &p);
    return p;
}

static void add_backward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    rn_act *y = rn_act_of(ex, op->out);
    size_t n = rn_md_bytes(y->md) / sizeof(float);
    const float *dy = y->diff, *yv = y->buf;
    int relu = ex->fuse_relu[k];
    int need[2] = {rn_act_of(ex, op->in[0])->needs_grad, rn_act_of(ex, op->in[1])->needs_grad};
    add_impl *a = ex->impl[k];
    if (a->to_b) {
        // Inputs in different layouts: mask dY in place (it dies with this op), copy it to A,
        // reorder it into B's layout.
        float *g = y->diff;
        if (relu) {
#pragma omp parallel for schedule(static)
            for (size_t j = 0; j < n; j++) g[j] = yv[j] <= 0 ? 0.f : g[j];
        }
        if (need[0]) {
            dnnl_memory_t m = rn_exec_grad_begin(ex, op->in[0]);
            float *d = handle(m);
#pragma omp parallel for schedule(static)
            for (size_t j = 0; j < n; j++) d[j] = g[j];
            rn_exec_grad_end(ex, op->in[0], m);
        }
        dnnl_memory_t m = rn_exec_grad_begin(ex, op->in[1]);
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, y->dmem}, {DNNL_ARG_TO, m}};
        rn_exec_run(ex, a->to_b, 2, args);
        rn_exec_grad_end(ex, op->in[1], m);
        return;
    }
    // The one-pass backward when at least one of the two gradients is written directly.
    int fresh = !rn_act_of(ex, op->in[0])->diff_written || !rn_act_of(ex, op->in[1])->diff_written;
    if (need[0] && need[1] && op->in[0] != op->in[1] && fresh) {
        // The usual residual case: both gradients in one pass over dY (and Y).
        dnnl_memory_t m0 = rn_exec_grad_begin(ex, op->in[0]), m1 = rn_exec_grad_begin(ex, op->in[1]);
        float *d0 = handle(m0), *d1 = handle(m1);
#pragma omp parallel for schedule(static)
        for (size_t j = 0; j < n; j++) {
            float g = relu && yv[j] <= 0 ? 0.f : dy[j];
            d0[j] = g;
            d1[j] = g;
        }
        rn_exec_grad_end(ex, op->in[0], m0);
        rn_exec_grad_end(ex, op->in[1], m1);
        return;
    }
    // One input needs a gradient, a tensor is added to itself, or both gradients are second ones:
    // one input at a time, the second begun after the first is committed.
    for (int i = 0; i < 2; i++) {
        if (!need[i]) continue;
        dnnl_memory_t m = rn_exec_grad_begin(ex, op->in[i]);
        float *d = handle(m);
#pragma omp parallel for schedule(static)
        for (size_t j = 0; j < n; j++) d[j] = relu && yv[j] <= 0 ? 0.f : dy[j];
        rn_exec_grad_end(ex, op->in[i], m);
    }
}

static void add_release(rn_exec *ex, int k) {
    add_impl *a = ex->impl[k];
    if (a->fwd) dnnl_primitive_destroy(a->fwd);
    if (a->to_b) dnnl_primitive_destroy(a->to_b);
}

static void add_ref_forward(rn_ref *r, const rn_op *op) {
    size_t n = rn_ref_numel(r, op->out);
    const double *a = r->val[op->in[0]], *b = r->val[op->in[1]];
    double *y = r->val[op->out];
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void add_ref_backward(rn_ref *r, const rn_op *op) {
    size_t n = rn_ref_numel(r, op->out);
    const double *dy = r->grad[op->out];
    for (int j = 0; j < 2; j++) {
        double *dx = r->grad[op->in[j]];
        for (size_t i = 0; i < n; i++) dx[i] += dy[i];
    }
}

const rn_layer rn_layer_add = {add_compile, add_forward, add_backward, add_release, add_ref_forward,
                               add_ref_backward, RN_BWD_Y_FUSED};
