// ref.c — the reference executor; see ref.h. Ops' twins live next to their oneDNN code in layers/.
#include "layers/ref.h"

#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"

size_t rn_ref_numel(const rn_ref *r, int t) {
    size_t n = 1;
    for (int i = 0; i < r->ndim[t]; i++) n *= (size_t)r->dims[t][i];
    return n;
}

size_t rn_ref_tensor_numel(const rn_ref *r, int t) { return rn_ref_numel(r, t); }

int rn_ref_create(const rn_graph *g, int64_t batch, int64_t H, int64_t W, int training, rn_ref **out, rn_err *err) {
    *out = NULL;
    rn_ref *r = rn_calloc(1, sizeof *r);
    r->g = g;
    r->batch = batch;
    r->training = training;
    int nt = g->n_tensors;
    r->ndim = rn_calloc((size_t)nt, sizeof *r->ndim);
    r->dims = rn_calloc((size_t)nt, sizeof *r->dims);
    r->val = rn_calloc((size_t)nt, sizeof *r->val);
    r->grad = rn_calloc((size_t)nt, sizeof *r->grad);
    r->saved = rn_calloc((size_t)g->n_ops, sizeof *r->saved);
    for (int i = 0; i < nt; i++) {
        const rn_tensor *t = &g->tensors[i];
        r->ndim[i] = t->ndim;
        memcpy(r->dims[i], t->dims, sizeof r->dims[i]);
    }
    r->dims[g->input][0] = batch;
    r->dims[g->input][2] = H;
    r->dims[g->input][3] = W;
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        int64_t d[RN_MAX_IN][RN_MAX_DIMS];
        int nd[RN_MAX_IN];
        for (int i = 0; i < op->n_in; i++) {
            memcpy(d[i], r->dims[op->in[i]], sizeof d[i]);
            nd[i] = r->ndim[op->in[i]];
        }
        if (rn_op_infer(g, op, (const int64_t(*)[RN_MAX_DIMS])d, nd, r->dims[op->out], &r->ndim[op->out], err)) {
            rn_ref_destroy(r);
            return -1;
        }
        if (op->type == RN_OP_BATCHNORM) r->saved[k] = rn_calloc(2 * (size_t)r->dims[op->out][1], sizeof(double));
    }
    for (int i = 0; i < nt; i++) {
        size_t n = rn_ref_numel(r, i);
        r->val[i] = rn_calloc(n, sizeof(double));
        r->grad[i] = rn_calloc(n, sizeof(double));
    }
    rn_ref_load_params(r);
    *out = r;
    return 0;
}

void rn_ref_destroy(rn_ref *r) {
    if (!r) return;
    for (int i = 0; i < r->g->n_tensors; i++) {
        free(r->val[i]);
        free(r->grad[i]);
    }
    for (int k = 0; k < r->g->n_ops; k++) free(r->saved[k]);
    free(r->val);
    free(r->grad);
    free(r->saved);
    free(r->ndim);
    free(r->dims);
    free(r);
}

void rn_ref_load_params(rn_ref *r) {
    for (int i = 0; i < r->g->n_tensors; i++) {
        const rn_tensor *t = &r->g->tensors[i];
        if (!t->data) continue;
        size_t n = rn_tensor_numel(t);
        for (size_t j = 0; j < n; j++) r->val[i][j] = t->data[j];
    }
}

void rn_ref_set_input(rn_ref *r, const double *x) {
    int t = r->g->input;
    memcpy(r->val[t], x, rn_ref_numel(r, t) * sizeof(double));
}

void rn_ref_forward(rn_ref *r) {
    for (int k = 0; k < r->g->n_ops; k++) rn_layer_for(r->g->ops[k].type)->ref_forward(r, &r->g->ops[k]);
}

void rn_ref_backward(rn_ref *r, const double *dout) {
    for (int i = 0; i < r->g->n_tensors; i++) memset(r->grad[i], 0, rn_ref_numel(r, i) * sizeof(double));
    memcpy(r->grad[r->g->output], dout, rn_ref_numel(r, r->g->output) * sizeof(double));
    for (int k = r->g->n_ops - 1; k >= 0; k--) rn_layer_for(r->g->ops[k].type)->ref_backward(r, &r->g->ops[k]);
}

void rn_ref_freeze_bn(rn_ref *r, int frozen) { r->bn_frozen = frozen; }

double *rn_ref_value(rn_ref *r, int t) { return r->val[t]; }
double *rn_ref_grad(rn_ref *r, int t) { return r->grad[t]; }
