// config.c — loads every section of a run's config; see config.h.
#include "src/config.h"

#include <stdio.h>
#include <string.h>

#include "src/ini.h"

static int data_set(void *o, const char *key, const char *value, rn_err *err) {
    return rn_data_opts_set(o, "data", key, value, err);
}
static int augment_set(void *o, const char *key, const char *value, rn_err *err) {
    return rn_data_opts_set(o, "augment", key, value, err);
}

// "configs/resnet50v2.ini" -> "resnet50v2"
static void config_name(const char *path, char *name, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(name, cap, "%s", b);
    size_t l = strlen(name);
    if (l > 4 && strcmp(name + l - 4, ".ini") == 0) name[l - 4] = 0;
}

int rn_config_load(rn_config *c, const char *path, const char *const *overrides, int n_overrides, rn_err *err) {
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    config_name(path, c->name, sizeof c->name);
    c->model = rn_model_opts_default();
    c->data = rn_data_opts_default();
    c->train = rn_train_opts_default();
    c->optim = rn_sgd_opts_default();
    c->schedule = rn_sched_opts_default();
    c->checkpoint = rn_ckpt_opts_default();
    c->export_opts = rn_export_opts_default();
    rn_ini_section secs[] = {
        {"model", rn_model_opts_set, &c->model},
        {"data", data_set, &c->data},
        {"augment", augment_set, &c->data},
        {"train", rn_train_opts_set, &c->train},
        {"optim", rn_sgd_opts_set, &c->optim},
        {"schedule", rn_sched_opts_set, &c->schedule},
        {"checkpoint", rn_ckpt_opts_set, &c->checkpoint},
        {"export", rn_export_opts_set, &c->export_opts},
    };
    int n = (int)(sizeof secs / sizeof *secs);
    if (rn_ini_load(path, secs, n, err)) return -1;
    for (int i = 0; i < n_overrides; i++)
        if (rn_ini_override(overrides[i], secs, n, err)) return -1;
    rn_err e2;
    if (rn_model_opts_resolve(&c->model, &e2) || rn_data_opts_check(&c->data, &e2) ||
        rn_train_config_check(c, &e2))
        return rn_fail(err, "%s: %s", path, e2.msg);
    return 0;
}
