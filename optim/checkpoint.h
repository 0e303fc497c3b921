// checkpoint.h — our own versioned checkpoint format: the network (op list and every parameter and
// BN running statistic), SGD momentum buffers and the trainer's state, checked by a CRC.
//
// The byte layout, its sections and its version history are in docs/TRAINING.md ("Checkpoint
// format"). Version 2 (written) names op types, tensor roles and init kinds as strings; version 1
// (still read) stored them as enum indices, mapped through a frozen table (optim/ckpt_graph.c).
// The code is in three parts: optim/ckpt_bytes.c (bounded little-endian codec),
// optim/ckpt_graph.c (GRPH section) and optim/checkpoint.c (files, sections, loading).
//
// Saving is atomic: a temporary file in the same folder is written, fsync'ed and renamed over the
// target, and the folder is fsync'ed, so a crash at any moment leaves the previous file intact.
// Reading trusts nothing before the magic, version, size and CRC checks; then every section, count,
// length, string and enum value is checked, and every declared size is bounded by the bytes the
// file holds before anything of that size is allocated. Errors name the file and the section,
// tensor or node.
#ifndef RN_OPTIM_CHECKPOINT_H
#define RN_OPTIM_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "layers/graph.h"

#define RN_CKPT_VERSION 3  // the newest written; versions 1 to 3 are read

// TENS entry kinds: values of the file format itself (written as these bytes), not of any enum.
// Kinds 2 and 3 came with version 3 (AdamW, EMA); a file without them is still written as version
// 2, so that builds before them read it.
enum { RN_CKPT_VALUE = 0, RN_CKPT_MOMENTUM = 1, RN_CKPT_MOMENT2 = 2, RN_CKPT_EMA = 3 };

// Writes every PARAM and STATE tensor of g; and, when momentum is not NULL (arena offsets, as
// rn_sgd's), the momentum buffer of every trainable parameter. meta: "key=value\n" lines or NULL.
int rn_checkpoint_save(const char *path, const rn_graph *g, const float *momentum, const char *meta,
                       rn_err *err);

// The optimiser's and the EMA's buffers (arena offsets of g; each may be NULL): momentum (SGD's v,
// AdamW's first moment) and moment2 (AdamW's second moment) for every trainable parameter, ema for
// every PARAM and STATE tensor (optim/ema.h).
typedef struct rn_ckpt_bufs {
    const float *momentum, *moment2, *ema;
} rn_ckpt_bufs;
int rn_checkpoint_save_bufs(const char *path, const rn_graph *g, const rn_ckpt_bufs *b, const char *meta, rn_err *err);

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
    rn_ckpt_entry *entries;       // (n_entries) sorted by name, then kind
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
// The same for any kind: RN_CKPT_MOMENT2 (trainable parameters) or RN_CKPT_EMA (PARAM and STATE).
int rn_ckpt_load_kind(const rn_ckpt *c, const rn_graph *g, int kind, float *base, rn_err *err);

// The model alone, from a checkpoint file (resnet-export, resnet-predict, fine-tuning).
int rn_checkpoint_load_model(const char *path, rn_graph **out, rn_err *err);

// Removes from folder dir the temporaries "NAME.ckpt.tmp.PID" that a save killed midway left behind
// (a ResNet-50 one is ~200 MB): only regular files with exactly that name pattern whose process is
// gone (kill(PID, 0) fails with ESRCH). A live PID's file (another run saving into the same folder,
// or this process) is kept. *removed, *bytes: what was removed. A missing folder is no error.
int rn_checkpoint_remove_stale(const char *dir, int *removed, uint64_t *bytes, rn_err *err);

#endif
