// config.h — the whole INI config of a run: one struct per section, loaded in one call.
// Sections: [model] (src/resnet.h). Later issues add [data] [augment] [train] [optim] [schedule]
// [checkpoint] [export]; each keeps its own options struct and key handler next to its code.
#ifndef RN_CONFIG_H
#define RN_CONFIG_H

#include "src/resnet.h"

typedef struct rn_config {
    char path[1024];
    rn_model_opts model;
} rn_config;

// Defaults, then the file, then each "section.key=value" override in order. On error the message
// names file:line (or the override) and the caller exits with status 2.
int rn_config_load(rn_config *c, const char *path, const char *const *overrides, int n_overrides, rn_err *err);

#endif
