// dist.c — MPI data parallelism; see dist.h.
#define _GNU_SOURCE  // qsort_r
#include "src/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef RN_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_on = 0;

int rn_dist_init(int *argc, char ***argv, rn_err *err) {
#ifdef RN_HAVE_MPI
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK")) return 0;
    int provided = 0;
    // Only the main thread calls MPI (the loader's and OpenMP's threads never do).
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return rn_fail(err, "MPI_Init_thread failed");
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
#else
    (void)argc, (void)argv, (void)err;
#endif
    return 0;
}

void rn_dist_finalize(void) {
#ifdef RN_HAVE_MPI
    if (g_on) MPI_Finalize();
    g_on = 0;
#endif
}

int rn_dist_rank(void) { return g_rank; }
int rn_dist_size(void) { return g_size; }

void rn_dist_abort(const char *prog, const char *msg) {
    if (g_size > 1) fprintf(stderr, "%s: rank %d of %d: %s\n", prog, g_rank, g_size, msg);
    else fprintf(stderr, "%s: %s\n", prog, msg);
    fflush(stderr);
#ifdef RN_HAVE_MPI
    if (g_on && g_size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
}

// MPI counts are int: long buffers go in pieces.
#define CHUNK ((size_t)1 << 28)

void rn_dist_bcast_floats(float *x, size_t n) {
#ifdef RN_HAVE_MPI
    if (g_size < 2) return;
    for (size_t i = 0; i < n; i += CHUNK) MPI_Bcast(x + i, (int)(n - i < CHUNK ? n - i : CHUNK), MPI_FLOAT, 0, MPI_COMM_WORLD);
#else
    (void)x, (void)n;
#endif
}

void rn_dist_bcast_arena(rn_graph *g) {
    if (g_size < 2) return;
    rn_dist_bcast_floats(g->arena, g->arena_size);
    g->version++;
}

void rn_dist_bcast_state(rn_graph *g) {
    if (g_size < 2) return;
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].role == RN_STATE) rn_dist_bcast_floats(g->tensors[t].data, rn_tensor_numel(&g->tensors[t]));
    g->version++;  // inference folds BN statistics into its weights
}

void rn_dist_sum(double *x, int n) {
#ifdef RN_HAVE_MPI
    if (g_size > 1) MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)x, (void)n;
#endif
}

