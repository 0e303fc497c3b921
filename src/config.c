// config.c — loads every section of a run's config; see config.h.
#include "src/config.h"

#include <stdio.h>

#include "src/ini.h"

int rn_config_load(rn_config *c, const char *path, const char *const *overrides, int n_overrides, rn_err *err) {
    snprintf(c->path, sizeof c->path, "%s", path);
    c->model = rn_model_opts_default();
    rn_ini_section secs[] = {
        {"model", rn_model_opts_set, &c->model},
    };
    int n = (int)(sizeof secs / sizeof *secs);
    if (rn_ini_load(path, secs, n, err)) return -1;
    for (int i = 0; i < n_overrides; i++)
        if (rn_ini_override(overrides[i], secs, n, err)) return -1;
    rn_err e2;
    if (rn_model_opts_resolve(&c->model, &e2)) return rn_fail(err, "%s: %s", path, e2.msg);
    return 0;
}
