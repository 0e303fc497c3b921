// dataset.c — scanning class folders and list files, class names, epoch permutation, sharding.
#define _GNU_SOURCE  // DT_* constants in dirent
#include "data/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "src/rng.h"

// ---------------------------------------------------------------------------------------------
// Small growable buffers.

typedef struct strvec {  // NUL-terminated strings in one arena; offsets are stable, pointers not
    char *buf;
    size_t len, cap;
    size_t *off;
    size_t n, ncap;
} strvec;

static void strvec_push(strvec *v, const char *s, size_t slen) {
    if (v->len + slen + 1 > v->cap) {
        size_t c = v->cap ? v->cap * 2 : 4096;
        while (c < v->len + slen + 1) c *= 2;
        v->buf = rn_realloc(v->buf, c);
        v->cap = c;
    }
    if (v->n == v->ncap) {
        v->ncap = v->ncap ? v->ncap * 2 : 256;
        v->off = rn_realloc(v->off, v->ncap * sizeof *v->off);
    }
    memcpy(v->buf + v->len, s, slen);
    v->buf[v->len + slen] = 0;
    v->off[v->n++] = v->len;
    v->len += slen + 1;
}

static void strvec_free(strvec *v) {
    free(v->buf);
    free(v->off);
    memset(v, 0, sizeof *v);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int has_jpeg_ext(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0);
}

// Entry type without a stat() call when the file system reports it (the common case: this is
// what makes scanning ImageNet take seconds). A symlink counts as what it points to, except that
// a symlinked folder is told apart (ENT_LINK_DIR): only those can lead to a folder twice.
enum { ENT_OTHER, ENT_FILE, ENT_DIR, ENT_LINK_DIR };
static int entry_kind(const char *dirpath, const struct dirent *e) {
    if (e->d_type == DT_REG) return ENT_FILE;
    if (e->d_type == DT_DIR) return ENT_DIR;
    if (e->d_type != DT_UNKNOWN && e->d_type != DT_LNK) return ENT_OTHER;
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dirpath, e->d_name) >= (int)sizeof p) return ENT_OTHER;
    struct stat st;
    int link = e->d_type == DT_LNK;
    if (!link) {  // DT_UNKNOWN: the file system does not say; ask without following links
        if (lstat(p, &st) != 0) return ENT_OTHER;
        link = S_ISLNK(st.st_mode);
    }
    if (link && stat(p, &st) != 0) return ENT_OTHER;  // dangling, or a loop of links
    if (S_ISDIR(st.st_mode)) return link ? ENT_LINK_DIR : ENT_DIR;
    return S_ISREG(st.st_mode) ? ENT_FILE : ENT_OTHER;
}

// The folders one class scan has entered, by (device, inode): an open-addressing hash set.
typedef struct dir_set {
    dev_t *dev;
    ino_t *ino;
    size_t n, cap;  // cap: 0 or a power of two, kept at least twice n
} dir_set;

static size_t dir_slot(const dir_set *s, dev_t dev, ino_t ino) {
    uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)ino;  // then a 64-bit mix
    h = (h ^ (h >> 31)) * 0xBF58476D1CE4E5B9ULL;
    size_t i = (size_t)(h ^ (h >> 29)) & (s->cap - 1);
    while ((s->dev[i] || s->ino[i]) && (s->dev[i] != dev || s->ino[i] != ino))
        i = (i + 1) & (s->cap - 1);
    return i;
}

// Adds a folder; 0 if it was there already. (0, 0) marks a free slot: no real folder has inode 0.
static int dir_set_add(dir_set *s, dev_t dev, ino_t ino) {
    if (2 * (s->n + 1) > s->cap) {
        dir_set big = {.cap = s->cap ? 2 * s->cap : 64, .n = s->n};
        big.dev = rn_calloc(big.cap, sizeof(dev_t));
        big.ino = rn_calloc(big.cap, sizeof(ino_t));
        for (size_t i = 0; i < s->cap; i++)
            if (s->dev[i] || s->ino[i]) {
                size_t j = dir_slot(&big, s->dev[i], s->ino[i]);
                big.dev[j] = s->dev[i], big.ino[j] = s->ino[i];
            }
        free(s->dev);
        free(s->ino);
        *s = big;
    }
    size_t i = dir_slot(s, dev, ino);
    if (s->dev[i] == dev && s->ino[i] == ino && (dev || ino)) return 0;
    s->dev[i] = dev, s->ino[i] = ino;
    s->n++;
    return 1;
}

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

// ---------------------------------------------------------------------------------------------
// Folder scan: one job per class folder, spread over a few threads.

