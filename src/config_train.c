// config_train.c — the trainer's sections [train] [optim] [schedule] [checkpoint] [export]:
// defaults, one key table per section, and the checks between keys. The keys are documented in
// docs/TRAINING.md, whose reference table is generated from these (resnet-train --print-config-doc).
// (The tables sit here rather than in optim/ so that optim/ stays free of config concerns.)
#include <string.h>

#include "src/config.h"

rn_train_opts rn_train_opts_default(void) {
    rn_train_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = 90;
    o.accum_steps = 1;
    o.seed = 1;
    o.log_every = 100;
    o.bucket_mb = 25;
    o.ema_every_steps = 1;
    return o;
}

rn_ckpt_opts rn_ckpt_opts_default(void) { return (rn_ckpt_opts){.every_steps = 0, .keep_best = 1}; }

rn_export_opts rn_export_opts_default(void) {
    rn_export_opts o;
    memset(&o, 0, sizeof o);
    o.onnx = 1;
    o.use_best = 1;
    return o;
}

static const char *const progress_names[] = {"auto", "plain", "off", NULL};
static const char *const resolution_names[] = {"epoch", "step", NULL};
static const char *const weights_names[] = {"last", "best", "ema", "live", NULL};  // RN_EXPORT_*
static const char *const optimizer_names[] = {"sgd", "lars", "adamw", NULL};  // RN_OPT_SGD, RN_OPT_LARS, RN_OPT_ADAMW

#define T rn_train_opts
static const rn_key train_keys[] = {
    RN_K_INT("epochs", T, epochs, 1, 100000, "epochs to train"),
    RN_K_PATH("run_dir", T, run_dir, "where checkpoints, metrics and the plot go; empty: `runs/<config file name without .ini>`"),
    RN_K_DOUBLE("label_smoothing", T, label_smoothing, 0, 1, "s: targets (1 − s)·onehot + s/K"),
    RN_K_INT("accum_steps", T, accum_steps, 1, 65536,
             "batches whose gradients are averaged into one optimiser step (global batch = ranks × `batch_size` × `accum_steps`)"),
    RN_K_INT("eval_batch_size", T, eval_batch_size, 0, 1 << 20, "batch of the evaluation executor; 0: `[data] batch_size`"),
    RN_K_PATH("init", T, init, "start from this checkpoint or ONNX file (fine-tuning); empty: fresh initialisation"),
    RN_K_BOOL("freeze_stem", T, freeze_stem, "the stem's parameters get no updates"),
    RN_K_INT("freeze_stages", T, freeze_stages, 0, 8, "K: stages 1..K get no updates"),
    RN_K_BOOL("bn_frozen", T, bn_frozen, "BatchNormalization uses its running statistics in training and keeps them"),
    RN_K_U64("seed", T, seed, "parameter initialisation (the data order and augmentation use `[data] seed`)"),
    RN_K_INT("threads", T, threads, 0, 4096, "OpenMP threads for the network; 0 = OpenMP's default (all cores)"),
    RN_K_INT("stop_after_steps", T, stop_after_steps, 0, 2000000000,
             "N > 0: save and stop after global optimiser step N (time-boxed jobs, tests)"),
    RN_K_INT("log_every", T, log_every, 1, 1000000000, "steps between progress lines when stderr is not a terminal"),
    RN_K_CHOICE("progress", T, progress, progress_names,
                "`auto` (self-updating line on a terminal, plain lines otherwise), `plain`, `off`"),
    RN_K_DOUBLE("bucket_mb", T, bucket_mb, 0.001, 1e6,
                "under mpirun: MB of gradients per all-reduce bucket, each started as soon as backward has finished it"),
    RN_K_BOOL("sync_bn", T, sync_bn,
              "SyncBatchNorm: training statistics over all ranks' batches (for small per-rank batches; slower)"),
    RN_K_DOUBLE("ema_decay", T, ema_decay, 0, 1,
                "d > 0: keep an EMA of the weights and BN statistics, evaluated every epoch (torchvision's --model-ema-decay, "
                "adjusted as its train.py: see below); 0: off"),
    RN_K_INT("ema_every_steps", T, ema_every_steps, 1, 1000000000, "optimiser steps between EMA updates (torchvision's --model-ema-steps)"),
};
#undef T

