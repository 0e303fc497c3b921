// batchnorm.c — BatchNormalization (ONNX-7, spatial): Y = scale * (X - mean) / sqrt(var + eps) + B.
//
// Training uses the batch's mean and biased variance (divide by N*H*W), as oneDNN computes them
// and as MXNet Gluon — the source of the model zoo's ResNets — keeps its moving variance; the
// running statistics follow the ONNX/zoo convention  running = running * momentum + batch * (1 - momentum)
// with momentum 0.9. Inference uses the running statistics. When the executor fuses the Relu that
// follows, Y is relu(BN(X)) and a workspace remembers where it clipped.
//
// SyncBatchNorm (opts.bn_sync, training across processes): the primitive runs with "global
// statistics" that we compute — per channel the count and sum of X (in double, from a plain copy),
// summed over the processes, then the squared deviations from that mean, summed too — so every
// process normalises with the global batch's mean and biased variance. Its backward then yields dX = scale/sigma * dY' (statistics taken as
// constants) and the two sums  sum dY'  and  sum dY' xhat  (dY' after the fused Relu's mask) as
// d(shift), d(scale); with those sums summed over the processes the exact gradient is
//     dX = scale/sigma * (dY' - (sum dY' + xhat * sum dY' xhat) / M)      (M: global count)
// so we subtract the second term. d(scale), d(shift) themselves stay local: the data-parallel
// gradient average sums them over processes like every other gradient. The plain-C twin of this
// path is the one-process BN on the whole global batch (tests/test_dist.c compares with it). The
// plain copies take two buffers of the largest BN input, shared by the executor's BN ops (not in
// layers/exec_mem.c's estimate).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"
#include "src/mem.h"

typedef struct bn_impl {
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t scale, shift, dscale, dshift;
    dnnl_memory_t mean, var;  // training: the batch statistics (owned); inference: the running ones
    dnnl_memory_t ws;         // fused Relu mask (training)
    float *batch_mean, *batch_var, *dummy;  // dummy: d(scale), d(shift) of a frozen BN
    int bwd_shift;  // the backward takes the shift too (oneDNN 2.x; see rn_dnn_bnorm_bwd_takes_shift)
    double *sums;               // SyncBatchNorm: (2C + 1) per-channel sums to reduce
    double count;               // SyncBatchNorm: samples per channel over every process (M)
} bn_impl;

// Per-channel arrays of its own: the batch statistics (training), and d(scale), d(shift) of a frozen BN.
static int bn_arrays(const rn_op *op, bn_impl *b, int batch_stats, int frozen_grads, int64_t C, rn_err *err) {
    size_t bytes = (size_t)C * sizeof(float);
    if (batch_stats && (!(b->batch_mean = rn_try_malloc(bytes)) || !(b->batch_var = rn_try_malloc(bytes))))
        return rn_exec_alloc_fail(err, op, "its batch statistics", 2 * bytes);
    if (frozen_grads && !(b->dummy = rn_try_malloc(2 * bytes)))
        return rn_exec_alloc_fail(err, op, "the gradients of its frozen scale and shift", 2 * bytes);
    return 0;
}

// SyncBatchNorm: the executor's two plain buffers (grown to the largest BN input) and the sums.
static int bn_sync_arrays(rn_exec *ex, const rn_op *op, bn_impl *b, rn_cmd x_md, int64_t C, rn_err *err) {
    size_t n = rn_md_bytes(x_md);  // at least N*C*H*W floats (padded layouts are larger)
    if (n > ex->bn_sync_bytes) {
        rn_free_aligned(ex->bn_sync_buf);
        ex->bn_sync_bytes = 0;
        if (!(ex->bn_sync_buf = rn_try_malloc_aligned(2 * n)))
            return rn_exec_alloc_fail(err, op, "the SyncBatchNorm plain copies", 2 * n);
        ex->bn_sync_bytes = n;
    }
    size_t sums = (2 * (size_t)C + 1) * sizeof(double);
    if (!(b->sums = rn_try_malloc(sums))) return rn_exec_alloc_fail(err, op, "its SyncBatchNorm sums", sums);
    return 0;
}

