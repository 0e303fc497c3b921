// exec.c — the oneDNN executor: compiles a graph op by op, runs forward and backward.
#include "layers/exec.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/exec_plan.h"
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
    if (ex->run_st != dnnl_success) return;  // a primitive of this step failed: the rest would read garbage
    dnnl_status_t st = rn_fault_hit() ? dnnl_out_of_memory : dnnl_primitive_execute(p, ex->stream, nargs, args);
    if (st != dnnl_success) ex->run_st = st;
}

// The step's result: the first failed execution as an error naming the node (then cleared, so that
// the next step starts afresh), or 0. `pass`: "the forward pass", "the input copy", ...
static int run_result(rn_exec *ex, const char *pass, rn_err *err) {
    dnnl_status_t st = ex->run_st;
    if (st == dnnl_success && dnnl_stream_wait(ex->stream) == dnnl_success) return 0;
    ex->run_st = dnnl_success;
    if (st == dnnl_success) return rn_fail(err, "oneDNN: the stream failed to finish %s", pass);
    if (ex->run_op < 0)
        return rn_fail(err, "oneDNN failed to execute %s: %s (status %d)", pass, rn_dnn_status_str(st), (int)st);
    const rn_op *op = &ex->g->ops[ex->run_op];
    return rn_fail(err, "node '%s' (%s): oneDNN failed to execute it in %s: %s (status %d)", op->name,
                   rn_op_type_name(op->type), pass, rn_dnn_status_str(st), (int)st);
}

int rn_exec_alloc_fail(rn_err *err, const rn_op *op, const char *what, size_t bytes) {
    rn_alloc_fail(err, what, bytes);
    if (!op || !err) return -1;
    char m[sizeof err->msg];
    memcpy(m, err->msg, sizeof m);
    return rn_fail(err, "node '%s' (%s): %s", op->name, rn_op_type_name(op->type), m);
}

// oneDNN (2.6) does not survive every allocation failure inside primitive creation: under an RLIMIT_AS
// it was seen to crash there (SIGSEGV in dnnl_primitive_create, in its JIT code generation). So the
// room for what the primitive takes (its memory consumption: scratchpad and its own buffers) plus a
// margin for its generated code and bookkeeping is mapped first, and its absence is out of memory.
#define PRIM_MARGIN ((size_t)32 << 20)

static size_t prim_need(rn_pd pd) {
    int64_t need = 0;
    if (dnnl_primitive_desc_query(pd, dnnl_query_memory_consumption_s64, 0, &need) != dnnl_success || need < 0) need = 0;
    return (size_t)need;
}

static dnnl_status_t make_primitive(dnnl_primitive_t *p, rn_pd pd) {
    *p = NULL;
    if (rn_fault_hit() || !rn_mem_can_map(prim_need(pd) + PRIM_MARGIN)) return dnnl_out_of_memory;
    return dnnl_primitive_create(p, pd);
}

// Which implementation oneDNN chose for one of op k's primitives (see rn_exec_impls).
static int note_impl(rn_exec *ex, int k, rn_pd pd) {
    for (int i = 0; i < RN_MAX_PRIMS; i++)
        if (!ex->impl_names[k][i]) {
            const char *s = rn_dnn_impl(pd);
            char *c = rn_try_malloc(strlen(s) + 1);
            if (!c) return -1;
            ex->impl_names[k][i] = strcpy(c, s);
            return 0;
        }
    return 0;
}

int rn_exec_primitive(rn_exec *ex, int k, rn_pd pd, const char *what, dnnl_primitive_t *out, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    dnnl_status_t st = make_primitive(out, pd);
    if (st == dnnl_out_of_memory) {
        // Its scratchpad, buffers of its own and code: oneDNN makes them with the primitive.
        char w[200];
        snprintf(w, sizeof w, "oneDNN's primitive for %s, with its scratchpad and generated code", what);
        return rn_exec_alloc_fail(err, op, w, prim_need(pd));
    }
    if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, what, st);
    if (note_impl(ex, k, pd)) {
        dnnl_primitive_destroy(*out);
        *out = NULL;
        return rn_exec_alloc_fail(err, op, "the name of an implementation", 0);
    }
    return 0;
}

