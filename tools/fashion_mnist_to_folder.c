// fashion_mnist_to_folder.c — turns Debian's Fashion-MNIST IDX files into class folders of JPEGs,
// the built-in demo dataset:
//
//     fashion-mnist-to-folder [--src DIR] OUTDIR
//
// reads DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (default DIR: the dataset-fashion-mnist
// package's /usr/share/datasets/fashion-mnist) and writes OUTDIR/train/<Class>/NNNNN.jpg and
// OUTDIR/val/<Class>/NNNNN.jpg (NNNNN = index in the IDX file), 28x28 grayscale JPEGs of
// quality 95.
//
// Idempotent and atomic: the images are written under OUTDIR/.staging-PID and renamed into place;
// OUTDIR/.complete, written last, records the counts. When it matches the source, nothing is done.
#define _GNU_SOURCE  // nftw flags
#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <dirent.h>
#include <fcntl.h>
#include <omp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include "src/cli.h"
#include "src/common.h"

#define N_CLASSES 10
// Fashion-MNIST label order; folder names (ImageFolder sorts them, so folder index != IDX label).
static const char *class_names[N_CLASSES] = {"T-shirt_top", "Trouser", "Pullover", "Dress",
                                             "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                             "Bag",         "Ankle_boot"};

typedef struct idx_split {
    const char *name;        // "train" or "val"
    const char *file_prefix;  // "train" or "t10k"
    int n, rows, cols;
    uint8_t *pixels;         // (n, rows, cols)
    uint8_t *labels;         // (n)
} idx_split;

// snprintf into a path buffer; -1 (and an empty string) when it does not fit.
__attribute__((format(printf, 3, 4))) static int pathf(char *dst, size_t cap, const char *fmt,
                                                       ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        dst[0] = 0;
        return -1;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// Reads an IDX header (and, if data != NULL, the payload) from a gzip (or plain) file.
static int read_idx(const char *path, uint32_t magic, int ndims, int *dims, uint8_t **data,
                    rn_err *err) {
    gzFile f = gzopen(path, "rb");
    if (!f) return rn_fail(err, "%s: cannot open: %s", path, strerror(errno));
    uint8_t h[16];
    int hl = 4 + 4 * ndims, rc = 0;
    if (gzread(f, h, (unsigned)hl) != hl || be32(h) != magic) {
        rc = rn_fail(err, "%s: not an IDX file with magic 0x%08x", path, magic);
    } else {
        size_t total = 1;
        for (int i = 0; i < ndims; i++) {
            uint32_t d = be32(h + 4 + 4 * i);
            if (d == 0 || d > (1u << 24)) {
                rc = rn_fail(err, "%s: implausible dimension %u", path, d);
                break;
            }
            dims[i] = (int)d;
            total *= d;
        }
        if (rc == 0 && data) {
            *data = rn_malloc(total);
            if ((size_t)gzread(f, *data, (unsigned)total) != total) {
                free(*data);
                *data = NULL;
                rc = rn_fail(err, "%s: file is shorter than its header says", path);
            }
        }
    }
    gzclose(f);
    return rc;
}

static int load_split(const char *src, idx_split *s, int headers_only, rn_err *err) {
    char ip[4096], lp[4096];
    pathf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", src, s->file_prefix);
    pathf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", src, s->file_prefix);
    int di[3] = {0}, dl[1] = {0};
    if (read_idx(ip, 0x00000803, 3, di, headers_only ? NULL : &s->pixels, err) != 0) return -1;
    if (read_idx(lp, 0x00000801, 1, dl, headers_only ? NULL : &s->labels, err) != 0) return -1;
    if (di[0] != dl[0])
        return rn_fail(err, "%s: %d images but %d labels in %s", ip, di[0], dl[0], lp);
    s->n = di[0], s->rows = di[1], s->cols = di[2];
    if (!headers_only)
        for (int i = 0; i < s->n; i++)
            if (s->labels[i] >= N_CLASSES)
                return rn_fail(err, "%s: label %d of image %d is not in 0..9", lp, s->labels[i], i);
    return 0;
}

static int mkdir_p(const char *path, rn_err *err) {
    char p[4096];
    if (pathf(p, sizeof p, "%s", path) != 0) return rn_fail(err, "path too long");
    for (char *c = p + 1;; c++) {
        if (*c == '/' || *c == 0) {
            char keep = *c;
            *c = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return rn_fail(err, "%s: cannot create folder: %s", p, strerror(errno));
            *c = keep;
            if (!keep) break;
        }
    }
    return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}
static int rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

// Removes OUTDIR/.staging-PID folders left by runs that died.
static void remove_stale_staging(const char *out) {
    DIR *d = opendir(out);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int pid;
        if (sscanf(e->d_name, ".staging-%d", &pid) != 1) continue;
        if (pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH)) {
            char p[4096];
            pathf(p, sizeof p, "%s/%s", out, e->d_name);
            rm_rf(p);
        }
    }
    closedir(d);
}