int rn_dist_any(int flag) {
#ifdef RN_HAVE_MPI
    if (g_size > 1) MPI_Allreduce(MPI_IN_PLACE, &flag, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
#endif
    return flag;
}

// ---- the gradient reducer -------------------------------------------------------------------------

typedef struct bucket {
    size_t lo, hi;  // arena range [lo, hi)
    int tensors;    // trainable tensors in it
    int pending;    // of those, not yet through backward
    int started;
} bucket;

struct rn_dist_reducer {
    rn_step_reducer hook;
    const rn_graph *g;
    int overlap;
    bucket *b;
    int nb;
    int *of_tensor;  // (n_tensors) bucket of a trainable tensor, -1 otherwise
    float *sum;
    const float *add;
#ifdef RN_HAVE_MPI
    MPI_Request *req;  // per bucket, up to `per` pieces each
#endif
    int per;           // request slots per bucket
    double wait_seconds;
};

static void start(rn_dist_reducer *d, int i) {
    bucket *b = &d->b[i];
    b->started = 1;
    float *s = d->sum + b->lo;
    size_t n = b->hi - b->lo;
    if (d->add) {
        const float *a = d->add + b->lo;
#pragma omp parallel for schedule(static)
        for (size_t j = 0; j < n; j++) s[j] += a[j];
    }
#ifdef RN_HAVE_MPI
    if (g_size < 2) return;
    for (int p = 0; p < d->per; p++) {
        size_t off = (size_t)p * CHUNK;
        MPI_Request *r = &d->req[(size_t)i * d->per + p];
        if (off >= n) *r = MPI_REQUEST_NULL;
        else MPI_Iallreduce(MPI_IN_PLACE, s + off, (int)(n - off < CHUNK ? n - off : CHUNK), MPI_FLOAT, MPI_SUM,
                            MPI_COMM_WORLD, r);
    }
#endif
}

static void begin(void *ctx, float *sum, const float *add) {
    rn_dist_reducer *d = ctx;
    d->sum = sum;
    d->add = add;
    for (int i = 0; i < d->nb; i++) d->b[i].pending = d->b[i].tensors, d->b[i].started = 0;
}

static void op_done(void *ctx, int k) {
    rn_dist_reducer *d = ctx;
    if (!d->overlap) return;
    const rn_op *op = &d->g->ops[k];
    // Buckets start in the order backward completes them, the same on every rank (same graph), as
    // MPI requires of collectives.
    for (int i = 0; i < op->n_in; i++) {
        int bi = d->of_tensor[op->in[i]];
        if (bi >= 0 && --d->b[bi].pending == 0 && !d->b[bi].started) start(d, bi);
    }
#ifdef RN_HAVE_MPI
    if (g_size > 1) {
        int flag;
        MPI_Testall(d->nb * d->per, d->req, &flag, MPI_STATUSES_IGNORE);  // drives progress
    }
#endif
}

static void finish(void *ctx) {
    rn_dist_reducer *d = ctx;
    for (int i = 0; i < d->nb; i++)
        if (!d->b[i].started) start(d, i);  // ops backward skipped, or no overlap
    double t0 = rn_now();
#ifdef RN_HAVE_MPI
    if (g_size > 1) MPI_Waitall(d->nb * d->per, d->req, MPI_STATUSES_IGNORE);
#endif
    d->wait_seconds += rn_now() - t0;
}

static int by_offset_desc(const void *a, const void *b, void *g) {
    const rn_tensor *t = ((const rn_graph *)g)->tensors;
    size_t x = t[*(const int *)a].offset, y = t[*(const int *)b].offset;
    return x < y ? 1 : x > y ? -1 : 0;
}

rn_dist_reducer *rn_dist_reducer_create(const rn_graph *g, double bucket_mb, int overlap) {
    rn_dist_reducer *d = rn_calloc(1, sizeof *d);
    d->g = g;
    d->overlap = overlap;
    d->of_tensor = rn_malloc((size_t)g->n_tensors * sizeof(int));
    int *ts = rn_malloc((size_t)g->n_tensors * sizeof(int)), n = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        d->of_tensor[t] = -1;
        if (g->tensors[t].role == RN_PARAM && g->tensors[t].trainable) ts[n++] = t;
    }
    qsort_r(ts, (size_t)n, sizeof *ts, by_offset_desc, (void *)g);
    d->b = rn_calloc((size_t)(n ? n : 1), sizeof *d->b);
    size_t cap = bucket_mb * 1048576.0 / sizeof(float) >= 1 ? (size_t)(bucket_mb * 1048576.0 / sizeof(float)) : 1, longest = 0;
    for (int i = 0; i < n; i++) {
        const rn_tensor *t = &g->tensors[ts[i]];
        size_t lo = t->offset, hi = lo + rn_tensor_numel(t);
        bucket *b = d->nb ? &d->b[d->nb - 1] : NULL;
        if (!b || b->hi - b->lo >= cap) {
            b = &d->b[d->nb++];
            b->hi = hi;
        }
        b->lo = lo;
        b->tensors++;
        d->of_tensor[ts[i]] = (int)(b - d->b);
    }
    for (int i = 0; i < d->nb; i++)
        if (d->b[i].hi - d->b[i].lo > longest) longest = d->b[i].hi - d->b[i].lo;
    d->per = (int)((longest + CHUNK - 1) / CHUNK);
    if (d->per < 1) d->per = 1;
#ifdef RN_HAVE_MPI
    d->req = rn_malloc((size_t)(d->nb ? d->nb : 1) * (size_t)d->per * sizeof *d->req);
    for (int i = 0; i < d->nb * d->per; i++) d->req[i] = MPI_REQUEST_NULL;
#endif
    free(ts);
    d->hook = (rn_step_reducer){.ctx = d, .world = g_size, .begin = begin, .op_done = op_done, .finish = finish};
    return d;
}

void rn_dist_reducer_destroy(rn_dist_reducer *d) {
    if (!d) return;
#ifdef RN_HAVE_MPI
    free(d->req);
#endif
    free(d->b);
    free(d->of_tensor);
    free(d);
}

const rn_step_reducer *rn_dist_reducer_hook(rn_dist_reducer *d) { return &d->hook; }
int rn_dist_reducer_buckets(const rn_dist_reducer *d) { return d->nb; }
double rn_dist_reducer_wait_seconds(const rn_dist_reducer *d) { return d->wait_seconds; }