int rn_exec_memory(rn_exec *ex, rn_cmd md, void *ptr, const rn_op *op, const char *what, dnnl_memory_t *out,
                   rn_err *err) {
    *out = NULL;
    dnnl_status_t st = rn_fault_hit() ? dnnl_out_of_memory
                                      : dnnl_memory_create(out, md, ex->eng, ptr ? ptr : DNNL_MEMORY_ALLOCATE);
    if (st == dnnl_success) return 0;
    *out = NULL;
    char w[160];
    if (!ptr) return rn_exec_alloc_fail(err, op, what, rn_md_bytes(md));  // oneDNN's own buffer
    snprintf(w, sizeof w, "the oneDNN memory object of %s", what);
    if (st == dnnl_out_of_memory) return rn_exec_alloc_fail(err, op, w, 0);
    return rn_exec_dnnl_fail(err, op, w, st);
}

int rn_exec_dnnl_fail(rn_err *err, const rn_op *op, const char *what, dnnl_status_t st) {
    return rn_fail(err, "node '%s' (%s): oneDNN could not create %s: %s (status %d)", op->name,
                   rn_op_type_name(op->type), what, rn_dnn_status_str(st), (int)st);
}

int rn_exec_define_output(rn_exec *ex, const rn_op *op, rn_cmd md, rn_err *err) {
    rn_act *a = &ex->act[op->out];
    RN_CHECK(!a->md);
    a->md = rn_md_copy(md);
    if (!a->md) return rn_exec_alloc_fail(err, op, "its output's memory descriptor", 0);
    a->defined = 1;
    return 0;
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
    RN_CHECK(a->smem);
    return a->smem;
}

void rn_exec_grad_end(rn_exec *ex, int t, dnnl_memory_t m) {
    rn_act *a = rn_act_of(ex, t);
    if (m != a->dmem) {
        // A second consumer's gradient: sum it into the first (branch point of a residual block).
        size_t n = rn_md_bytes(a->md) / sizeof(float);
        float *d = a->diff;
        const float *s = a->second;
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) d[i] += s[i];
    }
    a->diff_written = 1;
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
    if (ex->act) {
        for (int i = 0; i < g->n_tensors; i++) {
            rn_act *a = &ex->act[i];
            rn_md_destroy(a->md);
            if (a->alias >= 0) continue;
            dnnl_memory_t m[3] = {a->mem, a->dmem, a->smem};
            for (int j = 0; j < 3; j++)
                if (m[j]) dnnl_memory_destroy(m[j]);
        }
        rn_free_aligned(ex->act[g->input].buf);
    }
    rn_free_aligned(ex->arena);
}

// A tensor's name in messages: "activation 'stage1.conv1.out'".
static const char *tensor_what(rn_exec *ex, const char *kind, int t, char *buf, size_t cap) {
    snprintf(buf, cap, "%s '%s'", kind, ex->g->tensors[t].name);
    return buf;
}

// Layout classes for the plan: tensors with equal memory descriptors share a number.
static void layout_classes(rn_exec *ex, int *layout) {
    int nt = ex->g->n_tensors;
    for (int t = 0; t < nt; t++) {
        layout[t] = -1;
        if (!ex->act[t].md || ex->act[t].alias >= 0) continue;
        layout[t] = t;
        for (int u = 0; u < t && layout[t] == t; u++)
            if (layout[u] == u && rn_md_equal(ex->act[u].md, ex->act[t].md)) layout[t] = u;
    }
}

