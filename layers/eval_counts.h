// eval_counts.h — what an evaluation measures, as sums: images, summed loss, top-1 / top-5 hits and
// (optionally) the confusion matrix. Every field is a plain sum over images, so the counts of
// disjoint parts of a split (batches, loader shards, MPI ranks) add up to the counts of the whole:
// a distributed evaluation sums each field across ranks (n, top1, top5 and confusion as int64,
// loss_sum as double) and then derives the rates with rn_eval_rates.
//
// Scoring rules, the same for resnet-train's validation and resnet-eval (data/evaluate.h drives both):
//   - the label is among the top k when fewer than k classes score strictly above it (a tie with
//     the label counts for it, as rn_topk_correct); top-5 means top-min(5, K);
//   - the loss is the softmax cross-entropy with the given label smoothing (rn_softmax_xent);
//   - with V views per image (test-time augmentation: V consecutive rows of scores per image) the
//     image's score is the mean of the V softmax probabilities (AlexNet's and the ResNet paper's
//     10-crop protocol), ranked and scored as log(mean p); V = 1 ranks the raw scores themselves;
//   - the confusion matrix row is the true label, the column the predicted class: the label when it
//     counts as top-1 (so the diagonal sums to top1), else the lowest index of the highest score.
//
// Ownership: rn_eval_counts_init allocates the confusion matrix (if asked for); rn_eval_counts_free
// releases it.
#ifndef RN_EVAL_COUNTS_H
#define RN_EVAL_COUNTS_H

#include <stdint.h>

#include "src/common.h"

typedef struct rn_eval_counts {
    int K;               // classes (columns of the scores)
    int64_t n;           // images scored
    int64_t top1, top5;  // images whose label is among the 1 / min(5, K) best
    double loss_sum;     // sum over images of the cross-entropy
    int64_t *confusion;  // NULL, or (K, K) row-major: [true label][predicted class]
} rn_eval_counts;

// Zeroed counts for K classes; with_confusion allocates the K x K matrix (-1 with a message when
// it cannot be allocated).
int rn_eval_counts_init(rn_eval_counts *c, int K, int with_confusion, rn_err *err);
void rn_eval_counts_free(rn_eval_counts *c);

// Adds `src` into `dst` (same K; dst's confusion matrix, if any, gets src's when it has one).
void rn_eval_counts_add(rn_eval_counts *dst, const rn_eval_counts *src);

// Scores n images: scores is (n * views, K) plain rows, image i's views at rows i*views ..
// i*views + views - 1; labels (n) in [0, K). work holds at least K + views doubles. A label
// outside [0, K) is an error (-1 with a message) and nothing of the batch is counted.
int rn_eval_add(rn_eval_counts *c, const float *scores, const int32_t *labels, int n, int views, double smoothing,
                double *work, rn_err *err);

// Mean loss and top-1 / top-5 in percent (NaN when n = 0).
void rn_eval_rates(const rn_eval_counts *c, double *loss, double *top1, double *top5);

#endif
