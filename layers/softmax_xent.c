// softmax_xent.c — softmax cross-entropy with label smoothing; see softmax_xent.h.
#include "layers/softmax_xent.h"

#include <math.h>

double rn_softmax_xent(const float *x, const int32_t *labels, int64_t N, int64_t K, double s, float *dx) {
    double loss = 0;
    for (int64_t n = 0; n < N; n++) {
        const float *row = x + n * K;
        double mx = row[0], z = 0;
        for (int64_t k = 1; k < K; k++) mx = row[k] > mx ? row[k] : mx;
        for (int64_t k = 0; k < K; k++) z += exp(row[k] - mx);
        double logz = mx + log(z);
        for (int64_t k = 0; k < K; k++) {
            double q = (k == labels[n] ? 1.0 - s : 0.0) + s / (double)K;
            loss -= q * (row[k] - logz);
            if (dx) dx[n * K + k] = (float)((exp(row[k] - logz) - q) / (double)N);
        }
    }
    return loss / (double)N;
}

double rn_softmax_xent_ref(const double *x, const int32_t *labels, int64_t N, int64_t K, double s, double *dx) {
    // Written the direct way (no max shift): the tests feed moderate scores.
    double loss = 0;
    for (int64_t n = 0; n < N; n++) {
        double z = 0;
        for (int64_t k = 0; k < K; k++) z += exp(x[n * K + k]);
        for (int64_t k = 0; k < K; k++) {
            double p = exp(x[n * K + k]) / z;
            double q = (k == labels[n] ? 1.0 - s : 0.0) + s / (double)K;
            loss -= q * log(p);
            if (dx) dx[n * K + k] = (p - q) / (double)N;
        }
    }
    return loss / (double)N;
}

double rn_softmax_xent_soft(const float *x, const float *t, int64_t N, int64_t K, double s, float *dx) {
    double loss = 0;
    for (int64_t n = 0; n < N; n++) {
        const float *row = x + n * K, *tr = t + n * K;
        double mx = row[0], z = 0;
        for (int64_t k = 1; k < K; k++) mx = row[k] > mx ? row[k] : mx;
        for (int64_t k = 0; k < K; k++) z += exp(row[k] - mx);
        double logz = mx + log(z);
        for (int64_t k = 0; k < K; k++) {
            // (1 - s) * 1 + s / K and (1 - s) * 0 + s / K round as the hard targets' expressions do.
            double q = (1.0 - s) * (double)tr[k] + s / (double)K;
            loss -= q * (row[k] - logz);
            if (dx) dx[n * K + k] = (float)((exp(row[k] - logz) - q) / (double)N);
        }
    }
    return loss / (double)N;
}

double rn_softmax_xent_soft_ref(const double *x, const double *t, int64_t N, int64_t K, double s, double *dx) {
    double loss = 0;
    for (int64_t n = 0; n < N; n++) {
        double z = 0;
        for (int64_t k = 0; k < K; k++) z += exp(x[n * K + k]);
        for (int64_t k = 0; k < K; k++) {
            double p = exp(x[n * K + k]) / z, q = (1.0 - s) * t[n * K + k] + s / (double)K;
            loss -= q * log(p);
            if (dx) dx[n * K + k] = (p - q) / (double)N;
        }
    }
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
