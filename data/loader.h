// loader.h — worker threads that decode and augment batches while the network trains.
//
// Mixup / cutmix (training, data/mix.h) is applied by the worker that finishes a batch, from
// (seed, e, global batch index b world + rank), so it is as deterministic as the samples.
//
// Determinism: batch b of epoch e holds the samples of positions [b B, (b+1) B) of the rank's
// epoch order (rn_view_epoch), each augmented with the stream rn_rng_seed3(seed, e, index) (with
// repeated augmentation, view.repeats > 1: from the sample's global position instead). Which
// worker does what is irrelevant: results are bit-identical for any number of workers.
//
// Corrupt files (unreadable, not a JPEG or PNG, truncated, undecodable, larger than max_file_mb, or too
// large for the memory left) never stop training: the sample is replaced by another one drawn
// from (seed, e, index, attempt) — deterministic too — the file is counted once, and the first
// few are named on stderr. Known-bad files are not read again.
#ifndef RN_DATA_LOADER_H
#define RN_DATA_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "data/opts.h"
#include "src/common.h"
#include "src/mem.h"

// A batch, owned by the loader: valid from rn_loader_next until rn_loader_release.
typedef struct rn_batch {
    float *data;       // (n * views, 3, h, w) normalised RGB, float32, 64-byte aligned
    int32_t *labels;   // (n) class indices
    size_t *index;     // (n) dataset index of each sample (after corrupt-file replacement)
    int n;             // samples; < batch size only for the kept last batch of an evaluation
    int views;         // crops per sample, consecutive in data: 1, or 10 for an evaluation with
                       // ten-crop test-time augmentation (rn_data_opts.tta)
    int c, h, w;       // 3, size, size
    int64_t number;    // position of the batch in its epoch
    int64_t epoch;
    // Training with [augment] mixup / cutmix (data/mix.h), else targets NULL and dominant == labels:
    float *targets;    // (n, n_classes) soft targets, before label smoothing
    int32_t *dominant; // (n) the label of larger weight, for the training top-1
    double lam;        // weight of labels[i] in row i (1: the batch was left unmixed)
} rn_batch;

typedef struct rn_loader_stats {
    int64_t samples;        // samples produced since creation
    int64_t replaced;       // samples replaced because their file was corrupt
    int64_t epoch_replaced; // of those, in the current (or just finished) epoch: one per sample
                            // position whose own file was skipped; every epoch over the same
                            // positions counts the same bad files again
    int64_t corrupt_files;  // distinct corrupt files seen
    double decode_seconds;  // summed over workers: read + decode + augment
} rn_loader_stats;

typedef struct rn_loader rn_loader;

// Starts the workers. train = 1: shuffled (if o->shuffle) random augmentation per [augment] and
// o->drop_last; train = 0: dataset order, evaluation transform, last partial batch kept.
// The view (and its dataset) must outlive the loader; opts are copied.
int rn_loader_create(const rn_dataset_view *v, const rn_data_opts *o, int train, rn_loader **out,
                     rn_err *err);

// Begins an epoch; batches of an unfinished previous epoch are discarded. All batches must have
// been released first.
void rn_loader_start_epoch(rn_loader *l, int64_t epoch);

// Begins an epoch at batch `first` (resuming mid-epoch): batches first, first + 1, ... are exactly
// those rn_loader_start_epoch would deliver at those positions; earlier ones are never decoded.
void rn_loader_start_epoch_at(rn_loader *l, int64_t epoch, int64_t first);

// Batches per epoch on this rank.
int64_t rn_loader_num_batches(const rn_loader *l);

// Waits for the next batch of the epoch: 1 and *b set; 0 at the end of the epoch; -1 with a
// message if no sample at all could be decoded (every replacement attempt failed).
int rn_loader_next(rn_loader *l, rn_batch **b, rn_err *err);

// Hands a batch back so its buffer can be refilled. Up to prefetch - 1 batches may be held.
void rn_loader_release(rn_loader *l, rn_batch *b);

void rn_loader_stats_get(rn_loader *l, rn_loader_stats *s);

// Stops the workers and frees everything. Batches still held become invalid.
void rn_loader_destroy(rn_loader *l);

// Adds the memory a loader over n_samples will take to a plan (item `what`, a literal): follows = 1,
// per batch of the plan; 0, fixed at o->batch_size. Computed without allocating anything.
void rn_loader_mem_plan(const rn_data_opts *o, size_t n_samples, int follows, const char *what, rn_mem_plan *p);

#endif
