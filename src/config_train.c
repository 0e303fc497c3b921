// config_train.c — the trainer's sections [train] [optim] [schedule] [checkpoint] [export]:
// defaults, one handler per section, and the checks between keys. The keys are documented in
// docs/TRAINING.md. (The handlers sit here rather than in optim/ so that optim/ does not depend on
// the INI reader, which lives with the config in rn_model.)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/config.h"
#include "src/ini.h"

rn_train_opts rn_train_opts_default(void) {
    rn_train_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = 90;
    o.accum_steps = 1;
    o.seed = 1;
    o.log_every = 100;
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

static int set_path(const char *key, const char *v, char *dst, rn_err *err) {
    if (strlen(v) >= RN_PATH_MAX) return rn_fail(err, "%s: path longer than %d bytes", key, RN_PATH_MAX - 1);
    snprintf(dst, RN_PATH_MAX, "%s", v);
    return 0;
}

static int set_u64(const char *key, const char *v, uint64_t *out, rn_err *err) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (*v == 0 || *v == '-' || *end || errno) return rn_fail(err, "%s: expected a non-negative integer, got '%s'", key, v);
    *out = x;
    return 0;
}

int rn_train_opts_set(void *ctx, const char *key, const char *v, rn_err *err) {
    rn_train_opts *o = ctx;
    if (!strcmp(key, "epochs")) return rn_parse_int(key, v, 1, 100000, &o->epochs, err);
    if (!strcmp(key, "run_dir")) return set_path(key, v, o->run_dir, err);
    if (!strcmp(key, "label_smoothing")) return rn_parse_float(key, v, 0, 1, &o->label_smoothing, err);
    if (!strcmp(key, "accum_steps")) return rn_parse_int(key, v, 1, 65536, &o->accum_steps, err);
    if (!strcmp(key, "eval_batch_size")) return rn_parse_int(key, v, 0, 1 << 20, &o->eval_batch_size, err);
    if (!strcmp(key, "init")) return set_path(key, v, o->init, err);
    if (!strcmp(key, "freeze_stem")) return rn_parse_bool(key, v, &o->freeze_stem, err);
    if (!strcmp(key, "freeze_stages")) return rn_parse_int(key, v, 0, 8, &o->freeze_stages, err);
    if (!strcmp(key, "bn_frozen")) return rn_parse_bool(key, v, &o->bn_frozen, err);
    if (!strcmp(key, "seed")) return set_u64(key, v, &o->seed, err);
    if (!strcmp(key, "threads")) return rn_parse_int(key, v, 0, 4096, &o->threads, err);
    if (!strcmp(key, "stop_after_steps")) return rn_parse_int(key, v, 0, 2000000000, &o->stop_after_steps, err);
    if (!strcmp(key, "log_every")) return rn_parse_int(key, v, 1, 1000000000, &o->log_every, err);
    if (!strcmp(key, "progress")) {
        static const char *const modes[] = {"auto", "plain", "off", NULL};
        return rn_parse_choice(key, v, modes, &o->progress, err);
    }
    return rn_fail(err, "unknown key '%s' (known: epochs, run_dir, label_smoothing, accum_steps, eval_batch_size, "
                        "init, freeze_stem, freeze_stages, bn_frozen, seed, threads, stop_after_steps, log_every, "
                        "progress)", key);
}

int rn_sgd_opts_set(void *ctx, const char *key, const char *v, rn_err *err) {
    rn_sgd_opts *o = ctx;
    if (!strcmp(key, "lr")) return rn_parse_float(key, v, 0, 1e6, &o->lr, err);
    if (!strcmp(key, "lr_base_batch")) return rn_parse_int(key, v, 0, 1 << 30, &o->lr_base_batch, err);
    if (!strcmp(key, "momentum")) return rn_parse_float(key, v, 0, 1, &o->momentum, err);
    if (!strcmp(key, "nesterov")) return rn_parse_bool(key, v, &o->nesterov, err);
    if (!strcmp(key, "weight_decay")) return rn_parse_float(key, v, 0, 1, &o->weight_decay, err);
    if (!strcmp(key, "norm_weight_decay")) return rn_parse_float(key, v, 0, 1, &o->norm_weight_decay, err);
    if (!strcmp(key, "bias_weight_decay")) return rn_parse_float(key, v, 0, 1, &o->bias_weight_decay, err);
    return rn_fail(err, "unknown key '%s' (known: lr, lr_base_batch, momentum, nesterov, weight_decay, "
                        "norm_weight_decay, bias_weight_decay)", key);
}

