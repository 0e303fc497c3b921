// layer.h — the contract between the executors (layers/exec.c, layers/ref.c) and the op
// implementations in layers/. Each layers/<op>.c holds, side by side, for one ONNX op:
//   compile   build the oneDNN primitives for the input layouts and pick the output layout
//   forward   run them (training or inference, as the executor was compiled)
//   backward  gradients w.r.t. the op's activation inputs and its parameters
//   release   free what compile made
//   ref_forward / ref_backward   the plain-C twin: naive loops over NCHW doubles
#ifndef RN_LAYER_H
#define RN_LAYER_H

#include <oneapi/dnnl/dnnl.h>

#include "layers/dnn.h"
#include "layers/exec.h"
#include "layers/graph.h"

// ---- oneDNN executor state visible to layers -------------------------------------------------

#define RN_MAX_PRIMS 4

// One activation tensor at the executor's batch size.
typedef struct rn_act {
    int ndim;
    int64_t dims[RN_MAX_DIMS];
    rn_md md;               // layout chosen by the producer (the consumer's diff uses the same); owned
    dnnl_memory_t mem;      // wraps the data buffer
    dnnl_memory_t dmem;     // wraps the gradient buffer; NULL when no gradient is needed
    dnnl_memory_t smem;     // training: wraps `second`: a second consumer's gradient, or a throwaway one
    float *buf, *diff;      // both in ex->arena (shared by liveness); the graph input's buf is its own
    float *second;          // in ex->arena too, live only while the ops that need it run backward
    int alias;              // >= 0: shares buffers and gradient state with that tensor
    int needs_grad;
    int consumers;          // ops reading it (a branch point has more than one)
    int diff_written;       // backward: set once some consumer has written its gradient
    int defined;            // its producer has set md (compile)
} rn_act;



struct rn_exec {
    rn_graph *g;
    rn_exec_opts opts;
    int64_t batch;
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    rn_act *act;        // indexed by tensor (PARAM/STATE slots unused)
    void **impl;        // indexed by op: each layer's private state (its own struct)
    int *skip;          // a Relu folded into the BatchNormalization before it: no forward/backward
    int *fuse_relu;     // per BatchNormalization or Add op: 1 when it also applies the Relu after it
    int *fold_bn;       // per Conv op (inference): the BatchNormalization folded into it, or -1
    double *t_fwd, *t_bwd;
    char *(*impl_names)[RN_MAX_PRIMS];  // per op: oneDNN implementation of each primitive it made
    struct rn_weights **weights;        // every parameter layout transfer (layers/weights.c)
    int n_weights;
    void *arena;                        // every activation and gradient, shared by liveness (exec_plan.c)
    size_t arena_bytes;
    uint64_t version[2];                // g->version when forward / backward-data weights were refreshed
    int w_borrowed;                     // some weight gradients borrow their forward copy (weights.c), so
    int fwd_dirty;                      // a backward leaves forward copies to refresh
    int64_t (*w_items[3])[3];           // per phase: (weights index, first row, end row) (layers/weights.c)
    int w_n[3];
    int forwarded;                      // a forward ran since the last backward (which consumes it)
    dnnl_status_t run_st;               // the first failed execution of this step (rn_exec_run), or success
    int run_op;                         // the op then running, -1 outside ops
    int *w_end;                         // per op: ex->n_weights after its compile (its transfers end there)
    void (*grad_hook)(void *ctx, int op);  // rn_exec_set_grad_hook
    void *grad_hook_ctx;
    float *bn_sync_buf;                 // SyncBatchNorm: plain copies of one BN's X and dX, shared by all
    size_t bn_sync_bytes;               // of them (ops run one at a time): bytes of each half
};

