// conv.c — Conv (ONNX): Y = X * W + B, W in OIHW, optional bias B, pads [top, left, bottom, right].
// In inference the executor may fold the BatchNormalization after it (and that BN's Relu) into it.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"
#include "src/mem.h"

typedef struct conv_impl {
    rn_weighted p;                     // primitives, weights, bias (bias over fold_bias when folding)
    float *fold_bias;                  // folded BN: beta + (b - mean) * gamma / sqrt(var + eps)
    uint64_t fold_version;             // g->version fold_bias was computed for
} conv_impl;

static void conv_geometry(const rn_conv_attr *a, int64_t *s, int64_t *pl, int64_t *pr) {
    s[0] = a->sh, s[1] = a->sw;
    pl[0] = a->pt, pl[1] = a->pl;
    pr[0] = a->pb, pr[1] = a->pr;
}

// The primitives for the descriptors of conv_compile; the caller frees the descriptors.
static int conv_prims(rn_exec *ex, int k, rn_cmd w_any, rn_cmd b_md, rn_cmd y_any, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    conv_impl *c = ex->impl[k];
    rn_tensor *w = &ex->g->tensors[op->in[1]];
    rn_tensor *b = op->n_in > 2 ? &ex->g->tensors[op->in[2]] : NULL;
    rn_act *x = rn_act_of(ex, op->in[0]);
    rn_act *y = &ex->act[op->out];
    int64_t s[2], pl[2], pr[2];
    conv_geometry(&op->a.conv, s, pl, pr);

    int bn = ex->fold_bn[k];
    int has_bias = b || bn >= 0;

    // Winograd where asked for and offered (3x3, stride 1); each primitive falls back to direct.
    const rn_conv_attr *a = &op->a.conv;
    int wino = ex->opts.winograd && a->kh == 3 && a->kw == 3 && a->sh == 1 && a->sw == 1;
    rn_pd fwd;
    int relu = bn >= 0 && ex->fuse_relu[bn];
    dnnl_status_t st = rn_dnn_conv_fwd(&fwd, ex->eng, ex->opts.training, x->md, w_any, has_bias ? b_md : NULL, y_any, s,
                                       pl, pr, relu, wino);
    if (st == dnnl_success && wino && !rn_md_is_blocked(rn_dnn_query(fwd, dnnl_query_weights_md, 0))) {
        // Inference Winograd keeps pre-transformed weights in an opaque format: use direct there.
        dnnl_primitive_desc_destroy(fwd);
        st = dnnl_unimplemented;
    }
    if (st != dnnl_success && wino) {
        wino = 0;
        st = rn_dnn_conv_fwd(&fwd, ex->eng, ex->opts.training, x->md, w_any, has_bias ? b_md : NULL, y_any, s, pl, pr,
                             relu, 0);
    }
    if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, "a convolution", st);
    int rc = rn_exec_primitive(ex, k, fwd, "a convolution", &c->p.fwd, err);
    if (!rc) rc = rn_exec_define_output(ex, op, rn_dnn_query(fwd, dnnl_query_dst_md, 0), err);
    if (!rc) {
        c->p.w_fwd = rn_exec_weights(ex, op, 4, w->dims, w->data, rn_dnn_query(fwd, dnnl_query_weights_md, 0),
                                     RN_W_FORWARD, err);
        rc = c->p.w_fwd ? 0 : -1;
    }
    if (!rc && bn >= 0) {
        const rn_op *bop = &ex->g->ops[bn];
        rc = rn_weights_fold_bn(ex, op, c->p.w_fwd, ex->g->tensors[bop->in[1]].data, ex->g->tensors[bop->in[4]].data,
                                bop->a.bn.epsilon, err);
        size_t bytes = (size_t)w->dims[0] * sizeof(float);
        if (!rc && !(c->fold_bias = rn_try_malloc(bytes)))
            rc = rn_exec_alloc_fail(err, op, "the bias of its folded BatchNormalization", bytes);
        if (!rc) rc = rn_exec_memory(ex, b_md, c->fold_bias, op, "its folded bias", &c->p.bias, err);
    } else if (!rc && b) rc = rn_exec_memory(ex, b_md, b->data, op, "its bias", &c->p.bias, err);

    if (!rc && x->needs_grad) {
        // d(input) in the input's own layout, so gradients meet activations without reorders.
        rn_pd bd = NULL;
        st = rn_dnn_conv_bwd_data(&bd, ex->eng, x->md, w_any, y->md, s, pl, pr, fwd, wino);
        if (st != dnnl_success && wino) st = rn_dnn_conv_bwd_data(&bd, ex->eng, x->md, w_any, y->md, s, pl, pr, fwd, 0);
        rc = rn_weighted_adopt(ex, k, st, bd, "a convolution backward-data", &c->p.bwd_data, &c->p.w_bwd_data, 4,
                               w->dims, w->data, dnnl_query_weights_md, RN_W_BACKWARD_DATA, err);
    }
    if (!rc && ex->opts.training && w->trainable) {
        rn_pd bw = NULL;
        st = rn_dnn_conv_bwd_weights(&bw, ex->eng, x->md, w_any, b ? b_md : NULL, y->md, s, pl, pr, fwd, wino);
        if (st != dnnl_success && wino)
            st = rn_dnn_conv_bwd_weights(&bw, ex->eng, x->md, w_any, b ? b_md : NULL, y->md, s, pl, pr, fwd, 0);
        rc = rn_weighted_adopt(ex, k, st, bw, "a convolution backward-weights", &c->p.bwd_weights, &c->p.dw, 4, w->dims,
                               w->grad, dnnl_query_diff_weights_md, RN_W_GRADIENT, err);
        if (!rc && b) rc = rn_exec_memory(ex, b_md, b->grad, op, "its bias gradient", &c->p.dbias, err);
    }
    dnnl_primitive_desc_destroy(fwd);
    return rc;
}

