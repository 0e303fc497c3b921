// exec.c — the oneDNN executor: compiles a graph op by op, runs forward and backward.
#include "src/exec.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/exec_plan.h"
#include "src/mem.h"

rn_exec_opts rn_exec_opts_default(int training) {
    rn_exec_opts o = {.training = training, .input_blocked = 0, .fuse = 1, .profile = 0};
    return o;
}

rn_act *rn_act_of(rn_exec *ex, int t) {
    while (ex->act[t].alias >= 0) t = ex->act[t].alias;
    return &ex->act[t];
}

void rn_exec_run(rn_exec *ex, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args) {
    dnnl_status_t st = dnnl_primitive_execute(p, ex->stream, nargs, args);
    if (st != dnnl_success) {
        fprintf(stderr, "internal error: oneDNN primitive failed to execute (status %d)\n", (int)st);
        abort();
    }
}

dnnl_primitive_t rn_exec_primitive(rn_pd pd) {
    dnnl_primitive_t p = NULL;
    dnnl_status_t st = dnnl_primitive_create(&p, pd);
    if (st != dnnl_success) {
        fprintf(stderr, "internal error: oneDNN primitive creation failed (status %d, %s)\n", (int)st,
                rn_dnn_impl(pd));
        abort();
    }
    return p;
}

dnnl_memory_t rn_exec_memory(rn_exec *ex, rn_cmd md, void *ptr) {
    dnnl_memory_t m = NULL;
    dnnl_status_t st = dnnl_memory_create(&m, md, ex->eng, ptr ? ptr : DNNL_MEMORY_ALLOCATE);
    if (st != dnnl_success) {
        fprintf(stderr, "internal error: oneDNN memory creation failed (status %d)\n", (int)st);
        abort();
    }
    return m;
}

int rn_exec_dnnl_fail(rn_err *err, const rn_op *op, const char *what, dnnl_status_t st) {
    return rn_fail(err, "node '%s' (%s): oneDNN could not create %s (status %d)", op->name,
                   rn_op_type_name(op->type), what, (int)st);
}

void rn_exec_define_output(rn_exec *ex, const rn_op *op, rn_cmd md) {
    rn_act *a = &ex->act[op->out];
    RN_CHECK(!a->md);
    a->md = rn_md_copy(md);
    a->defined = 1;
    size_t bytes = rn_md_bytes(md);
    if (bytes > ex->scratch_bytes) ex->scratch_bytes = bytes;
}

void rn_exec_alias_output(rn_exec *ex, const rn_op *op, int onto) {
    rn_act *a = &ex->act[op->out];
    a->alias = onto;
    rn_act *b = rn_act_of(ex, onto);
    b->consumers += a->consumers - 1;  // the aliased op itself no longer reads `onto`
    // Aliases are Relu and Flatten (no parameters), or BNs folded in inference (no gradients).
    RN_CHECK(!a->needs_grad || b->needs_grad);
}

dnnl_memory_t rn_exec_grad_begin(rn_exec *ex, int t) {
    rn_act *a = rn_act_of(ex, t);
    RN_CHECK(a->dmem);
    if (!a->diff_written) return a->dmem;
    return rn_exec_memory(ex, a->md, ex->scratch);
}

void rn_exec_grad_end(rn_exec *ex, int t, dnnl_memory_t m) {
    rn_act *a = rn_act_of(ex, t);
    if (m != a->dmem) {
        dnnl_memory_destroy(m);
        // A second consumer's gradient: sum it into the first (branch point of a residual block).
        size_t n = rn_md_bytes(a->md) / sizeof(float);
        float *d = a->diff;
        const float *s = ex->scratch;
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) d[i] += s[i];
    }
    a->diff_written = 1;
}

void rn_exec_note_impl(rn_exec *ex, int k, rn_pd pd) {
    for (int i = 0; i < RN_MAX_PRIMS; i++)
        if (!ex->impl_names[k][i]) {
            ex->impl_names[k][i] = rn_strdup(rn_dnn_impl(pd));
            return;
        }
}

int rn_exec_impls(const rn_exec *ex, int op, const char **names, int max) {
    int n = 0;
    for (int i = 0; i < RN_MAX_PRIMS && n < max; i++)
        if (ex->impl_names[op][i]) names[n++] = ex->impl_names[op][i];
    return n;
}

