// evaluate.c — an evaluation pass over a loader; see evaluate.h.
#include "data/evaluate.h"

#include <stdlib.h>
#include <string.h>

int rn_evaluate(rn_loader *l, const rn_eval_io *io, rn_eval_counts *c, rn_err *err) {
    const int K = c->K;
    double *work = malloc(((size_t)K + (size_t)io->batch) * sizeof *work);
    if (!work) return rn_alloc_fail(err, "the evaluation's scratch", ((size_t)K + (size_t)io->batch) * sizeof *work);
    rn_loader_start_epoch(l, 0);
    rn_batch *b;
    int rc = 0, got = 0;
    while (!(io->stop && io->stop()) && (got = rn_loader_next(l, &b, err)) == 1) {
        const int n = b->n, V = b->views, rows = n * V;
        const size_t sample = (size_t)b->c * (size_t)b->h * (size_t)b->w;
        if (rows > io->batch) {
            rn_loader_release(l, b);
            rc = rn_fail(err, "an evaluation batch of %d images x %d views does not fit the executor's batch %d", n, V,
                         io->batch);
            break;
        }
        if (rows < io->batch) {
            memcpy(io->pad, b->data, (size_t)rows * sample * sizeof(float));
            memset(io->pad + (size_t)rows * sample, 0, (size_t)(io->batch - rows) * sample * sizeof(float));
        }
        rc = rn_exec_set_input(io->ex, rows == io->batch ? b->data : io->pad, err);
        memcpy(io->labels, b->labels, (size_t)n * sizeof(int32_t));
        // Padding repeats come last in a rank's order: only a tail of the last batches is left out.
        int64_t first = b->number * (int64_t)(io->batch / V), keep = n;
        if (io->real > 0) keep = io->real - first < 0 ? 0 : io->real - first < n ? io->real - first : n;
        rn_loader_release(l, b);  // the loader decodes the next batch during the forward pass
        if (rc || rn_exec_forward(io->ex, err) || rn_exec_get_output(io->ex, io->scores, err)) {
            rc = -1;
            break;
        }
        if ((rc = rn_eval_add(c, io->scores, io->labels, (int)keep, V, io->smoothing, work, err)) != 0) break;
    }
    free(work);
    if (rc) return -1;
    if (got < 0) return -1;
    if (io->stop && io->stop()) return RN_EVAL_STOPPED;
    return RN_EVAL_DONE;
}