static int conv_compile(rn_exec *ex, int k, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    if (!(ex->impl[k] = rn_try_calloc(1, sizeof(conv_impl))))
        return rn_exec_alloc_fail(err, op, "its state", sizeof(conv_impl));
    const int64_t *wd = ex->g->tensors[op->in[1]].dims;
    rn_md w_any = rn_md_create(4, wd, dnnl_format_tag_any), b_md = rn_md_create(1, wd, dnnl_x),
          y_any = rn_md_create(4, ex->act[op->out].dims, dnnl_format_tag_any);
    int rc = w_any && b_md && y_any ? conv_prims(ex, k, w_any, b_md, y_any, err)
                                    : rn_exec_alloc_fail(err, op, "its memory descriptors", 0);
    rn_md_destroy(w_any);
    rn_md_destroy(b_md);
    rn_md_destroy(y_any);
    return rc;
}

static void conv_forward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    conv_impl *c = ex->impl[k];
    if (c->fold_bias && c->fold_version != ex->g->version) {
        const rn_op *bop = &ex->g->ops[ex->fold_bn[k]];
        const rn_tensor *t = ex->g->tensors;
        const float *b = op->n_in > 2 ? t[op->in[2]].data : NULL, *gamma = t[bop->in[1]].data,
                    *beta = t[bop->in[2]].data, *mean = t[bop->in[3]].data, *var = t[bop->in[4]].data;
        for (int64_t o = 0; o < t[op->in[1]].dims[0]; o++)
            c->fold_bias[o] = beta[o] + ((b ? b[o] : 0.f) - mean[o]) * gamma[o] / sqrtf(var[o] + bop->a.bn.epsilon);
        c->fold_version = ex->g->version;
    }
    rn_weighted_forward(ex, op, &c->p);
}

static void conv_backward(rn_exec *ex, int k) {
    conv_impl *c = ex->impl[k];
    rn_weighted_backward(ex, &ex->g->ops[k], &c->p);
}

