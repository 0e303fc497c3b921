// weighted.c — running the primitives of an op with weights and a bias (Conv, Gemm); see layer.h.
#include "layers/layer.h"

void rn_weighted_forward(rn_exec *ex, const rn_op *op, const rn_weighted *p) {
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, rn_act_of(ex, op->in[0])->mem},
                               {DNNL_ARG_WEIGHTS, rn_weights_mem(p->w_fwd)},
                               {DNNL_ARG_DST, ex->act[op->out].mem},
                               {DNNL_ARG_BIAS, p->bias}};
    rn_exec_run(ex, p->fwd, p->bias ? 4 : 3, args);
}

void rn_weighted_backward(rn_exec *ex, const rn_op *op, const rn_weighted *p) {
    rn_act *y = rn_act_of(ex, op->out);
    if (p->bwd_weights) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, rn_act_of(ex, op->in[0])->mem},
                                   {DNNL_ARG_DIFF_DST, y->dmem},
                                   {DNNL_ARG_DIFF_WEIGHTS, rn_weights_mem(p->dw)},
                                   {DNNL_ARG_DIFF_BIAS, p->dbias}};
        rn_exec_run(ex, p->bwd_weights, p->dbias ? 4 : 3, args);
    }
    if (p->bwd_data) {
        dnnl_memory_t dx = rn_exec_grad_begin(ex, op->in[0]);
        dnnl_exec_arg_t args[3] = {
            {DNNL_ARG_DIFF_DST, y->dmem}, {DNNL_ARG_WEIGHTS, rn_weights_mem(p->w_bwd_data)}, {DNNL_ARG_DIFF_SRC, dx}};
        rn_exec_run(ex, p->bwd_data, 3, args);
        rn_exec_grad_end(ex, op->in[0], dx);
    }
}

void rn_weighted_release(rn_weighted *p) {
    if (p->fwd) dnnl_primitive_destroy(p->fwd);
    if (p->bwd_data) dnnl_primitive_destroy(p->bwd_data);
    if (p->bwd_weights) dnnl_primitive_destroy(p->bwd_weights);
    if (p->bias) dnnl_memory_destroy(p->bias);
    if (p->dbias) dnnl_memory_destroy(p->dbias);
}

int rn_weighted_adopt(rn_exec *ex, int k, dnnl_status_t st, rn_pd pd, const char *prim_name, dnnl_primitive_t *prim,
                      rn_weights **w, int ndim, const int64_t *dims, float *plain, dnnl_query_t what,
                      rn_weights_phase phase, rn_err *err) {
    const rn_op *op = &ex->g->ops[k];
    if (st != dnnl_success) return rn_exec_dnnl_fail(err, op, prim_name, st);
    int rc = rn_exec_primitive(ex, k, pd, prim_name, prim, err);
    if (!rc) {
        *w = rn_exec_weights(ex, op, ndim, dims, plain, rn_dnn_query(pd, what, 0), phase, err);
        rc = *w ? 0 : -1;
    }
    dnnl_primitive_desc_destroy(pd);
    return rc;
}
