// exec_mem.h — the memory an executor will take, estimated from the graph's shapes alone: it runs
// the executor's own shape and buffer planning (layers/exec_plan.c) but allocates no buffer and creates
// no oneDNN object, so a run that would not fit is refused before anything big is allocated.
#ifndef RN_EXEC_MEM_H
#define RN_EXEC_MEM_H

#include "layers/exec.h"
#include "src/mem.h"

// Bytes by kind. Exact (the executor's plan): input, acts, given the layout model
// below. Approximate: workspaces, weights, scratchpad (see exec_mem.c for the approximations).
typedef struct rn_exec_mem {
    size_t input;       // the graph input, plain NCHW
    size_t acts;        // activation buffers (training: and gradients), shared by liveness over the step
    size_t workspaces;  // fused BN+Relu bit masks, max-pool indices (training)
    size_t weights;     // weights (and weight gradients) in the layouts primitives want
    size_t scratchpad;  // oneDNN's own scratchpad
    size_t total;
} rn_exec_mem;

int rn_exec_estimate(rn_graph *g, int64_t batch, int64_t H, int64_t W, const rn_exec_opts *opts, rn_exec_mem *m,
                     rn_err *err);

// Adds the executor's items to a plan. follows = 1: the executor's batch is the plan's batch (its items
// scale with it; the estimate is affine in the batch, so two batch sizes give the coefficients);
// 0: a fixed cost at `batch`.
int rn_exec_mem_plan(rn_graph *g, int64_t batch, int follows, int64_t H, int64_t W, const rn_exec_opts *opts,
                     rn_mem_plan *p, rn_err *err);

// The tools' check: the caller's own items already in p, plus the graph's arenas (already allocated),
// plus one executor at `batch`; 0 when it fits, else -1 with rn_mem_check's message.
int rn_exec_mem_check(rn_mem_plan *p, rn_graph *g, int64_t batch, int64_t H, int64_t W, const rn_exec_opts *opts,
                      const char *batch_name, rn_err *err);

#endif
