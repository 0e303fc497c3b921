// ema.h — an exponential moving average of the weights, as torchvision's ExponentialMovingAverage
// (references/classification/utils.py: an AveragedModel with use_buffers=True), so the average
// covers every parameter AND every BatchNormalization running statistic (PARAM and STATE tensors):
//     first update after a reset (n_averaged == 0):  e = w
//     otherwise:                                      e = decay * e + (1 - decay) * w
// in f32, element by element (so the result does not depend on the thread count).
//
// The decay given is per `every` optimiser steps at the reference batch; torchvision's train.py
// adjusts it for the samples per update and the run length:
//     adjust = samples_per_step * every / epochs,  alpha = min(1, (1 - decay) * adjust),
//     decay' = 1 - alpha                           (rn_ema_adjusted_decay).
//
// Ownership: rn_ema_create allocates the average (g->arena_size floats at the arena's offsets, so
// a checkpoint stores it by tensor name, RN_CKPT_EMA) as a copy of g's current values;
// rn_ema_destroy frees it.
#ifndef RN_OPTIM_EMA_H
#define RN_OPTIM_EMA_H

#include <stdint.h>

#include "layers/graph.h"

typedef struct rn_ema {
    const rn_graph *g;   // borrowed: the graph whose PARAM and STATE tensors are averaged
    double decay;        // per update, already adjusted
    float *w;            // (g->arena_size) the average, at the arena's offsets; PARAM and STATE only
    int64_t n_averaged;  // updates since the last reset; 0: the next update copies
} rn_ema;

rn_ema *rn_ema_create(const rn_graph *g, double decay);
void rn_ema_destroy(rn_ema *e);

// torchvision's adjustment (above); samples_per_step = ranks x batch x accumulated batches.
double rn_ema_adjusted_decay(double decay, int64_t samples_per_step, int every, int epochs);

// One update from g's current values.
void rn_ema_update(rn_ema *e, const rn_graph *g);

// Exchanges the average with g's PARAM and STATE values (twice restores both exactly) and bumps
// g->version, so executors evaluate (or a checkpoint saves) the averaged model in between.
void rn_ema_swap(rn_ema *e, rn_graph *g);

#endif
