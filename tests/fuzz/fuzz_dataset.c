// fuzz_dataset — the dataset scanner (data/dataset.c): class folders, list files, class names.
//
// Input: a small script, one command per line, run in a fresh temporary folder:
//     d PATH            make a folder
//     f PATH [TEXT]     make a file holding TEXT (the rest of the line; \n is a line break)
//     l TARGET PATH     make a symbolic link
// Paths are relative, without '..' (targets too, so no link leads out of the folder); at most
// 64 commands, 8 components and 100 bytes per path. Then the harness opens train/ as a class
// folder, val/ with train's classes, list.txt as a list file and names.txt as class names, and
// removes the folder. Contract: every open returns a dataset or -1 with a message; every sample
// of a class folder is a regular file; no sample's path passes through the same folder twice (a
// link cycle must not repeat files).
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h), mkdtemp, nftw
#include <ftw.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "tests/fuzz/fuzz.h"

#define MAX_CMDS 64
#define MAX_PATH_BYTES 100
#define MAX_COMPONENTS 8

static char base[256];  // per-process folder; each input runs in base/t

static void remove_base(void) { rmdir(base); }

static int safe_path(const char *p, int allow_dot) {
    size_t n = strlen(p);
    if (n == 0 || n > MAX_PATH_BYTES || p[0] == '/') return 0;
    int comps = 1;
    for (size_t i = 0; i < n; i++) comps += p[i] == '/';
    if (comps > MAX_COMPONENTS) return 0;
    for (const char *c = p; c; c = strchr(c, '/'), c = c ? c + 1 : NULL) {
        size_t l = strcspn(c, "/");
        if (l == 2 && c[0] == '.' && c[1] == '.') return 0;
        if (!allow_dot && l == 1 && c[0] == '.') return 0;
    }
    return 1;
}

static void run_script(const uint8_t *data, size_t size, const char *root) {
    char *s = malloc(size + 1), path[1024], target[512];
    memcpy(s, data, size);
    s[size] = 0;
    int n = 0;
    for (char *line = s, *next; line && n < MAX_CMDS; line = next, n++) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (line[0] == 0 || line[1] != ' ') continue;
        char *arg = line + 2, *rest = strchr(arg, ' ');
        if (rest) *rest++ = 0;
        if (line[0] == 'l' && rest) {
            char *sp = strchr(rest, ' ');
            if (sp) *sp = 0;
            if (!safe_path(arg, 1) || !safe_path(rest, 0)) continue;
            snprintf(target, sizeof target, "%s", arg);
            snprintf(path, sizeof path, "%s/%s", root, rest);
            (void)!symlink(target, path);
            continue;
        }
        if (!safe_path(arg, 0)) continue;
        snprintf(path, sizeof path, "%s/%s", root, arg);
        if (line[0] == 'd') {
            mkdir(path, 0700);
        } else if (line[0] == 'f') {
            FILE *f = fopen(path, "w");
            for (const char *c = rest; f && c && *c; c++) {  // backslash-n in TEXT: a line break
                if (c[0] == '\\' && c[1] == 'n') fputc('\n', f), c++;
                else fputc(*c, f);
            }
            if (f) fclose(f);
        }
    }
    free(s);
}

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

// No folder appears twice among the ancestors of a sample (below the dataset root).
static void check_samples(const rn_dataset *ds) {
    char p[4096];
    for (size_t i = 0; i < ds->n; i++) {
        FUZZ_ASSERT(rn_dataset_path(ds, i, p, sizeof p) == 0, "sample %zu: path does not fit", i);
        if (ds->from_list) continue;  // list entries are checked when loaded, not when listed
        struct stat st;
        FUZZ_ASSERT(stat(p, &st) == 0 && S_ISREG(st.st_mode), "sample %s is not a regular file", p);
        struct { dev_t dev; ino_t ino; } seen[64];
        int n = 0;
        size_t root_len = strlen(ds->root);
        for (char *slash = strrchr(p, '/'); slash && (size_t)(slash - p) > root_len; slash = strrchr(p, '/')) {
            *slash = 0;
            FUZZ_ASSERT(stat(p, &st) == 0, "folder %s of a sample is gone", p);
            for (int k = 0; k < n; k++)
                FUZZ_ASSERT(seen[k].dev != st.st_dev || seen[k].ino != st.st_ino,
                            "sample %s of %s passes through the same folder twice",
                            rn_dataset_relpath(ds, i), ds->root);
            if (n < 64) seen[n].dev = st.st_dev, seen[n].ino = st.st_ino, n++;
        }
    }
}

static rn_dataset *opened(int rc, rn_dataset *ds, const rn_err *err, const char *what) {
    fuzz_check_rc(rc, err, what);
    if (getenv("RN_FUZZ_VERBOSE")) fprintf(stderr, "%s: %s\n", what, rc ? err->msg : "ok");
    FUZZ_ASSERT((rc == 0) == (ds != NULL), "%s: rc %d with dataset %p", what, rc, (void *)ds);
    if (ds) check_samples(ds);
    return ds;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!base[0]) {
        // $TMPDIR, else memory (/dev/shm) when there is one: a file system on disk costs 2-3x.
        const char *tmp = getenv("TMPDIR");
        struct stat st;
        int shm = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0;
        if (!tmp || !*tmp) tmp = shm ? "/dev/shm" : "/tmp";
        snprintf(base, sizeof base, "%s/rn-fuzz-dataset.XXXXXX", tmp);
        FUZZ_ASSERT(mkdtemp(base) != NULL, "mkdtemp %s failed", base);
        atexit(remove_base);
    }
    char root[512], a[600], b[600];
    snprintf(root, sizeof root, "%s/t", base);
    FUZZ_ASSERT(mkdir(root, 0700) == 0, "mkdir %s failed (left over from a crash?)", root);
    run_script(data, size, root);

    rn_err err;
    rn_dataset *train = NULL, *val = NULL, *list = NULL;
    snprintf(a, sizeof a, "%s/train", root);
    err.msg[0] = 0;
    int rc = rn_dataset_open_folder(&train, a, NULL, &err);
    train = opened(rc, train, &err, "open train");
    snprintf(a, sizeof a, "%s/val", root);
    err.msg[0] = 0;
    if (train) {
        rc = rn_dataset_open_folder(&val, a, train, &err);
        val = opened(rc, val, &err, "open val");
    }
    snprintf(a, sizeof a, "%s/list.txt", root);
    err.msg[0] = 0;
    rc = rn_dataset_open_list(&list, a, NULL, train, &err);
    list = opened(rc, list, &err, "open list");
    snprintf(b, sizeof b, "%s/names.txt", root);
    rn_dataset *both[2] = {train, list};
    for (int k = 0; k < 2; k++) {
        rn_dataset *ds = both[k];
        if (!ds) continue;
        err.msg[0] = 0;
        fuzz_check_rc(rn_dataset_load_class_names(ds, b, &err), &err, "class names");
        rn_dataset_view v;
        err.msg[0] = 0;
        if (rn_view_init(&v, ds, 1, 3, &err) == 0) {
            size_t *idx = malloc(v.per_rank * sizeof *idx + 1);
            rn_view_epoch(&v, 7, 2, 1, idx);
            for (size_t i = 0; i < v.per_rank; i++) FUZZ_ASSERT(idx[i] < ds->n, "view index %zu", idx[i]);
            free(idx);
        }
    }
    rn_dataset_destroy(list);
    rn_dataset_destroy(val);
    rn_dataset_destroy(train);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