const rn_layer *rn_layer_for(rn_op_type t) {
    switch (t) {
    case RN_OP_CONV: return &rn_layer_conv;
    case RN_OP_BATCHNORM: return &rn_layer_batchnorm;
    case RN_OP_RELU: return &rn_layer_relu;
    case RN_OP_ADD: return &rn_layer_add;
    case RN_OP_MAXPOOL: return &rn_layer_maxpool;
    case RN_OP_GLOBALAVGPOOL: return &rn_layer_globalavgpool;
    case RN_OP_FLATTEN: return &rn_layer_flatten;
    case RN_OP_GEMM: return &rn_layer_gemm;
    default: return NULL;
    }
}

// Activation shapes at this batch size, consumer counts and which activations need gradients
// (those downstream of a trainable parameter, as autograd would decide). rn_exec_estimate runs it too.
int rn_exec_plan(rn_exec *ex, int64_t H, int64_t W, rn_err *err) {
    rn_graph *g = ex->g;
    for (int i = 0; i < g->n_tensors; i++) ex->act[i].alias = -1;
    rn_act *in = &ex->act[g->input];
    const rn_tensor *ti = &g->tensors[g->input];
    in->needs_grad = ex->opts.training && ex->opts.input_grad;
    in->ndim = 4;
    in->dims[0] = ex->batch;
    in->dims[1] = ti->dims[1];
    in->dims[2] = H;
    in->dims[3] = W;
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        int64_t dims[RN_MAX_IN][RN_MAX_DIMS];
        int nd[RN_MAX_IN];
        int needs = 0;
        for (int i = 0; i < op->n_in; i++) {
            const rn_tensor *t = &g->tensors[op->in[i]];
            if (t->role == RN_ACT || t->role == RN_DATA) {
                rn_act *a = &ex->act[op->in[i]];
                memcpy(dims[i], a->dims, sizeof dims[i]);
                nd[i] = a->ndim;
                a->consumers++;
                needs |= a->needs_grad;
            } else {
                memcpy(dims[i], t->dims, sizeof dims[i]);
                nd[i] = t->ndim;
                needs |= t->role == RN_PARAM && t->trainable;
            }
        }
        rn_act *o = &ex->act[op->out];
        if (rn_op_infer(g, op, (const int64_t(*)[RN_MAX_DIMS])dims, nd, o->dims, &o->ndim, err)) return -1;
        o->needs_grad = ex->opts.training && needs;
        for (int i = 1; i < o->ndim; i++)
            if (o->dims[i] <= 0)
                return rn_fail(err, "node '%s': input %lldx%lld is too small for this network", op->name,
                               (long long)H, (long long)W);
    }
    // BatchNormalization or Add whose output feeds only a Relu: one fused primitive
    // (dnnl_fuse_norm_relu; a relu post-op on the binary add).
    for (int k = 0; ex->opts.fuse && k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        if (op->type != RN_OP_RELU) continue;
        int p = g->tensors[op->in[0]].producer;
        if (p >= 0 && (g->ops[p].type == RN_OP_BATCHNORM || g->ops[p].type == RN_OP_ADD) &&
            ex->act[op->in[0]].consumers == 1) {
            ex->skip[k] = 1;
            ex->fuse_relu[p] = 1;
        }
    }
    // Inference: a BatchNormalization right after a Conv folds into the conv's weights and bias
    // (w' = w * gamma / sqrt(var + eps), b' = beta + (b - mean) * gamma / sqrt(var + eps)); a Relu
    // fused into that BN becomes the conv's post-op.
    for (int k = 0; ex->opts.fuse && !ex->opts.training && k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        if (op->type != RN_OP_BATCHNORM) continue;
        int p = g->tensors[op->in[0]].producer;
        if (p >= 0 && g->ops[p].type == RN_OP_CONV && ex->act[op->in[0]].consumers == 1) {
            ex->skip[k] = 1;
            ex->fold_bn[p] = k;
        }
    }
    return 0;
}