static void conv_release(rn_exec *ex, int k) {
    conv_impl *c = ex->impl[k];
    rn_weighted_release(&c->p);
    free(c->fold_bias);
}

// ---- reference: direct loops over NCHW ----------------------------------------------------------

typedef struct conv_shape {
    int64_t N, C, H, W, O, OH, OW, KH, KW;
} conv_shape;

static conv_shape ref_shape(const rn_ref *r, const rn_op *op) {
    const int64_t *x = r->dims[op->in[0]], *y = r->dims[op->out];
    conv_shape s = {x[0], x[1], x[2], x[3], y[1], y[2], y[3], op->a.conv.kh, op->a.conv.kw};
    return s;
}

static void conv_ref_forward(rn_ref *r, const rn_op *op) {
    const rn_conv_attr *a = &op->a.conv;
    conv_shape s = ref_shape(r, op);
    const double *x = r->val[op->in[0]], *w = r->val[op->in[1]];
    const double *b = op->n_in > 2 ? r->val[op->in[2]] : NULL;
    double *y = r->val[op->out];
    for (int64_t n = 0; n < s.N; n++)
        for (int64_t o = 0; o < s.O; o++)
            for (int64_t oh = 0; oh < s.OH; oh++)
                for (int64_t ow = 0; ow < s.OW; ow++) {
                    double acc = b ? b[o] : 0.0;
                    for (int64_t c = 0; c < s.C; c++)
                        for (int64_t kh = 0; kh < s.KH; kh++) {
                            int64_t ih = oh * a->sh - a->pt + kh;
                            if (ih < 0 || ih >= s.H) continue;
                            for (int64_t kw = 0; kw < s.KW; kw++) {
                                int64_t iw = ow * a->sw - a->pl + kw;
                                if (iw < 0 || iw >= s.W) continue;
                                acc += x[((n * s.C + c) * s.H + ih) * s.W + iw] *
                                       w[((o * s.C + c) * s.KH + kh) * s.KW + kw];
                            }
                        }
                    y[((n * s.O + o) * s.OH + oh) * s.OW + ow] = acc;
                }
}

static void conv_ref_backward(rn_ref *r, const rn_op *op) {
    const rn_conv_attr *a = &op->a.conv;
    conv_shape s = ref_shape(r, op);
    const double *x = r->val[op->in[0]], *w = r->val[op->in[1]], *dy = r->grad[op->out];
    double *dx = r->grad[op->in[0]], *dw = r->grad[op->in[1]];
    double *db = op->n_in > 2 ? r->grad[op->in[2]] : NULL;
    for (int64_t n = 0; n < s.N; n++)
        for (int64_t o = 0; o < s.O; o++)
            for (int64_t oh = 0; oh < s.OH; oh++)
                for (int64_t ow = 0; ow < s.OW; ow++) {
                    double g = dy[((n * s.O + o) * s.OH + oh) * s.OW + ow];
                    if (db) db[o] += g;
                    for (int64_t c = 0; c < s.C; c++)
                        for (int64_t kh = 0; kh < s.KH; kh++) {
                            int64_t ih = oh * a->sh - a->pt + kh;
                            if (ih < 0 || ih >= s.H) continue;
                            for (int64_t kw = 0; kw < s.KW; kw++) {
                                int64_t iw = ow * a->sw - a->pl + kw;
                                if (iw < 0 || iw >= s.W) continue;
                                int64_t xi = ((n * s.C + c) * s.H + ih) * s.W + iw;
                                int64_t wi = ((o * s.C + c) * s.KH + kh) * s.KW + kw;
                                dx[xi] += g * w[wi];
                                dw[wi] += g * x[xi];
                            }
                        }
                }
}

const rn_layer rn_layer_conv = {conv_compile, conv_forward, conv_backward, conv_release, conv_ref_forward,
                                conv_ref_backward, RN_BWD_X};