#define T rn_sgd_opts
static const rn_key optim_keys[] = {
    RN_K_CHOICE("type", T, type, optimizer_names,
                "`sgd` (momentum, as above), `lars` (layer-wise trust ratio, You et al. 2017; BatchNormalization and biases "
                "exempt) or `adamw` (decoupled weight decay, as torch.optim.AdamW)"),
    RN_K_DOUBLE("trust", T, trust, 0, 1, "LARS trust coefficient η: local lr = η‖w‖ / (‖g‖ + wd‖w‖)"),
    RN_K_DOUBLE("lr", T, lr, 0, 1e6, "peak learning rate (for `lr_base_batch` images per step when that is set)"),
    RN_K_INT("lr_base_batch", T, lr_base_batch, 0, 1 << 30, "N > 0: linear scaling, lr × (ranks × `batch_size` × `accum_steps`) / N"),
    RN_K_DOUBLE("momentum", T, momentum, 0, 1, "m"),
    RN_K_BOOL("nesterov", T, nesterov, "Nesterov momentum"),
    RN_K_DOUBLE("weight_decay", T, weight_decay, 0, 1, "wd of every trainable tensor, except as below"),
    {.name = "norm_weight_decay", .type = RN_KEY_DOUBLE, .off = RN_FIELD(T, norm_weight_decay, double), .lo = 0, .hi = 1,
     .flags = RN_KEY_OR_MINUS1, .doc = "wd of BatchNormalization scale and shift (0 exempts them); -1: = `weight_decay`"},
    {.name = "bias_weight_decay", .type = RN_KEY_DOUBLE, .off = RN_FIELD(T, bias_weight_decay, double), .lo = 0, .hi = 1,
     .flags = RN_KEY_OR_MINUS1, .doc = "wd of Conv and Gemm biases (0 exempts them); -1: = `weight_decay`"},
    RN_K_DOUBLE("beta1", T, beta1, 0, 0.999999, "AdamW: decay of the first moment"),
    RN_K_DOUBLE("beta2", T, beta2, 0, 0.999999999, "AdamW: decay of the second moment"),
    RN_K_DOUBLE("eps", T, eps, 1e-30, 1, "AdamW: added to the denominator"),
    RN_K_DOUBLE("clip_grad_norm", T, clip_grad_norm, 0, 1e12,
                "c > 0: scale the step's gradient (after accumulation and the all-reduce) to global L2 norm at most c; 0: off"),
};
#undef T

#define T rn_sched_opts
static const rn_key schedule_keys[] = {
    RN_K_CHOICE("type", T, type, rn_sched_type_names, "the schedule, as above"),
    RN_K_DOUBLE("warmup_epochs", T, warmup_epochs, 0, 1e5, "W, may be fractional"),
    RN_K_DOUBLE("warmup_factor", T, warmup_factor, 0, 1, "f: the first step's lr is base · f"),
    RN_K_INT("step_size", T, step_size, 1, 100000, "epochs (step)"),
    RN_K_DOUBLE("gamma", T, gamma, 0, 1e3, "factor (step, multistep)"),
    RN_K_INT_LIST("milestones", T, milestones, n_milestones, 1, 1000, RN_KEY_INCREASING, "epochs (multistep)"),
    RN_K_DOUBLE("power", T, power, 0, 100, "poly"),
    RN_K_DOUBLE("min_lr", T, min_lr, 0, 1e6, "end value (cosine, poly, linear)"),
    RN_K_CHOICE("resolution", T, per_step, resolution_names,
                "`step`: a new value every optimiser step; `epoch`: once per epoch (torchvision's default)"),
    RN_K_DOUBLE("pct_start", T, pct_start, 0, 1, "onecycle: the fraction of the run spent rising"),
    RN_K_DOUBLE("div_factor", T, div_factor, 1, 1e9, "onecycle: the first lr is base / div_factor"),
    RN_K_DOUBLE("final_div_factor", T, final_div_factor, 1, 1e12, "onecycle: the last lr is base / (div_factor · final_div_factor)"),
};
#undef T

