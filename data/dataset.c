// dataset.c — class-folder datasets (the walk itself is in scan.c), list files, class names,
// epoch permutation, sharding.
#define _GNU_SOURCE  // getline
#include "data/dataset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "data/scan.h"
#include "src/rng.h"

static rn_dataset *dataset_new(const char *root) {
    rn_dataset *ds = rn_calloc(1, sizeof *ds);
    size_t l = strlen(root);
    while (l > 1 && root[l - 1] == '/') l--;
    ds->root = rn_malloc(l + 1);
    memcpy(ds->root, root, l);
    ds->root[l] = 0;
    return ds;
}

static char **copy_names(char *const *names, int n) {
    if (!names) return NULL;
    char **p = rn_calloc((size_t)(n ? n : 1), sizeof(char *));
    for (int c = 0; c < n; c++) p[c] = rn_strdup(names[c]);
    return p;
}

static void free_names(char **names, int n) {
    for (int c = 0; names && c < n; c++) free(names[c]);
    free(names);
}

void rn_dataset_destroy(rn_dataset *ds) {
    if (!ds) return;
    free_names(ds->class_names, ds->n_classes);
    free_names(ds->class_dirs, ds->n_classes);
    free(ds->root);
    free(ds->paths);
    free(ds->path_off);
    free(ds->labels);
    free(ds);
}

// Takes the class list of `like` (display names and folder names).
static void copy_classes(rn_dataset *ds, const rn_dataset *like) {
    ds->n_classes = like->n_classes;
    ds->class_names = copy_names(like->class_names, like->n_classes);
    ds->class_dirs = copy_names(like->class_dirs, like->n_classes);
}

#define RN_WARN_NAMED 10  // folders named in scan warnings; the rest are counted
#define RN_LIST_MAX_CLASSES (1 << 20)  // labels of a list file: 0 .. this - 1

// Warnings on stderr after a scan: folders not scanned, and class folders without images. An
// empty class folder stays a class: class indices are positions in the sorted list of all
// subfolders, as in ImageFolder, so dropping one would renumber every class after it and the
// labels would no longer match a model, a class-names file or a validation split made for the
// same folders.
static void warn_scan(rn_dataset *ds, const rn_class_scan *jobs, int n_jobs, const int32_t *class_of) {
    size_t named = 0;
    for (int j = 0; j < n_jobs; j++) {
        const rn_strvec *sk = &jobs[j].skipped;
        for (size_t i = 0; i < sk->n; i++, named++)
            if (named < RN_WARN_NAMED)
                fprintf(stderr, "warning: %s/%s\n", ds->root, sk->buf + sk->off[i]);
        ds->skipped_dirs += sk->n;
    }
    if (ds->skipped_dirs > RN_WARN_NAMED)
        fprintf(stderr, "warning: %s: %zu folders not scanned in all\n", ds->root,
                ds->skipped_dirs);
    for (int j = 0; j < n_jobs; j++) {
        if (jobs[j].files.n > 0) continue;
        if (ds->empty_classes++ < RN_WARN_NAMED)
            fprintf(stderr,
                    "warning: %s/%s: class folder holds no .jpg/.jpeg/.png file; kept as class %d so "
                    "that the class indices stay those of the sorted folder list\n",
                    ds->root, jobs[j].name, (int)class_of[j]);
    }
    if (ds->empty_classes > RN_WARN_NAMED)
        fprintf(stderr, "warning: %s: %d class folders without images in all\n", ds->root,
                ds->empty_classes);
}