static int write_all(const char *path, const void *buf, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w, n -= (size_t)w;
    }
    return close(fd);
}

static int write_split(const char *stage, const idx_split *s, rn_err *err) {
    char dir[4096];
    for (int c = 0; c < N_CLASSES; c++) {
        pathf(dir, sizeof dir, "%s/%s/%s", stage, s->name, class_names[c]);
        if (mkdir_p(dir, err) != 0) return -1;
    }
    int failed = 0;
    char msg[4400] = "";
#pragma omp parallel
    {
        tjhandle tj = tjInitCompress();
        unsigned long cap = tjBufSize(s->cols, s->rows, TJSAMP_GRAY);
        unsigned char *jpg = tj ? tjAlloc((int)cap) : NULL;
        char path[4096];
        if (!tj || !jpg) {
#pragma omp critical
            if (!failed) failed = 1, pathf(msg, sizeof msg, "cannot start TurboJPEG");
        }
#pragma omp for schedule(dynamic, 256)
        for (int i = 0; i < s->n; i++) {
            int bad;
#pragma omp atomic read
            bad = failed;
            if (bad || !jpg) continue;
            unsigned long size = cap;
            const uint8_t *px = s->pixels + (size_t)i * s->rows * s->cols;
            pathf(path, sizeof path, "%s/%s/%s/%05d.jpg", stage, s->name,
                     class_names[s->labels[i]], i);
            const char *why = NULL;
            if (tjCompress2(tj, px, s->cols, 0, s->rows, TJPF_GRAY, &jpg, &size, TJSAMP_GRAY, 95,
                            TJFLAG_NOREALLOC) != 0)
                why = tjGetErrorStr2(tj);
            else if (write_all(path, jpg, size) != 0)
                why = strerror(errno);
            if (why) {
#pragma omp critical
                if (!failed) failed = 1, pathf(msg, sizeof msg, "%s: %s", path, why);
            }
        }
        if (jpg) tjFree(jpg);
        if (tj) tjDestroy(tj);
    }
    return failed ? rn_fail(err, "%s", msg) : 0;
}