#define T rn_ckpt_opts
static const rn_key checkpoint_keys[] = {
    RN_K_INT("every_steps", T, every_steps, 0, 2000000000, "N > 0: also save `last.ckpt` every N optimiser steps within an epoch"),
    RN_K_BOOL("keep_best", T, keep_best, "write `best.ckpt` when validation top-1 improves"),
};
#undef T

// onnx = PATH exports there; yes: <run_dir>/model.onnx; no: no export.
static int onnx_set(void *obj, const rn_key *k, const char *v, rn_err *err) {
    rn_export_opts *o = obj;
    static const rn_key as_bool = RN_K_BOOL("onnx", rn_export_opts, onnx, "");
    static const rn_key as_path = RN_K_PATH("onnx", rn_export_opts, path, "");
    rn_export_opts t = *o;
    rn_err ignore;
    if (rn_section_set(&(rn_section){"export", &as_bool, 1, NULL}, &t, "onnx", v, &ignore) == 0) {
        t.path[0] = 0;
    } else {
        t.onnx = 1;
        if (rn_section_set(&(rn_section){"export", &as_path, 1, NULL}, &t, "onnx", v, err)) return -1;
    }
    *o = t;
    return 0;
}

static void onnx_print(const void *obj, const rn_key *k, FILE *f) {
    const rn_export_opts *o = obj;
    fputs(!o->onnx ? "no" : o->path[0] ? o->path : "yes", f);
}

#define T rn_export_opts
static const rn_key export_keys[] = {
    {.name = "onnx", .type = RN_KEY_CUSTOM, .set = onnx_set, .print = onnx_print, .accepts = "yes, no or a path",
     .doc = "`onnx = PATH` exports to PATH when training ends; `yes`: `<run_dir>/model.onnx`; `no`: no export"},
    RN_K_CHOICE("weights", T, use_best, weights_names,
                "`best` (`best.ckpt`'s weights), `last` or `live` (the weights at the end), `ema` (the EMA at the end; needs "
                "`[train] ema_decay`)"),
};
#undef T

const rn_section rn_train_section = RN_SECTION("train", train_keys, "The trainer.");
const rn_section rn_optim_section = RN_SECTION("optim", optim_keys, "The optimiser (SGD with momentum, LARS or AdamW) and gradient clipping, as above.");
const rn_section rn_schedule_section = RN_SECTION("schedule", schedule_keys, "The learning-rate schedule, as above.");
const rn_section rn_checkpoint_section = RN_SECTION("checkpoint", checkpoint_keys, "Checkpoints in the run folder.");
const rn_section rn_export_section = RN_SECTION("export", export_keys, "The ONNX file written when training ends.");

int rn_train_config_check(const rn_config *c, rn_err *err) {
    const rn_sched_opts *s = &c->schedule;
    if (s->type == RN_SCHED_ONECYCLE && s->warmup_epochs > 0)
        return rn_fail(err, "[schedule] onecycle has its own warm-up (pct_start): set warmup_epochs = 0");
    if (s->warmup_epochs >= c->train.epochs && s->warmup_epochs > 0)
        return rn_fail(err, "[schedule] warmup_epochs = %g must be less than [train] epochs = %d", s->warmup_epochs,
                       c->train.epochs);
    if (c->export_opts.use_best == RN_EXPORT_EMA && c->train.ema_decay <= 0)
        return rn_fail(err, "[export] weights = ema needs an EMA: set [train] ema_decay (torchvision's recipe: 0.99998)");
    if (!c->data.drop_last)
        return rn_fail(err, "[data] drop_last = no: the trainer runs a fixed batch size and needs drop_last = yes");
    return 0;
}
