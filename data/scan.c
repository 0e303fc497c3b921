// scan.c — the folder walk behind rn_dataset_open_folder: one job per class folder, spread over
// a few threads; and the string arena it fills. See scan.h.
#define _GNU_SOURCE  // DT_* constants in dirent
#include "data/scan.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void rn_strvec_push(rn_strvec *v, const char *s, size_t slen) {
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

void rn_strvec_free(rn_strvec *v) {
    free(v->buf);
    free(v->off);
    memset(v, 0, sizeof *v);
}

int rn_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// The names taken as images (any case). The decoder goes by the file's bytes, not its name: a PNG
// named .jpg decodes as a PNG.
static int has_image_ext(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                   strcasecmp(dot, ".png") == 0);
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

static size_t dir_slot(const rn_dir_set *s, dev_t dev, ino_t ino) {
    uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)ino;  // then a 64-bit mix
    h = (h ^ (h >> 31)) * 0xBF58476D1CE4E5B9ULL;
    size_t i = (size_t)(h ^ (h >> 29)) & (s->cap - 1);
    while ((s->dev[i] || s->ino[i]) && (s->dev[i] != dev || s->ino[i] != ino))
        i = (i + 1) & (s->cap - 1);
    return i;
}

// Adds a folder; 0 if it was there already. (0, 0) marks a free slot: no real folder has inode 0.
static int dir_set_add(rn_dir_set *s, dev_t dev, ino_t ino) {
    if (2 * (s->n + 1) > s->cap) {
        rn_dir_set big = {.cap = s->cap ? 2 * s->cap : 64, .n = s->n};
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

// Symlinked folders are followed once each: a scan enters every folder (device, inode) at most
// once, so `ln -s . cls/self` or two links pointing at each other neither repeat files nor recurse
// without end. Which path of a folder reachable twice gets its files must not depend on readdir
// order (every machine must list the same samples): the real tree is walked first, then the
// symlinked folders it holds in sorted order, then the ones those hold, and so on. Symlinked
// *files* are kept, like ImageFolder: two links to one photo are two samples.
#define RN_SCAN_DEPTH 32  // nesting bound: keeps the recursion's stack small

static void skip_folder(rn_class_scan *cs, const char *rel, const char *why) {
    char b[4200];
    int n = snprintf(b, sizeof b, "%s: not scanned, %s", rel, why);
    rn_strvec_push(&cs->skipped, b, n < (int)sizeof b ? (size_t)n : sizeof b - 1);
}

static void scan_tree(rn_class_scan *cs, char *rel, size_t rel_len, size_t rel_cap, int depth) {
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
        if (kind == ENT_FILE && has_image_ext(e->d_name))
            rn_strvec_push(&cs->files, rel, rel_len + 1 + nl);
        else if ((kind == ENT_DIR || kind == ENT_LINK_DIR) && depth >= RN_SCAN_DEPTH)
            skip_folder(cs, rel, "nested more than 32 folders deep");
        else if (kind == ENT_DIR)
            scan_tree(cs, rel, rel_len + 1 + nl, rel_cap, depth + 1);
        else if (kind == ENT_LINK_DIR)
            rn_strvec_push(&cs->links, rel, rel_len + 1 + nl);
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
static void scan_class(rn_class_scan *cs, char *rel, size_t rel_cap) {
    size_t l = strlen(cs->name);
    memcpy(rel, cs->name, l + 1);
    scan_tree(cs, rel, l, rel_cap, 0);
    while (cs->links.n > 0) {
        rn_strvec round = cs->links;
        memset(&cs->links, 0, sizeof cs->links);
        char **ptr = rn_malloc(round.n * sizeof(char *));
        for (size_t i = 0; i < round.n; i++) ptr[i] = round.buf + round.off[i];
        qsort(ptr, round.n, sizeof(char *), rn_cmp_str);
        for (size_t i = 0; i < round.n; i++) {
            size_t pl = strlen(ptr[i]);
            memcpy(rel, ptr[i], pl + 1);
            scan_tree(cs, rel, pl, rel_cap, depth_of(ptr[i]));
        }
        free(ptr);
        rn_strvec_free(&round);
    }
}

typedef struct scan_pool {
    rn_class_scan *jobs;
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

void rn_scan_classes(rn_class_scan *jobs, int n) {
    scan_pool pool = {.jobs = jobs, .n_jobs = n};
    pthread_mutex_init(&pool.mu, NULL);
    int nt = n < 8 ? n : 8;
    pthread_t th[8];
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, scan_worker, &pool) == 0) started++;
    scan_worker(&pool);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&pool.mu);
}

void rn_class_scan_free(rn_class_scan *cs) {
    rn_strvec_free(&cs->files);
    rn_strvec_free(&cs->links);
    rn_strvec_free(&cs->skipped);
    free(cs->seen.dev);
    free(cs->seen.ino);
}

int rn_list_subfolders(const char *dir, rn_strvec *out, rn_err *err) {
    DIR *d = opendir(dir);
    if (!d) return rn_fail(err, "%s: cannot open dataset folder: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        int kind = entry_kind(dir, e);  // a symlinked class folder is a class like any other
        if (kind == ENT_DIR || kind == ENT_LINK_DIR)
            rn_strvec_push(out, e->d_name, strlen(e->d_name));
    }
    closedir(d);
    return 0;
}