// Activation and gradient buffers as layers/exec_plan.c plans them (the memory estimate adds up the
// same plan), and their memory objects. A buffer that cannot be allocated is an error naming it, not an abort.
static int allocate_buffers(rn_exec *ex, rn_err *err) {
    rn_graph *g = ex->g;
    size_t nt = (size_t)g->n_tensors;
    size_t *bytes = rn_try_calloc(nt, sizeof *bytes);
    int *layout = rn_try_calloc(nt, sizeof *layout);
    if (!bytes || !layout) {
        free(bytes), free(layout);
        return rn_alloc_fail(err, "the executor's buffer plan", nt * (sizeof *bytes + sizeof *layout));
    }
    for (int t = 0; t < g->n_tensors; t++) {
        rn_act *a = &ex->act[t];
        if (a->alias < 0 && (a->defined || t == g->input)) bytes[t] = rn_md_bytes(a->md);
    }
    layout_classes(ex, layout);
    rn_buf_plan plan = {0};
    rn_plan_buffers(ex, bytes, layout, &plan);
    int rc = 0;
    ex->arena = rn_try_calloc_aligned(plan.total ? plan.total : 1);  // a graph of Flattens only has none
    if (!ex->arena)
        rc = rn_alloc_fail(err, ex->opts.training ? "the executor's activations and gradients" : "the executor's activations",
                           plan.total);
    ex->arena_bytes = plan.total;
    char w[300];
    char *base = ex->arena;
    for (int t = 0; t < g->n_tensors && !rc; t++) {
        rn_act *a = &ex->act[t];
        if (plan.act[t] >= 0) {
            a->buf = (float *)(base + plan.act[t]);
            rc = rn_exec_memory(ex, a->md, a->buf, NULL, tensor_what(ex, "activation", t, w, sizeof w), &a->mem, err);
        }
        if (!rc && plan.diff[t] >= 0) {
            a->diff = (float *)(base + plan.diff[t]);
            rc = rn_exec_memory(ex, a->md, a->diff, NULL, tensor_what(ex, "gradient", t, w, sizeof w), &a->dmem, err);
        }
        // A second consumer's gradient, or one nobody needs (a BatchNormalization on the graph input).
        if (!rc && plan.second[t] >= 0) {
            a->second = (float *)(base + plan.second[t]);
            rc = rn_exec_memory(ex, a->md, a->second, NULL, tensor_what(ex, "second gradient of", t, w, sizeof w),
                                &a->smem, err);
        }
    }
    rn_buf_plan_free(&plan);
    free(bytes);
    free(layout);
    return rc;
}

// Everything rn_exec_create allocates before compiling; -1 when one of them is out of memory.
static int create_arrays(rn_exec *ex, rn_err *err) {
    size_t nt = (size_t)ex->g->n_tensors, no = (size_t)ex->g->n_ops;
    ex->act = rn_try_calloc(nt, sizeof *ex->act);
    ex->impl = rn_try_calloc(no, sizeof *ex->impl);
    ex->skip = rn_try_calloc(no, sizeof *ex->skip);
    ex->fuse_relu = rn_try_calloc(no, sizeof *ex->fuse_relu);
    ex->fold_bn = rn_try_calloc(no, sizeof *ex->fold_bn);
    ex->t_fwd = rn_try_calloc(no, sizeof *ex->t_fwd);
    ex->t_bwd = rn_try_calloc(no, sizeof *ex->t_bwd);
    ex->impl_names = rn_try_calloc(no, sizeof *ex->impl_names);
    ex->w_end = rn_try_calloc(no, sizeof *ex->w_end);
    if (!ex->act || !ex->impl || !ex->skip || !ex->fuse_relu || !ex->fold_bn || !ex->t_fwd || !ex->t_bwd ||
        !ex->impl_names || !ex->w_end)
        return rn_alloc_fail(err, "the executor's per-op and per-tensor tables",
                             nt * sizeof *ex->act + no * (sizeof *ex->impl + 2 * sizeof(int) + sizeof *ex->fold_bn +
                                                          2 * sizeof(double) + sizeof *ex->impl_names +
                                                          sizeof *ex->w_end));
    for (size_t k = 0; k < no; k++) ex->fold_bn[k] = -1;
    return 0;
}

// oneDNN generates its f32 GEMM kernels lazily, once per process, at the first GEMM (inside a
// std::call_once); convolutions on AVX2 run through them. Under an RLIMIT_AS nearly used up by our
// buffers that generation failed and oneDNN crashed (SIGSEGV in the first convolution's execution),
// so the executor runs one small GEMM before it allocates anything large.
static int warm_up(rn_err *err) {
    enum { N = 64 };
    float *m = rn_try_calloc(3 * N * N, sizeof *m);
    if (!m) return rn_alloc_fail(err, "the executor's first GEMM", 3 * N * N * sizeof *m);
    dnnl_status_t st = dnnl_sgemm('N', 'N', N, N, N, 1.0f, m, N, m + N * N, N, 0.0f, m + 2 * N * N, N);
    free(m);
    if (st == dnnl_out_of_memory) return rn_alloc_fail(err, "the executor's first GEMM (oneDNN's kernels)", 0);
    if (st != dnnl_success)
        return rn_fail(err, "oneDNN: could not run a first GEMM: %s (status %d)", rn_dnn_status_str(st), (int)st);
    return 0;
}

