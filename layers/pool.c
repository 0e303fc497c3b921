// pool.c — MaxPool and GlobalAveragePool (ONNX). Padding never wins a max and never counts in a mean.
#include <math.h>
#include <stdlib.h>

#include "layers/layer.h"
#include "src/mem.h"

typedef struct pool_impl {
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t ws;  // max pooling: where each maximum came from (training)
} pool_impl;

// kernel/stride/pads for either op; GlobalAveragePool is an average over the whole plane.
static void pool_geometry(rn_exec *ex, const rn_op *op, dnnl_alg_kind_t *alg, int64_t *k, int64_t *s, int64_t *pl,
                          int64_t *pr) {
    if (op->type == RN_OP_MAXPOOL) {
        const rn_pool_attr *a = &op->a.pool;
        *alg = dnnl_pooling_max;
        k[0] = a->kh, k[1] = a->kw, s[0] = a->sh, s[1] = a->sw;
        pl[0] = a->pt, pl[1] = a->pl, pr[0] = a->pb, pr[1] = a->pr;
    } else {
        const rn_act *x = rn_act_of(ex, op->in[0]);
        *alg = dnnl_pooling_avg_exclude_padding;
        k[0] = x->dims[2], k[1] = x->dims[3], s[0] = s[1] = 1;
        pl[0] = pl[1] = pr[0] = pr[1] = 0;
    }
}

static int pool_compile(rn_exec *ex, int k, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    pool_impl *p = rn_try_calloc(1, sizeof *p);
    if (!p) return rn_exec_alloc_fail(err, op, "its state", sizeof *p);
    ex->impl[k] = p;
    rn_act *x = rn_act_of(ex, op->in[0]);
    dnnl_alg_kind_t alg;
    int64_t kk[2], s[2], pl[2], pr[2];
    pool_geometry(ex, op, &alg, kk, s, pl, pr);
    rn_md y_any = rn_md_create(4, ex->act[op->out].dims, dnnl_format_tag_any);
    if (!y_any) return rn_exec_alloc_fail(err, op, "its output descriptor", 0);
    rn_pd fwd;
    dnnl_status_t st = rn_dnn_pool_fwd(&fwd, ex->eng, ex->opts.training, alg, x->md, y_any, kk, s, pl, pr);
    rn_md_destroy(y_any);
    if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, "a pooling", st);
    int rc = rn_exec_primitive(ex, k, fwd, "a pooling", &p->fwd, err);
    if (!rc) rc = rn_exec_define_output(ex, op, rn_dnn_query(fwd, dnnl_query_dst_md, 0), err);
    rn_cmd ws = rn_dnn_query(fwd, dnnl_query_workspace_md, 0);
    if (!rc && ex->opts.training && rn_md_ndims(ws) > 0)
        rc = rn_exec_memory(ex, ws, NULL, op, "its workspace", &p->ws, err);
    rn_act *y = &ex->act[op->out];
    if (!rc && y->needs_grad && x->needs_grad) {
        rn_pd bwd;
        st = rn_dnn_pool_bwd(&bwd, ex->eng, alg, x->md, y->md, kk, s, pl, pr, fwd);
        if (st != dnnl_success) rc = rn_exec_dnnl_fail(err, op, "a pooling backward", st);
        else {
            rc = rn_exec_primitive(ex, k, bwd, "a pooling backward", &p->bwd, err);
            dnnl_primitive_desc_destroy(bwd);
        }
    }
    dnnl_primitive_desc_destroy(fwd);
    return rc;
}

static void pool_forward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    pool_impl *p = ex->impl[k];
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, rn_act_of(ex, op->in[0])->mem},
                               {DNNL_ARG_DST, ex->act[op->out].mem},
                               {DNNL_ARG_WORKSPACE, p->ws}};
    rn_exec_run(ex, p->fwd, p->ws ? 3 : 2, args);
}

static void pool_backward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    pool_impl *p = ex->impl[k];
    if (!p->bwd) return;
    dnnl_memory_t dx = rn_exec_grad_begin(ex, op->in[0]);
    dnnl_exec_arg_t args[3] = {
        {DNNL_ARG_DIFF_DST, rn_act_of(ex, op->out)->dmem}, {DNNL_ARG_DIFF_SRC, dx}, {DNNL_ARG_WORKSPACE, p->ws}};
    rn_exec_run(ex, p->bwd, p->ws ? 3 : 2, args);
    rn_exec_grad_end(ex, op->in[0], dx);
}

static void pool_release(rn_exec *ex, int k) {
    pool_impl *p = ex->impl[k];
    if (p->fwd) dnnl_primitive_destroy(p->fwd);
    if (p->bwd) dnnl_primitive_destroy(p->bwd);
    if (p->ws) dnnl_memory_destroy(p->ws);
}

// ---- reference ----------------------------------------------------------------------------------

// Visits every (output, window) pair of a max pool: f gets the output index and the flat input index
// of the window's maximum (first one on ties).
static void maxpool_ref_walk(rn_ref *r, const rn_op *op, int backward) {
    const rn_pool_attr *a = &op->a.pool;
    const int64_t *xd = r->dims[op->in[0]], *yd = r->dims[op->out];
    int64_t NC = xd[0] * xd[1], H = xd[2], W = xd[3], OH = yd[2], OW = yd[3];
    const double *x = r->val[op->in[0]];
    for (int64_t nc = 0; nc < NC; nc++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t best = -1;
                for (int64_t kh = 0; kh < a->kh; kh++) {
                    int64_t ih = oh * a->sh - a->pt + kh;
                    if (ih < 0 || ih >= H) continue;
                    for (int64_t kw = 0; kw < a->kw; kw++) {
                        int64_t iw = ow * a->sw - a->pl + kw;
                        if (iw < 0 || iw >= W) continue;
                        int64_t i = (nc * H + ih) * W + iw;
                        if (best < 0 || x[i] > x[best]) best = i;
                    }
                }
                int64_t o = (nc * OH + oh) * OW + ow;
                if (backward) r->grad[op->in[0]][best] += r->grad[op->out][o];
                else r->val[op->out][o] = x[best];
            }
}

static void maxpool_ref_forward(rn_ref *r, const rn_op *op) { maxpool_ref_walk(r, op, 0); }
static void maxpool_ref_backward(rn_ref *r, const rn_op *op) { maxpool_ref_walk(r, op, 1); }

static void gap_ref_forward(rn_ref *r, const rn_op *op) {
    const int64_t *d = r->dims[op->in[0]];
    int64_t NC = d[0] * d[1], HW = d[2] * d[3];
    const double *x = r->val[op->in[0]];
    for (int64_t i = 0; i < NC; i++) {
        double s = 0;
        for (int64_t j = 0; j < HW; j++) s += x[i * HW + j];
        r->val[op->out][i] = s / (double)HW;
    }
}

static void gap_ref_backward(rn_ref *r, const rn_op *op) {
    const int64_t *d = r->dims[op->in[0]];
    int64_t NC = d[0] * d[1], HW = d[2] * d[3];
    for (int64_t i = 0; i < NC; i++)
        for (int64_t j = 0; j < HW; j++) r->grad[op->in[0]][i * HW + j] += r->grad[op->out][i] / (double)HW;
}

const rn_layer rn_layer_maxpool = {pool_compile, pool_forward, pool_backward, pool_release, maxpool_ref_forward,
                                   maxpool_ref_backward, 0};
const rn_layer rn_layer_globalavgpool = {pool_compile, pool_forward, pool_backward, pool_release, gap_ref_forward,
                                         gap_ref_backward, 0};