// The memory objects over its per-channel arrays (descriptor c_md) and its workspace (from fwd).
static int bn_memories(rn_exec *ex, const rn_op *op, bn_impl *b, rn_cmd c_md, rn_pd fwd, rn_err *err) {
    rn_graph *g = ex->g;
    rn_tensor *scale = &g->tensors[op->in[1]], *shift = &g->tensors[op->in[2]];
    int64_t C = rn_act_of(ex, op->in[0])->dims[1];
    int rc = rn_exec_memory(ex, c_md, scale->data, op, "its scale", &b->scale, err) ||
             rn_exec_memory(ex, c_md, shift->data, op, "its shift", &b->shift, err) ||
             rn_exec_memory(ex, c_md, b->batch_mean ? b->batch_mean : g->tensors[op->in[3]].data, op, "its mean",
                            &b->mean, err) ||
             rn_exec_memory(ex, c_md, b->batch_var ? b->batch_var : g->tensors[op->in[4]].data, op, "its variance",
                            &b->var, err);
    if (!rc && ex->opts.training && ex->fuse_relu[op - ex->g->ops])
        rc = rn_exec_memory(ex, rn_dnn_query(fwd, dnnl_query_workspace_md, 0), NULL, op, "its Relu workspace", &b->ws,
                            err);
    if (!rc && b->bwd)
        rc = rn_exec_memory(ex, c_md, scale->trainable ? scale->grad : b->dummy, op, "its scale gradient", &b->dscale,
                            err) ||
             rn_exec_memory(ex, c_md, shift->trainable ? shift->grad : b->dummy + C, op, "its shift gradient",
                            &b->dshift, err);
    return rc ? -1 : 0;
}

static int bn_compile(rn_exec *ex, int k, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    bn_impl *b = rn_try_calloc(1, sizeof *b);
    if (!b) return rn_exec_alloc_fail(err, op, "its state", sizeof *b);
    ex->impl[k] = b;
    rn_graph *g = ex->g;
    rn_tensor *scale = &g->tensors[op->in[1]], *shift = &g->tensors[op->in[2]];
    rn_act *x = rn_act_of(ex, op->in[0]);
    int training = ex->opts.training;
    int batch_stats = training && !ex->opts.bn_frozen;  // frozen: fine-tuning keeps the running statistics
    int sync = batch_stats && ex->opts.bn_sync;        // the statistics are ours (see the top)
    unsigned flags = (batch_stats && !sync ? 0 : dnnl_use_global_stats) | (ex->fuse_relu[k] ? dnnl_fuse_norm_relu : 0);

    rn_pd fwd, bwd = NULL;
    dnnl_status_t st = rn_dnn_bnorm_fwd(&fwd, ex->eng, training, x->md, op->a.bn.epsilon, flags);
    if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, "a batch normalization", st);
    int rc = rn_exec_primitive(ex, k, fwd, "a batch normalization", &b->fwd, err);
    if (!rc) rc = rn_exec_define_output(ex, op, rn_dnn_query(fwd, dnnl_query_dst_md, 0), err);
    rn_act *y = &ex->act[op->out];
    if (!rc && training && y->needs_grad) {
        st = rn_dnn_bnorm_bwd(&bwd, ex->eng, y->md, x->md, op->a.bn.epsilon, flags, fwd);
        if (st != dnnl_success) rc = rn_exec_dnnl_fail(err, op, "a batch normalization backward", st);
        else rc = rn_exec_primitive(ex, k, bwd, "a batch normalization backward", &b->bwd, err);
        b->bwd_shift = rn_dnn_bnorm_bwd_takes_shift();
    }
    int64_t C = x->dims[1];
    if (!rc) rc = bn_arrays(op, b, batch_stats, b->bwd && (!scale->trainable || !shift->trainable), C, err);
    if (!rc && sync) rc = bn_sync_arrays(ex, op, b, x->md, C, err);
    rn_md c_md = rc ? NULL : rn_md_create(1, &C, dnnl_x);
    if (!rc && !c_md) rc = rn_exec_alloc_fail(err, op, "a channel descriptor", 0);
    if (!rc) rc = bn_memories(ex, op, b, c_md, fwd, err);
    rn_md_destroy(c_md);
    if (bwd) dnnl_primitive_desc_destroy(bwd);
    dnnl_primitive_desc_destroy(fwd);
    return rc;
}

// A copy between an activation and a plain buffer in a step; a failure (oneDNN out of memory for the
// reorder) is kept like a failed primitive's, so the pass stops and names this node.
static void sync_copy(rn_exec *ex, rn_cmd md, void *act_buf, float *plain, int to_plain) {
    rn_err e;
    if (ex->run_st == dnnl_success && rn_exec_transfer(ex, md, act_buf, plain, to_plain, "a SyncBatchNorm copy", &e))
        ex->run_st = dnnl_out_of_memory;
}

// Per channel (N, C, HW) of a plain buffer: sums[c] = sum of (x - mean[c])^k (k = 1: mean NULL).
static void channel_sums(const float *x, int64_t N, int64_t C, int64_t HW, const float *mean, double *sums) {
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; c++) {
        double s = 0, m = mean ? mean[c] : 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                double v = x[(n * C + c) * HW + i] - m;
                s += mean ? v * v : v;
            }
        sums[c] = s;
    }
}