// Allocation and oneDNN failures while compiling are errors naming the node (op; NULL: none) and the
// buffer, never aborts: the sizes are the user's (batch, image, width), and so is the machine's memory.
// "node 'conv1' (Conv): out of memory allocating <what> (<bytes> bytes = <size>)"; bytes 0: no size.
int rn_exec_alloc_fail(rn_err *err, const rn_op *op, const char *what, size_t bytes);

// The activation for tensor t, following aliases.
rn_act *rn_act_of(rn_exec *ex, int t);
// Sets the output tensor's layout (a copy of md) and sizes its buffers (called from each layer's compile).
int rn_exec_define_output(rn_exec *ex, const rn_op *op, rn_cmd md, rn_err *err);
// Makes op's output share its input's buffers (Flatten, a Relu fused into the BN before it).
void rn_exec_alias_output(rn_exec *ex, const rn_op *op, int onto);

// Gradient of an activation input, with summation at branch points: begin() returns the memory
// to write d(input) into — the tensor's own gradient if nothing wrote it yet in this backward, else
// its second gradient (rn_act.second) — and end() adds the second into the gradient when it was used.
// Nothing is allocated while a step runs: every memory object exists from rn_exec_create on.
dnnl_memory_t rn_exec_grad_begin(rn_exec *ex, int t);
void rn_exec_grad_end(rn_exec *ex, int t, dnnl_memory_t m);

// Copies between a plain (NCHW) buffer and an activation buffer in layout md (to_plain: md -> plain);
// -1 with err naming `what` when oneDNN cannot make the reorder.
int rn_exec_transfer(rn_exec *ex, rn_cmd md, void *act_buf, float *plain, int to_plain, const char *what,
                     rn_err *err);

// Runs a primitive on the executor's stream. A failure (oneDNN out of memory for a buffer it takes
// at execution time) is kept: later primitives of the step are skipped and rn_exec_forward /
// rn_exec_backward return it as an error naming the node.
void rn_exec_run(rn_exec *ex, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args);
// Creates op k's primitive from pd (oneDNN allocates its workspace/scratchpad here) and records its
// implementation (rn_exec_impls); -1 with a message naming the node and `what` ("a convolution").
int rn_exec_primitive(rn_exec *ex, int k, rn_pd pd, const char *what, dnnl_primitive_t *out, rn_err *err);
// Memory object over `ptr` (NULL: allocated and owned by oneDNN, e.g. a workspace); -1 naming op and what.
int rn_exec_memory(rn_exec *ex, rn_cmd md, void *ptr, const rn_op *op, const char *what, dnnl_memory_t *out,
                   rn_err *err);
// Fails with a message naming the op, the primitive and the oneDNN status.
int rn_exec_dnnl_fail(rn_err *err, const rn_op *op, const char *what, dnnl_status_t st);

// A parameter in the layout a primitive wants (layers/weights.c). Forward and backward-data copies
// are refreshed from the graph's plain arrays when g->version changes; gradient copies go back to
// the graph's plain gradient after every backward. The executor owns and frees them. NULL with a
// message naming op on failure (out of memory for the copy, a layout that is not a plain blocking).
typedef enum rn_weights_phase { RN_W_FORWARD, RN_W_BACKWARD_DATA, RN_W_GRADIENT } rn_weights_phase;
typedef struct rn_weights rn_weights;
rn_weights *rn_exec_weights(rn_exec *ex, const rn_op *op, int ndim, const int64_t *dims, float *plain, rn_cmd want,
                            rn_weights_phase phase, rn_err *err);
// Forward weights scaled per output channel by gamma / sqrt(var + eps) (a folded BatchNormalization).
int rn_weights_fold_bn(rn_exec *ex, const rn_op *op, rn_weights *w, const float *gamma, const float *var, float eps,
                       rn_err *err);
