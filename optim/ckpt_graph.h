// ckpt_graph.h — the checkpoint's graph codec: the GRPH section (declared tensors, op list,
// output) from a graph and back. Internal to optim/; the byte layout is in docs/TRAINING.md.
#ifndef RN_OPTIM_CKPT_GRAPH_H
#define RN_OPTIM_CKPT_GRAPH_H

#include <stdint.h>

#include "optim/ckpt_bytes.h"
#include "layers/graph.h"

// Bounds of one graph, well above any ResNet (ResNet-152: ~780 declared tensors, ~520 ops), so
// that the reader's name lookups stay fast on any file; the writer refuses larger graphs.
#define RN_CKPT_MAX_TENSORS 16384
#define RN_CKPT_MAX_OPS 16384

// Why g cannot be written (a name too long, too many tensors or ops), or NULL.
const char *rn_ckpt_graph_unwritable(const rn_graph *g);
// Appends the GRPH payload of g in the current format version (2).
void rn_ckpt_graph_encode(rn_bw *b, const rn_graph *g);

// Rebuilds the op list from a GRPH payload of format `version` (1 or 2): every count, enum value,
// string, shape, name reference and attribute is checked. The graph is NOT finalized (no shapes
// inferred, no arena): the caller first bounds the declared sizes by the tensor data the file
// holds, then calls rn_graph_finalize. Messages start with "GRPH: " and name the tensor or node.
int rn_ckpt_graph_decode(const unsigned char *p, size_t n, uint32_t version, rn_graph **out, rn_err *err);

#endif
