// onnx_reader.h — the ONNX reader's internals, shared by its three files (internal to export/):
//   onnx_values.c  protobuf -> our values: names, initializers, attributes, node inputs (bounds-checked)
//   onnx_ops.c     ONNX nodes -> ops of the graph, in the zoo's and PyTorch's forms
//   onnx_import.c  the model: versions, the graph input, the nodes in order, finalize, the weights
// Functions that can fail return 0 or -1 with a message "WHAT: node 'NAME' (Type): ...".
#ifndef RN_EXPORT_ONNX_READER_H
#define RN_EXPORT_ONNX_READER_H

#include "export/onnx.h"
#include "export/onnx.pb-c.h"

// Open-addressing string map; keys are borrowed (they live in the unpacked model or the graph).
typedef struct smap {
    const char **keys;
    int *vals;
    size_t cap, n;
} smap;

typedef enum vkind {
    V_DATA,   // the graph input
    V_ACT,    // an activation produced by an imported op
    V_CONST,  // an initializer or a Constant's value, not yet turned into a tensor
    V_DEAD,   // an output we do not compute (BatchNormalization's training statistics, MaxPool indices)
} vkind;

typedef struct value {
    const char *name;
    vkind kind;
    int tensor;                     // V_DATA, V_ACT: graph tensor index
    const Onnx__TensorProto *init;  // V_CONST
    int uses;                       // V_CONST: tensors made from it so far
    const char *node;               // V_DEAD: the node that produced it
} value;

// A graph tensor whose floats come from an initializer once the arena exists.
typedef struct pending {
    int tensor;
    const Onnx__TensorProto *init;
    int transpose;  // Gemm transB=0: the file holds (I, O), the graph wants (O, I)
} pending;

typedef struct reshape_check {
    int op;
    int64_t cols;  // the shape's second entry when it is explicit, else -1
} reshape_check;

typedef struct imp {
    const char *what;
    rn_graph *g;
    int64_t opset;
    smap names;    // ONNX value name -> index into vals
    smap tnames;   // graph tensor name -> 1 (names we made up must not clash)
    value *vals;
    int n_vals, cap_vals;
    pending *pend;
    int n_pend, cap_pend;
    reshape_check *rs;
    int n_rs;
    char label[256];  // "node 'NAME' (Conv)" for messages
    char opname[64];  // fallback op name for unnamed nodes
} imp;

// ---- names -> values (onnx_values.c) ------------------------------------------------------------
int imp_smap_get(const smap *m, const char *k);  // value or -1
void imp_smap_put(smap *m, const char *k, int v);
void imp_smap_free(smap *m);
int imp_add_value(imp *im, const char *name, vkind kind);  // index into im->vals (which may move)
void imp_add_pending(imp *im, int tensor, const Onnx__TensorProto *init, int transpose);
int imp_new_tensor(imp *im, const char *name, rn_role role, int ndim, const int64_t *dims);
const char *imp_nz(const char *s);  // "" for NULL

// ---- tensors ------------------------------------------------------------------------------------
const char *imp_dtype_name(int32_t t);
// An initializer's type, rank, dims and that all its data is present; *numel out.
int imp_check_tensor(imp *im, const char *name, const Onnx__TensorProto *t, int32_t want, int max_ndim,
                     size_t *numel, rn_err *err);
void imp_read_floats(const Onnx__TensorProto *t, float *dst, size_t n);  // after imp_check_tensor
void imp_read_int64s(const Onnx__TensorProto *t, int64_t *dst, size_t n);

// ---- attributes ---------------------------------------------------------------------------------
const Onnx__AttributeProto *imp_find_attr(const Onnx__NodeProto *nd, const char *name);
// Every attribute one of `allowed` (NULL-terminated), each at most once.
int imp_check_attr_names(imp *im, const Onnx__NodeProto *nd, const char *const *allowed, rn_err *err);
int imp_attr_type_ok(const Onnx__AttributeProto *a, Onnx__AttributeProto__AttributeType want, int present);
int imp_attr_int(imp *im, const Onnx__NodeProto *nd, const char *name, int64_t def, int64_t *out, rn_err *err);
int imp_attr_float(imp *im, const Onnx__NodeProto *nd, const char *name, float def, float *out, rn_err *err);
// An INTS attribute of exactly n entries in [lo, hi]; absent: out[] untouched, *found = 0.
int imp_attr_ints(imp *im, const Onnx__NodeProto *nd, const char *name, size_t n, int64_t lo, int64_t hi,
                  int *out, int *found, rn_err *err);
int imp_attr_auto_pad(imp *im, const Onnx__NodeProto *nd, int *valid, rn_err *err);  // NOTSET or VALID

// ---- node inputs and outputs --------------------------------------------------------------------
int imp_n_inputs(const Onnx__NodeProto *nd);  // without trailing omitted optional inputs
int imp_lookup(imp *im, const Onnx__NodeProto *nd, int i, value **out, rn_err *err);
int imp_act_input(imp *im, const Onnx__NodeProto *nd, int i, int *tensor, rn_err *err);
// A graph tensor of `role` made from constant input i (ndim_want -1: a vector, [1, O] taken as [O]).
int imp_param_input(imp *im, const Onnx__NodeProto *nd, int i, rn_role role, rn_init init, int ndim_want,
                    int *tensor, rn_err *err);
int imp_define_outputs(imp *im, const Onnx__NodeProto *nd, size_t max_out, rn_err *err);
int imp_add_op(imp *im, const Onnx__NodeProto *nd, rn_op_type type, const int *in, int n_in);  // op index
int imp_want_inputs(imp *im, const Onnx__NodeProto *nd, int lo, int hi, rn_err *err);
int imp_contract_inputs(imp *im, const Onnx__NodeProto *nd, rn_op_type type, rn_err *err);

// ---- nodes (onnx_ops.c) -------------------------------------------------------------------------
int imp_map_node(imp *im, const Onnx__NodeProto *nd, int k, rn_err *err);  // node k of the graph

#endif
