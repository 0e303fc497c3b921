// eval_counts.c — summable evaluation counts; see eval_counts.h.
#include "layers/eval_counts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/softmax_xent.h"
#include "src/mem.h"

int rn_eval_counts_init(rn_eval_counts *c, int K, int with_confusion, rn_err *err) {
    memset(c, 0, sizeof *c);
    c->K = K;
    if (!with_confusion) return 0;
    size_t bytes = (size_t)K * (size_t)K * sizeof(int64_t);
    c->confusion = rn_try_calloc_aligned(bytes);  // K comes from a model file: may be too large
    return c->confusion ? 0 : rn_alloc_fail(err, "the confusion matrix", bytes);
}

void rn_eval_counts_free(rn_eval_counts *c) {
    rn_free_aligned(c->confusion);
    c->confusion = NULL;
}

void rn_eval_counts_add(rn_eval_counts *dst, const rn_eval_counts *src) {
    RN_CHECK(dst->K == src->K);
    dst->n += src->n;
    dst->top1 += src->top1;
    dst->top5 += src->top5;
    dst->loss_sum += src->loss_sum;
    if (dst->confusion && src->confusion)
        for (size_t i = 0; i < (size_t)dst->K * (size_t)dst->K; i++) dst->confusion[i] += src->confusion[i];
}

// v = log of the mean over `views` rows of softmax(row), by log-sum-exp (no underflow to log 0).
static void log_mean_softmax(const float *rows, int views, int K, double *v, double *logz) {
    for (int r = 0; r < views; r++) {
        const float *x = rows + (size_t)r * K;
        double m = -INFINITY, z = 0;
        for (int k = 0; k < K; k++) m = x[k] > m ? x[k] : m;
        for (int k = 0; k < K; k++) z += exp((double)x[k] - m);
        logz[r] = m + log(z);
    }
    for (int k = 0; k < K; k++) {
        double m = -INFINITY, z = 0;
        for (int r = 0; r < views; r++) {
            double t = (double)rows[(size_t)r * K + k] - logz[r];
            m = t > m ? t : m;
        }
        for (int r = 0; r < views; r++) z += exp((double)rows[(size_t)r * K + k] - logz[r] - m);
        v[k] = m + log(z) - log((double)views);
    }
}

int rn_eval_add(rn_eval_counts *c, const float *scores, const int32_t *labels, int n, int views, double s,
                double *work, rn_err *err) {
    const int K = c->K;
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= K)
            return rn_fail(err, "label %d of a %d-class model", (int)labels[i], K);
    const int k5 = K < 5 ? K : 5;
    double *v = work, *logz = work + K;
    // The batch's loss as the trainer has always summed it: mean over the batch times its size.
    if (views == 1) c->loss_sum += rn_softmax_xent(scores, labels, n, K, s, NULL) * n;
    for (int i = 0; i < n; i++) {
        const float *rows = scores + (size_t)i * views * K;
        const int32_t y = labels[i];
        if (views == 1) {
            for (int k = 0; k < K; k++) v[k] = rows[k];  // exact: ranks as the float scores do
        } else {
            log_mean_softmax(rows, views, K, v, logz);
            double loss = 0;
            for (int k = 0; k < K; k++) loss -= ((k == y ? 1.0 - s : 0.0) + s / K) * v[k];
            c->loss_sum += loss;
        }
        int64_t higher = 0;
        int best = -1;
        for (int k = 0; k < K; k++) {
            higher += v[k] > v[y];
            if (!isnan(v[k]) && (best < 0 || v[k] > v[best])) best = k;
        }
        c->top1 += higher < 1;
        c->top5 += higher < k5;
        if (c->confusion) c->confusion[(size_t)y * K + (size_t)(higher < 1 || best < 0 ? y : best)]++;
    }
    c->n += n;
    return 0;
}

void rn_eval_rates(const rn_eval_counts *c, double *loss, double *top1, double *top5) {
    *loss = c->n ? c->loss_sum / (double)c->n : NAN;
    *top1 = c->n ? 100.0 * (double)c->top1 / (double)c->n : NAN;
    *top5 = c->n ? 100.0 * (double)c->top5 / (double)c->n : NAN;
}
