// evaluate.h — one evaluation of a network over a loader's epoch, shared by resnet-train's
// validation (src/train_loop.c) and resnet-eval (export/eval_main.c).
//
// The executor has a fixed batch: a full loader batch goes in as it is, the short last one is
// copied into `pad` and padded with zeros, and only its real rows are scored (inference
// BatchNormalization uses running statistics, so rows do not affect each other). A loader built
// with test-time augmentation (rn_data_opts.tta) delivers `views` crops per image; the executor's
// batch is then loader batch x views and the views' probabilities are averaged (layers/eval_counts.h).
// The result is a set of counts (n, loss sum, top-1 / top-5 hits, confusion) that add across
// shards, so a sharded evaluation sums them and derives the same rates as one process would.
#ifndef RN_DATA_EVALUATE_H
#define RN_DATA_EVALUATE_H

#include <stdint.h>

#include "data/loader.h"
#include "layers/eval_counts.h"
#include "layers/exec.h"

enum { RN_EVAL_DONE = 0, RN_EVAL_STOPPED = 1 };

typedef struct rn_eval_io {
    rn_exec *ex;          // inference executor at batch `batch`, output (batch, K)
    int batch;            // loader batch size x views
    float *pad;           // (batch, 3, size, size): the short last batch, zero-padded
    float *scores;        // (batch, K)
    int32_t *labels;      // (batch) labels of the batch (copied so the loader refills while we compute)
    double smoothing;     // label smoothing of the loss (0: plain cross-entropy)
    int (*stop)(void);    // NULL, or polled before every batch: non-zero ends with RN_EVAL_STOPPED
    // 0: every sample of the epoch counts. > 0: only the first `real` do — a rank's share of a sharded
    // split without the wrap-around repeats its view pads with (data/dataset.h: rank r of w holds
    // (n - r + w - 1) / w real samples of n), so the ranks' counts sum to one pass over the split.
    int64_t real;
} rn_eval_io;

// Starts epoch 0 of `l` (an evaluation loader: dataset order, last batch kept) and adds every
// image of it to `c` (initialised by the caller with K = the executor's classes). RN_EVAL_DONE,
// RN_EVAL_STOPPED (c holds the batches scored so far), or -1 with a message (a loader failure, a
// batch that does not fit the executor, a label outside the model's classes).
int rn_evaluate(rn_loader *l, const rn_eval_io *io, rn_eval_counts *c, rn_err *err);

#endif
