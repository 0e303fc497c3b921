// checkpoint.h — our own versioned checkpoint format: the network (op list and every parameter and
// BN running statistic), SGD momentum buffers and the trainer's state, checked by a CRC.
//
// Layout, version 1, all integers and floats little-endian:
//   header   magic "\x89RNCKPT\n" (8 bytes), u32 version = 1, u32 flags = 0, u64 file size
//   sections tag (4 bytes) + u64 payload length + payload, in this order:
//     "META"  text, one "key=value" per line: model options ("model.*") and the trainer's state
//     "GRPH"  the op list: u32 count of declared tensors (graph input, parameters, statistics), each
//             str name, u8 role, u8 trainable, u8 init, u8 ndim, i64 dims[ndim]; u32 op count, each
//             u8 type, str name, u8 n_in, str input names[n_in], str output name, attributes (Conv
//             9 x i32, BatchNormalization 2 x f32, MaxPool 8 x i32, Gemm 2 x f32 + 2 x i32, else
//             none); str name of the graph output
//     "TENS"  u32 count, each str name, u8 kind (0 value, 1 momentum), u8 ndim, i64 dims[ndim],
//             f32 data[product of dims]
//   trailer  u32 zlib crc32 of every byte before it
// (str = u16 length + bytes.) The op list makes a checkpoint self-contained: any graph, including
// one imported from ONNX with foreign tensor names, is rebuilt without the config that made it.
//
// Saving is atomic: a temporary file in the same folder is written, fsync'ed and renamed over the
// target, and the folder is fsync'ed, so a crash at any moment leaves the previous file intact.
// Reading checks magic, version, size and CRC before parsing, and every length while parsing.
#ifndef RN_OPTIM_CHECKPOINT_H
#define RN_OPTIM_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "src/graph.h"

#define RN_CKPT_VERSION 1

enum { RN_CKPT_VALUE = 0, RN_CKPT_MOMENTUM = 1 };

// Writes every PARAM and STATE tensor of g; and, when momentum is not NULL (arena offsets, as
// rn_sgd's), the momentum buffer of every trainable parameter. meta: "key=value\n" lines or NULL.
int rn_checkpoint_save(const char *path, const rn_graph *g, const float *momentum, const char *meta,
                       rn_err *err);

// A checkpoint read into memory. Created by rn_ckpt_read, freed by rn_ckpt_free (which frees the
// entries, names and meta strings it hands out).
typedef struct rn_ckpt_entry {
    char *name;
    int kind;                   // RN_CKPT_VALUE or RN_CKPT_MOMENTUM
    int ndim;
    int64_t dims[RN_MAX_DIMS];
    size_t numel;
    const unsigned char *data;  // numel little-endian floats inside the file buffer (unaligned)
} rn_ckpt_entry;

typedef struct rn_ckpt {
    char *path;
    unsigned char *buf;  // the whole file
    size_t size;
    uint32_t version;
    int n_meta;
    char **meta_key, **meta_val;  // (n_meta)
    const unsigned char *graph;   // GRPH payload inside buf
    size_t graph_len;
    int n_entries;
    rn_ckpt_entry *entries;       // (n_entries)
} rn_ckpt;

int rn_ckpt_read(const char *path, rn_ckpt **out, rn_err *err);
void rn_ckpt_free(rn_ckpt *c);

const char *rn_ckpt_meta(const rn_ckpt *c, const char *key);  // NULL when absent
const rn_ckpt_entry *rn_ckpt_find(const rn_ckpt *c, const char *name, int kind);
void rn_ckpt_entry_read(const rn_ckpt_entry *e, float *dst);  // numel floats

// Rebuilds the op list stored in the checkpoint and fills every parameter and statistic from it.
int rn_ckpt_build_graph(const rn_ckpt *c, rn_graph **out, rn_err *err);
// Fills the momentum buffer (arena offsets of g) of every trainable parameter of g; a missing
// entry or a shape that differs is an error.
int rn_ckpt_load_momentum(const rn_ckpt *c, const rn_graph *g, float *momentum, rn_err *err);

// The model alone, from a checkpoint file (resnet-export, resnet-predict, fine-tuning).
int rn_checkpoint_load_model(const char *path, rn_graph **out, rn_err *err);

#endif
