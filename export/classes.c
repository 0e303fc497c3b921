// classes.c — class names, softmax and top-k for the tools; see classes.h.
#include "export/classes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/datadir.h"

int rn_labels_imagenet_path(char *out, size_t n, rn_err *err) {
    return rn_datadir_find("imagenet_classes.txt", out, n, err);
}

void rn_labels_free(rn_labels *l) {
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

int rn_labels_load(const char *path, rn_labels *l, rn_err *err) {
    memset(l, 0, sizeof *l);
    FILE *f = fopen(path, "r");
    if (!f) return rn_fail(err, "%s: %s", path, strerror(errno));
    char line[4096];
    int cap = 0, blank_at = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            fclose(f);
            rn_labels_free(l);
            return rn_fail(err, "%s:%d: line too long", path, lineno);
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) {
            if (!blank_at) blank_at = lineno;
            continue;
        }
        if (blank_at) {
            fclose(f);
            rn_labels_free(l);
            return rn_fail(err, "%s:%d: empty class name", path, blank_at);
        }
        if (l->n == cap) {
            cap = cap ? 2 * cap : 1024;
            l->names = rn_realloc(l->names, (size_t)cap * sizeof *l->names);
        }
        l->names[l->n++] = rn_strdup(line);
    }
    fclose(f);
    if (l->n == 0) return rn_fail(err, "%s: no class names", path);
    return 0;
}

void rn_softmax(const float *x, size_t n, double *p) {
    double m = -INFINITY, s = 0;
    for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (size_t i = 0; i < n; i++) s += p[i] = exp((double)x[i] - m);
    for (size_t i = 0; i < n; i++) p[i] /= s;
}

typedef struct scored {
    double v;
    size_t i;
} scored;

// Descending by value, NaN last, ties by lower index: a total order, so the result is stable.
static int by_score(const void *a, const void *b) {
    const scored *x = a, *y = b;
    int xn = isnan(x->v), yn = isnan(y->v);
    if (xn != yn) return xn - yn;
    if (!xn && x->v != y->v) return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void rn_topk(const double *v, size_t n, size_t k, size_t *idx) {
    scored *s = rn_malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) s[i] = (scored){v[i], i};
    qsort(s, n, sizeof *s, by_score);
    for (size_t r = 0; r < k && r < n; r++) idx[r] = s[r].i;
    free(s);
}