static void release_all(rn_exec *ex) {
    rn_graph *g = ex->g;
    rn_exec_weights_release(ex);
    if (ex->impl)
        for (int k = 0; k < g->n_ops; k++)
            if (ex->impl[k]) {
                rn_layer_for(g->ops[k].type)->release(ex, k);
                free(ex->impl[k]);
            }
    if (ex->act)
        for (int i = 0; i < g->n_tensors; i++) {
            rn_act *a = &ex->act[i];
            rn_md_destroy(a->md);
            if (a->alias >= 0) continue;
            if (a->mem) dnnl_memory_destroy(a->mem);
            if (a->dmem) dnnl_memory_destroy(a->dmem);
        }
    rn_free_aligned(ex->act[g->input].buf);
    for (int i = 0; i < ex->n_buffers; i++) rn_free_aligned(ex->buffers[i]);
    free(ex->buffers);
}

static void bind_act(rn_exec *ex, rn_act *a, void *buf) {
    a->buf = buf;
    a->mem = rn_exec_memory(ex, a->md, buf);
}

// Activation and gradient buffers as src/exec_plan.c plans them (the memory estimate adds up the
// same plan). A buffer that cannot be allocated is an error naming it, not an abort.
static int allocate_buffers(rn_exec *ex, rn_err *err) {
    rn_graph *g = ex->g;
    size_t *bytes = rn_calloc((size_t)g->n_tensors, sizeof *bytes);
    int *act = rn_malloc((size_t)g->n_tensors * sizeof *act), *diff = rn_malloc((size_t)g->n_tensors * sizeof *diff);
    for (int t = 0; t < g->n_tensors; t++) {
        rn_act *a = &ex->act[t];
        if (a->alias < 0 && (a->defined || t == g->input)) bytes[t] = rn_md_bytes(a->md);
    }
    rn_buf_plan pa = {0}, pd = {0};
    rn_plan_acts(ex, bytes, act, &pa);
    if (ex->opts.training) rn_plan_diffs(ex, bytes, diff, &pd);
    ex->buffers = rn_calloc((size_t)(pa.n + pd.n) + 1, sizeof *ex->buffers);
    int rc = 0;
    for (int j = 0; j < pa.n + pd.n && !rc; j++) {
        size_t n = j < pa.n ? pa.bytes[j] : pd.bytes[j - pa.n];
        ex->buffers[j] = rn_try_calloc_aligned(n);
        if (!ex->buffers[j]) {
            rn_alloc_fail(err, j < pa.n ? "an activation buffer of the executor" : "a gradient buffer of the executor", n);
            rc = -1;
        } else ex->n_buffers++;
    }
    ex->pool_bytes = pa.total + pd.total;
    for (int t = 0; t < g->n_tensors && !rc; t++) {
        rn_act *a = &ex->act[t];
        if (act[t] >= 0) bind_act(ex, a, ex->buffers[act[t]]);
        if (ex->opts.training && diff[t] >= 0) {
            a->diff = ex->buffers[pa.n + diff[t]];
            a->dmem = rn_exec_memory(ex, a->md, a->diff);
        }
    }
    rn_buf_plan_free(&pa);
    rn_buf_plan_free(&pd);
    free(bytes);
    free(act);
    free(diff);
    return rc;
}

