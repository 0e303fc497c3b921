// config.h — the whole INI config of a run: one struct per section, loaded in one call.
// Sections: [model] (src/resnet.h), [data] and [augment] (data/opts.h, docs/DATA.md), and the
// trainer's [train] [optim] [schedule] [checkpoint] [export] (docs/TRAINING.md), whose key
// tables live in src/config_train.c.
#ifndef RN_CONFIG_H
#define RN_CONFIG_H

#include <stdio.h>

#include "data/opts.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "src/resnet.h"

#define RN_PATH_MAX 1024

typedef struct rn_train_opts {
    int epochs;              // 90
    char run_dir[RN_PATH_MAX];  // "" = runs/<config file name without .ini>
    double label_smoothing;  // 0
    int accum_steps;         // 1: batches whose gradients are averaged into one optimiser step
    int eval_batch_size;     // 0 = [data] batch_size
    char init[RN_PATH_MAX];  // "" = fresh initialisation; else a checkpoint (or ONNX file) to start from
    int freeze_stem;         // 0
    int freeze_stages;       // 0: stages 1..K get no updates
    int bn_frozen;           // 0: BatchNormalization uses and keeps its running statistics
    uint64_t seed;           // 1: parameter initialisation
    int threads;             // 0 = OpenMP's default
    int stop_after_steps;    // 0; N: save and stop after global optimiser step N (time-boxed jobs, tests)
    int log_every;           // 100: steps between plain progress lines when stderr is not a terminal
    int progress;            // 0 auto (self-updating line on a terminal), 1 plain lines, 2 off
    double bucket_mb;        // 25: gradient all-reduce bucket under mpirun (PyTorch DDP's default)
    int sync_bn;             // 0; 1: BatchNormalization statistics over the global batch (SyncBatchNorm)
    double ema_decay;        // 0: off; else an EMA of the weights (optim/ema.h), decay per ema_every_steps steps
    int ema_every_steps;     // 1: optimiser steps between EMA updates
} rn_train_opts;

typedef struct rn_ckpt_opts {
    int every_steps;  // 0; N: also save last.ckpt every N optimiser steps within an epoch
    int keep_best;    // 1: best.ckpt holds the weights of the best validation top-1
} rn_ckpt_opts;

typedef struct rn_export_opts {
    int onnx;               // 1: export an ONNX file when training ends
    char path[RN_PATH_MAX]; // "" = <run_dir>/model.onnx
    int use_best;           // RN_EXPORT_*: the last (live) weights, the best checkpoint's, or the EMA
} rn_export_opts;

enum { RN_EXPORT_LAST = 0, RN_EXPORT_BEST = 1, RN_EXPORT_EMA = 2, RN_EXPORT_LIVE = 3 };  // LIVE = LAST

typedef struct rn_config {
    char path[RN_PATH_MAX];
    char name[256];          // file name without directory and .ini
    rn_model_opts model;
    rn_data_opts data;
    rn_train_opts train;
    rn_sgd_opts optim;
    rn_sched_opts schedule;
    rn_ckpt_opts checkpoint;
    rn_export_opts export_opts;
    int overwrite;  // resnet-train --overwrite: a command-line flag, not a key (a saved config.ini must not clobber a run)
} rn_config;

// Defaults, then the file, then each "section.key=value" override in order; an empty
// [train] run_dir becomes runs/<name>, so the printed config names the folder it ran in. On error
// the message names file:line (or the override) and the caller exits with status 2.
int rn_config_load(rn_config *c, const char *path, const char *const *overrides, int n_overrides, rn_err *err);
// For resnet-train: the config names training data ([data] train_dir or train_list).
int rn_config_check_train_data(const rn_config *c, rn_err *err);

// The effective configuration, every key of every section, as INI text that rn_config_load reads
// back to an equal config (rn_config_equal).
void rn_config_print(const rn_config *c, FILE *f);
// The same, written atomically (PATH.tmp.PID, fsync, rename) to `path`.
int rn_config_write(const rn_config *c, const char *path, rn_err *err);
// The Markdown reference of every key with its default (docs/TRAINING.md, "Key reference").
void rn_config_doc(FILE *f);
// 1 when every key of every section has the same value.
int rn_config_equal(const rn_config *a, const rn_config *b);

// The trainer's key tables (src/config_train.c), and the checks between their keys.
rn_train_opts rn_train_opts_default(void);
rn_ckpt_opts rn_ckpt_opts_default(void);
rn_export_opts rn_export_opts_default(void);
extern const rn_section rn_train_section, rn_optim_section, rn_schedule_section, rn_checkpoint_section,
    rn_export_section;
int rn_train_config_check(const rn_config *c, rn_err *err);

#endif
