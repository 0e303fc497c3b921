// graph.h — the network: a topologically ordered list of ops over named tensors, in the ONNX
// op vocabulary (Conv, BatchNormalization, Relu, Add, MaxPool, GlobalAveragePool, Flatten, Gemm).
//
// The graph holds no execution state. Parameters (weights, biases, BN scale/shift) and BN running
// statistics live in one arena, in plain row-major layout (Conv OIHW, Gemm OI as ONNX stores them),
// their gradients in a second arena: one memset zeroes every gradient, one loop updates every
// parameter. Executors (layers/exec.h for oneDNN, layers/ref.h for the plain-C reference) run a graph.
//
// Ownership: rn_graph_create allocates a graph; rn_graph_destroy frees it with every tensor name,
// op name and both arenas. Ops' inputs/outputs are tensor indices into g->tensors.
#ifndef RN_GRAPH_H
#define RN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "src/common.h"

#define RN_MAX_DIMS 4
#define RN_MAX_IN 5
#define RN_MAX_SIDE 16384                 // bound on kernels, strides and the input's H, W
#define RN_MAX_NUMEL ((int64_t)1 << 31)   // bound on any tensor's elements (activations: per image)

typedef enum rn_role {
    RN_DATA,   // the graph input ("data", N x 3 x H x W)
    RN_ACT,    // an activation produced by an op
    RN_PARAM,  // a learnable parameter (may be frozen: trainable = 0)
    RN_STATE,  // a non-learned persistent tensor: BN running mean / variance
} rn_role;

typedef enum rn_init {
    RN_INIT_NONE,
    RN_INIT_ZERO,
    RN_INIT_ONE,
    RN_INIT_HE_NORMAL,   // N(0, 2 / fan_out), fan_out = O*kH*kW (Kaiming normal, fan_out mode, as torchvision)
    RN_INIT_UNIFORM_FAN, // U(-1/sqrt(fan_in), 1/sqrt(fan_in))  (PyTorch's Linear/Conv bias default)
} rn_init;

typedef struct rn_tensor {
    char *name;
    rn_role role;
    int trainable;          // RN_PARAM: receives gradient and updates
    rn_init init;
    int ndim;
    int64_t dims[RN_MAX_DIMS];  // ACT/DATA: shape for batch 1 at the graph's nominal input size
    size_t offset;          // PARAM/STATE: offset of the first float in the arenas
    float *data;            // PARAM/STATE: g->arena + offset (plain layout); NULL otherwise
    float *grad;            // PARAM: g->grad_arena + offset; NULL otherwise
    int producer;           // ACT: index of the op writing it; -1 otherwise
} rn_tensor;

typedef enum rn_op_type {
    RN_OP_CONV,
    RN_OP_BATCHNORM,
    RN_OP_RELU,
    RN_OP_ADD,
    RN_OP_MAXPOOL,
    RN_OP_GLOBALAVGPOOL,
    RN_OP_FLATTEN,
    RN_OP_GEMM,
    RN_OP_COUNT
} rn_op_type;

typedef struct rn_conv_attr {
    int kh, kw, sh, sw;
    int pt, pl, pb, pr;  // pads, ONNX order [top, left, bottom, right]
    int group;           // only 1 is supported by the executors
} rn_conv_attr;

typedef struct rn_bn_attr {
    float epsilon;   // 1e-5 (ONNX/zoo)
    float momentum;  // 0.9: running = running * momentum + batch * (1 - momentum)
} rn_bn_attr;

typedef struct rn_pool_attr {
    int kh, kw, sh, sw;
    int pt, pl, pb, pr;
} rn_pool_attr;

typedef struct rn_gemm_attr {
    float alpha, beta;
    int trans_a, trans_b;  // we build (and accept) alpha = beta = 1, transA = 0, transB = 1
} rn_gemm_attr;

typedef struct rn_op {
    rn_op_type type;
    char *name;
    int n_in;
    int in[RN_MAX_IN];  // ONNX input order: Conv X,W[,B]; BN X,scale,B,mean,var; Gemm A,B,C; Add A,B
    int out;            // every op here has one output
    union {
        rn_conv_attr conv;
        rn_bn_attr bn;
        rn_pool_attr pool;
        rn_gemm_attr gemm;
    } a;
} rn_op;

