// ema.c — the moving average of the weights; see ema.h.
#include "optim/ema.h"

#include <stdlib.h>
#include <string.h>

static int averaged(const rn_tensor *t) { return t->role == RN_PARAM || t->role == RN_STATE; }

rn_ema *rn_ema_create(const rn_graph *g, double decay) {
    rn_ema *e = rn_calloc(1, sizeof *e);
    e->g = g;
    e->decay = decay;
    e->w = rn_malloc_aligned(g->arena_size * sizeof(float) + 64);
    memset(e->w, 0, g->arena_size * sizeof(float));
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (averaged(t)) memcpy(e->w + t->offset, t->data, rn_tensor_numel(t) * sizeof(float));
    }
    return e;
}

void rn_ema_destroy(rn_ema *e) {
    if (!e) return;
    rn_free_aligned(e->w);
    free(e);
}

double rn_ema_adjusted_decay(double decay, int64_t samples_per_step, int every, int epochs) {
    double adjust = (double)samples_per_step * every / (epochs > 0 ? epochs : 1);
    double alpha = (1.0 - decay) * adjust;
    if (alpha > 1.0) alpha = 1.0;
    return 1.0 - alpha;
}

void rn_ema_update(rn_ema *e, const rn_graph *g) {
    RN_CHECK(g == e->g);
    const int copy = e->n_averaged == 0;
    const float d = (float)e->decay, a = (float)(1.0 - e->decay);
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!averaged(t)) continue;
        float *avg = e->w + t->offset;
        const float *w = t->data;
        long n = (long)rn_tensor_numel(t);
        if (copy) {
            memcpy(avg, w, (size_t)n * sizeof(float));
            continue;
        }
#pragma omp parallel for schedule(static) if (n > 32768)
        for (long j = 0; j < n; j++) avg[j] = d * avg[j] + a * w[j];
    }
    e->n_averaged++;
}

void rn_ema_swap(rn_ema *e, rn_graph *g) {
    RN_CHECK(g == e->g);
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!averaged(t)) continue;
        float *a = e->w + t->offset, *w = t->data;
        size_t n = rn_tensor_numel(t);
        for (size_t j = 0; j < n; j++) {
            float x = a[j];
            a[j] = w[j];
            w[j] = x;
        }
    }
    g->version++;
}