int rn_dataset_open_folder(rn_dataset **out, const char *dir, const rn_dataset *classes_like,
                           rn_err *err) {
    *out = NULL;
    double t0 = rn_now();
    rn_strvec sub = {0};
    if (rn_list_subfolders(dir, &sub, err) != 0) return -1;
    char **names = rn_malloc((sub.n ? sub.n : 1) * sizeof(char *));
    for (size_t i = 0; i < sub.n; i++) names[i] = sub.buf + sub.off[i];
    qsort(names, sub.n, sizeof(char *), rn_cmp_str);

    rn_dataset *ds = dataset_new(dir);
    int32_t *class_of = rn_malloc((sub.n ? sub.n : 1) * sizeof(int32_t));
    if (classes_like) {
        copy_classes(ds, classes_like);
        // Match folder names (a list dataset has none: then its display names).
        char **known = ds->class_dirs ? ds->class_dirs : ds->class_names;
        for (size_t i = 0; i < sub.n; i++) {
            class_of[i] = -1;
            for (int c = 0; c < ds->n_classes; c++)
                if (strcmp(known[c], names[i]) == 0) class_of[i] = c;
            if (class_of[i] < 0) {
                rn_fail(err, "%s/%s: class folder not among the %d classes of %s", ds->root,
                        names[i], classes_like->n_classes, classes_like->root);
                goto fail;
            }
        }
    } else {
        if (sub.n > INT32_MAX) {
            rn_fail(err, "%s: too many class folders", dir);
            goto fail;
        }
        ds->n_classes = (int)sub.n;
        ds->class_names = copy_names(names, (int)sub.n);
        ds->class_dirs = copy_names(names, (int)sub.n);
        for (size_t i = 0; i < sub.n; i++) class_of[i] = (int32_t)i;
    }

    int n_jobs = (int)sub.n;
    rn_class_scan *jobs = rn_calloc(sub.n ? sub.n : 1, sizeof(rn_class_scan));
    for (size_t i = 0; i < sub.n; i++) jobs[i] = (rn_class_scan){.dir = ds->root, .name = names[i]};
    rn_scan_classes(jobs, n_jobs);

    size_t total = 0, bytes = 0;
    int bad = 0;
    for (int j = 0; j < n_jobs; j++) {
        if (jobs[j].failed && !bad) {
            if (err) *err = jobs[j].err;
            bad = 1;
        }
        total += jobs[j].files.n;
        bytes += jobs[j].files.len;
    }
    if (!bad) warn_scan(ds, jobs, n_jobs, class_of);
    if (!bad && total == 0)
        bad = rn_fail(err, "%s: no .jpg/.jpeg/.png files found in %zu class folder(s)", dir, sub.n) != 0;
    if (!bad) {
        ds->n = total;
        ds->paths = rn_malloc(bytes ? bytes : 1);
        ds->path_off = rn_malloc(total * sizeof(size_t));
        ds->labels = rn_malloc(total * sizeof(int32_t));
        size_t k = 0, pos = 0, maxn = 0;
        for (int j = 0; j < n_jobs; j++)
            maxn = jobs[j].files.n > maxn ? jobs[j].files.n : maxn;
        char **ptr = rn_malloc((maxn ? maxn : 1) * sizeof(char *));
        for (int j = 0; j < n_jobs; j++) {
            rn_strvec *f = &jobs[j].files;
            for (size_t i = 0; i < f->n; i++) ptr[i] = f->buf + f->off[i];
            qsort(ptr, f->n, sizeof(char *), rn_cmp_str);
            for (size_t i = 0; i < f->n; i++, k++) {
                size_t l = strlen(ptr[i]) + 1;
                memcpy(ds->paths + pos, ptr[i], l);
                ds->path_off[k] = pos;
                ds->labels[k] = class_of[j];
                pos += l;
            }
        }
        free(ptr);
    }
    for (int j = 0; j < n_jobs; j++) rn_class_scan_free(&jobs[j]);
    free(jobs);
    if (bad) goto fail;
    free(class_of);
    free(names);
    rn_strvec_free(&sub);
    ds->scan_seconds = rn_now() - t0;
    *out = ds;
    return 0;
fail:
    free(class_of);
    free(names);
    rn_strvec_free(&sub);
    rn_dataset_destroy(ds);
    return -1;
}

// ---------------------------------------------------------------------------------------------
// List files and class-name files.

static void chomp(char *s, size_t *len) {
    size_t l = *len;
    while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r')) s[--l] = 0;
    *len = l;
}

