// scan.h — internal to data/ (dataset.c and imagefiles.c are its users): the folder walk under each class
// folder, and the string arena it fills.
//
// Each class scan enters every folder (device, inode) at most once, so symlink cycles neither
// repeat files nor recurse without end; which path of a folder reachable twice keeps its files
// does not depend on readdir order (see scan.c).
#ifndef RN_DATA_SCAN_H
#define RN_DATA_SCAN_H

#include <stddef.h>
#include <sys/types.h>

#include "src/common.h"

// NUL-terminated strings in one arena; offsets are stable, pointers not. Zero-initialise, free
// with rn_strvec_free.
typedef struct rn_strvec {
    char *buf;
    size_t len, cap;
    size_t *off;
    size_t n, ncap;
} rn_strvec;

void rn_strvec_push(rn_strvec *v, const char *s, size_t slen);
void rn_strvec_free(rn_strvec *v);
int rn_cmp_str(const void *a, const void *b);  // qsort order of char * by strcmp

// The folders one class scan has entered: an open-addressing hash set of (device, inode).
typedef struct rn_dir_set {
    dev_t *dev;
    ino_t *ino;
    size_t n, cap;  // cap: 0 or a power of two, kept at least twice n
} rn_dir_set;

// One class folder's scan. The caller sets dir and name (borrowed, must outlive the scan) and
// zeroes the rest; rn_class_scan_free frees what the scan allocated.
typedef struct rn_class_scan {
    const char *dir;     // dataset root
    const char *name;    // class folder name
    rn_strvec files;     // relative paths "class/.../file.jpg", in readdir order
    rn_strvec skipped;   // "class/.../folder: not scanned, reason" for each folder not entered
    int failed;          // the class folder itself could not be opened: err says why
    rn_err err;
    rn_strvec links;     // internal: symlinked folders met in this round, followed in the next
    rn_dir_set seen;     // internal
} rn_class_scan;

// Scans jobs[0 .. n) on up to 8 threads.
void rn_scan_classes(rn_class_scan *jobs, int n);
void rn_class_scan_free(rn_class_scan *cs);

// Appends the names of dir's subfolders (symlinked ones included, names starting with '.' not),
// in readdir order.
int rn_list_subfolders(const char *dir, rn_strvec *out, rn_err *err);

#endif