static int run(const char *src, const char *out, rn_err *err) {
    double t0 = rn_now();
    idx_split sp[2] = {{.name = "train", .file_prefix = "train"},
                       {.name = "val", .file_prefix = "t10k"}};
    for (int k = 0; k < 2; k++)
        if (load_split(src, &sp[k], 1, err) != 0) return -1;

    char marker[4096], want[128], have[128] = "";
    pathf(marker, sizeof marker, "%s/.complete", out);
    pathf(want, sizeof want, "fashion-mnist train=%d val=%d\n", sp[0].n, sp[1].n);
    FILE *mf = fopen(marker, "r");
    if (mf) {
        size_t got = fread(have, 1, sizeof have - 1, mf);
        have[got] = 0;
        fclose(mf);
        if (strcmp(have, want) == 0) {
            printf(
                "fashion-mnist-to-folder: %s is complete (%d train, %d val images); nothing to "
                "do\n",
                out, sp[0].n, sp[1].n);
            return 0;
        }
        unlink(marker);  // stale: the folders are about to change
    }

    for (int k = 0; k < 2; k++)
        if (load_split(src, &sp[k], 0, err) != 0) return -1;
    if (mkdir_p(out, err) != 0) return -1;
    remove_stale_staging(out);
    char stage[4096];
    pathf(stage, sizeof stage, "%s/.staging-%d", out, (int)getpid());
    int rc = 0;
    if (mkdir_p(stage, err) != 0) rc = -1;
    for (int k = 0; k < 2 && rc == 0; k++) rc = write_split(stage, &sp[k], err);
    for (int k = 0; k < 2 && rc == 0; k++) {  // swap each split folder into place
        char dst[4096], from[4096], old[4096];
        pathf(dst, sizeof dst, "%s/%s", out, sp[k].name);
        pathf(from, sizeof from, "%s/%s", stage, sp[k].name);
        pathf(old, sizeof old, "%s/old-%s", stage, sp[k].name);
        if (rename(dst, old) != 0 && errno != ENOENT)
            rc = rn_fail(err, "%s: cannot move aside: %s", dst, strerror(errno));
        else if (rename(from, dst) != 0)
            rc = rn_fail(err, "%s: cannot rename into place: %s", dst, strerror(errno));
    }
    if (rc == 0) {
        char tmp[4200];
        pathf(tmp, sizeof tmp, "%s.tmp", marker);
        if (write_all(tmp, want, strlen(want)) != 0 || rename(tmp, marker) != 0)
            rc = rn_fail(err, "%s: cannot write: %s", marker, strerror(errno));
    }
    rm_rf(stage);
    if (rc == 0)
        printf("fashion-mnist-to-folder: wrote %d train + %d val images to %s in %.2f s\n",
               sp[0].n, sp[1].n, out, rn_now() - t0);
    for (int k = 0; k < 2; k++) free(sp[k].pixels), free(sp[k].labels);
    return rc;
}

static const rn_cli cli = {
    "fashion-mnist-to-folder",
    "usage: fashion-mnist-to-folder [--src DIR] OUTDIR\n",
    "Turns the Fashion-MNIST IDX files into class folders of 28x28 grayscale JPEGs:\n"
    "OUTDIR/train/<Class>/NNNNN.jpg and OUTDIR/val/<Class>/NNNNN.jpg. Idempotent: nothing is done\n"
    "when OUTDIR/.complete matches the source.\n\n"
    "  --src DIR           the IDX files (default /usr/share/datasets/fashion-mnist, from Debian's\n"
    "                      dataset-fashion-mnist package)\n"
    "  --help, --version   this text; the version, oneDNN's and its CPU ISA\n\n"
    "Example:\n"
    "  fashion-mnist-to-folder datasets/fashion-mnist\n",
};

int main(int argc, char **argv) {
    const char *src = "/usr/share/datasets/fashion-mnist", *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (rn_cli_info(&cli, argv[i])) return 0;
        if (!strcmp(argv[i], "--src")) {
            if (!(src = rn_cli_value(&cli, argc, argv, &i))) return 2;
        } else if (argv[i][0] == '-') return rn_cli_fail(&cli, "unknown option '%s'", argv[i]);
        else if (out) return rn_cli_fail(&cli, "one OUTDIR only, got '%s' and '%s'", out, argv[i]);
        else out = argv[i];
    }
    if (!out) return rn_cli_fail(&cli, "no OUTDIR given");
    if (strlen(out) > 3000 || strlen(src) > 3000) {
        fprintf(stderr, "fashion-mnist-to-folder: path too long\n");
        return 2;
    }
    rn_err err;
    if (run(src, out, &err) != 0) {
        fprintf(stderr, "fashion-mnist-to-folder: %s\n", err.msg);
        return 1;
    }
    return 0;
}