int rn_exec_create(rn_graph *g, int64_t batch, int64_t H, int64_t W, const rn_exec_opts *opts, rn_exec **out,
                   rn_err *err) {
    *out = NULL;
    rn_exec *ex = rn_calloc(1, sizeof *ex);
    ex->g = g;
    ex->opts = opts ? *opts : rn_exec_opts_default(1);
    ex->batch = batch;
    ex->act = rn_calloc((size_t)g->n_tensors, sizeof *ex->act);
    ex->impl = rn_calloc((size_t)g->n_ops, sizeof *ex->impl);
    ex->skip = rn_calloc((size_t)g->n_ops, sizeof *ex->skip);
    ex->fuse_relu = rn_calloc((size_t)g->n_ops, sizeof *ex->fuse_relu);
    ex->fold_bn = rn_malloc((size_t)g->n_ops * sizeof *ex->fold_bn);
    for (int k = 0; k < g->n_ops; k++) ex->fold_bn[k] = -1;
    ex->t_fwd = rn_calloc((size_t)g->n_ops, sizeof *ex->t_fwd);
    ex->t_bwd = rn_calloc((size_t)g->n_ops, sizeof *ex->t_bwd);
    ex->impl_names = rn_calloc((size_t)g->n_ops, sizeof *ex->impl_names);
    ex->w_end = rn_calloc((size_t)g->n_ops, sizeof *ex->w_end);
    if (dnnl_engine_create(&ex->eng, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&ex->stream, ex->eng, dnnl_stream_default_flags) != dnnl_success) {
        rn_exec_destroy(ex);
        return rn_fail(err, "oneDNN: could not create a CPU engine and stream");
    }
    if (rn_exec_plan(ex, H, W, err)) {
        rn_exec_destroy(ex);
        return -1;
    }
    // The graph input crosses from plain NCHW once; everything after takes oneDNN's layouts.
    rn_act *in = &ex->act[g->input];
    dnnl_format_tag_t tag = ex->opts.input_blocked ? dnnl_nChw16c : dnnl_nchw;
    in->md = rn_md_create(4, in->dims, tag);
    size_t bytes = rn_md_bytes(in->md);
    in->buf = rn_try_calloc_aligned(bytes);
    if (!in->buf) {
        rn_exec_destroy(ex);
        return rn_alloc_fail(err, "the executor's input buffer", bytes);
    }
    in->mem = rn_exec_memory(ex, in->md, in->buf);
    ex->scratch_bytes = bytes;
    for (int k = 0; k < g->n_ops; k++) {
        const rn_layer *L = rn_layer_for(g->ops[k].type);
        if (ex->skip[k]) {
            // A Relu fused into the op before it, or a BN folded into its Conv: shares its output.
            rn_exec_alias_output(ex, &g->ops[k], g->ops[k].in[0]);
            ex->w_end[k] = ex->n_weights;
            continue;
        }
        if (L->compile(ex, k, err)) {
            rn_exec_destroy(ex);
            return -1;
        }
        ex->w_end[k] = ex->n_weights;
    }
    ex->scratch = rn_try_calloc_aligned(ex->scratch_bytes);
    if (!ex->scratch || allocate_buffers(ex, err)) {
        if (!ex->scratch) rn_alloc_fail(err, "the executor's gradient-summation buffer", ex->scratch_bytes);
        rn_exec_destroy(ex);
        return -1;
    }
    *out = ex;
    return 0;
}

void rn_exec_destroy(rn_exec *ex) {
    if (!ex) return;
    release_all(ex);
    if (ex->stream) dnnl_stream_destroy(ex->stream);
    if (ex->eng) dnnl_engine_destroy(ex->eng);
    rn_free_aligned(ex->scratch);
    free(ex->act);
    free(ex->impl);
    free(ex->skip);
    free(ex->fuse_relu);
    free(ex->fold_bn);
    free(ex->t_fwd);
    free(ex->t_bwd);
    free(ex->w_end);
    rn_free_aligned(ex->bn_sync_buf);
    for (int k = 0; ex->impl_names && k < ex->g->n_ops; k++)
        for (int i = 0; i < RN_MAX_PRIMS; i++) free(ex->impl_names[k][i]);
    free(ex->impl_names);
    free(ex);
}

// Copies between a plain buffer and an activation's layout (reorder when they differ).
static void transfer(rn_exec *ex, rn_cmd md, void *act_buf, float *plain, int to_plain) {
    int64_t dims[RN_MAX_DIMS];
    int nd = rn_md_dims(md, dims);
    rn_md pmd = rn_md_plain(nd, dims);
    if (rn_md_equal(pmd, md)) {
        size_t bytes = rn_md_bytes(md);
        if (to_plain) memcpy(plain, act_buf, bytes);
        else memcpy(act_buf, plain, bytes);
        rn_md_destroy(pmd);
        return;
    }
    dnnl_memory_t pm = rn_exec_memory(ex, pmd, plain), am = rn_exec_memory(ex, md, act_buf);
    rn_pd pd;
    RN_CHECK(to_plain ? rn_dnn_reorder(&pd, ex->eng, md, pmd) == dnnl_success
                      : rn_dnn_reorder(&pd, ex->eng, pmd, md) == dnnl_success);
    dnnl_primitive_t p = rn_exec_primitive(pd);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, to_plain ? am : pm}, {DNNL_ARG_TO, to_plain ? pm : am}};
    rn_exec_run(ex, p, 2, args);
    dnnl_stream_wait(ex->stream);
    dnnl_primitive_destroy(p);
    dnnl_primitive_desc_destroy(pd);
    dnnl_memory_destroy(pm);
    dnnl_memory_destroy(am);
    rn_md_destroy(pmd);
}