int rn_dataset_open_list(rn_dataset **out, const char *list_file, const char *root,
                         const rn_dataset *classes_like, rn_err *err) {
    *out = NULL;
    double t0 = rn_now();
    FILE *f = fopen(list_file, "r");
    if (!f) return rn_fail(err, "%s: cannot open list file: %s", list_file, strerror(errno));
    char dirbuf[4096];
    if (!root) {  // the list file's own folder
        const char *slash = strrchr(list_file, '/');
        size_t l = slash ? (size_t)(slash - list_file) : 0;
        if (l >= sizeof dirbuf) l = sizeof dirbuf - 1;
        if (slash && l == 0) l = 1;  // "/list.txt"
        memcpy(dirbuf, slash ? list_file : ".", slash ? l : 1);
        dirbuf[slash ? l : 1] = 0;
        root = dirbuf;
    }
    rn_dataset *ds = dataset_new(root);
    ds->from_list = 1;
    rn_strvec paths = {0};
    int32_t *labels = NULL;
    size_t lab_cap = 0;
    int32_t max_label = -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0;
    int bad = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        chomp(line, &len);
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t')) line[--len] = 0;
        size_t s = 0;
        while (s < len && (line[s] == ' ' || line[s] == '\t')) s++;
        if (s == len || line[s] == '#') continue;
        char *lab = line + len;
        while (lab > line + s && lab[-1] != ' ' && lab[-1] != '\t') lab--;
        char *pend = lab;
        while (pend > line + s && (pend[-1] == ' ' || pend[-1] == '\t')) pend--;
        if (pend == line + s) {
            bad = rn_fail(err, "%s:%ld: expected 'relative/path label'", list_file, lineno);
            break;
        }
        char *endp;
        errno = 0;
        long v = strtol(lab, &endp, 10);
        if (*endp != 0 || endp == lab || errno || v < 0 || v > INT32_MAX) {
            bad = rn_fail(err, "%s:%ld: label '%s' is not a non-negative integer", list_file,
                          lineno, lab);
            break;
        }
        // Every label up to the largest gets a class (name), so one huge label would allocate
        // that many: bound it far above any real label set (ImageNet-21k has 21,841 classes).
        if (v >= RN_LIST_MAX_CLASSES) {
            bad = rn_fail(err, "%s:%ld: label %ld is too large (at most %d classes)", list_file, lineno, v,
                          RN_LIST_MAX_CLASSES);
            break;
        }
        if (classes_like && v >= classes_like->n_classes) {
            bad = rn_fail(err, "%s:%ld: label %ld out of range (%d classes)", list_file, lineno, v,
                          classes_like->n_classes);
            break;
        }
        rn_strvec_push(&paths, line + s, (size_t)(pend - (line + s)));
        if (paths.n > lab_cap) {
            lab_cap = lab_cap ? lab_cap * 2 : 1024;
            labels = rn_realloc(labels, lab_cap * sizeof(int32_t));
        }
        labels[paths.n - 1] = (int32_t)v;
        if (v > max_label) max_label = (int32_t)v;
    }
    free(line);
    fclose(f);
    if (!bad && paths.n == 0) bad = rn_fail(err, "%s: list file holds no samples", list_file);
    if (bad) {
        rn_strvec_free(&paths);
        free(labels);
        rn_dataset_destroy(ds);
        return -1;
    }
    ds->n = paths.n;
    ds->paths = paths.buf;
    ds->path_off = paths.off;
    ds->labels = labels;
    if (classes_like) {
        copy_classes(ds, classes_like);
    } else {  // names "0", "1", ... until a class-names file says otherwise
        ds->n_classes = max_label + 1;
        ds->class_names = rn_calloc((size_t)ds->n_classes, sizeof(char *));
        for (int c = 0; c < ds->n_classes; c++) {
            char b[16];
            snprintf(b, sizeof b, "%d", c);
            ds->class_names[c] = rn_strdup(b);
        }
    }
    ds->scan_seconds = rn_now() - t0;
    *out = ds;
    return 0;
}

int rn_dataset_load_class_names(rn_dataset *ds, const char *file, rn_err *err) {
    FILE *f = fopen(file, "r");
    if (!f) return rn_fail(err, "%s: cannot open class-names file: %s", file, strerror(errno));
    rn_strvec names = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0, first_blank = 0;
    int bad = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        chomp(line, &len);
        if (len == 0) {
            if (!first_blank) first_blank = lineno;
            continue;
        }
        if (first_blank) {
            bad = rn_fail(err, "%s:%ld: blank line among class names", file, first_blank);
            break;
        }
        rn_strvec_push(&names, line, len);
    }
    free(line);
    fclose(f);
    if (!bad && !ds->class_dirs && names.n < (size_t)ds->n_classes)
        bad = rn_fail(err, "%s: %zu class names, but labels go up to %d", file, names.n,
                      ds->n_classes - 1);
    if (!bad && ds->class_dirs && names.n != (size_t)ds->n_classes)
        bad = rn_fail(err, "%s: %zu class names for %d class folders in %s", file, names.n,
                      ds->n_classes, ds->root);
    if (!bad) {
        free_names(ds->class_names, ds->n_classes);
        char **p = rn_malloc(names.n * sizeof(char *));
        for (size_t i = 0; i < names.n; i++) p[i] = names.buf + names.off[i];
        ds->class_names = copy_names(p, (int)names.n);
        ds->n_classes = (int)names.n;  // a folder dataset: unchanged (checked above)
        free(p);
    }
    rn_strvec_free(&names);
    return bad ? -1 : 0;
}

