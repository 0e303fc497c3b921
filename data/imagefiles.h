// imagefiles.h — the image files under a folder, for tools that take folders as arguments
// (resnet-predict). The walk is the dataset scanner's (data/scan.c): every folder entered at most
// once (symlink cycles cut), at most 32 levels deep, names starting with '.' ignored, files by
// extension (.jpg / .jpeg, any case, as datasets).
//
// Ownership: rn_image_files_find fills the list; rn_image_files_free releases it.
#ifndef RN_DATA_IMAGEFILES_H
#define RN_DATA_IMAGEFILES_H

#include <stddef.h>

#include "src/common.h"

typedef struct rn_image_files {
    char **paths;     // (n) "DIR/relative/path", sorted byte-wise by the relative path
    size_t n;
    char **skipped;   // (n_skipped) "DIR/folder: not scanned, reason" for each folder not entered
    size_t n_skipped;
} rn_image_files;

// -1 with a message when DIR cannot be opened as a folder; an empty folder is not an error (n = 0).
int rn_image_files_find(const char *dir, rn_image_files *out, rn_err *err);
void rn_image_files_free(rn_image_files *l);

#endif
