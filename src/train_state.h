// train_state.h — where a training run stands, and its round trip through a checkpoint's META
// section ("key=value" lines; doubles printed with 17 significant digits so they come back exact).
//
// All randomness of a run is counter-based: parameter initialisation from [train] seed, epoch
// order and augmentation from ([data] seed, epoch, sample index). The seeds and the position
// (epoch, batch) are therefore the whole random state, and the checkpoint stores them.
#ifndef RN_TRAIN_STATE_H
#define RN_TRAIN_STATE_H

#include <stdint.h>

#include "optim/checkpoint.h"
#include "src/config.h"
#include "src/model_meta.h"

// One line of metrics.csv.
typedef struct rn_epoch_row {
    int epoch;  // 1-based
    double lr, train_loss, train_top1, val_loss, val_top1, val_top5, img_per_s, seconds;
    double val_loss_ema, val_top1_ema, val_top5_ema;  // the EMA's evaluation ([train] ema_decay); NAN without
} rn_epoch_row;

// Ownership: rows is malloc'ed and grown by rn_state_add_row; rn_state_free frees it.
typedef struct rn_train_state {
    int64_t epoch;       // the epoch in progress (0-based); == epochs when training is over
    int64_t batch;       // batches of that epoch already trained
    int64_t step;        // optimiser steps taken since the start of the run
    double best_top1;    // best validation top-1 so far (percent), -1 before the first evaluation
    int best_epoch;      // 1-based epoch of best_top1, 0 before
    // The epoch in progress, so a mid-epoch resume reports the same numbers.
    double loss_sum;     // sum over samples of the training loss
    int64_t correct;     // training top-1 hits
    int64_t seen;        // training samples
    double seconds;      // wall time spent training this epoch so far
    double lr;           // learning rate of the last step
    double smooth_loss;  // progress display: bias-corrected running mean of the loss
    int64_t smooth_n;
    rn_epoch_row *rows;  // (n_rows) completed epochs
    int n_rows, cap_rows;
} rn_train_state;

void rn_state_init(rn_train_state *s);
void rn_state_free(rn_train_state *s);
void rn_state_add_row(rn_train_state *s, const rn_epoch_row *r);

// What must not change for a resume to continue the same batches.
typedef struct rn_run_shape {
    int64_t batch_size, accum_steps, train_samples, batches_per_epoch;
    uint64_t data_seed;
    int64_t world;  // MPI ranks (train_samples and batches_per_epoch are per rank)
} rn_run_shape;

// The META text of a checkpoint: model options, run shape, state, history, and the model's
// preprocessing and class names (mm, src/model_meta.h; may be NULL). Caller frees.
char *rn_state_meta(const rn_config *c, const rn_run_shape *shape, const rn_train_state *s, int resumable,
                    const rn_model_meta *mm);

// Refuses a resume whose config's [model] differs from the checkpoint's, naming the keys that differ.
int rn_state_check_model(const rn_ckpt *ck, const rn_config *c, rn_err *err);

// Restores the state from a checkpoint of the same run; refuses one that is not resumable or whose
// run shape differs where that would change which batches come next. A checkpoint of another rank
// count continues at the same place of the epoch (rounded down to a whole global step) and the
// step count is recomputed for the new steps per epoch, so the schedule continues where it was.
int rn_state_from_ckpt(const rn_ckpt *ck, const rn_run_shape *shape, rn_train_state *s, rn_err *err);

#endif
