// replay_main — runs a harness's LLVMFuzzerTestOneInput on files, without libFuzzer: how ctest
// replays the seed corpus and every regression input with any compiler, in the normal and the
// sanitizer builds.
//
//     fuzz_<name>_replay [--known FILE] DIR_OR_FILE...
//
// Files in a folder run in byte-wise name order (dot files are skipped). The first folder (the
// seed corpus) must hold an input, so a corpus that went missing cannot pass; the others (the
// regression inputs) may be empty. --known names a list of inputs
// (lines "<harness>/<file>", '#' comments) that still crash on this tree because their fix is in
// another branch; they are skipped with a note. A crash ends the process: ctest reports it.
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static char known[64][256];
static int n_known;

static void load_known(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char line[512];
    while (fgets(line, sizeof line, f) && n_known < 64) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char name[256];
        if (sscanf(line, "%255s", name) == 1) snprintf(known[n_known++], sizeof known[0], "%s", name);
    }
    fclose(f);
}

// "…/regress/<harness>/<file>" is known when "<harness>/<file>" is listed.
static int is_known(const char *path) {
    for (int i = 0; i < n_known; i++) {
        size_t lp = strlen(path), lk = strlen(known[i]);
        if (lp > lk && strcmp(path + lp - lk, known[i]) == 0 && path[lp - lk - 1] == '/') return 1;
    }
    return 0;
}

static int run_file(const char *path) {
    if (is_known(path)) {
        printf("replay: %s skipped (listed as known, fixed in another branch)\n", path);
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap) buf = realloc(buf, cap *= 2);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 1;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_dir(const char *dir, int must_hold) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    char **names = NULL;
    int n = 0, ran = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (size_t)(n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        ran += run_file(p);
        free(names[i]);
    }
    free(names);
    if (n == 0 && must_hold) {
        fprintf(stderr, "replay: %s holds no input\n", dir);
        exit(2);
    }
    return ran;
}

int main(int argc, char **argv) {
    int ran = 0, first = 1;
    if (argc > 2 && strcmp(argv[1], "--known") == 0) load_known(argv[2]), first = 3;
    if (first >= argc) {
        fprintf(stderr, "usage: %s [--known FILE] DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = first; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) ran += run_dir(argv[i], i == first);
        else ran += run_file(argv[i]);
    }
    printf("replay: %d inputs ran without a crash\n", ran);
    return 0;
}