int rn_sched_opts_set(void *ctx, const char *key, const char *v, rn_err *err) {
    rn_sched_opts *o = ctx;
    if (!strcmp(key, "type")) return rn_parse_choice(key, v, rn_sched_type_names, &o->type, err);
    if (!strcmp(key, "warmup_epochs")) return rn_parse_float(key, v, 0, 1e5, &o->warmup_epochs, err);
    if (!strcmp(key, "warmup_factor")) return rn_parse_float(key, v, 0, 1, &o->warmup_factor, err);
    if (!strcmp(key, "step_size")) return rn_parse_int(key, v, 1, 100000, &o->step_size, err);
    if (!strcmp(key, "gamma")) return rn_parse_float(key, v, 0, 1e3, &o->gamma, err);
    if (!strcmp(key, "milestones")) {
        if (rn_parse_int_list(key, v, o->milestones, RN_SCHED_MAX_MILESTONES, &o->n_milestones, err)) return -1;
        for (int i = 1; i < o->n_milestones; i++)
            if (o->milestones[i] <= o->milestones[i - 1])
                return rn_fail(err, "%s: epochs must increase, got '%s'", key, v);
        return 0;
    }
    if (!strcmp(key, "power")) return rn_parse_float(key, v, 0, 100, &o->power, err);
    if (!strcmp(key, "min_lr")) return rn_parse_float(key, v, 0, 1e6, &o->min_lr, err);
    if (!strcmp(key, "resolution")) {
        static const char *const res[] = {"epoch", "step", NULL};
        return rn_parse_choice(key, v, res, &o->per_step, err);
    }
    if (!strcmp(key, "pct_start")) return rn_parse_float(key, v, 0, 1, &o->pct_start, err);
    if (!strcmp(key, "div_factor")) return rn_parse_float(key, v, 1, 1e9, &o->div_factor, err);
    if (!strcmp(key, "final_div_factor")) return rn_parse_float(key, v, 1, 1e12, &o->final_div_factor, err);
    return rn_fail(err, "unknown key '%s' (known: type, warmup_epochs, warmup_factor, step_size, gamma, milestones, "
                        "power, min_lr, resolution, pct_start, div_factor, final_div_factor)", key);
}

int rn_ckpt_opts_set(void *ctx, const char *key, const char *v, rn_err *err) {
    rn_ckpt_opts *o = ctx;
    if (!strcmp(key, "every_steps")) return rn_parse_int(key, v, 0, 2000000000, &o->every_steps, err);
    if (!strcmp(key, "keep_best")) return rn_parse_bool(key, v, &o->keep_best, err);
    return rn_fail(err, "unknown key '%s' (known: every_steps, keep_best)", key);
}

int rn_export_opts_set(void *ctx, const char *key, const char *v, rn_err *err) {
    rn_export_opts *o = ctx;
    if (!strcmp(key, "onnx")) {
        // onnx = PATH (the form); yes: <run_dir>/model.onnx; no: no export.
        int on;
        rn_err ignore;
        if (rn_parse_bool(key, v, &on, &ignore) == 0) {
            o->onnx = on;
            o->path[0] = 0;
            return 0;
        }
        o->onnx = 1;
        return set_path(key, v, o->path, err);
    }
    if (!strcmp(key, "weights")) {
        static const char *const w[] = {"last", "best", NULL};
        return rn_parse_choice(key, v, w, &o->use_best, err);
    }
    return rn_fail(err, "unknown key '%s' (known: onnx, weights)", key);
}

int rn_train_config_check(const rn_config *c, rn_err *err) {
    const rn_sched_opts *s = &c->schedule;
    if (s->type == RN_SCHED_ONECYCLE && s->warmup_epochs > 0)
        return rn_fail(err, "[schedule] onecycle has its own warm-up (pct_start): set warmup_epochs = 0");
    if (s->warmup_epochs >= c->train.epochs && s->warmup_epochs > 0)
        return rn_fail(err, "[schedule] warmup_epochs = %g must be less than [train] epochs = %d", s->warmup_epochs,
                       c->train.epochs);
    if (!c->data.drop_last)
        return rn_fail(err, "[data] drop_last = no: the trainer runs a fixed batch size and needs drop_last = yes");
    return 0;
}