typedef struct rn_graph {
    rn_tensor *tensors;
    int n_tensors, cap_tensors;
    rn_op *ops;
    int n_ops, cap_ops;
    int input;   // tensor index of the graph input (RN_DATA)
    int output;  // tensor index of the class scores (N x num_classes)
    float *arena;       // all PARAM and STATE floats; allocated by rn_graph_finalize
    float *grad_arena;  // gradients, same offsets as arena (STATE entries unused)
    size_t arena_size;  // floats
    uint64_t version;   // bumped by whoever changes parameters, so executors refresh cached layouts
} rn_graph;

rn_graph *rn_graph_create(void);
void rn_graph_destroy(rn_graph *g);

// Adds a tensor and returns its index. Names must be unique (checked in finalize).
int rn_graph_tensor(rn_graph *g, const char *name, rn_role role, int ndim, const int64_t *dims);
// Adds an op and returns its index; `out` is a new ACT tensor named out_name whose shape is inferred.
int rn_graph_op(rn_graph *g, rn_op_type type, const char *name, const int *in, int n_in,
                const char *out_name);

// Checks the graph against the op contract (rn_graph_check), which also infers every activation
// shape (batch 1), then lays out the arenas (zeroed). Every graph source ends here.
int rn_graph_finalize(rn_graph *g, rn_err *err);

// ---- the op contract (layers/op_contract.c) --------------------------------------------------------
// What each op type accepts. rn_graph_finalize checks every graph against it, so executors, the
// exporter and the weight transfer may rely on it: errors read
//   op 'NAME' (Type): input I (SLOT) 'TENSOR' must be a parameter, is an activation

typedef enum rn_slot_kind {
    RN_SLOT_ACT,    // an activation or the graph input
    RN_SLOT_PARAM,  // a parameter (trainable or frozen): has data and a gradient
    RN_SLOT_STATE,  // state (BN running statistics): has data
} rn_slot_kind;

typedef struct rn_op_contract {
    const char *name;                  // the ONNX op type
    int min_in, max_in;                // input count
    rn_slot_kind slot[RN_MAX_IN];      // what each input must be
    const char *slot_name[RN_MAX_IN];  // its ONNX name (X, W, B, scale, mean, var, A, C)
} rn_op_contract;

const rn_op_contract *rn_op_contract_of(int type);  // NULL for an unknown type

// The whole contract: exactly one 4-D graph input; roles, ranks and sizes (at most RN_MAX_NUMEL
// elements, no empty dimension); every op's output a fresh activation of its own; per op the input
// count, each input's role, inputs produced before use, parameters and state consumed by one op
// only, the attributes and shapes of rn_op_infer, and an output of at least 1x1 at the nominal
// size; the graph output an activation. Writes the inferred activation shapes.
int rn_graph_check(rn_graph *g, rn_err *err);

// Shape inference for one op from its input shapes (also used by executors at their batch size);
// g names the tensors in messages (may be NULL for a lone op).
// Checks the op's input count and attributes first, so it never reads a slot the op lacks.
int rn_op_infer(const rn_graph *g, const rn_op *op, const int64_t in_dims[][RN_MAX_DIMS],
                const int *in_ndim, int64_t *out_dims, int *out_ndim, rn_err *err);

// Fills every PARAM/STATE from its init kind, deterministically from `seed` (tensor order).
void rn_graph_init_params(rn_graph *g, uint64_t seed);

int rn_graph_find(const rn_graph *g, const char *name);  // tensor index or -1
size_t rn_tensor_numel(const rn_tensor *t);
const char *rn_op_type_name(rn_op_type t);  // ONNX op type string
int rn_op_type_from_name(const char *s);    // -1 if unknown

// Counts for resnet-info: trainable floats, all PARAM+STATE floats, PARAM+STATE tensors, and
// forward FLOPs for one image at the nominal input size (2 x multiply-adds of Conv and Gemm).
void rn_graph_stats(const rn_graph *g, size_t *trainable, size_t *total, int *tensors,
                    double *flops);

#endif
