// exec_plan.h — the executor's buffer plan from sizes alone, shared by rn_exec_create (which then
// allocates what was planned) and rn_exec_estimate (which only adds it up), so that the memory
// estimate follows the executor's liveness sharing exactly. Internal to src/exec*.c.
#ifndef RN_EXEC_PLAN_H
#define RN_EXEC_PLAN_H

#include "layers/layer.h"

// Buffers, each reused only at exactly the same size (a ResNet has few distinct sizes).
// Ownership: the plan functions grow bytes/used; rn_buf_plan_free frees them.
typedef struct rn_buf_plan {
    size_t *bytes;  // (n) size of each buffer
    int *used;      // (n) planning state: held by a live tensor
    int n;
    size_t total;   // sum of bytes
} rn_buf_plan;

void rn_buf_plan_free(rn_buf_plan *p);

// Shapes at the executor's batch, consumer counts, gradient needs and fusion (exec.c).
int rn_exec_plan(rn_exec *ex, int64_t H, int64_t W, rn_err *err);

// bytes[t]: size of tensor t's data buffer (the graph input's included), 0 for tensors without one
// of their own (aliases, parameters, state). slot[t] (n_tensors) gets the index of the buffer that
// holds t's data (rn_plan_acts) or gradient (rn_plan_diffs), -1 for none.
// Activations: training keeps every one for the backward; inference shares them by liveness. The
// graph input is not planned: it has a buffer of its own.
void rn_plan_acts(rn_exec *ex, const size_t *bytes, int *slot, rn_buf_plan *p);
// Gradients (training): d(t) lives from the backward of t's last reader to that of its producer.
void rn_plan_diffs(rn_exec *ex, const size_t *bytes, int *slot, rn_buf_plan *p);

#endif
