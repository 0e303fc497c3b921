// flatten.c — Flatten (ONNX, axis 1): (N, C, 1, 1) -> (N, C). After GlobalAveragePool the blocked
// layout of a 1x1 plane is already row-major (N, C), so the executor shares the buffer: no copy.
#include <stdlib.h>

#include "layers/layer.h"
#include "src/mem.h"

static int flatten_compile(rn_exec *ex, int k, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    rn_act *x = rn_act_of(ex, op->in[0]);
    if (x->ndim == 4 && (x->dims[2] != 1 || x->dims[3] != 1))
        return rn_fail(err, "node '%s' (Flatten): only a 1x1 spatial input is supported (after GlobalAveragePool), "
                            "got %lldx%lld", op->name, (long long)x->dims[2], (long long)x->dims[3]);
    // Nothing to keep; non-NULL marks the op compiled.
    if (!(ex->impl[k] = rn_try_calloc(1, 1))) return rn_exec_alloc_fail(err, op, "its state", 1);
    rn_exec_alias_output(ex, op, op->in[0]);
    return 0;
}

static void flatten_nothing(rn_exec *ex, int k) {
    (void)ex, (void)k;
}

static void flatten_ref_forward(rn_ref *r, const rn_op *op) {
    size_t n = rn_ref_numel(r, op->out);
    for (size_t i = 0; i < n; i++) r->val[op->out][i] = r->val[op->in[0]][i];
}

static void flatten_ref_backward(rn_ref *r, const rn_op *op) {
    size_t n = rn_ref_numel(r, op->out);
    for (size_t i = 0; i < n; i++) r->grad[op->in[0]][i] += r->grad[op->out][i];
}

const rn_layer rn_layer_flatten = {flatten_compile, flatten_nothing, flatten_nothing, flatten_nothing,
                                   flatten_ref_forward, flatten_ref_backward, 0};
