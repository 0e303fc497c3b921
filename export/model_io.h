// model_io.h — one entry point for "a model file": an ONNX file or a training checkpoint, told apart
// by content. (Fine-tuning on another class count: optim/finetune.h.)
//
// Ownership: rn_model_load allocates the graph; the caller frees it with rn_graph_destroy.
#ifndef RN_EXPORT_MODEL_IO_H
#define RN_EXPORT_MODEL_IO_H

#include <stdint.h>

#include "src/graph.h"

// Loads a model with its weights: ONNX (rn_onnx_import) when the bytes look like an ONNX
// ModelProto, a training checkpoint (rn_checkpoint_load_model, optim/checkpoint.h) when it starts
// with the checkpoint magic; anything else is an error.
int rn_model_load(const char *path, rn_graph **out, rn_err *err);

// Number of classes of the graph's classifier (the Gemm producing the output), or -1.
int rn_model_num_classes(const rn_graph *g);

#endif
