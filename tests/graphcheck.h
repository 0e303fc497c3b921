// graphcheck.h — the shared numerical checker of every op test (Caffe's GradientChecker idea):
// for any graph it compares the oneDNN executor against the reference executor (forward output,
// running statistics, d(input), every parameter gradient) and the reference gradients against
// central finite differences in double precision, for the scalar loss L = sum(output * R).
#ifndef RN_TEST_GRAPHCHECK_H
#define RN_TEST_GRAPHCHECK_H

#include "layers/exec.h"
#include "layers/ref.h"
#include "src/rng.h"
#include "tests/check.h"

typedef struct gc_opts {
    int64_t N, H, W;
    int training;       // 1: batch statistics + backward; 0: inference forward only
    int input_blocked;  // feed nChw16c
    int fuse;           // allow BN+Relu fusion
    int bn_frozen;      // BN statistics frozen while training
    int winograd;       // 3x3 stride-1 convs by Winograd
    int fd_samples;     // finite-difference entries checked per tensor (0: skip)
    double tol;         // oneDNN vs reference, relative to the tensor's largest entry
    uint64_t seed;
} gc_opts;

static inline gc_opts gc_default(int64_t N, int64_t H, int64_t W) {
    gc_opts o = {N, H, W, 1, 0, 1, 0, 0, 6, 1e-4, 42};
    return o;
}

// L = sum(out * R) evaluated with the reference executor.
static inline double gc_ref_loss(rn_ref *r, const double *R, size_t n_out, int out) {
    rn_ref_forward(r);
    const double *y = rn_ref_value(r, out);
    double L = 0;
    for (size_t i = 0; i < n_out; i++) L += y[i] * R[i];
    return L;
}

// Checks the analytic reference gradient of `v` (n entries) against central differences.
// Errors are relative to the tensor's largest gradient entry, or to `floor` when that is smaller.
static inline void gc_fd(rn_ref *r, double *v, const double *analytic, size_t n, const double *R, size_t n_out,
                         int out, int samples, rn_rng *rng, double floor, const char *what) {
    double scale = floor > 1e-8 ? floor : 1e-8;
    for (size_t i = 0; i < n; i++) scale = fabs(analytic[i]) > scale ? fabs(analytic[i]) : scale;
    double worst = 0;
    for (int s = 0; s < samples && n > 0; s++) {
        size_t i = s == 0 ? 0 : rn_rng_below(rng, (uint32_t)n);
        double keep = v[i], h = 1e-5 * (fabs(keep) > 1 ? fabs(keep) : 1);
        v[i] = keep + h;
        double lp = gc_ref_loss(r, R, n_out, out);
        v[i] = keep - h;
        double lm = gc_ref_loss(r, R, n_out, out);
        v[i] = keep;
        double fd = (lp - lm) / (2 * h);
        double d = fabs(fd - analytic[i]) / scale;
        worst = d > worst ? d : worst;
    }
    CHECK(worst < 1e-5, "%s: reference gradient vs finite differences: rel err %.3g", what, worst);
}

