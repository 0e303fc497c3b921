// classes.h — what resnet-predict and resnet-eval print: class names, softmax, top-k.
//
// Ownership: rn_labels_load allocates the names; rn_labels_free releases them.
#ifndef RN_EXPORT_CLASSES_H
#define RN_EXPORT_CLASSES_H

#include <stddef.h>

#include "src/common.h"

typedef struct rn_labels {
    char **names;  // (n) one per class index
    int n;
} rn_labels;

// One name per line (trailing '\r' and trailing blank lines dropped; an empty line in between is
// an error naming file:line).
int rn_labels_load(const char *path, rn_labels *l, rn_err *err);
void rn_labels_free(rn_labels *l);

// The path of the ImageNet class names shipped with the programs (torchvision's list, in the source
// tree export/imagenet_classes.txt, installed as <prefix>/share/resnet.c/imagenet_classes.txt; the
// lookup is src/datadir.h's). -1 with a message listing the places tried when it is not found.
int rn_labels_imagenet_path(char *out, size_t n, rn_err *err);

// p = softmax(x), in double, max-subtracted.
void rn_softmax(const float *x, size_t n, double *p);

// The k largest of v[0..n) in descending order (ties: lower index first); k <= n.
void rn_topk(const double *v, size_t n, size_t k, size_t *idx);

#endif