// The global batch statistics into b->batch_mean / batch_var (biased variance, as oneDNN's), in two
// passes (mean, then squared deviations) so that no cancellation creeps in.
static void sync_stats(rn_exec *ex, const rn_op *op, bn_impl *b) {
    rn_act *x = rn_act_of(ex, op->in[0]);
    int64_t N = x->dims[0], C = x->dims[1], HW = x->dims[2] * x->dims[3];
    float *px = ex->bn_sync_buf;
    dnnl_stream_wait(ex->stream);
    sync_copy(ex, x->md, x->buf, px, 1);
    channel_sums(px, N, C, HW, NULL, b->sums);
    b->sums[C] = (double)(N * HW);
    ex->opts.bn_sync(b->sums, (int)C + 1);
    b->count = b->sums[C];
    for (int64_t c = 0; c < C; c++) b->batch_mean[c] = (float)(b->sums[c] / b->count);
    channel_sums(px, N, C, HW, b->batch_mean, b->sums);
    ex->opts.bn_sync(b->sums, (int)C);
    for (int64_t c = 0; c < C; c++) b->batch_var[c] = (float)(b->sums[c] / b->count);
}

// dX -= scale/sigma * (sum dY' + xhat * sum dY' xhat) / M, with both sums over every process.
static void sync_backward(rn_exec *ex, const rn_op *op, bn_impl *b, dnnl_memory_t dx) {
    rn_act *x = rn_act_of(ex, op->in[0]);
    const rn_tensor *scale = &ex->g->tensors[op->in[1]];
    int64_t N = x->dims[0], C = x->dims[1], HW = x->dims[2] * x->dims[3];
    void *dscale = NULL, *dshift = NULL, *dxbuf = NULL;
    dnnl_stream_wait(ex->stream);
    dnnl_memory_get_data_handle(b->dscale, &dscale);
    dnnl_memory_get_data_handle(b->dshift, &dshift);
    dnnl_memory_get_data_handle(dx, &dxbuf);
    for (int64_t c = 0; c < C; c++) b->sums[c] = ((float *)dshift)[c], b->sums[C + c] = ((float *)dscale)[c];
    ex->opts.bn_sync(b->sums, (int)(2 * C));
    float *px = ex->bn_sync_buf, *pdx = ex->bn_sync_buf + ex->bn_sync_bytes / sizeof(float);
    sync_copy(ex, x->md, x->buf, px, 1);
    sync_copy(ex, x->md, dxbuf, pdx, 1);
    const float eps = op->a.bn.epsilon;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; c++) {
        double inv = 1.0 / sqrt((double)b->batch_var[c] + eps), mean = b->batch_mean[c];
        double k = scale->data[c] * inv / b->count, sdy = b->sums[c], sdyx = b->sums[C + c];
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                int64_t j = (n * C + c) * HW + i;
                double xhat = (px[j] - mean) * inv;
                pdx[j] = (float)(pdx[j] - k * (sdy + xhat * sdyx));
            }
    }
    sync_copy(ex, x->md, dxbuf, pdx, 0);
}

static void bn_forward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    bn_impl *b = ex->impl[k];
    if (b->sums) sync_stats(ex, op, b);
    dnnl_exec_arg_t args[8] = {{DNNL_ARG_SRC, rn_act_of(ex, op->in[0])->mem},
                               {DNNL_ARG_DST, ex->act[op->out].mem},
                               {DNNL_ARG_SCALE, b->scale},
                               {DNNL_ARG_SHIFT, b->shift},
                               {DNNL_ARG_MEAN, b->mean},
                               {DNNL_ARG_VARIANCE, b->var},
                               {DNNL_ARG_WORKSPACE, b->ws}};
    rn_exec_run(ex, b->fwd, b->ws ? 7 : 6, args);
    if (b->batch_mean) {
        // running = running * momentum + batch * (1 - momentum)   (ONNX BatchNormalization-7)
        float m = op->a.bn.momentum;
        rn_tensor *rm = &ex->g->tensors[op->in[3]], *rv = &ex->g->tensors[op->in[4]];
        int64_t C = ex->act[op->out].dims[1];
        for (int64_t c = 0; c < C; c++) {
            rm->data[c] = rm->data[c] * m + b->batch_mean[c] * (1.0f - m);
            rv->data[c] = rv->data[c] * m + b->batch_var[c] * (1.0f - m);
        }
    }
}

