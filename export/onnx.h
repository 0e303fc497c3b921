// onnx.h — ONNX export (opset 7, in the shape of the ONNX model zoo's ResNet files) and import of
// opset-7-and-later ResNet graphs: our own exports, the zoo's resnet*-v1-7 / resnet*-v2-7 files,
// and torch.onnx.export of torchvision ResNets (BatchNorm folded, preserved, or in training form).
// docs/ONNX.md describes the format, the names and what import accepts.
//
// Ownership: import allocates a finalised graph (*out) that the caller frees with
// rn_graph_destroy; export only reads the graph. Buffers from rn_onnx_export_buffer are the
// caller's to free().
#ifndef RN_EXPORT_ONNX_H
#define RN_EXPORT_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "layers/graph.h"
#include "src/model_meta.h"

#define RN_ONNX_PRODUCER "resnet.c"
#define RN_ONNX_PRODUCER_VERSION "0.1"
#define RN_ONNX_IR_VERSION 3      // what we write (the zoo's files are IR 3)
#define RN_ONNX_OPSET 7           // what we write
#define RN_ONNX_OPSET_MAX 21      // the newest default-domain opset import accepts
#define RN_ONNX_MAX_BYTES ((size_t)2 << 30)  // protobuf's 2 GiB message limit

// Writes g as an ONNX model: ir_version 3, opset 7, graph input "data" (N, C, H, W) with N a
// dim_param and H, W the graph's nominal input size, every parameter and running statistic an
// initializer that is also listed as a graph input, one output (the raw class scores, no softmax).
// The file appears atomically: a temporary file in the same folder, fsync, rename.
int rn_onnx_export(const rn_graph *g, const char *path, rn_err *err);

// The same bytes in memory (*buf malloc'ed, *len bytes).
int rn_onnx_export_buffer(const rn_graph *g, uint8_t **buf, size_t *len, rn_err *err);

// The same with `meta` (may be NULL) as the ModelProto's metadata_props, in its order
// (src/model_meta.h: the model's preprocessing and class names).
int rn_onnx_export_kv(const rn_graph *g, const rn_kv *meta, const char *path, rn_err *err);
int rn_onnx_export_buffer_kv(const rn_graph *g, const rn_kv *meta, uint8_t **buf, size_t *len, rn_err *err);

// Reads an ONNX file into a new finalised graph with every weight loaded. Anything that cannot be
// mapped onto the graph's ops is refused with a message naming the node (or tensor) and why; a
// truncated, oversized or garbage file is an error, never a crash.
int rn_onnx_import(const char *path, rn_graph **out, rn_err *err);

// The same from memory; `what` names the source in messages (a file name).
int rn_onnx_import_buffer(const uint8_t *buf, size_t len, const char *what, rn_graph **out, rn_err *err);

// The same, also handing out the ModelProto's metadata_props in file order into *meta (emptied
// first; the caller frees it with rn_kv_free) when meta is not NULL. At most RN_ONNX_MAX_META
// entries; an entry without a key is an error.
#define RN_ONNX_MAX_META 4096
int rn_onnx_import_kv(const char *path, rn_graph **out, rn_kv *meta, rn_err *err);
int rn_onnx_import_buffer_kv(const uint8_t *buf, size_t len, const char *what, rn_graph **out, rn_kv *meta,
                             rn_err *err);

// 1 if the first bytes look like a serialised ONNX ModelProto (a known field with its wire type),
// 0 otherwise. A cheap content sniff for dispatching between model file formats.
int rn_onnx_sniff(const uint8_t *buf, size_t len);

#endif