void rn_exec_transfer(rn_exec *ex, rn_cmd md, void *act_buf, float *plain, int to_plain) {
    transfer(ex, md, act_buf, plain, to_plain);
}

void rn_exec_set_input(rn_exec *ex, const float *nchw) {
    rn_act *a = &ex->act[ex->g->input];
    transfer(ex, a->md, a->buf, (float *)nchw, 0);
}

void rn_exec_forward(rn_exec *ex) {
    rn_graph *g = ex->g;
    if (ex->version[0] != g->version) {
        rn_exec_weights_run(ex, RN_W_FORWARD);
        ex->version[0] = g->version;
    }
    for (int k = 0; k < g->n_ops; k++) {
        if (ex->skip[k]) continue;
        double t0 = ex->opts.profile ? rn_now() : 0;
        rn_layer_for(g->ops[k].type)->forward(ex, k);
        if (ex->opts.profile) ex->t_fwd[k] += rn_now() - t0;
    }
    dnnl_stream_wait(ex->stream);
}

void rn_exec_get_output(rn_exec *ex, float *out) { rn_exec_read_act(ex, ex->g->output, out); }

void rn_exec_backward(rn_exec *ex, const float *dout) {
    rn_graph *g = ex->g;
    RN_CHECK(ex->opts.training);
    for (int i = 0; i < g->n_tensors; i++) ex->act[i].diff_written = 0;
    rn_act *o = rn_act_of(ex, g->output);
    if (!o->needs_grad) return;
    transfer(ex, o->md, o->diff, (float *)dout, 0);
    o->diff_written = 1;
    if (ex->version[1] != g->version) {
        rn_exec_weights_run(ex, RN_W_BACKWARD_DATA);
        ex->version[1] = g->version;
    }
    for (int k = g->n_ops - 1; k >= 0; k--) {
        if (ex->skip[k]) continue;
        rn_act *a = rn_act_of(ex, g->ops[k].out);
        if (!a->needs_grad) continue;
        RN_CHECK(a->diff_written);
        double t0 = ex->opts.profile ? rn_now() : 0;
        rn_layer_for(g->ops[k].type)->backward(ex, k);
        if (ex->opts.profile) ex->t_bwd[k] += rn_now() - t0;
        if (ex->grad_hook) {
            int from = k > 0 ? ex->w_end[k - 1] : 0;
            dnnl_stream_wait(ex->stream);
            rn_exec_weights_run_range(ex, RN_W_GRADIENT, from, ex->w_end[k]);
            ex->grad_hook(ex->grad_hook_ctx, k);
        }
    }
    dnnl_stream_wait(ex->stream);
    if (!ex->grad_hook) rn_exec_weights_run(ex, RN_W_GRADIENT);
}

void rn_exec_set_grad_hook(rn_exec *ex, void (*fn)(void *ctx, int op), void *ctx) {
    ex->grad_hook = fn;
    ex->grad_hook_ctx = ctx;
}

void rn_exec_read_act(rn_exec *ex, int t, float *out) {
    rn_act *a = rn_act_of(ex, t);
    transfer(ex, a->md, a->buf, out, 1);
}

void rn_exec_read_grad(rn_exec *ex, int t, float *out) {
    rn_act *a = rn_act_of(ex, t);
    RN_CHECK(a->diff);
    transfer(ex, a->md, a->diff, out, 1);
}

int rn_exec_needs_grad(const rn_exec *ex, int t) { return ex->act[t].needs_grad; }

size_t rn_exec_numel(const rn_exec *ex, int t) {
    size_t n = 1;
    for (int i = 0; i < ex->act[t].ndim; i++) n *= (size_t)ex->act[t].dims[i];
    return n;
}

void rn_exec_profile(const rn_exec *ex, int op, double *fwd, double *bwd) {
    *fwd = ex->t_fwd[op];
    *bwd = ex->t_bwd[op];
}

void rn_exec_profile_reset(rn_exec *ex) {
    memset(ex->t_fwd, 0, (size_t)ex->g->n_ops * sizeof *ex->t_fwd);
    memset(ex->t_bwd, 0, (size_t)ex->g->n_ops * sizeof *ex->t_bwd);
}

size_t rn_exec_act_bytes(const rn_exec *ex) {
    const rn_act *in = &ex->act[ex->g->input];
    return rn_md_bytes(in->md) + ex->pool_bytes + ex->scratch_bytes;
}
