// step.h — one training step, shared by resnet-train (src/train_loop.c), resnet-bench and the tests:
// for each of `accum` micro-batches set_input -> forward -> scores -> softmax cross-entropy (label
// smoothing) -> backward (overwrites the gradients) -> [sum into the accumulation buffer]; then the
// gradient reduction across processes (a hook; none in one process) and the SGD update at lr, which
// bumps g->version. The update divides the summed gradient by micro-batches x processes.
//
// Ownership: rn_step borrows everything it points to; the caller fills it (rn_step_init) and frees
// the buffers itself. With one process and no hook, the arithmetic is exactly that of the
// trainer before this function existed (the resume tests check it bit for bit).
#ifndef RN_OPTIM_STEP_H
#define RN_OPTIM_STEP_H

#include <stdint.h>

#include "optim/sgd.h"
#include "layers/exec.h"

// A gradient sum across processes (src/dist.c implements it on MPI). For the last micro-batch of a
// step, begin() is called before its backward: `sum` is the buffer the update reads, `add` NULL
// when that is g->grad_arena itself, else the fresh gradient (g->grad_arena) to add into `sum`
// (accumulation) before reducing. op_done(op) follows every op's backward, its weight gradients
// already plain; finish() returns when `sum` holds the sum over every process.
typedef struct rn_step_reducer {
    void *ctx;
    int world;  // processes whose gradients are summed
    void (*begin)(void *ctx, float *sum, const float *add);
    void (*op_done)(void *ctx, int op);
    void (*finish)(void *ctx);
} rn_step_reducer;

typedef struct rn_step {
    rn_graph *g;
    rn_exec *ex;         // training executor at batch B
    rn_sgd *sgd;
    int B, K, accum;     // batch, classes, micro-batches per optimiser step
    double smoothing;    // label smoothing of the loss
    float *acc;          // (g->arena_size) gradient sum over micro-batches; may be NULL when accum == 1
    float *scores, *dscores;  // (B, K)
    const rn_step_reducer *reducer;  // NULL: one process
    int micro;           // micro-batches taken in the current step
    float *last_sum;     // the gradient sum the update reads (set by rn_step_batch)
    double grad_norm;    // the last update's global gradient L2 norm (computed only with [optim] clip_grad_norm)
} rn_step;

// One micro-batch: rn_step_input copies x (B, 3, S, S) plain into the executor (so the caller may
// hand the loader's buffer back before the compute), then rn_step_batch runs it with labels (B).
// `last`: it ends the optimiser step (the accum-th, or the epoch's last). Sets *loss to the mean
// loss (the caller refuses a non-finite one) and adds the top-1 hits to *correct when not NULL.
// Both return 0, or -1 with err when the executor fails (out of memory in oneDNN, naming the node).
int rn_step_input(rn_step *s, const float *x, rn_err *err);
int rn_step_batch(rn_step *s, const int32_t *labels, int last, double *loss, int64_t *correct, rn_err *err);
// The same with soft targets (B, K) (mixup / cutmix: rn_softmax_xent_soft) when targets is not NULL;
// the top-1 is counted against labels (the dominant ones). rn_step_batch is this with targets NULL.
int rn_step_batch_soft(rn_step *s, const int32_t *labels, const float *targets, int last, double *loss,
                       int64_t *correct, rn_err *err);

// The update after the step's last micro-batch: completes the reduction and applies SGD at lr.
// With [optim] clip_grad_norm = c > 0 the mean gradient is first scaled by min(1, c / (norm + 1e-6)),
// norm its L2 norm over every trainable tensor, as torch.nn.utils.clip_grad_norm_.
void rn_step_update(rn_step *s, double lr);

// The global L2 norm of grad * grad_scale over the trainable parameters of g (in double, in tensor
// order, so it does not depend on the thread count).
double rn_step_grad_norm(const rn_graph *g, const float *grad, float grad_scale);

#endif
