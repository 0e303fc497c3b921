// train_run.h — the trainer's working set, shared by its setup (train_setup.c) and its loop
// (train_loop.c). Internal to resnet-train.
//
// Ownership: rn_run_setup creates everything below; rn_run_teardown frees it all.
#ifndef RN_TRAIN_RUN_H
#define RN_TRAIN_RUN_H

#include "data/loader.h"
#include "optim/ema.h"
#include "optim/sgd.h"
#include "optim/step.h"
#include "src/config.h"
#include "src/dist.h"
#include "layers/exec.h"
#include "src/train_metrics.h"
#include "src/train_progress.h"
#include "src/train_state.h"

typedef struct rn_run {
    const rn_config *c;
    rn_progress prog;
    char dir[RN_PATH_MAX];
    char last[RN_METRICS_PATH], best[RN_METRICS_PATH], csv[RN_METRICS_PATH], svg[RN_METRICS_PATH];
    rn_dataset *train_ds, *val_ds;
    rn_dataset_view train_v, val_v;
    rn_loader *train_l, *val_l;
    rn_graph *g;
    rn_exec *tx, *vx;         // training (batch B) and evaluation (batch EB) executors on g
    rn_sgd *sgd;
    rn_ema *ema;              // [train] ema_decay > 0: the moving average of the weights; else NULL
    rn_step step;             // the training step on tx, sgd, acc, scores
    rn_dist_reducer *reducer; // gradient all-reduce over the ranks; NULL in one process
    int rank, world;          // this process among the MPI ranks (0 of 1 without mpirun)
    float *acc;               // (g->arena_size) gradient sum over accumulated batches; NULL without accumulation
    float *scores, *dscores;  // (max(B, EB), K)
    float *pad;               // (EB, 3, S, S) the last, partial evaluation batch padded with zeros
    int32_t *labels;          // (max(B, EB))
    float *targets;           // (B, K) soft targets of a mixed batch ([augment] mixup / cutmix); else NULL
    int K, B, EB, S, VS;      // ... S: training side, VS: evaluation side ([data] val_size)
    int64_t nb, spe;          // batches and optimiser steps per epoch
    double base_lr;           // peak lr after linear batch scaling
    rn_run_shape shape;
    rn_train_state st;
    rn_model_meta mm;         // preprocessing and class names, written into every checkpoint and export
    char saved_note[256];     // what the last good checkpoint holds, for error messages
    double eval_seconds;      // duration of the last evaluation (ETA)
} rn_run;

// The run's folder: a resumed checkpoint's own; else [train] run_dir, which must not hold a previous
// run (last.ckpt, best.ckpt, metrics.csv) unless c->overwrite (its files are removed once setup succeeds).
int rn_run_setup(rn_run *r, const rn_config *c, const char *resume, rn_err *err);
void rn_run_teardown(rn_run *r);
// The run folder (src/train_dir.c). rn_run_paths: r->dir and the file paths; for a resume, ckpt gets
// the checkpoint (a folder means its last.ckpt) and r->dir its folder.
void rn_run_paths(rn_run *r, const char *resume, char *ckpt, size_t cap);
// -1 when r->dir holds a previous run and --overwrite was not given.
int rn_run_check_fresh(const rn_run *r, rn_err *err);
// --overwrite: removes the previous run's files from r->dir (those a run writes, nothing else).
int rn_run_clear_previous(rn_run *r, rn_err *err);
// r->mm from [data] and the training set's class names; writes classes.txt.
int rn_run_model_meta(rn_run *r, rn_err *err);
// config.ini: the effective configuration with run_dir = r->dir.
int rn_run_write_config(rn_run *r, rn_err *err);
// Writes last.ckpt (with momentum, AdamW's second moment and the EMA) or best.ckpt (weights only).
int rn_run_save(rn_run *r, const char *path, int resumable, rn_err *err);

#endif