static int create(rn_exec *ex, int64_t H, int64_t W, rn_err *err) {
    rn_graph *g = ex->g;
    if (create_arrays(ex, err)) return -1;
    dnnl_status_t st = dnnl_engine_create(&ex->eng, dnnl_cpu, 0);
    if (st == dnnl_success) st = dnnl_stream_create(&ex->stream, ex->eng, dnnl_stream_default_flags);
    if (st != dnnl_success)
        return rn_fail(err, "oneDNN: could not create a CPU engine and stream: %s (status %d)", rn_dnn_status_str(st),
                       (int)st);
    if (warm_up(err) || rn_exec_plan(ex, H, W, err)) return -1;
    // The graph input crosses from plain NCHW once; everything after takes oneDNN's layouts.
    rn_act *in = &ex->act[g->input];
    dnnl_format_tag_t tag = ex->opts.input_blocked ? dnnl_nChw16c : dnnl_nchw;
    in->md = rn_md_create(4, in->dims, tag);
    if (!in->md) return rn_alloc_fail(err, "the executor's input descriptor", 0);
    size_t bytes = rn_md_bytes(in->md);
    in->buf = rn_try_calloc_aligned(bytes);
    if (!in->buf) return rn_alloc_fail(err, "the executor's input buffer", bytes);
    if (rn_exec_memory(ex, in->md, in->buf, NULL, "the executor's input", &in->mem, err)) return -1;
    for (int k = 0; k < g->n_ops; k++) {
        if (ex->skip[k]) {
            // A Relu fused into the op before it, or a BN folded into its Conv: shares its output.
            rn_exec_alias_output(ex, &g->ops[k], g->ops[k].in[0]);
            ex->w_end[k] = ex->n_weights;
            continue;
        }
        if (rn_layer_for(g->ops[k].type)->compile(ex, k, err)) return -1;
        ex->w_end[k] = ex->n_weights;
    }
    return allocate_buffers(ex, err) || rn_exec_weights_prepare(ex, err) ? -1 : 0;
}

int rn_exec_create(rn_graph *g, int64_t batch, int64_t H, int64_t W, const rn_exec_opts *opts, rn_exec **out,
                   rn_err *err) {
    *out = NULL;
    rn_exec *ex = rn_try_calloc(1, sizeof *ex);
    if (!ex) return rn_alloc_fail(err, "the executor", sizeof *ex);
    ex->g = g;
    ex->opts = opts ? *opts : rn_exec_opts_default(1);
    ex->batch = batch;
    ex->run_op = -1;
    if (create(ex, H, W, err)) {
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

// Copies between a plain buffer and an activation's layout (a reorder when they differ). `what`
// names the copy in messages ("the input copy"). Made per call: only tests and tools read other
// layouts than the plain ones the graph input and output normally have.
static int transfer(rn_exec *ex, rn_cmd md, void *act_buf, float *plain, int to_plain, const char *what, rn_err *err) {
    int64_t dims[RN_MAX_DIMS];
    int nd = rn_md_dims(md, dims);
    rn_md pmd = rn_md_plain(nd, dims);
    char w[400];
    snprintf(w, sizeof w, "the plain-layout descriptor of %s", what);
    if (!pmd) return rn_alloc_fail(err, w, 0);
    if (rn_md_equal(pmd, md)) {
        size_t bytes = rn_md_bytes(md);
        if (to_plain) memcpy(plain, act_buf, bytes);
        else memcpy(act_buf, plain, bytes);
        rn_md_destroy(pmd);
        return 0;
    }
    dnnl_memory_t pm = NULL, am = NULL;
    rn_pd pd = NULL;
    dnnl_primitive_t p = NULL;
    int rc = rn_exec_memory(ex, pmd, plain, NULL, what, &pm, err) || rn_exec_memory(ex, md, act_buf, NULL, what, &am, err);
    dnnl_status_t st = dnnl_success;
    if (!rc) st = to_plain ? rn_dnn_reorder(&pd, ex->eng, md, pmd) : rn_dnn_reorder(&pd, ex->eng, pmd, md);
    if (!rc && st == dnnl_success) st = make_primitive(&p, pd);
    if (!rc && st != dnnl_success)
        rc = rn_fail(err, "oneDNN could not create the reorder of %s: %s (status %d)", what, rn_dnn_status_str(st),
                     (int)st);
    if (!rc) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, to_plain ? am : pm}, {DNNL_ARG_TO, to_plain ? pm : am}};
        ex->run_op = -1;
        rn_exec_run(ex, p, 2, args);
        rc = run_result(ex, what, err);
    }
    if (p) dnnl_primitive_destroy(p);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (pm) dnnl_memory_destroy(pm);
    if (am) dnnl_memory_destroy(am);
    rn_md_destroy(pmd);
    return rc;
}

