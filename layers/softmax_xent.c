// softmax_xent.c — softmax cross-entropy with label smoothing; see softmax_xent.h.
#include "layers/softmax_xent.h"

#include <math.h>
#include <stddef.h>

// One row: subtracts q_k log p_k from *loss (one running sum over the rows, as before this helper,
// so the loss rounds the same) and sets dx = (softmax - q) / N when dx is not NULL. The target is soft (t, a distribution) or hard (t NULL: one-hot at `label`); (1 - s) * 1 +
// s / K and (1 - s) * 0 + s / K round as the hard expressions do, so one-hot soft targets give the
// hard loss bit for bit.
static void row_xent(const float *row, int32_t label, const float *t, int64_t N, int64_t K, double s, float *dx,
                     double *loss) {
    double mx = row[0], z = 0;
    for (int64_t k = 1; k < K; k++) mx = row[k] > mx ? row[k] : mx;
    for (int64_t k = 0; k < K; k++) z += exp(row[k] - mx);
    double logz = mx + log(z);
    for (int64_t k = 0; k < K; k++) {
        double q = t ? (1.0 - s) * (double)t[k] + s / (double)K : (k == label ? 1.0 - s : 0.0) + s / (double)K;
        *loss -= q * (row[k] - logz);
        if (dx) dx[k] = (float)((exp(row[k] - logz) - q) / (double)N);
    }
}

// The reference twin of row_xent, written the direct way (no max shift): the tests feed moderate scores.
static void row_xent_ref(const double *row, int32_t label, const double *t, int64_t N, int64_t K, double s,
                         double *dx, double *loss) {
    double z = 0;
    for (int64_t k = 0; k < K; k++) z += exp(row[k]);
    for (int64_t k = 0; k < K; k++) {
        double p = exp(row[k]) / z;
        double q = t ? (1.0 - s) * t[k] + s / (double)K : (k == label ? 1.0 - s : 0.0) + s / (double)K;
        *loss -= q * log(p);
        if (dx) dx[k] = (p - q) / (double)N;
    }
}

double rn_softmax_xent(const float *x, const int32_t *labels, int64_t N, int64_t K, double s, float *dx) {
    double loss = 0;
    for (int64_t n = 0; n < N; n++) row_xent(x + n * K, labels[n], NULL, N, K, s, dx ? dx + n * K : NULL, &loss);
    return loss / (double)N;
}

double rn_softmax_xent_ref(const double *x, const int32_t *labels, int64_t N, int64_t K, double s, double *dx) {
    double loss = 0;
    for (int64_t n = 0; n < N; n++) row_xent_ref(x + n * K, labels[n], NULL, N, K, s, dx ? dx + n * K : NULL, &loss);
    return loss / (double)N;
}

double rn_softmax_xent_soft(const float *x, const float *t, int64_t N, int64_t K, double s, float *dx) {
    double loss = 0;
    for (int64_t n = 0; n < N; n++) row_xent(x + n * K, -1, t + n * K, N, K, s, dx ? dx + n * K : NULL, &loss);
    return loss / (double)N;
}

double rn_softmax_xent_soft_ref(const double *x, const double *t, int64_t N, int64_t K, double s, double *dx) {
    double loss = 0;
    for (int64_t n = 0; n < N; n++) row_xent_ref(x + n * K, -1, t + n * K, N, K, s, dx ? dx + n * K : NULL, &loss);
    return loss / (double)N;
}

int64_t rn_topk_correct(const float *x, const int32_t *labels, int64_t N, int64_t K, int k) {
    int64_t correct = 0;
    for (int64_t n = 0; n < N; n++) {
        const float *row = x + n * K;
        float v = row[labels[n]];
        int64_t higher = 0;  // classes strictly above the label's score; ties count for the label
        for (int64_t j = 0; j < K; j++) higher += row[j] > v;
        correct += higher < k;
    }
    return correct;
}