// Runs every comparison for graph g. Parameters must already be initialised.
static inline void graphcheck(rn_graph *g, const gc_opts *o, const char *name) {
    rn_err err;
    rn_exec_opts eo = rn_exec_opts_default(o->training);
    eo.input_blocked = o->input_blocked;
    eo.fuse = o->fuse;
    eo.input_grad = 1;
    eo.bn_frozen = o->bn_frozen;
    eo.winograd = o->winograd;
    rn_exec *ex = NULL;
    rn_ref *ref = NULL;
    int rc = rn_ref_create(g, o->N, o->H, o->W, o->training, &ref, &err);
    CHECK(rc == 0, "%s: reference executor: %s", name, err.msg);
    if (rc == 0) rn_ref_freeze_bn(ref, o->bn_frozen);
    rc = rc ? rc : rn_exec_create(g, o->N, o->H, o->W, &eo, &ex, &err);
    CHECK(rc == 0, "%s: oneDNN executor: %s", name, err.msg);
    if (rc) {
        rn_ref_destroy(ref);
        return;
    }
    rn_rng rng;
    rn_rng_seed(&rng, o->seed);
    int in = g->input, out = g->output;
    size_t n_in = rn_ref_tensor_numel(ref, in), n_out = rn_ref_tensor_numel(ref, out);
    float *xf = rn_malloc(n_in * sizeof(float));
    double *xd = rn_malloc(n_in * sizeof(double));
    for (size_t i = 0; i < n_in; i++) xd[i] = xf[i] = (float)rn_rng_normal(&rng);
    float *yf = rn_malloc(n_out * sizeof(float)), *Rf = rn_malloc(n_out * sizeof(float));
    double *R = rn_malloc(n_out * sizeof(double));
    for (size_t i = 0; i < n_out; i++) R[i] = Rf[i] = (float)rn_rng_normal(&rng);

    // Forward: oneDNN vs reference.
    rn_ref_set_input(ref, xd);
    rn_ref_forward(ref);
    CHECK(rn_exec_set_input(ex, xf, &err) == 0, "rn_exec_set_input: %s", err.msg);
    CHECK(rn_exec_forward(ex, &err) == 0, "rn_exec_forward: %s", err.msg);
    CHECK(rn_exec_get_output(ex, yf, &err) == 0, "rn_exec_get_output: %s", err.msg);
    char what[256];
    snprintf(what, sizeof what, "%s forward", name);
    double d = max_rel_diff_fd(yf, rn_ref_value(ref, out), n_out);
    CHECK(d < o->tol, "%s: oneDNN vs reference rel diff %.3g", what, d);
    for (int t = 0; t < g->n_tensors; t++) {
        const rn_tensor *tt = &g->tensors[t];
        if (tt->role != RN_STATE) continue;
        d = max_rel_diff_fd(tt->data, rn_ref_value(ref, t), rn_tensor_numel(tt));
        CHECK(d < o->tol, "%s: running statistic %s: rel diff %.3g", name, tt->name, d);
    }
    if (o->training) {
        CHECK(rn_exec_backward(ex, Rf, &err) == 0, "rn_exec_backward: %s", err.msg);
        rn_ref_backward(ref, R);
        float *gx = rn_malloc(n_in * sizeof(float));
        CHECK(rn_exec_read_grad(ex, in, gx, &err) == 0, "rn_exec_read_grad: %s", err.msg);
        d = max_rel_diff_fd(gx, rn_ref_grad(ref, in), n_in);
        CHECK(d < o->tol, "%s: d(input): oneDNN vs reference rel diff %.3g", name, d);
        free(gx);
        // A gradient that is zero in exact arithmetic (a conv bias right before a training-mode BN)
        // is float noise on both sides: such tensors are compared against 1e-3 of the largest
        // gradient entry in the whole graph instead of against their own (zero) scale.
        double gfloor = 0;
        for (int t = 0; t < g->n_tensors; t++) {
            if (g->tensors[t].role != RN_PARAM || !g->tensors[t].trainable) continue;
            const double *gr = rn_ref_grad(ref, t);
            for (size_t i = 0; i < rn_ref_tensor_numel(ref, t); i++) gfloor = fabs(gr[i]) > gfloor ? fabs(gr[i]) : gfloor;
        }
        gfloor *= 1e-3;
        for (int t = 0; t < g->n_tensors; t++) {
            const rn_tensor *tt = &g->tensors[t];
            if (tt->role != RN_PARAM || !tt->trainable) continue;
            d = max_rel_diff_floor(tt->grad, rn_ref_grad(ref, t), rn_tensor_numel(tt), gfloor);
            CHECK(d < o->tol, "%s: d(%s): oneDNN vs reference rel diff %.3g", name, tt->name, d);
        }
        if (o->fd_samples > 0) {
            // Finite differences perturb the reference's own copies (double), never the graph.
            size_t ng = 0;
            for (int t = 0; t < g->n_tensors; t++) ng = rn_ref_tensor_numel(ref, t) > ng ? rn_ref_tensor_numel(ref, t) : ng;
            double *an = rn_malloc(ng * sizeof(double));
            int fd_tensors[64], nfd = 0;
            fd_tensors[nfd++] = in;
            for (int t = 0; t < g->n_tensors && nfd < 64; t++)
                if (g->tensors[t].role == RN_PARAM && g->tensors[t].trainable) fd_tensors[nfd++] = t;
            for (int j = 0; j < nfd; j++) {
                int t = fd_tensors[j];
                size_t n = rn_ref_tensor_numel(ref, t);
                memcpy(an, rn_ref_grad(ref, t), n * sizeof(double));
                snprintf(what, sizeof what, "%s d(%s)", name, g->tensors[t].name);
                gc_fd(ref, rn_ref_value(ref, t), an, n, R, n_out, out, o->fd_samples, &rng, gfloor, what);
            }
            free(an);
        }
    }
    free(xf), free(xd), free(yf), free(Rf), free(R);
    rn_exec_destroy(ex);
    rn_ref_destroy(ref);
}

#endif