int rn_exec_transfer(rn_exec *ex, rn_cmd md, void *act_buf, float *plain, int to_plain, const char *what,
                     rn_err *err) {
    return transfer(ex, md, act_buf, plain, to_plain, what, err);
}

int rn_exec_set_input(rn_exec *ex, const float *nchw, rn_err *err) {
    rn_act *a = &ex->act[ex->g->input];
    return transfer(ex, a->md, a->buf, (float *)nchw, 0, "the input copy", err);
}

int rn_exec_forward(rn_exec *ex, rn_err *err) {
    rn_graph *g = ex->g;
    ex->forwarded = 0;
    if (ex->version[0] != g->version || ex->fwd_dirty) {
        rn_exec_weights_run(ex, RN_W_FORWARD);
        ex->version[0] = g->version;
        ex->fwd_dirty = 0;
    }
    for (int k = 0; k < g->n_ops && ex->run_st == dnnl_success; k++) {
        if (ex->skip[k]) continue;
        double t0 = ex->opts.profile ? rn_now() : 0;
        ex->run_op = k;
        rn_layer_for(g->ops[k].type)->forward(ex, k);
        if (ex->opts.profile) ex->t_fwd[k] += rn_now() - t0;
    }
    if (run_result(ex, "the forward pass", err)) return -1;
    ex->forwarded = 1;
    return 0;
}

int rn_exec_get_output(rn_exec *ex, float *out, rn_err *err) { return rn_exec_read_act(ex, ex->g->output, out, err); }

int rn_exec_backward(rn_exec *ex, const float *dout, rn_err *err) {
    rn_graph *g = ex->g;
    RN_CHECK(ex->opts.training);
    if (!ex->forwarded) return rn_fail(err, "the backward pass needs a forward pass first (one backward per forward)");
    ex->forwarded = 0;
    for (int i = 0; i < g->n_tensors; i++) ex->act[i].diff_written = 0;
    rn_act *o = rn_act_of(ex, g->output);
    if (!o->needs_grad) return 0;
    if (transfer(ex, o->md, o->diff, (float *)dout, 0, "the output-gradient copy", err)) return -1;
    o->diff_written = 1;
    if (ex->version[1] != g->version) {
        rn_exec_weights_run(ex, RN_W_BACKWARD_DATA);
        ex->version[1] = g->version;
    }
    for (int k = g->n_ops - 1; k >= 0 && ex->run_st == dnnl_success; k--) {
        if (ex->skip[k]) continue;
        rn_act *a = rn_act_of(ex, g->ops[k].out);
        if (!a->needs_grad) continue;
        RN_CHECK(a->diff_written);
        double t0 = ex->opts.profile ? rn_now() : 0;
        ex->run_op = k;
        rn_layer_for(g->ops[k].type)->backward(ex, k);
        if (ex->opts.profile) ex->t_bwd[k] += rn_now() - t0;
        if (ex->grad_hook && ex->run_st == dnnl_success) {  // a failed op's gradients are not handed on
            int from = k > 0 ? ex->w_end[k - 1] : 0;
            dnnl_stream_wait(ex->stream);
            rn_exec_weights_run_range(ex, RN_W_GRADIENT, from, ex->w_end[k]);
            ex->grad_hook(ex->grad_hook_ctx, k);
        }
    }
    ex->fwd_dirty = ex->w_borrowed;  // weight gradients written over forward copies (weights.c)
    if (run_result(ex, "the backward pass", err)) return -1;
    if (!ex->grad_hook) rn_exec_weights_run(ex, RN_W_GRADIENT);
    return 0;
}

void rn_exec_set_grad_hook(rn_exec *ex, void (*fn)(void *ctx, int op), void *ctx) {
    ex->grad_hook = fn;
    ex->grad_hook_ctx = ctx;
}

int rn_exec_read_act(rn_exec *ex, int t, float *out, rn_err *err) {
    rn_act *a = rn_act_of(ex, t);
    char w[300];
    return transfer(ex, a->md, a->buf, out, 1, tensor_what(ex, "the copy of activation", t, w, sizeof w), err);
}

int rn_exec_read_grad(rn_exec *ex, int t, float *out, rn_err *err) {
    rn_act *a = rn_act_of(ex, t);
    RN_CHECK(a->diff);
    char w[300];
    return transfer(ex, a->md, a->diff, out, 1, tensor_what(ex, "the copy of the gradient of", t, w, sizeof w), err);
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
    return rn_md_bytes(in->md) + ex->arena_bytes;
}
