// exec_plan.c — where the executor's activations and gradients live, by liveness over one step; see
// exec_plan.h.
//
// The step as a timeline of n ops: op k's forward at time k, the loss at time n, op k's backward at
// 2n - k. A tensor's data lives from its producer's forward to its last use: its last reader's forward,
// or in training the backward of an op that reads it again (layer.h's RN_BWD_* flags: a Conv's input,
// a Relu's output, ...). Its gradient lives from the backward of its last reader (the first backward
// to write it) to its producer's backward; a second consumer's gradient, summed into it, has room of
// its own only while it is written (the input of a residual block: its conv's backward).
//
// Every such lifetime gets an offset in one arena, so that two never share bytes while both are
// alive: in training the gradients take the room of activations the backward is done with, and
// activations that no backward reads (a block's last BN output, read only by the Add) are reused
// within the forward already — the sharing PyTorch's autograd gets by freeing saved tensors as it
// goes, planned once. Offsets are placed largest first, each at the lowest offset free over its
// lifetime (the greedy-by-size heuristic of static memory planners): for a ResNet-50 step the arena
// equals the peak of live bytes (2,479 MB at batch 32), where reusing whole buffers of exactly the
// same size needed 3,029 MB.
#include "layers/exec_plan.h"

#include <stdlib.h>

#define ALIGN 64  // bytes: every offset starts a cache line (and an AVX-512 vector)

void rn_buf_plan_free(rn_buf_plan *p) {
    free(p->act);
    free(p->diff);
    free(p->second);
    p->act = p->diff = p->second = NULL;
}

static int root(rn_exec *ex, int t) { return (int)(rn_act_of(ex, t) - ex->act); }

static int max_i(int a, int b) { return a > b ? a : b; }

// One lifetime to place: tensor t's data, gradient or second gradient, alive over [born, dies].
typedef struct span {
    int t, kind;  // kind: 0 data, 1 gradient, 2 second gradient
    int born, dies;
    size_t bytes;
    int64_t at;   // the offset chosen, -1 before
} span;

typedef struct spans {
    span *v;  // at most one per kind and tensor
    int n;
} spans;

static void add_span(spans *s, int t, int kind, int born, int dies, size_t bytes) {
    s->v[s->n++] = (span){t, kind, born, dies, (bytes + ALIGN - 1) / ALIGN * ALIGN, -1};
}

// The backward time at which op k writes a gradient for its input i (-1: it writes none).
static int writes_grad(rn_exec *ex, int k, int i) {
    const rn_op *op = &ex->g->ops[k];
    int n = ex->g->n_ops;
    rn_role role = ex->g->tensors[op->in[i]].role;
    if (ex->skip[k] || !rn_act_of(ex, op->out)->needs_grad || (role != RN_ACT && role != RN_DATA)) return -1;
    if (rn_act_of(ex, op->in[i])->needs_grad) return 2 * n - k;
    return i == 0 && (rn_layer_for(op->type)->bwd_reads & RN_BWD_DX_ALWAYS) ? 2 * n - k : -1;
}

// The second gradient of t: over every gradient write but the first into d(t) (or all of them when t
// needs no gradient: what a BN writes anyway).
static void second_span(rn_exec *ex, spans *s, int t, size_t bytes) {
    rn_graph *g = ex->g;
    int first = -1, lo = -1, hi = -1;
    // Backward runs in reverse forward order: the first write is the latest reader's.
    for (int k = g->n_ops - 1; k >= 0; k--)
        for (int i = 0; i < g->ops[k].n_in; i++) {
            int time = root(ex, g->ops[k].in[i]) == t ? writes_grad(ex, k, i) : -1;
            if (time < 0) continue;
            if (ex->act[t].needs_grad && first < 0) first = time;
            else {
                if (lo < 0) lo = time;
                hi = time;
            }
        }
    if (lo >= 0) add_span(s, t, 2, lo, hi, bytes);
}

// An Add whose input dies with it writes its sum over that input (oneDNN's binary runs in place;
// add.c swaps the operands when it is the second): same layout and size, and nothing reads the input
// later, in the forward or a backward. Returns that input, or -1.
static int in_place_input(rn_exec *ex, int k, const size_t *bytes, const int *layout, const int *dies,
                          const int *owner) {
    rn_graph *g = ex->g;
    const rn_op *op = &g->ops[k];
    if (op->type != RN_OP_ADD) return -1;
    for (int i = 0; i < op->n_in; i++) {
        int r = root(ex, op->in[i]);
        if (g->tensors[r].role == RN_ACT && g->tensors[r].producer >= 0 && dies[owner[r]] == k &&
            bytes[r] == bytes[op->out] && layout[r] == layout[op->out])
            return r;
    }
    return -1;
}

