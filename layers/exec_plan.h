// exec_plan.h — the executor's buffer plan from sizes alone, shared by rn_exec_create (which then
// allocates what was planned) and rn_exec_estimate (which only adds it up), so that the memory
// estimate follows the executor's liveness sharing exactly. Internal to src/exec*.c.
#ifndef RN_EXEC_PLAN_H
#define RN_EXEC_PLAN_H

#include "layers/layer.h"

// Offsets into one arena of `total` bytes for each tensor's data, gradient and second gradient
// (rn_act.second), -1 for none (n_tensors each). rn_plan_buffers allocates them; rn_buf_plan_free frees.
typedef struct rn_buf_plan {
    int64_t *act, *diff, *second;
    size_t total;
} rn_buf_plan;

void rn_buf_plan_free(rn_buf_plan *p);

// Shapes at the executor's batch, consumer counts, gradient needs and fusion (exec.c).
int rn_exec_plan(rn_exec *ex, int64_t H, int64_t W, rn_err *err);

// bytes[t]: size of tensor t's data buffer (the graph input's included), 0 for tensors without one
// of their own (aliases, parameters, state). layout[t]: tensors with equal values have the same
// memory layout (an Add may then run in place). Data, gradients and second gradients share the
// arena by liveness over the step (exec_plan.c); the graph input's data is not planned: it has a
// buffer of its own.
void rn_plan_buffers(rn_exec *ex, const size_t *bytes, const int *layout, rn_buf_plan *p);

#endif