// Symlinked folders are followed once each: a scan enters every folder (device, inode) at most
// once, so `ln -s . cls/self` or two links pointing at each other neither repeat files nor recurse
// without end. Which path of a folder reachable twice gets its files must not depend on readdir
// order (every machine must list the same samples): the real tree is walked first, then the
// symlinked folders it holds in sorted order, then the ones those hold, and so on. Symlinked
// *files* are kept, like ImageFolder: two links to one photo are two samples.
#define RN_SCAN_DEPTH 32  // nesting bound: keeps the recursion's stack small

typedef struct class_scan {
    const char *dir;    // dataset root
    const char *name;   // class folder name
    strvec files;       // relative paths "class/.../file.jpg"
    strvec links;       // symlinked folders met in this round, followed in the next
    strvec skipped;     // "relative/path: reason" of each folder not scanned
    dir_set seen;
    int failed;
    rn_err err;
} class_scan;

static void skip_folder(class_scan *cs, const char *rel, const char *why) {
    char b[4200];
    int n = snprintf(b, sizeof b, "%s: not scanned, %s", rel, why);
    strvec_push(&cs->skipped, b, n < (int)sizeof b ? (size_t)n : sizeof b - 1);
}

static void scan_tree(class_scan *cs, char *rel, size_t rel_len, size_t rel_cap, int depth) {
    char abs[4096];
    if (snprintf(abs, sizeof abs, "%s/%s", cs->dir, rel) >= (int)sizeof abs) return;
    DIR *d = opendir(abs);
    if (!d) {
        if (depth == 0 && !cs->failed) {
            cs->failed = 1;
            rn_fail(&cs->err, "%s: cannot open folder: %s", abs, strerror(errno));
        }
        return;
    }
    struct stat st;
    if (fstat(dirfd(d), &st) == 0 && !dir_set_add(&cs->seen, st.st_dev, st.st_ino)) {
        skip_folder(cs, rel, "folder already scanned (a symlink cycle, or a second path to it)");
        closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t nl = strlen(e->d_name);
        if (rel_len + 1 + nl + 1 > rel_cap) continue;  // longer than 4 KiB: not a path we can open
        int kind = entry_kind(abs, e);
        rel[rel_len] = '/';
        memcpy(rel + rel_len + 1, e->d_name, nl + 1);
        if (kind == ENT_FILE && has_jpeg_ext(e->d_name))
            strvec_push(&cs->files, rel, rel_len + 1 + nl);
        else if ((kind == ENT_DIR || kind == ENT_LINK_DIR) && depth >= RN_SCAN_DEPTH)
            skip_folder(cs, rel, "nested more than 32 folders deep");
        else if (kind == ENT_DIR)
            scan_tree(cs, rel, rel_len + 1 + nl, rel_cap, depth + 1);
        else if (kind == ENT_LINK_DIR)
            strvec_push(&cs->links, rel, rel_len + 1 + nl);
        rel[rel_len] = 0;
    }
    closedir(d);
}

static int depth_of(const char *rel) {
    int n = 0;
    for (; *rel; rel++) n += *rel == '/';
    return n;
}

// One class folder: the real tree, then symlinked folders round by round (see above).
static void scan_class(class_scan *cs, char *rel, size_t rel_cap) {
    size_t l = strlen(cs->name);
    memcpy(rel, cs->name, l + 1);
    scan_tree(cs, rel, l, rel_cap, 0);
    while (cs->links.n > 0) {
        strvec round = cs->links;
        memset(&cs->links, 0, sizeof cs->links);
        char **ptr = rn_malloc(round.n * sizeof(char *));
        for (size_t i = 0; i < round.n; i++) ptr[i] = round.buf + round.off[i];
        qsort(ptr, round.n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < round.n; i++) {
            size_t pl = strlen(ptr[i]);
            memcpy(rel, ptr[i], pl + 1);
            scan_tree(cs, rel, pl, rel_cap, depth_of(ptr[i]));
        }
        free(ptr);
        strvec_free(&round);
    }
}

typedef struct scan_pool {
    class_scan *jobs;
    int n_jobs;
    int next;
    pthread_mutex_t mu;
} scan_pool;

static void *scan_worker(void *arg) {
    scan_pool *p = arg;
    char rel[4096];
    for (;;) {
        pthread_mutex_lock(&p->mu);
        int j = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (j >= p->n_jobs) return NULL;
        scan_class(&p->jobs[j], rel, sizeof rel);
    }
}

#define RN_WARN_NAMED 10  // folders named in scan warnings; the rest are counted

