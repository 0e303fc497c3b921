// exec.h — runs a graph on oneDNN for a fixed batch size and input size.
//
// Activations stay in the layouts oneDNN chooses (blocked nChw16c on AVX-512) from the first
// conv to the classifier; only the graph input and output cross to plain NCHW / NC.
// Parameters stay plain in the graph's arena; each op reorders its weights into the layout its
// primitive wants when g->version changes, and its weight gradients back into plain layout.
//
// Ownership: rn_exec_create allocates every activation buffer, primitive and memory object;
// rn_exec_destroy frees them. The graph must outlive the executor and keep its structure.
//
// Failures: rn_exec_create returns -1 with a message naming the node and buffer when memory runs
// out (its buffers, weight copies, oneDNN's workspaces and scratchpads), never aborts. The forward
// and backward passes allocate nothing of ours (the input and output copies only make a oneDNN
// reorder where the layout is not plain: blocked test inputs); what oneDNN takes while executing
// (e.g. a GEMM's packing buffers) can still run out, and the step functions then return -1 naming
// the node ("out of memory").
#ifndef RN_EXEC_H
#define RN_EXEC_H

#include "layers/graph.h"

typedef struct rn_exec rn_exec;

typedef struct rn_exec_opts {
    int training;       // 1: batch statistics, running-statistic updates, backward available
    int input_blocked;  // tests: feed the input in nChw16c instead of nchw to reach blocked kernels
    int fuse;           // fuse BatchNormalization+Relu when the BN output feeds only that Relu (default 1)
    int profile;        // accumulate per-op forward/backward seconds
    int input_grad;     // tests: also compute d(loss)/d(input)
    int bn_frozen;      // training with BN statistics frozen: running statistics used and kept as they are
    int winograd;       // 3x3 stride-1 convs by Winograd F(4x4, 3x3) where oneDNN offers it: faster,
                        // with float rounding ~10x the direct algorithm's (docs/PERFORMANCE.md)
    // SyncBatchNorm (training, batch statistics): when set, every BatchNormalization sums its
    // per-channel statistics (count and sum, then squared deviations) and, in backward, its two per-channel
    // gradient sums over all processes with it (in place, n doubles; src/dist.h's rn_dist_sum), so
    // batch statistics are those of the global batch. NULL: each process's own batch.
    void (*bn_sync)(double *x, int n);
} rn_exec_opts;

rn_exec_opts rn_exec_opts_default(int training);

int rn_exec_create(rn_graph *g, int64_t batch, int64_t height, int64_t width, const rn_exec_opts *opts,
                   rn_exec **out, rn_err *err);
void rn_exec_destroy(rn_exec *ex);

// The step: 0, or -1 with err filled (then the outputs and gradients of that step are not valid).
int rn_exec_set_input(rn_exec *ex, const float *nchw, rn_err *err);  // (N, C, H, W) plain
int rn_exec_forward(rn_exec *ex, rn_err *err);
int rn_exec_get_output(rn_exec *ex, float *out, rn_err *err);  // the graph output, plain: (N, classes) or NCHW
// Backward from d(loss)/d(output) given plain. Overwrites every trainable parameter's gradient
// in the graph's grad arena (frozen ones are left untouched).
// Once per forward: the backward reuses the buffers of activations it is done with (a second call
// without a forward is an error).
int rn_exec_backward(rn_exec *ex, const float *dout, rn_err *err);

// When set, backward calls fn(ctx, op) after each op it runs, that op's weight gradients already
// copied to the graph's plain grad arena (per op instead of all at the end), so a gradient
// all-reduce can start on them while backward goes on (src/dist.c). NULL: no calls.
void rn_exec_set_grad_hook(rn_exec *ex, void (*fn)(void *ctx, int op), void *ctx);

// Tests and tools: an activation copied out in plain layout (only the input and output are sure to
// survive a forward: buffers are shared by liveness, in training too for activations no backward
// reads); the gradient of the graph input (opts.input_grad) after a backward. Other gradients, and
// the activations a backward has used, share buffers and are gone by then. One backward per forward.
int rn_exec_read_act(rn_exec *ex, int tensor, float *out, rn_err *err);
int rn_exec_read_grad(rn_exec *ex, int tensor, float *out, rn_err *err);
int rn_exec_needs_grad(const rn_exec *ex, int tensor);
size_t rn_exec_numel(const rn_exec *ex, int tensor);          // elements at this batch size

// Implementation names chosen by oneDNN for an op's primitives ("jit:avx512_core", "ref:any", ...).
// Returns the number of names written into names[] (at most max).
int rn_exec_impls(const rn_exec *ex, int op, const char **names, int max);

// Per-op seconds accumulated while opts.profile was on, and the bytes of activation memory.
void rn_exec_profile(const rn_exec *ex, int op, double *fwd, double *bwd);
void rn_exec_profile_reset(rn_exec *ex);
size_t rn_exec_act_bytes(const rn_exec *ex);

#endif
