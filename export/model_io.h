// model_io.h — one entry point for "a model file": an ONNX file or a training checkpoint, told apart
// by content. (Fine-tuning on another class count: optim/finetune.h.)
//
// Ownership: rn_model_load allocates the graph; the caller frees it with rn_graph_destroy.
#ifndef RN_EXPORT_MODEL_IO_H
#define RN_EXPORT_MODEL_IO_H

#include <stdint.h>

#include "layers/graph.h"
#include "src/model_meta.h"

// Loads a model with its weights: ONNX (rn_onnx_import) when the bytes look like an ONNX
// ModelProto, a training checkpoint (rn_checkpoint_load_model, optim/checkpoint.h) when it starts
// with the checkpoint magic; anything else is an error.
int rn_model_load(const char *path, rn_graph **out, rn_err *err);

// The same, and what the file says about its preprocessing and class names (a checkpoint's META
// lines, an ONNX file's metadata_props; src/model_meta.h) into *meta, which the caller frees with
// rn_model_meta_free. Malformed metadata is an error naming the file and key; a class list whose
// length is not the model's class count is one too. Nothing is allocated on error.
int rn_model_load_meta(const char *path, rn_graph **out, rn_model_meta *meta, rn_err *err);

// Which of a checkpoint's weights to load: its weights, or the moving average of them that training
// kept with `[train] ema_decay` (optim/ema.h; torchvision's model_ema, timm's --use-ema). The EMA
// covers BN's running statistics too. An ONNX file, or a checkpoint of a run without an EMA, has no
// EMA: asking for one is an error naming the file.
typedef enum { RN_WEIGHTS_TRAINED = 0, RN_WEIGHTS_EMA = 1 } rn_weights;

// rn_model_load_meta with a choice of weights (meta may be NULL).
int rn_model_load_weights(const char *path, rn_weights which, rn_graph **out, rn_model_meta *meta, rn_err *err);

// Number of classes of the graph's classifier (the Gemm producing the output), or -1.
int rn_model_num_classes(const rn_graph *g);

#endif
