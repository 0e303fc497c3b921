// exec_plan.c — which buffers the executor needs, by liveness, from tensor sizes; see exec_plan.h.
#include "layers/exec_plan.h"

#include <stdlib.h>

void rn_buf_plan_free(rn_buf_plan *p) {
    free(p->bytes);
    free(p->used);
    p->bytes = NULL;
    p->used = NULL;
}

// A free buffer of exactly this size, or a new one.
static int take(rn_buf_plan *p, size_t bytes) {
    int j = 0;
    while (j < p->n && (p->used[j] || p->bytes[j] != bytes)) j++;
    if (j == p->n) {
        p->bytes = rn_realloc(p->bytes, (size_t)(p->n + 1) * sizeof *p->bytes);
        p->used = rn_realloc(p->used, (size_t)(p->n + 1) * sizeof *p->used);
        p->bytes[j] = bytes;
        p->n++;
        p->total += bytes;
    }
    p->used[j] = 1;
    return j;
}

static int root(rn_exec *ex, int t) { return (int)(rn_act_of(ex, t) - ex->act); }

// last[r]: the last op (in forward order) that reads activation root r. Caller frees.
static int *last_reads(rn_exec *ex) {
    rn_graph *g = ex->g;
    int *last = rn_malloc((size_t)g->n_tensors * sizeof *last);
    for (int t = 0; t < g->n_tensors; t++) last[t] = -1;
    for (int k = 0; k < g->n_ops; k++) {
        if (ex->skip[k]) continue;
        for (int i = 0; i < g->ops[k].n_in; i++) {
            rn_role role = g->tensors[g->ops[k].in[i]].role;
            if (role != RN_ACT && role != RN_DATA) continue;
            int r = root(ex, g->ops[k].in[i]);
            if (k > last[r]) last[r] = k;
        }
    }
    return last;
}

// An activation is alive from its producer to its last reader.
void rn_plan_acts(rn_exec *ex, const size_t *bytes, int *slot, rn_buf_plan *p) {
    rn_graph *g = ex->g;
    int *last = last_reads(ex);
    for (int t = 0; t < g->n_tensors; t++) slot[t] = -1;
    int out = root(ex, g->output);
    for (int k = 0; k < g->n_ops; k++) {
        int o = g->ops[k].out;
        if (ex->act[o].alias < 0 && bytes[o] > 0) slot[o] = take(p, bytes[o]);
        if (ex->opts.training) continue;
        for (int i = 0; i < g->ops[k].n_in; i++) {
            int t = g->ops[k].in[i];
            if (g->tensors[t].role != RN_ACT) continue;  // the graph input has its own buffer
            int r = root(ex, t);
            if (last[r] == k && r != out && slot[r] >= 0) p->used[slot[r]] = 0;
        }
    }
    free(last);
}

// In the backward (ops in reverse), d(t) is born at the last op that reads t and dies once t's
// producer has run.
void rn_plan_diffs(rn_exec *ex, const size_t *bytes, int *slot, rn_buf_plan *p) {
    rn_graph *g = ex->g;
    int *born = last_reads(ex);
    born[root(ex, g->output)] = g->n_ops;  // written before the first op runs
    for (int t = 0; t < g->n_tensors; t++) slot[t] = -1;
    for (int k = g->n_ops; k >= 0; k--) {
        for (int t = 0; t < g->n_tensors; t++) {
            const rn_act *a = &ex->act[t];
            if (born[t] != k || a->alias >= 0 || !a->needs_grad || !bytes[t]) continue;
            slot[t] = take(p, bytes[t]);
        }
        if (k == g->n_ops || k == 0) continue;
        // After op k's backward its output's gradient is dead (the graph input's never is).
        int r = root(ex, g->ops[k].out);
        if (g->tensors[r].producer == k && slot[r] >= 0) p->used[slot[r]] = 0;
    }
    free(born);
}
