// step.c — one training step; see step.h.
#include "optim/step.h"

#include <math.h>
#include <string.h>

#include "layers/softmax_xent.h"

static void accumulate(float *acc, const float *grad, size_t n, int first) {
    if (first) {
        memcpy(acc, grad, n * sizeof(float));
        return;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) acc[i] += grad[i];
}

// The reducer's view of a backward: called by the executor after each op.
static void op_done(void *ctx, int op) {
    const rn_step_reducer *r = ctx;
    r->op_done(r->ctx, op);
}

int rn_step_input(rn_step *s, const float *x, rn_err *err) { return rn_exec_set_input(s->ex, x, err); }

int rn_step_batch(rn_step *s, const int32_t *labels, int last, double *loss_out, int64_t *correct, rn_err *err) {
    return rn_step_batch_soft(s, labels, NULL, last, loss_out, correct, err);
}

int rn_step_batch_soft(rn_step *s, const int32_t *labels, const float *targets, int last, double *loss_out,
                       int64_t *correct, rn_err *err) {
    if (rn_exec_forward(s->ex, err) || rn_exec_get_output(s->ex, s->scores, err)) return -1;
    double loss = targets ? rn_softmax_xent_soft(s->scores, targets, s->B, s->K, s->smoothing, s->dscores)
                          : rn_softmax_xent(s->scores, labels, s->B, s->K, s->smoothing, s->dscores);
    *loss_out = loss;
    if (correct) *correct += rn_topk_correct(s->scores, labels, s->B, s->K, 1);
    const rn_step_reducer *r = s->reducer;
    int accumulating = s->accum > 1;
    if (r && last) {
        // The reduction starts bucket by bucket while backward runs; with accumulation the fresh
        // gradient is added into the sum first (the reducer does that per bucket, so the sum is the
        // same elementwise addition as accumulate()).
        int first = s->micro == 0;
        float *sum = accumulating && !first ? s->acc : s->g->grad_arena;
        r->begin(r->ctx, sum, sum == s->g->grad_arena ? NULL : s->g->grad_arena);
        rn_exec_set_grad_hook(s->ex, op_done, (void *)r);
        int rc = rn_exec_backward(s->ex, s->dscores, err);
        rn_exec_set_grad_hook(s->ex, NULL, NULL);
        if (rc) return -1;  // buckets may be in flight: the caller ends the job (src/dist.h)
        s->micro++;
        s->last_sum = sum;
        return 0;
    }
    if (rn_exec_backward(s->ex, s->dscores, err)) return -1;
    if (accumulating) accumulate(s->acc, s->g->grad_arena, s->g->arena_size, s->micro == 0);
    s->micro++;
    s->last_sum = accumulating ? s->acc : s->g->grad_arena;
    return 0;
}

double rn_step_grad_norm(const rn_graph *g, const float *grad, float grad_scale) {
    double ss = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM || !t->trainable) continue;
        const float *gr = grad + t->offset;
        size_t n = rn_tensor_numel(t);
        for (size_t j = 0; j < n; j++) {
            double x = (double)(gr[j] * grad_scale);
            ss += x * x;
        }
    }
    return sqrt(ss);
}

void rn_step_update(rn_step *s, double lr) {
    const rn_step_reducer *r = s->reducer;
    int world = r ? r->world : 1;
    if (r) r->finish(r->ctx);
    float scale = 1.0f / (float)(s->micro * world);
    const double clip = s->sgd->o.clip_grad_norm;
    if (clip > 0) {
        // After the sum over micro-batches and ranks, so every rank clips the same gradient the same
        // way; the factor folds into the scale the update applies anyway.
        s->grad_norm = rn_step_grad_norm(s->g, s->last_sum, scale);
        double coef = clip / (s->grad_norm + 1e-6);
        if (coef < 1) scale = (float)(scale * coef);
    }
    rn_sgd_step(s->sgd, s->g, s->last_sum, scale, lr);
    s->micro = 0;
}
