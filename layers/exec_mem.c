// exec_mem.c — the executor's memory from shapes alone; see exec_mem.h.
//
// Layout model: oneDNN gives 4-D activations a channel-blocked layout (nChw16c on AVX-512, nChw8c on
// AVX2); sizes here pad channels to 16, which is exact whenever C is a multiple of 16 (every ResNet
// width) and an upper bound otherwise. The graph input stays plain NCHW, the Gemm output plain (N, K).
// With these sizes the buffer plan is the executor's own (layers/exec_plan.c), so the buffers match what
// rn_exec_create allocates.
//
// Approximations (what oneDNN decides internally, not visible without creating its primitives):
// - workspaces: a fused BN+Relu keeps one bit per (padded) element, a max pool one byte per output;
// - weight copies: every Conv/Gemm weight in a blocked layout with O and I padded to 16 (I < 8 kept),
//   once for the forward, once for the backward-data, once for the weight gradient where padded (an
//   unpadded one borrows the forward copy);
// - scratchpad: backward-weights primitives reduce per-thread partial weight gradients, so training
//   counts threads x the largest weight; oneDNN's global scratchpad is the largest primitive's need,
//   shared by all, so this is one term for the whole executor.
#include "layers/exec_mem.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "layers/exec_plan.h"

#define BLOCK 16

static int64_t pad_channels(int64_t c) { return (c + BLOCK - 1) / BLOCK * BLOCK; }

// Bytes of an activation of this shape, channel-blocked or plain.
static size_t act_bytes(const rn_act *a, int blocked) {
    size_t n = sizeof(float);
    for (int i = 0; i < a->ndim; i++) n *= (size_t)(blocked && i == 1 ? pad_channels(a->dims[i]) : a->dims[i]);
    return n;
}

// Which activations are channel-blocked: a Conv picks a blocked output, a Gemm a plain one, and the
// other ops keep their first input's layout (v2's input BatchNormalization stays plain NCHW).
static int *blocked_layouts(const rn_exec *ex) {
    const rn_graph *g = ex->g;
    int *b = rn_calloc((size_t)g->n_tensors, sizeof *b);
    b[g->input] = ex->opts.input_blocked;
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        int out = ex->act[op->out].ndim == 4;
        b[op->out] = out && (op->type == RN_OP_CONV || (op->type != RN_OP_GEMM && b[op->in[0]]));
    }
    return b;
}

// A weight (O, I, kh, kw) in a blocked layout.
static size_t weight_bytes(const rn_tensor *w) {
    int64_t o = pad_channels(w->dims[0]), i = w->dims[1] < 8 ? w->dims[1] : pad_channels(w->dims[1]);
    size_t n = (size_t)o * (size_t)i * sizeof(float);
    for (int d = 2; d < w->ndim; d++) n *= (size_t)w->dims[d];
    return n;
}

// Workspaces, weight copies and scratchpad: what the layers' compile would add.
static void layer_extras(rn_exec *ex, const int *blocked, rn_exec_mem *m) {
    rn_graph *g = ex->g;
    size_t largest_w = 0;
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        if (ex->skip[k]) continue;
        const rn_act *y = &ex->act[op->out];
        size_t elems = act_bytes(y, blocked[op->out]) / sizeof(float);
        if (ex->opts.training && op->type == RN_OP_BATCHNORM && ex->fuse_relu[k]) m->workspaces += (elems + 7) / 8;
        if (ex->opts.training && op->type == RN_OP_MAXPOOL) m->workspaces += elems;
        if (op->type != RN_OP_CONV && op->type != RN_OP_GEMM) continue;
        const rn_tensor *w = &g->tensors[op->in[1]];
        size_t wb = weight_bytes(w);
        // An unpadded gradient copy lives in the forward copy (layers/weights.c).
        size_t unpadded = sizeof(float);
        for (int d = 0; d < w->ndim; d++) unpadded *= (size_t)w->dims[d];
        int copies = 1 + rn_act_of(ex, op->in[0])->needs_grad + (ex->opts.training && w->trainable && wb != unpadded);
        m->weights += (size_t)copies * wb;
        if (ex->opts.training && w->trainable && wb > largest_w) largest_w = wb;
    }
    m->scratchpad = (size_t)omp_get_max_threads() * largest_w;
}