dnnl_memory_t rn_weights_mem(const rn_weights *w);
// The work items of every phase's transfer, made once after compiling (rn_exec_create), so that a
// step allocates nothing.
int rn_exec_weights_prepare(rn_exec *ex, rn_err *err);
void rn_exec_weights_run(rn_exec *ex, rn_weights_phase phase);  // every transfer of a phase, one parallel region
// The transfers of a phase among weights [from, to) (those of one op: see w_end).
void rn_exec_weights_run_range(rn_exec *ex, rn_weights_phase phase, int from, int to);
void rn_exec_weights_release(rn_exec *ex);

// The primitives of an op with weights and a bias (Conv, Gemm): forward, backward-data (when its
// input needs a gradient), backward-weights (when its weight is trainable). layers/weighted.c runs them.
typedef struct rn_weighted {
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    rn_weights *w_fwd, *w_bwd_data, *dw;  // weights for forward / backward-data, and their gradient
    dnnl_memory_t bias, dbias;            // plain, over the graph's arenas (bias may be the op's own)
} rn_weighted;
void rn_weighted_forward(rn_exec *ex, const rn_op *op, const rn_weighted *p);
void rn_weighted_backward(rn_exec *ex, const rn_op *op, const rn_weighted *p);
void rn_weighted_release(rn_weighted *p);  // primitives and bias memories; weights belong to the executor
// Takes a backward primitive descriptor of op k (its status `st`): makes the primitive, records its
// implementation, sets up the transfer of the weights (or their gradient) in the layout it queries
// with `what`, and destroys the descriptor. -1 with a message naming `prim_name` on failure.
int rn_weighted_adopt(rn_exec *ex, int k, dnnl_status_t st, rn_pd pd, const char *prim_name, dnnl_primitive_t *prim,
                      rn_weights **w, int ndim, const int64_t *dims, float *plain, dnnl_query_t what,
                      rn_weights_phase phase, rn_err *err);

// ---- reference executor state visible to layers ---------------------------------------------

typedef struct rn_ref {
    const rn_graph *g;
    int64_t batch;
    int training;
    int bn_frozen;                 // BN uses (and keeps) its running statistics while training
    int *ndim;
    int64_t (*dims)[RN_MAX_DIMS];  // per tensor, at this batch size
    double **val;                  // per tensor: activations, parameters and BN running stats
    double **grad;                 // per tensor: gradients (accumulated: ref_backward adds)
    double **saved;                // per op: what backward needs beyond inputs (BN batch mean/var)
} rn_ref;

size_t rn_ref_numel(const rn_ref *r, int t);

// ---- the per-op table --------------------------------------------------------------------------

// What an op's backward reads besides gradients (the executor's buffer plan keeps these activations
// alive until that backward has run, and reuses every other one as soon as the forward is done with it).
enum {
    RN_BWD_X = 1,        // its first input's data (Conv and Gemm for the weight gradient, BN for its statistics)
    RN_BWD_Y = 2,        // its output's data (Relu: dnnl_eltwise_relu_use_dst_for_bwd)
    RN_BWD_Y_FUSED = 4,  // its output's data when it applies a fused Relu (Add: the mask is Y > 0)
    RN_BWD_DX_ALWAYS = 8,  // it writes d(first input) even when none is needed (BN: into a throwaway buffer)
};

typedef struct rn_layer {
    int (*compile)(rn_exec *ex, int op, rn_err *err);
    void (*forward)(rn_exec *ex, int op);
    void (*backward)(rn_exec *ex, int op);
    void (*release)(rn_exec *ex, int op);
    void (*ref_forward)(rn_ref *r, const rn_op *op);
    void (*ref_backward)(rn_ref *r, const rn_op *op);
    unsigned bwd_reads;  // RN_BWD_* flags: must name everything backward reads of the op's activations
} rn_layer;

extern const rn_layer rn_layer_conv, rn_layer_batchnorm, rn_layer_relu, rn_layer_add, rn_layer_maxpool,
    rn_layer_globalavgpool, rn_layer_flatten, rn_layer_gemm;

const rn_layer *rn_layer_for(rn_op_type t);

#endif
