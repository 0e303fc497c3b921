// sgd.c — SGD with momentum; see sgd.h.
#include "optim/sgd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Which tensors are BatchNormalization scale/shift or Conv/Gemm biases: by their place in the op
// list, not by name, so imported graphs with other naming schemes are classified the same way.
static void classify(const rn_graph *g, const rn_sgd_opts *o, float *decay, unsigned char *norm_or_bias) {
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        decay[i] = t->role == RN_PARAM ? (float)o->weight_decay : 0.0f;
    }
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        if (op->type == RN_OP_BATCHNORM) norm_or_bias[op->in[1]] = norm_or_bias[op->in[2]] = 1;
        if ((op->type == RN_OP_CONV || op->type == RN_OP_GEMM) && op->n_in > 2) norm_or_bias[op->in[2]] = 1;
        if (op->type == RN_OP_BATCHNORM && o->norm_weight_decay >= 0) {
            decay[op->in[1]] = (float)o->norm_weight_decay;
            decay[op->in[2]] = (float)o->norm_weight_decay;
        }
        if ((op->type == RN_OP_CONV || op->type == RN_OP_GEMM) && op->n_in > 2 && o->bias_weight_decay >= 0)
            decay[op->in[2]] = (float)o->bias_weight_decay;
    }
}

rn_sgd *rn_sgd_create(const rn_graph *g, const rn_sgd_opts *o) {
    rn_sgd *s = rn_calloc(1, sizeof *s);
    s->o = *o;
    s->g = g;
    s->momentum = rn_malloc_aligned(g->arena_size * sizeof(float) + 64);
    memset(s->momentum, 0, g->arena_size * sizeof(float));
    if (o->type == RN_OPT_ADAMW) {
        s->moment2 = rn_malloc_aligned(g->arena_size * sizeof(float) + 64);
        memset(s->moment2, 0, g->arena_size * sizeof(float));
    }
    s->decay = rn_calloc((size_t)g->n_tensors + 1, sizeof(float));
    s->norm_or_bias = rn_calloc((size_t)g->n_tensors + 1, 1);
    classify(g, o, s->decay, s->norm_or_bias);
    return s;
}

void rn_sgd_destroy(rn_sgd *s) {
    if (!s) return;
    rn_free_aligned(s->momentum);
    rn_free_aligned(s->moment2);
    free(s->decay);
    free(s->norm_or_bias);
    free(s);
}

double rn_sgd_scaled_lr(const rn_sgd_opts *o, int64_t samples) {
    if (o->lr_base_batch <= 0) return o->lr;
    return o->lr * (double)samples / (double)o->lr_base_batch;
}

// One LARS update of tensor t (see sgd.h). The norms are summed in order, in double, so the
// result does not depend on the thread count.
static void lars_tensor(rn_sgd *s, const rn_tensor *t, int i, const float *gr, float grad_scale, double lr) {
    float *w = t->data, *v = s->momentum + t->offset;
    long n = (long)rn_tensor_numel(t);
    const float m = (float)s->o.momentum;
    float wd = s->decay[i], rate = (float)lr;
    if (s->norm_or_bias[i]) wd = 0;
    else {
        double ww = 0, gg = 0;
        for (long j = 0; j < n; j++) {
            double gj = (double)gr[j] * grad_scale;
            ww += (double)w[j] * w[j];
            gg += gj * gj;
        }
        double wn = sqrt(ww), gn = sqrt(gg);
        if (wn > 0 && gn > 0) rate = (float)(lr * s->o.trust * wn / (gn + wd * wn));
    }
#pragma omp parallel for schedule(static) if (n > 32768)
    for (long j = 0; j < n; j++) {
        float vj = m * v[j] + rate * (gr[j] * grad_scale + wd * w[j]);
        v[j] = vj;
        w[j] -= vj;
    }
}

// One AdamW update of every trainable tensor (see sgd.h); the bias corrections in double, as
// PyTorch computes them in Python floats.
static void adamw_step(rn_sgd *s, rn_graph *g, const float *grad, float grad_scale, double lr) {
    s->t++;
    const double bc1 = 1.0 - pow(s->o.beta1, (double)s->t), bc2 = 1.0 - pow(s->o.beta2, (double)s->t);
    const float b1 = (float)s->o.beta1, b2 = (float)s->o.beta2, eps = (float)s->o.eps;
    const float step = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM || !t->trainable) continue;
        const float keep = (float)(1.0 - lr * s->decay[i]);
        float *w = t->data, *m = s->momentum + t->offset, *v = s->moment2 + t->offset;
        const float *gr = grad + t->offset;
        long n = (long)rn_tensor_numel(t);
#pragma omp parallel for schedule(static) if (n > 32768)
        for (long j = 0; j < n; j++) {
            float gj = gr[j] * grad_scale;
            float mj = b1 * m[j] + (1 - b1) * gj, vj = b2 * v[j] + (1 - b2) * gj * gj;
            m[j] = mj, v[j] = vj;
            w[j] = w[j] * keep - step * (mj / (sqrtf(vj) / bc2_sqrt + eps));
        }
    }
    g->version++;
}

void rn_sgd_step(rn_sgd *s, rn_graph *g, const float *grad, float grad_scale, double lr_d) {
    RN_CHECK(g == s->g);
    if (s->o.type == RN_OPT_ADAMW) {
        adamw_step(s, g, grad, grad_scale, lr_d);
        return;
    }
    s->t++;
    if (s->o.type == RN_OPT_LARS) {
        for (int i = 0; i < g->n_tensors; i++) {
            const rn_tensor *t = &g->tensors[i];
            if (t->role == RN_PARAM && t->trainable) lars_tensor(s, t, i, grad + t->offset, grad_scale, lr_d);
        }
        g->version++;
        return;
    }
    const float m = (float)s->o.momentum, lr = (float)lr_d;
    const int nesterov = s->o.nesterov;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM || !t->trainable) continue;
        const float wd = s->decay[i];
        float *w = t->data, *v = s->momentum + t->offset;
        const float *gr = grad + t->offset;
        long n = (long)rn_tensor_numel(t);
        // Element-wise only, so the result does not depend on the thread count.
#pragma omp parallel for schedule(static) if (n > 32768)
        for (long j = 0; j < n; j++) {
            float d = gr[j] * grad_scale + wd * w[j];
            float vj = m * v[j] + d;
            v[j] = vj;
            w[j] -= lr * (nesterov ? d + m * vj : vj);
        }
    }
    g->version++;
}