int rn_exec_estimate(rn_graph *g, int64_t batch, int64_t H, int64_t W, const rn_exec_opts *opts, rn_exec_mem *m,
                     rn_err *err) {
    memset(m, 0, sizeof *m);
    // An executor shell: the planning state only (no engine, no primitives, no buffers).
    rn_exec ex;
    memset(&ex, 0, sizeof ex);
    ex.g = g;
    ex.opts = opts ? *opts : rn_exec_opts_default(1);
    ex.batch = batch;
    ex.act = rn_calloc((size_t)g->n_tensors, sizeof *ex.act);
    ex.skip = rn_calloc((size_t)g->n_ops, sizeof *ex.skip);
    ex.fuse_relu = rn_calloc((size_t)g->n_ops, sizeof *ex.fuse_relu);
    ex.fold_bn = rn_malloc((size_t)g->n_ops * sizeof *ex.fold_bn);
    for (int k = 0; k < g->n_ops; k++) ex.fold_bn[k] = -1;
    size_t *bytes = rn_calloc((size_t)g->n_tensors, sizeof *bytes);
    int rc = rn_exec_plan(&ex, H, W, err);
    if (!rc) {
        // What the compile loop of rn_exec_create does to buffers: skipped ops and Flatten share
        // their input's, every other op defines its output.
        for (int k = 0; k < g->n_ops; k++) {
            const rn_op *op = &g->ops[k];
            if (ex.skip[k] || op->type == RN_OP_FLATTEN) rn_exec_alias_output(&ex, op, op->in[0]);
            else ex.act[op->out].defined = 1;
        }
        int *blocked = blocked_layouts(&ex);
        m->input = act_bytes(&ex.act[g->input], blocked[g->input]);
        bytes[g->input] = m->input;
        for (int t = 0; t < g->n_tensors; t++)
            if (ex.act[t].defined && ex.act[t].alias < 0) bytes[t] = act_bytes(&ex.act[t], blocked[t]);
        rn_buf_plan plan = {0};
        rn_plan_buffers(&ex, bytes, blocked, &plan);  // blocked: the layout model's classes
        m->acts = plan.total;
        rn_buf_plan_free(&plan);
        layer_extras(&ex, blocked, m);
        free(blocked);
        m->total = m->input + m->acts + m->workspaces + m->weights + m->scratchpad;
    }
    free(bytes);
    free(ex.act);
    free(ex.skip);
    free(ex.fuse_relu);
    free(ex.fold_bn);
    return rc;
}

int rn_exec_mem_plan(rn_graph *g, int64_t batch, int follows, int64_t H, int64_t W, const rn_exec_opts *opts,
                     rn_mem_plan *p, rn_err *err) {
    rn_exec_mem a, b;
    if (rn_exec_estimate(g, batch, H, W, opts, &a, err)) return -1;
    if (!follows) b = a;
    else if (rn_exec_estimate(g, batch + 1, H, W, opts, &b, err)) return -1;
    int training = !opts || opts->training;
    // Per kind: value at `batch` and the slope; a fixed executor has no slope.
    double at[3] = {(double)(a.input + a.acts), (double)a.workspaces, (double)(a.weights + a.scratchpad)};
    double next[3] = {(double)(b.input + b.acts), (double)b.workspaces, (double)(b.weights + b.scratchpad)};
    static const char *names[2][3] = {
        {"inference activations", "-", "inference weight copies"},
        {"training activations and gradients", "training workspaces", "training weight copies + scratchpad"}};
    for (int i = 0; i < 3; i++) {
        if (at[i] == 0) continue;
        double per = follows ? next[i] - at[i] : 0;
        rn_mem_add(p, names[training][i], at[i] - per * (double)batch, per, RN_MEM_NEW);
    }
    return 0;
}

int rn_exec_mem_check(rn_mem_plan *p, rn_graph *g, int64_t batch, int64_t H, int64_t W, const rn_exec_opts *opts,
                      const char *batch_name, rn_err *err) {
    rn_mem_add(p, "parameters and gradients", 2.0 * (double)g->arena_size * sizeof(float), 0, RN_MEM_RESIDENT);
    rn_mem_add_threads(p, "OpenMP threads", omp_get_max_threads() - 1);
    if (rn_exec_mem_plan(g, batch, 1, H, W, opts, p, err)) return -1;
    return rn_mem_check(p, batch, batch_name, err);
}