static void bn_backward(rn_exec *ex, int k) {
    const rn_op *op = &ex->g->ops[k];
    bn_impl *b = ex->impl[k];
    rn_act *x = rn_act_of(ex, op->in[0]);
    // An input that needs no gradient (the data) still gets one from oneDNN: into its second buffer.
    dnnl_memory_t dx = x->needs_grad ? rn_exec_grad_begin(ex, op->in[0]) : x->smem;
    dnnl_exec_arg_t args[10] = {{DNNL_ARG_SRC, x->mem},
                                {DNNL_ARG_DIFF_DST, rn_act_of(ex, op->out)->dmem},
                                {DNNL_ARG_SCALE, b->scale},
                                {DNNL_ARG_MEAN, b->mean},
                                {DNNL_ARG_VARIANCE, b->var},
                                {DNNL_ARG_DIFF_SRC, dx},
                                {DNNL_ARG_DIFF_SCALE, b->dscale},
                                {DNNL_ARG_DIFF_SHIFT, b->dshift}};
    int n = 8;
    if (b->ws) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, b->ws};
    if (b->bwd_shift) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SHIFT, b->shift};
    rn_exec_run(ex, b->bwd, n, args);
    if (b->sums && x->needs_grad) sync_backward(ex, op, b, dx);
    if (x->needs_grad) rn_exec_grad_end(ex, op->in[0], dx);
}

static void bn_release(rn_exec *ex, int k) {
    bn_impl *b = ex->impl[k];
    dnnl_memory_t mems[] = {b->scale, b->shift, b->dscale, b->dshift, b->mean, b->var, b->ws};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (b->fwd) dnnl_primitive_destroy(b->fwd);
    if (b->bwd) dnnl_primitive_destroy(b->bwd);
    free(b->batch_mean);
    free(b->batch_var);
    free(b->dummy);
    free(b->sums);
}

// ---- reference ----------------------------------------------------------------------------------
// saved[op] holds, per channel, the batch mean and 1/sqrt(var + eps) of the last training forward.

static void bn_ref_forward(rn_ref *r, const rn_op *op) {
    const int64_t *d = r->dims[op->in[0]];
    int64_t N = d[0], C = d[1], HW = d[2] * d[3];
    const double *x = r->val[op->in[0]], *g = r->val[op->in[1]], *beta = r->val[op->in[2]];
    double *rm = r->val[op->in[3]], *rv = r->val[op->in[4]], *y = r->val[op->out];
    double *sv = r->saved[op - r->g->ops];
    double eps = op->a.bn.epsilon, m = op->a.bn.momentum;
    for (int64_t c = 0; c < C; c++) {
        double mean, var;
        if (r->training && !r->bn_frozen) {
            double s = 0, s2 = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < HW; i++) s += x[(n * C + c) * HW + i];
            mean = s / (double)(N * HW);
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < HW; i++) {
                    double t = x[(n * C + c) * HW + i] - mean;
                    s2 += t * t;
                }
            var = s2 / (double)(N * HW);
            rm[c] = rm[c] * m + mean * (1 - m);
            rv[c] = rv[c] * m + var * (1 - m);
        } else {
            mean = rm[c];
            var = rv[c];
        }
        double inv = 1.0 / sqrt(var + eps);
        sv[2 * c] = mean;
        sv[2 * c + 1] = inv;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                int64_t j = (n * C + c) * HW + i;
                y[j] = g[c] * (x[j] - mean) * inv + beta[c];
            }
    }
}

static void bn_ref_backward(rn_ref *r, const rn_op *op) {
    const int64_t *d = r->dims[op->in[0]];
    int64_t N = d[0], C = d[1], HW = d[2] * d[3];
    double M = (double)(N * HW);
    const double *x = r->val[op->in[0]], *g = r->val[op->in[1]], *dy = r->grad[op->out];
    double *dx = r->grad[op->in[0]], *dg = r->grad[op->in[1]], *db = r->grad[op->in[2]];
    const double *sv = r->saved[op - r->g->ops];
    for (int64_t c = 0; c < C; c++) {
        double mean = sv[2 * c], inv = sv[2 * c + 1];
        double sdy = 0, sdyx = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                int64_t j = (n * C + c) * HW + i;
                sdy += dy[j];
                sdyx += dy[j] * (x[j] - mean) * inv;
            }
        db[c] += sdy;
        dg[c] += sdyx;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                int64_t j = (n * C + c) * HW + i;
                double xhat = (x[j] - mean) * inv;
                // Batch statistics depend on x too; running (inference, frozen) ones make a fixed affine map.
                dx[j] += r->training && !r->bn_frozen ? g[c] * inv / M * (M * dy[j] - sdy - xhat * sdyx) : g[c] * inv * dy[j];
            }
    }
}

const rn_layer rn_layer_batchnorm = {bn_compile, bn_forward, bn_backward, bn_release, bn_ref_forward,
                                     bn_ref_backward, RN_BWD_X | RN_BWD_DX_ALWAYS};
