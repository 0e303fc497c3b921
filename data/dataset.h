// dataset.h — image datasets on disk: class folders or list files, class names, and the per-rank
// view of an epoch (shuffle + sharding).
//
// Folder convention (torchvision ImageFolder): DIR/<class>/.../*.jpg|*.jpeg|*.png (any case). The class
// index is the position of <class> in the byte-wise sorted list of DIR's subfolders; files inside a
// class folder are found recursively and sorted by relative path, so sample i is the same file on
// every machine. Folders whose name starts with '.' are ignored.
//
// List file: one `relative/path label` per line (label a non-negative integer, separated from the
// path by the last run of blanks, so paths may hold spaces); blank lines and lines starting with
// '#' are skipped. Paths are relative to the root given to rn_dataset_open_list.
#ifndef RN_DATA_DATASET_H
#define RN_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/opts.h"
#include "src/common.h"

// A list of samples. Created by rn_dataset_open_folder / rn_dataset_open_list, freed by
// rn_dataset_destroy; everything it points to is owned by it and read-only after creation, so
// any number of threads may read it at once.
typedef struct rn_dataset {
    char *root;            // prefix of every relative path (no trailing '/')
    size_t n;              // number of samples
    char *paths;           // arena of NUL-terminated relative paths
    size_t *path_off;      // (n) offset of sample i's path in `paths`
    int32_t *labels;       // (n) class index of sample i
    int n_classes;
    int from_list;         // 1 when read from a list file
    char **class_names;    // (n_classes) display names: folder names, or the class-names file
    char **class_dirs;     // (n_classes) class folder names; NULL for a list file's classes
    double scan_seconds;   // wall time the scan took
    size_t skipped_dirs;   // folder scan: folders not entered (symlink to one already scanned,
                           // or too deep); each is named in a warning on stderr (the first 10)
    int empty_classes;     // folder scan: class folders without images (kept as classes, warned)
} rn_dataset;

// Scans DIR. If `classes_like` is given (e.g. the training set when opening the validation set),
// its class list is used: every subfolder of DIR must name one of its classes (an error otherwise),
// and a class may be missing from DIR. Fails when DIR holds no image at all. Each folder is
// entered at most once (symlink cycles are cut; see dataset.c); folders skipped that way and
// class folders without images are warnings on stderr (and counted in the dataset).
int rn_dataset_open_folder(rn_dataset **out, const char *dir, const rn_dataset *classes_like,
                           rn_err *err);

// Reads a list file. `root` is the folder the paths are relative to (NULL: the list file's own
// folder). n_classes is max(label) + 1, or classes_like's count (then labels must be below it).
int rn_dataset_open_list(rn_dataset **out, const char *list_file, const char *root,
                         const rn_dataset *classes_like, rn_err *err);

// Opens the splits named by the options: the list file if set (its paths relative to train_dir /
// val_dir when set, else to the list's folder), else the class folder; the validation set with
// the training set's classes; the class-names file applied to both. Pass NULL for a split that is
// not wanted; a split with neither list nor folder configured gives NULL without error. One line
// per opened split goes to `log` (if not NULL). On error nothing stays open.
int rn_data_open(const rn_data_opts *o, rn_dataset **train, rn_dataset **val, FILE *log,
                 rn_err *err);

// Replaces the display names by the lines of `file` (one name per line; trailing blank lines are
// ignored, other blank lines are an error). Classes that come from folders need exactly n_classes
// names; a list file's classes need at least max(label) + 1 and take their count from the file.
int rn_dataset_load_class_names(rn_dataset *ds, const char *file, rn_err *err);

void rn_dataset_destroy(rn_dataset *ds);

static inline const char *rn_dataset_relpath(const rn_dataset *ds, size_t i) {
    return ds->paths + ds->path_off[i];
}
// Writes root/relpath of sample i into buf; -1 if it does not fit.
int rn_dataset_path(const rn_dataset *ds, size_t i, char *buf, size_t cap);

// One line, e.g. "train: 1281167 images in 1000 classes from /data/train (scan 1.9 s)".
void rn_dataset_describe(const rn_dataset *ds, const char *split, FILE *f);

// The part of a dataset one rank sees in an epoch (torch DistributedSampler semantics): the
// epoch's order is a permutation of all n samples (from (seed, epoch) when shuffling, identity
// otherwise), padded by wrapping around to world * per_rank entries; rank r takes entries
// r, r + world, r + 2 world, ... So every rank gets per_rank = ceil(n / world) samples and each
// sample appears once per epoch across ranks, plus at most world - 1 repeats for the padding.
typedef struct rn_dataset_view {
    const rn_dataset *ds;  // borrowed; must outlive the view
    int rank, world;
    size_t per_rank;
    size_t block;          // 0: sample r + k world as above; B: whole batches (rn_view_init_batches)
    int repeats;           // repeated augmentation (RA sampler), [data] repeated_aug; 1 (the init's) = off.
                           // K > 1: the order is the permutation with each entry K times in a row,
                           // dealt round-robin, rank r taking entries r, r + world, ... (torchvision's
                           // RASampler, whatever the block), so the K copies of an image land on K
                           // different ranks when K <= world; per_rank is unchanged, so an epoch
                           // still has about n samples: the first ~n / K images of the permutation.
} rn_dataset_view;

int rn_view_init(rn_dataset_view *v, const rn_dataset *ds, int rank, int world, rn_err *err);

// Training on several ranks (src/dist.h): the epoch order cut into batches of B consecutive
// positions, rank r takes batches r, r + world, r + 2 world, ... Only whole rounds of world
// batches are used (per_rank = floor(n / (B world)) B), so every rank has the same number of full
// batches and 1 rank with accumulation over world batches sees exactly the same batches per step.
int rn_view_init_batches(rn_dataset_view *v, const rn_dataset *ds, int rank, int world, int batch, rn_err *err);

// Evaluation on several ranks: positions r, r + world, ... < n, no padding, so the shards are
// disjoint and their counts add up to those of one process.
int rn_view_init_shard(rn_dataset_view *v, const rn_dataset *ds, int rank, int world, rn_err *err);

// Fills out[0 .. v->per_rank) with the dataset indices this rank visits in `epoch`, in order.
void rn_view_epoch(const rn_dataset_view *v, uint64_t seed, int64_t epoch, int shuffle,
                   size_t *out);

// The epoch permutation itself: perm[0 .. n) from (seed, epoch), Fisher-Yates over rn_rng.
void rn_epoch_permutation(size_t n, uint64_t seed, int64_t epoch, size_t *perm);

#endif