// Warnings on stderr after a scan: folders not scanned, and class folders without images. An
// empty class folder stays a class: class indices are positions in the sorted list of all
// subfolders, as in ImageFolder, so dropping one would renumber every class after it and the
// labels would no longer match a model, a class-names file or a validation split made for the
// same folders.
static void warn_scan(rn_dataset *ds, const class_scan *jobs, int n_jobs, const int32_t *class_of) {
    size_t named = 0;
    for (int j = 0; j < n_jobs; j++) {
        const strvec *sk = &jobs[j].skipped;
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
                    "warning: %s/%s: class folder holds no .jpg/.jpeg file; kept as class %d so "
                    "that the class indices stay those of the sorted folder list\n",
                    ds->root, jobs[j].name, (int)class_of[j]);
    }
    if (ds->empty_classes > RN_WARN_NAMED)
        fprintf(stderr, "warning: %s: %d class folders without images in all\n", ds->root,
                ds->empty_classes);
}

// Subfolder names of dir, sorted byte-wise.
static int list_subfolders(const char *dir, strvec *out, rn_err *err) {
    DIR *d = opendir(dir);
    if (!d) return rn_fail(err, "%s: cannot open dataset folder: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (entry_kind(dir, e) == ENT_DIR) strvec_push(out, e->d_name, strlen(e->d_name));
    }
    closedir(d);
    return 0;
}

int rn_dataset_open_folder(rn_dataset **out, const char *dir, const rn_dataset *classes_like,
                           rn_err *err) {
    *out = NULL;
    double t0 = rn_now();
    strvec sub = {0};
    if (list_subfolders(dir, &sub, err) != 0) return -1;
    char **names = rn_malloc((sub.n ? sub.n : 1) * sizeof(char *));
    for (size_t i = 0; i < sub.n; i++) names[i] = sub.buf + sub.off[i];
    qsort(names, sub.n, sizeof(char *), cmp_str);

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

    scan_pool pool = {.n_jobs = (int)sub.n};
    pool.jobs = rn_calloc(sub.n ? sub.n : 1, sizeof(class_scan));
    for (size_t i = 0; i < sub.n; i++)
        pool.jobs[i] = (class_scan){.dir = ds->root, .name = names[i]};
    pthread_mutex_init(&pool.mu, NULL);
    int nt = pool.n_jobs < 8 ? pool.n_jobs : 8;
    pthread_t th[8];
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, scan_worker, &pool) == 0) started++;
    scan_worker(&pool);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&pool.mu);

    size_t total = 0, bytes = 0;
    int bad = 0;
    for (int j = 0; j < pool.n_jobs; j++) {
        if (pool.jobs[j].failed && !bad) {
            if (err) *err = pool.jobs[j].err;
            bad = 1;
        }
        total += pool.jobs[j].files.n;
        bytes += pool.jobs[j].files.len;
    }
    if (!bad) warn_scan(ds, pool.jobs, pool.n_jobs, class_of);
    if (!bad && total == 0)
        bad = rn_fail(err, "%s: no .jpg/.jpeg files found in %zu class folder(s)", dir, sub.n) != 0;
    if (!bad) {
        ds->n = total;
        ds->paths = rn_malloc(bytes ? bytes : 1);
        ds->path_off = rn_malloc(total * sizeof(size_t));
        ds->labels = rn_malloc(total * sizeof(int32_t));
        size_t k = 0, pos = 0, maxn = 0;
        for (int j = 0; j < pool.n_jobs; j++)
            maxn = pool.jobs[j].files.n > maxn ? pool.jobs[j].files.n : maxn;
        char **ptr = rn_malloc((maxn ? maxn : 1) * sizeof(char *));
        for (int j = 0; j < pool.n_jobs; j++) {
            strvec *f = &pool.jobs[j].files;
            for (size_t i = 0; i < f->n; i++) ptr[i] = f->buf + f->off[i];
            qsort(ptr, f->n, sizeof(char *), cmp_str);
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
    for (int j = 0; j < pool.n_jobs; j++) {
        class_scan *cs = &pool.jobs[j];
        strvec_free(&cs->files);
        strvec_free(&cs->links);
        strvec_free(&cs->skipped);
        free(cs->seen.dev);
        free(cs->seen.ino);
    }
    free(pool.jobs);
    if (bad) goto fail;
    free(class_of);
    free(names);
    strvec_free(&sub);
    ds->scan_seconds = rn_now() - t0;
    *out = ds;
    return 0;
fail:
    free(class_of);
    free(names);
    strvec_free(&sub);
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
    strvec paths = {0};
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
        if (classes_like && v >= classes_like->n_classes) {
            bad = rn_fail(err, "%s:%ld: label %ld out of range (%d classes)", list_file, lineno, v,
                          classes_like->n_classes);
            break;
        }
        strvec_push(&paths, line + s, (size_t)(pend - (line + s)));
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
        strvec_free(&paths);
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
    strvec names = {0};
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
        strvec_push(&names, line, len);
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
    strvec_free(&names);
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
    for (size_t k = 0; k < v->per_rank; k++) {
        size_t g = (k * (size_t)v->world + (size_t)v->rank) % n;  // wrap-around padding
        out[k] = perm ? perm[g] : g;
    }
    free(perm);
}
