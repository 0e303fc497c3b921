// train.h — the training run behind resnet-train: SGD epochs with validation, checkpoints, metrics,
// progress, fine-tuning and the final export, driven by a loaded config. docs/TRAINING.md.
#ifndef RN_TRAIN_H
#define RN_TRAIN_H

#include "src/config.h"

enum {
    RN_TRAIN_DONE = 0,     // every epoch trained (and exported)
    RN_TRAIN_STOPPED = 1,  // stopped on request (signal, stop_after_steps) after saving last.ckpt
    RN_TRAIN_FAILED = -1,  // err holds the message; a NaN/Inf loss is one, with last.ckpt kept
};

// Trains per the config. resume: NULL, or a checkpoint (or a run folder holding last.ckpt) to continue
// from exactly where it was saved.
int rn_train_run(const rn_config *c, const char *resume, rn_err *err);

// Asks the running training to finish its current step, save and stop. Async-signal-safe.
void rn_train_request_stop(void);
int rn_train_stop_requested(void);

#endif
