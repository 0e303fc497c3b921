// resnet.h — ResNet v1 (post-activation) and v2 (pre-activation) as op lists, from the [model]
// section of a config. The defaults reproduce the ONNX model zoo's ResNets (MXNet Gluon model zoo)
// op for op, so zoo weights load 1:1 and exports look like theirs.
#ifndef RN_RESNET_H
#define RN_RESNET_H

#include "src/config_table.h"
#include "layers/graph.h"

typedef struct rn_model_opts {
    int depth;             // 18, 34, 50, 101, 152; or 0 with explicit blocks + bottleneck
    int blocks[8];
    int n_stages;
    int bottleneck;
    int version;           // 1 or 2
    int num_classes;
    int width;             // channels of the first stage (64)
    int stem_small;        // 3x3 stride-1 conv, no max-pool (32-64 px inputs)
    int input_size;        // nominal H = W, for shapes and FLOPs
    int stride_in_3x3;     // v1 bottleneck: stride on the 3x3, 1x1 convs without bias ("v1.5", torchvision)
    int zero_init_residual;// last BN gamma of each v1 block (last conv of each v2 block) starts at 0
} rn_model_opts;

rn_model_opts rn_model_opts_default(void);
// The [model] keys (src/config_table.h).
extern const rn_section rn_model_section;
// One [model] key; -1 with a message on an unknown key or a bad value.
int rn_model_opts_set(void *opts, const char *key, const char *value, rn_err *err);
// Resolves depth into blocks/bottleneck and checks the combination.
int rn_model_opts_resolve(rn_model_opts *o, rn_err *err);

// Builds and finalises the graph; parameters get their init kinds but are left zero: call
// rn_graph_init_params (or load weights).
int rn_resnet_build(const rn_model_opts *o, rn_graph **out, rn_err *err);

#endif