// Every lifetime of the step. owner[t]: the tensor whose data span holds t's data (itself, or the
// input of an in-place Add).
static void lifetimes(rn_exec *ex, const size_t *bytes, const int *layout, spans *s, int *owner) {
    rn_graph *g = ex->g;
    int n = g->n_ops, nt = g->n_tensors, end = 2 * n + 1, out = root(ex, g->output), train = ex->opts.training;
    int *last = rn_malloc((size_t)nt * sizeof *last), *dies = rn_malloc((size_t)nt * sizeof *dies);
    for (int t = 0; t < nt; t++) last[t] = dies[t] = -1, owner[t] = t;
    // Data: the last read, in the forward or a backward.
    for (int k = 0; k < n; k++) {
        if (ex->skip[k]) continue;
        const rn_op *op = &g->ops[k];
        for (int i = 0; i < op->n_in; i++) {
            rn_role role = g->tensors[op->in[i]].role;
            if (role != RN_ACT && role != RN_DATA) continue;
            int r = root(ex, op->in[i]);
            last[r] = max_i(last[r], k);
        }
        dies[op->out] = k;
    }
    for (int t = 0; t < nt; t++) dies[t] = max_i(dies[t], last[t]);
    dies[out] = end;  // the loss reads the output, and callers may read it after the backward too
    for (int k = 0; train && k < n; k++) {
        const rn_op *op = &g->ops[k];
        if (ex->skip[k] || !rn_act_of(ex, op->out)->needs_grad) continue;  // its backward does not run
        unsigned reads = rn_layer_for(op->type)->bwd_reads;
        int x = root(ex, op->in[0]), y = root(ex, op->out);
        if (reads & RN_BWD_X) dies[x] = max_i(dies[x], 2 * n - k);
        if ((reads & RN_BWD_Y) || ((reads & RN_BWD_Y_FUSED) && ex->fuse_relu[k])) dies[y] = max_i(dies[y], 2 * n - k);
    }
    // In-place Adds join their output's lifetime to their input's.
    for (int k = 0; k < n; k++) {
        int o = g->ops[k].out;
        if (ex->skip[k] || ex->act[o].alias >= 0 || !bytes[o]) continue;
        int r = in_place_input(ex, k, bytes, layout, dies, owner);
        if (r < 0) continue;
        owner[o] = owner[r];
        dies[owner[o]] = max_i(dies[owner[o]], dies[o]);
    }
    for (int k = 0; k < n; k++) {
        int o = g->ops[k].out;
        if (!ex->skip[k] && ex->act[o].alias < 0 && bytes[o] && owner[o] == o) add_span(s, o, 0, k, dies[o], bytes[o]);
    }
    for (int t = 0; train && t < nt; t++) {
        const rn_act *a = &ex->act[t];
        if (a->alias >= 0 || !bytes[t]) continue;
        int p = g->tensors[t].producer;
        // d(output) is written before the first backward; the graph input's is read after the last.
        if (a->needs_grad)
            add_span(s, t, 1, t == out || last[t] < 0 ? n : 2 * n - last[t], t == g->input || p < 0 ? end : 2 * n - p,
                     bytes[t]);
        second_span(ex, s, t, bytes[t]);
    }
    free(last);
    free(dies);
}

static int by_size(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->born != y->born ? x->born - y->born : (x->t != y->t ? x->t - y->t : x->kind - y->kind);
}

static int by_offset(const void *a, const void *b) {
    const span *x = *(const span *const *)a, *y = *(const span *const *)b;
    return x->at < y->at ? -1 : x->at > y->at;
}

// Greedy by size: each span at the lowest offset where it overlaps no placed span alive with it.
static size_t place(spans *s) {
    qsort(s->v, (size_t)s->n, sizeof *s->v, by_size);
    span **live = rn_malloc((size_t)(s->n + 1) * sizeof *live);
    size_t total = 0;
    for (int i = 0; i < s->n; i++) {
        span *x = &s->v[i];
        int m = 0;
        for (int j = 0; j < i; j++)
            if (s->v[j].born <= x->dies && x->born <= s->v[j].dies) live[m++] = &s->v[j];
        qsort(live, (size_t)m, sizeof *live, by_offset);
        int64_t at = 0;
        for (int j = 0; j < m && live[j]->at < at + (int64_t)x->bytes; j++) {
            int64_t e = live[j]->at + (int64_t)live[j]->bytes;
            if (e > at) at = e;
        }
        x->at = at;
        if ((size_t)at + x->bytes > total) total = (size_t)at + x->bytes;
    }
    free(live);
    return total;
}

void rn_plan_buffers(rn_exec *ex, const size_t *bytes, const int *layout, rn_buf_plan *p) {
    int nt = ex->g->n_tensors;
    spans s = {rn_malloc((size_t)(3 * nt + 1) * sizeof *s.v), 0};
    int *owner = rn_malloc((size_t)nt * sizeof *owner);
    lifetimes(ex, bytes, layout, &s, owner);
    p->total = place(&s);
    int64_t **to[3] = {&p->act, &p->diff, &p->second};
    for (int k = 0; k < 3; k++) {
        *to[k] = rn_malloc((size_t)nt * sizeof(int64_t));
        for (int t = 0; t < nt; t++) (*to[k])[t] = -1;
    }
    for (int i = 0; i < s.n; i++) (*to[s.v[i].kind])[s.v[i].t] = s.v[i].at;
    for (int t = 0; t < nt; t++)
        if (owner[t] != t) p->act[t] = p->act[owner[t]];
    free(s.v);
    free(owner);
}
