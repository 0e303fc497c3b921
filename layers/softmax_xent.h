// softmax_xent.h — the training loss: softmax cross-entropy with label smoothing, averaged over
// the batch. Targets q = (1 - s) * onehot(label) + s / K; loss = mean_n( -sum_k q_k log softmax(x_n)_k );
// d loss / d x_n = (softmax(x_n) - q_n) / N. Runs on the plain (N, K) scores the executor returns.
#ifndef RN_SOFTMAX_XENT_H
#define RN_SOFTMAX_XENT_H

#include <stdint.h>

// Returns the loss; writes d(loss)/d(scores) into dscores when it is not NULL.
double rn_softmax_xent(const float *scores, const int32_t *labels, int64_t N, int64_t K, double smoothing,
                       float *dscores);
// The reference twin in double precision.
double rn_softmax_xent_ref(const double *scores, const int32_t *labels, int64_t N, int64_t K, double smoothing,
                           double *dscores);
// Soft targets t (N, K) (mixup / cutmix, data/mix.h), each row summing to 1: q = (1 - s) t + s / K,
// which is label smoothing applied to each one-hot before mixing (timm). One-hot rows give exactly
// the result of rn_softmax_xent.
double rn_softmax_xent_soft(const float *scores, const float *targets, int64_t N, int64_t K, double smoothing,
                            float *dscores);
double rn_softmax_xent_soft_ref(const double *scores, const double *targets, int64_t N, int64_t K, double smoothing,
                                double *dscores);
// How many of the N rows have their label among the k highest scores.
int64_t rn_topk_correct(const float *scores, const int32_t *labels, int64_t N, int64_t K, int k);

#endif
