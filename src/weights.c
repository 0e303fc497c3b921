// weights.c — parameters between the graph's plain layout and the blocked layouts primitives want.
//
// A blocked layout's offset is a sum of one term per dimension (outer stride plus inner-block
// position), so each transfer keeps one offset table per dimension and copies with plain loops.
// All transfers of one phase run in a single parallel region: a ResNet-50 step has ~160 weight
// transfers, and one oneDNN reorder each would pay ~160 thread wake-ups for little work apiece.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"

struct rn_weights {
    rn_weights_phase phase;
    int ndim;
    int64_t dims[RN_MAX_DIMS];
    float *plain;         // graph arena (weights or their gradient)
    float *blocked;       // owned: the primitive's layout (NULL when it equals plain)
    dnnl_memory_t mem;    // what primitives get: over `blocked`, or over `plain`
    int64_t *tab[RN_MAX_DIMS];
    const float *gamma, *var;  // folded BatchNormalization: row o scaled by gamma[o] / sqrt(var[o] + eps)
    float eps;
};

// Offset contribution of index i along dimension d of a blocked layout.
static int64_t term(const rn_blocking *b, int d, int64_t i) {
    int64_t blk = 1;
    for (int k = 0; k < b->nblks; k++)
        if (b->idxs[k] == d) blk *= b->blks[k];
    int64_t off = (i / blk) * b->strides[d], rem = i % blk, stride = 1;
    for (int k = b->nblks - 1; k >= 0; k--) {
        if (b->idxs[k] == d) {
            off += (rem % b->blks[k]) * stride;
            rem /= b->blks[k];
        }
        stride *= b->blks[k];
    }
    return off;
}

// The per-dimension offset tables of w's blocked layout b.
static void make_tables(rn_weights *w, const rn_blocking *b) {
    for (int d = 0; d < w->ndim; d++) {
        w->tab[d] = rn_malloc((size_t)w->dims[d] * sizeof(int64_t));
        for (int64_t i = 0; i < w->dims[d]; i++) w->tab[d][i] = term(b, d, i);
    }
}

rn_weights *rn_exec_weights(rn_exec *ex, int ndim, const int64_t *dims, float *plain, rn_cmd want,
                            rn_weights_phase phase, rn_err *err) {
    rn_weights *w = rn_calloc(1, sizeof *w);
    w->phase = phase;
    w->ndim = ndim;
    memcpy(w->dims, dims, (size_t)ndim * sizeof *dims);
    w->plain = plain;
    rn_md pmd = rn_md_plain(ndim, dims);
    if (rn_md_equal(pmd, want)) {
        w->mem = rn_exec_memory(ex, pmd, plain);
    } else {
        rn_blocking b;
        if (rn_md_blocking(want, &b) || rn_md_ndims(want) != ndim || b.offset0 != 0) {
            free(w);
            rn_md_destroy(pmd);
            rn_fail(err, "weights: oneDNN asked for a layout that is not a plain blocking");
            return NULL;
        }
        size_t bytes = rn_md_bytes(want);
        w->blocked = rn_malloc_aligned(bytes);
        memset(w->blocked, 0, bytes);  // padding (e.g. 3 input channels blocked by 16) stays zero
        w->mem = rn_exec_memory(ex, want, w->blocked);
        make_tables(w, &b);
    }
    rn_md_destroy(pmd);
    // Registered with the executor, which runs and frees it.
    ex->weights = rn_realloc(ex->weights, (size_t)(ex->n_weights + 1) * sizeof *ex->weights);
    ex->weights[ex->n_weights++] = w;
    return w;
}

dnnl_memory_t rn_weights_mem(const rn_weights *w) { return w->mem; }

void rn_weights_fold_bn(rn_exec *ex, rn_weights *w, const float *gamma, const float *var, float eps) {
    RN_CHECK(w->phase == RN_W_FORWARD);
    if (!w->blocked) {
        // The primitive takes the plain layout: scaling still needs a copy of our own.
        rn_md md = rn_md_plain(w->ndim, w->dims);
        rn_blocking b;
        RN_CHECK(rn_md_blocking(md, &b) == 0);
        size_t bytes = rn_md_bytes(md);
        w->blocked = rn_malloc_aligned(bytes);
        memset(w->blocked, 0, bytes);
        dnnl_memory_destroy(w->mem);
        w->mem = rn_exec_memory(ex, md, w->blocked);
        make_tables(w, &b);
        rn_md_destroy(md);
    }
    w->gamma = gamma;
    w->var = var;
    w->eps = eps;
}

// Copies rows [o0, o1) of dimension 0 between layouts.
static void transfer_rows(const rn_weights *w, int64_t o0, int64_t o1) {
    int64_t d1 = w->ndim > 1 ? w->dims[1] : 1, d2 = w->ndim > 2 ? w->dims[2] : 1, d3 = w->ndim > 3 ? w->dims[3] : 1;
    static const int64_t zero = 0;
    const int64_t *t1 = w->ndim > 1 ? w->tab[1] : &zero, *t2 = w->ndim > 2 ? w->tab[2] : &zero,
                  *t3 = w->ndim > 3 ? w->tab[3] : &zero;
    int to_plain = w->phase == RN_W_GRADIENT;
    for (int64_t o = o0; o < o1; o++) {
        const float *p = w->plain + o * d1 * d2 * d3;
        float *q = w->plain + o * d1 * d2 * d3;
        float scale = w->gamma ? w->gamma[o] / sqrtf(w->var[o] + w->eps) : 1.0f;
        for (int64_t i = 0; i < d1; i++)
            for (int64_t h = 0; h < d2; h++)
                for (int64_t x = 0; x < d3; x++) {
                    int64_t off = w->tab[0][o] + t1[i] + t2[h] + t3[x];
                    size_t j = (size_t)((i * d2 + h) * d3 + x);
                    if (to_plain) q[j] = w->blocked[off];
                    else w->blocked[off] = p[j] * scale;
                }
    }
}

void rn_exec_weights_run(rn_exec *ex, rn_weights_phase phase) { rn_exec_weights_run_range(ex, phase, 0, ex->n_weights); }

void rn_exec_weights_run_range(rn_exec *ex, rn_weights_phase phase, int from, int to) {
    // Work items of about 64k floats: (weights index, first row, end row).
    int64_t (*items)[3] = NULL;
    int n = 0, cap = 0;
    for (int k = from; k < to; k++) {
        const rn_weights *w = ex->weights[k];
        if (w->phase != phase || !w->blocked) continue;
        int64_t row = 1;
        for (int d = 1; d < w->ndim; d++) row *= w->dims[d];
        int64_t step = row >= 65536 ? 1 : 65536 / row;
        for (int64_t o = 0; o < w->dims[0]; o += step) {
            if (n == cap) items = rn_realloc(items, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *items);
            items[n][0] = k;
            items[n][1] = o;
            items[n][2] = o + step < w->dims[0] ? o + step : w->dims[0];
            n++;
        }
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int j = 0; j < n; j++) transfer_rows(ex->weights[items[j][0]], items[j][1], items[j][2]);
    free(items);
}

void rn_exec_weights_release(rn_exec *ex) {
    for (int k = 0; k < ex->n_weights; k++) {
        rn_weights *w = ex->weights[k];
        dnnl_memory_destroy(w->mem);
        rn_free_aligned(w->blocked);
        for (int d = 0; d < RN_MAX_DIMS; d++) free(w->tab[d]);
        free(w);
    }
    free(ex->weights);
    ex->weights = NULL;
    ex->n_weights = 0;
}
