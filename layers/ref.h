// ref.h — the reference executor: runs a graph with every op's plain-C twin (naive NCHW loops in
// double precision). The tests compare the oneDNN executor against it, and it against finite
// differences. It is slow on purpose: clarity over speed.
//
// Ownership: rn_ref_create copies the graph's parameters (float -> double) into buffers it owns;
// rn_ref_destroy frees them. The graph is only read.
#ifndef RN_REF_H
#define RN_REF_H

#include "layers/graph.h"

typedef struct rn_ref rn_ref;

int rn_ref_create(const rn_graph *g, int64_t batch, int64_t height, int64_t width, int training, rn_ref **out,
                  rn_err *err);
void rn_ref_destroy(rn_ref *r);

void rn_ref_freeze_bn(rn_ref *r, int frozen);  // as rn_exec_opts.bn_frozen
void rn_ref_load_params(rn_ref *r);  // graph arena -> double copies (running statistics included)
void rn_ref_set_input(rn_ref *r, const double *nchw);
void rn_ref_forward(rn_ref *r);
// Zeroes every gradient, then back-propagates d(loss)/d(output).
void rn_ref_backward(rn_ref *r, const double *dout);

double *rn_ref_value(rn_ref *r, int tensor);  // activation, parameter or running statistic
double *rn_ref_grad(rn_ref *r, int tensor);
size_t rn_ref_tensor_numel(const rn_ref *r, int tensor);

#endif