int rn_dataset_path(const rn_dataset *ds, size_t i, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%s/%s", ds->root, rn_dataset_relpath(ds, i));
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void rn_dataset_describe(const rn_dataset *ds, const char *split, FILE *f) {
    fprintf(f, "%s: %zu images in %d classes from %s (scan %.2f s)\n", split, ds->n, ds->n_classes,
            ds->root, ds->scan_seconds);
}

// ---------------------------------------------------------------------------------------------
// Both splits from the options.

static int open_split(const char *dir, const char *list, const char *names,
                      const rn_dataset *classes_like, rn_dataset **out, rn_err *err) {
    *out = NULL;
    int rc = 0;
    if (list[0]) rc = rn_dataset_open_list(out, list, dir[0] ? dir : NULL, classes_like, err);
    else if (dir[0]) rc = rn_dataset_open_folder(out, dir, classes_like, err);
    if (rc == 0 && *out && names[0] && !classes_like)
        rc = rn_dataset_load_class_names(*out, names, err);
    if (rc != 0) {
        rn_dataset_destroy(*out);
        *out = NULL;
    }
    return rc;
}

int rn_data_open(const rn_data_opts *o, rn_dataset **train, rn_dataset **val, FILE *log,
                 rn_err *err) {
    rn_dataset *tr = NULL, *va = NULL;
    if (train && open_split(o->train_dir, o->train_list, o->class_names, NULL, &tr, err) != 0)
        return -1;
    if (val && open_split(o->val_dir, o->val_list, o->class_names, tr, &va, err) != 0) {
        rn_dataset_destroy(tr);
        return -1;
    }
    if (log && tr) rn_dataset_describe(tr, "train", log);
    if (log && va) rn_dataset_describe(va, "val", log);
    if (train) *train = tr;
    if (val) *val = va;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Epoch order and sharding.

void rn_epoch_permutation(size_t n, uint64_t seed, int64_t epoch, size_t *perm) {
    RN_CHECK(n <= UINT32_MAX);
    rn_rng r;
    // Third word ~0: sample streams use (seed, epoch, index < n), so this stream is distinct.
    rn_rng_seed3(&r, seed, (uint64_t)epoch, ~(uint64_t)0);
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = rn_rng_below(&r, (uint32_t)i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

int rn_view_init(rn_dataset_view *v, const rn_dataset *ds, int rank, int world, rn_err *err) {
    if (world < 1 || rank < 0 || rank >= world)
        return rn_fail(err, "dataset view: rank %d of world size %d is not valid", rank, world);
    if (ds->n == 0 || ds->n > UINT32_MAX)
        return rn_fail(err, "%s: %zu samples is not supported", ds->root, ds->n);
    v->ds = ds;
    v->rank = rank;
    v->world = world;
    v->per_rank = (ds->n + (size_t)world - 1) / (size_t)world;
    v->block = 0;
    v->repeats = 1;
    return 0;
}

int rn_view_init_batches(rn_dataset_view *v, const rn_dataset *ds, int rank, int world, int batch, rn_err *err) {
    if (rn_view_init(v, ds, rank, world, err)) return -1;
    size_t round = (size_t)batch * (size_t)world;
    if (batch < 1 || ds->n < round)
        return rn_fail(err, "%s: %zu samples is less than one batch of %d on each of %d ranks", ds->root, ds->n, batch, world);
    v->per_rank = ds->n / round * (size_t)batch;
    v->block = (size_t)batch;
    return 0;
}

int rn_view_init_shard(rn_dataset_view *v, const rn_dataset *ds, int rank, int world, rn_err *err) {
    if (rn_view_init(v, ds, rank, world, err)) return -1;
    if (ds->n < (size_t)world)
        return rn_fail(err, "%s: %zu samples for %d ranks: every rank needs one", ds->root, ds->n, world);
    v->per_rank = (ds->n - (size_t)rank + (size_t)world - 1) / (size_t)world;
    return 0;
}

void rn_view_epoch(const rn_dataset_view *v, uint64_t seed, int64_t epoch, int shuffle,
                   size_t *out) {
    size_t n = v->ds->n;
    size_t *perm = NULL;
    if (shuffle) {
        perm = rn_malloc(n * sizeof(size_t));
        rn_epoch_permutation(n, seed, epoch, perm);
    }
    if (v->repeats > 1) {
        size_t K = (size_t)v->repeats;
        for (size_t k = 0; k < v->per_rank; k++) {
            size_t g = ((k * (size_t)v->world + (size_t)v->rank) % (K * n)) / K;
            out[k] = perm ? perm[g] : g;
        }
        free(perm);
        return;
    }
    for (size_t k = 0; k < v->per_rank; k++) {
        size_t g = v->block ? ((k / v->block) * (size_t)v->world + (size_t)v->rank) * v->block + k % v->block
                            : (k * (size_t)v->world + (size_t)v->rank) % n;  // wrap-around padding
        out[k] = perm ? perm[g] : g;
    }
    free(perm);
}
