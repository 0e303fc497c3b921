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
#include "src/mem.h"

struct rn_weights {
    rn_weights_phase phase;
    const rn_op *op;
    int ndim;
    int64_t dims[RN_MAX_DIMS];
    float *plain;         // graph arena (weights or their gradient)
    float *blocked;       // the primitive's layout (NULL when it equals plain); owned unless `borrowed`
    size_t bytes;         // of `blocked`
    int borrowed;         // a gradient copy in its op's forward copy (see borrow_forward)
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

static const char *phase_name(rn_weights_phase p) {
    return p == RN_W_FORWARD ? "its weights in oneDNN's layout" : p == RN_W_BACKWARD_DATA
                                                                        ? "its backward-data weights in oneDNN's layout"
                                                                        : "its weight gradient in oneDNN's layout";
}

static void weights_free(rn_weights *w) {
    if (w->mem) dnnl_memory_destroy(w->mem);
    if (!w->borrowed) rn_free_aligned(w->blocked);
    for (int d = 0; d < RN_MAX_DIMS; d++) free(w->tab[d]);
    free(w);
}

// A weight gradient's blocked copy lives in its op's forward copy when both have the same size and
// no padding: the forward is done with the copy before the backward-weights primitive writes the
// gradient, which goes back to plain layout before the next forward refreshes the copy
// (rn_exec_forward refreshes after every backward: ex->w_borrowed). Padded layouts keep copies of
// their own, since a transfer writes only real elements and padding must stay zero. One copy of the
// weights less (ResNet-50: 102 MB). NULL: none to borrow.
static float *borrow_forward(rn_exec *ex, const rn_op *op, size_t bytes) {
    for (int k = 0; k < ex->n_weights; k++) {
        const rn_weights *f = ex->weights[k];
        size_t numel = 1;
        for (int d = 0; d < f->ndim; d++) numel *= (size_t)f->dims[d];
        if (f->op == op && f->phase == RN_W_FORWARD && f->blocked && !f->gamma && f->bytes == bytes &&
            bytes == numel * sizeof(float))
            return f->blocked;
    }
    return NULL;
}

// The copy in layout md (blocking b; zeroed, so that padding such as 3 input channels blocked by 16
// stays zero), its memory object and the per-dimension offset tables of b.
static int make_blocked(rn_exec *ex, const rn_op *op, rn_weights *w, rn_cmd md, const rn_blocking *b, rn_err *err) {
    size_t bytes = rn_md_bytes(md);
    w->blocked = w->phase == RN_W_GRADIENT ? borrow_forward(ex, op, bytes) : NULL;
    w->borrowed = w->blocked != NULL;
    if (w->borrowed) ex->w_borrowed = 1;
    else w->blocked = rn_try_calloc_aligned(bytes);
    if (!w->blocked) return rn_exec_alloc_fail(err, op, phase_name(w->phase), bytes);
    w->bytes = bytes;
    if (rn_exec_memory(ex, md, w->blocked, op, phase_name(w->phase), &w->mem, err)) return -1;
    for (int d = 0; d < w->ndim; d++) {
        w->tab[d] = rn_try_malloc((size_t)w->dims[d] * sizeof(int64_t));
        if (!w->tab[d]) return rn_exec_alloc_fail(err, op, "a weight layout table", (size_t)w->dims[d] * sizeof(int64_t));
        for (int64_t i = 0; i < w->dims[d]; i++) w->tab[d][i] = term(b, d, i);
    }
    return 0;
}

rn_weights *rn_exec_weights(rn_exec *ex, const rn_op *op, int ndim, const int64_t *dims, float *plain, rn_cmd want,
                            rn_weights_phase phase, rn_err *err) {
    rn_weights *w = rn_try_calloc(1, sizeof *w);
    rn_weights **list = w ? rn_try_realloc(ex->weights, (size_t)(ex->n_weights + 1) * sizeof *ex->weights) : NULL;
    if (list) ex->weights = list;  // room for one more (n_weights counts what is in it)
    rn_md pmd = list ? rn_md_plain(ndim, dims) : NULL;
    if (!pmd) {
        free(w);
        rn_exec_alloc_fail(err, op, phase_name(phase), 0);
        return NULL;
    }
    w->phase = phase;
    w->op = op;
    w->ndim = ndim;
    memcpy(w->dims, dims, (size_t)ndim * sizeof *dims);
    w->plain = plain;
    int rc = 0;
    rn_blocking b;
    if (rn_md_equal(pmd, want)) rc = rn_exec_memory(ex, pmd, plain, op, phase_name(phase), &w->mem, err);
    else if (rn_md_blocking(want, &b) || rn_md_ndims(want) != ndim || b.offset0 != 0)
        rc = rn_fail(err, "node '%s' (%s): oneDNN asked for a weight layout that is not a plain blocking", op->name,
                     rn_op_type_name(op->type));
    else rc = make_blocked(ex, op, w, want, &b, err);
    rn_md_destroy(pmd);
    if (rc) {
        weights_free(w);
        return NULL;
    }
    // Registered with the executor, which runs and frees it.
    ex->weights[ex->n_weights++] = w;
    return w;
}

dnnl_memory_t rn_weights_mem(const rn_weights *w) { return w->mem; }

int rn_weights_fold_bn(rn_exec *ex, const rn_op *op, rn_weights *w, const float *gamma, const float *var, float eps,
                       rn_err *err) {
    RN_CHECK(w->phase == RN_W_FORWARD);
    if (!w->blocked) {
        // The primitive takes the plain layout: scaling still needs a copy of our own.
        rn_md md = rn_md_plain(w->ndim, w->dims);
        if (!md) return rn_exec_alloc_fail(err, op, "a weight descriptor", 0);
        rn_blocking b;
        RN_CHECK(rn_md_blocking(md, &b) == 0);
        dnnl_memory_t plain_mem = w->mem;
        w->mem = NULL;
        int rc = make_blocked(ex, op, w, md, &b, err);
        rn_md_destroy(md);
        if (rc) {
            // Back to the plain copy: the executor frees what it holds.
            if (w->mem) dnnl_memory_destroy(w->mem);
            rn_free_aligned(w->blocked);
            w->blocked = NULL;
            w->mem = plain_mem;
            return -1;
        }
        dnnl_memory_destroy(plain_mem);
    }
    w->gamma = gamma;
    w->var = var;
    w->eps = eps;
    return 0;
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

int rn_exec_weights_prepare(rn_exec *ex, rn_err *err) {
    // Work items of about 64k floats: (weights index, first row, end row).
    for (int phase = 0; phase < 3; phase++) {
        int n = 0;
        for (int pass = 0; pass < 2; pass++) {  // count, then fill
            if (pass) {
                ex->w_items[phase] = rn_try_calloc((size_t)n, sizeof *ex->w_items[phase]);
                if (!ex->w_items[phase]) return rn_alloc_fail(err, "the executor's weight-transfer list", (size_t)n * sizeof *ex->w_items[phase]);
                n = 0;
            }
            for (int k = 0; k < ex->n_weights; k++) {
                const rn_weights *w = ex->weights[k];
                if ((int)w->phase != phase || !w->blocked) continue;
                int64_t row = 1;
                for (int d = 1; d < w->ndim; d++) row *= w->dims[d];
                int64_t step = row >= 65536 ? 1 : 65536 / row;
                for (int64_t o = 0; o < w->dims[0]; o += step, n++)
                    if (pass) {
                        int64_t *it = ex->w_items[phase][n];
                        it[0] = k, it[1] = o, it[2] = o + step < w->dims[0] ? o + step : w->dims[0];
                    }
            }
        }
        ex->w_n[phase] = n;
    }
    return 0;
}

// The first of a phase's work items whose weights index is >= k (items are in weights order).
static int first_item(const rn_exec *ex, rn_weights_phase phase, int k) {
    int lo = 0, hi = ex->w_n[phase];
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ex->w_items[phase][mid][0] < k) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void rn_exec_weights_run_range(rn_exec *ex, rn_weights_phase phase, int from, int to) {
    int64_t(*items)[3] = ex->w_items[phase];
    const int j0 = first_item(ex, phase, from), j1 = first_item(ex, phase, to);
#pragma omp parallel for schedule(dynamic, 1)
    for (int j = j0; j < j1; j++) transfer_rows(ex->weights[items[j][0]], items[j][1], items[j][2]);
}

void rn_exec_weights_run(rn_exec *ex, rn_weights_phase phase) { rn_exec_weights_run_range(ex, phase, 0, ex->n_weights); }

void rn_exec_weights_release(rn_exec *ex) {
    for (int k = 0; k < ex->n_weights; k++) weights_free(ex->weights[k]);
    free(ex->weights);
    ex->weights = NULL;
    ex->n_weights = 0;
    for (int p = 0; p < 3; p++) {
        free(ex->w_items[p]);
        ex->w_items[p] = NULL;
        ex->w_n[p] = 0;
    }
}
