// finetune.h — starting a training run from another network's weights, and freezing parts of it.
//
// rn_finetune_init decides how the weights of `src` (a checkpoint's or an imported ONNX network)
// meet the network built from the config, `*g`:
//   1. every parameter and statistic of *g is found by name in src (our tensor names): each is
//      copied, shapes checked; the classifier (the Gemm producing the output) keeps its fresh
//      initialisation when its shape differs (another number of classes), and nothing else may
//      differ;
//   2. no name matches (a zoo or PyTorch export with its own names): src itself becomes the model,
//      copied, with its classifier replaced by a freshly initialised one of num_classes outputs
//      when the class count differs; the config's other [model] keys are then ignored;
//   3. some names match and some do not: an error naming the first missing tensor, as the config's
//      [model] does not describe the file's network.
#ifndef RN_OPTIM_FINETUNE_H
#define RN_OPTIM_FINETUNE_H

#include <stdint.h>
#include <stdio.h>

#include "layers/graph.h"

// *g is replaced (the old graph destroyed) in case 2. `what` names src in messages; notes go to log.
int rn_finetune_init(rn_graph **g, const rn_graph *src, const char *what, int num_classes, uint64_t seed,
                     FILE *log, rn_err *err);

// The Gemm op producing the graph output, or -1.
int rn_classifier_op(const rn_graph *g);

// A copy of g whose classifier has num_classes outputs: every other tensor copied, the classifier
// too when its class count is unchanged, else initialised from seed. Ownership: the caller destroys *out.
int rn_graph_with_classes(const rn_graph *g, int num_classes, uint64_t seed, rn_graph **out, rn_err *err);

// Marks the stem (tensors named stem_*) and the parameters of stages 1..stages (stage<k>_*) as not
// trainable; an error when a requested part has no such tensors (a graph with foreign names).
int rn_freeze(rn_graph *g, int stem, int stages, rn_err *err);

#endif
