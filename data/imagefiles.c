// imagefiles.c — image files under one folder, by the dataset scanner's walk; see imagefiles.h.
#include "data/imagefiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/scan.h"

// The walk's paths start with the scanned folder's name: here ".", i.e. "./relative/path".
static char *joined(const char *dir, const char *rel) {
    if (rel[0] == '.' && rel[1] == '/') rel += 2;
    size_t a = strlen(dir), b = strlen(rel);
    while (a > 1 && dir[a - 1] == '/') a--;  // "photos/" and "photos" give the same paths
    char *p = rn_malloc(a + 1 + b + 1);
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, rel, b + 1);
    return p;
}

int rn_image_files_find(const char *dir, rn_image_files *out, rn_err *err) {
    memset(out, 0, sizeof *out);
    rn_class_scan cs = {.dir = dir, .name = "."};
    rn_scan_classes(&cs, 1);
    if (cs.failed) {
        if (err) *err = cs.err;
        rn_class_scan_free(&cs);
        return -1;
    }
    char **rel = rn_malloc((cs.files.n ? cs.files.n : 1) * sizeof *rel);
    for (size_t i = 0; i < cs.files.n; i++) rel[i] = cs.files.buf + cs.files.off[i];
    qsort(rel, cs.files.n, sizeof *rel, rn_cmp_str);
    out->paths = rn_malloc((cs.files.n ? cs.files.n : 1) * sizeof *out->paths);
    for (size_t i = 0; i < cs.files.n; i++) out->paths[i] = joined(dir, rel[i]);
    out->n = cs.files.n;
    free(rel);
    out->skipped = rn_malloc((cs.skipped.n ? cs.skipped.n : 1) * sizeof *out->skipped);
    for (size_t i = 0; i < cs.skipped.n; i++) out->skipped[i] = joined(dir, cs.skipped.buf + cs.skipped.off[i]);
    out->n_skipped = cs.skipped.n;
    rn_class_scan_free(&cs);
    return 0;
}

void rn_image_files_free(rn_image_files *l) {
    for (size_t i = 0; i < l->n; i++) free(l->paths[i]);
    for (size_t i = 0; i < l->n_skipped; i++) free(l->skipped[i]);
    free(l->paths);
    free(l->skipped);
    memset(l, 0, sizeof *l);
}
