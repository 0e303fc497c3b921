// test_cli.c — the conventions every program follows: --help (full usage on stdout, exit 0),
// --version (project and oneDNN versions, oneDNN's CPU ISA, exit 0), usage errors (stderr, exit 2);
// and resnet-train's config errors (exit 2 naming the file) and --print-config.
#define _POSIX_C_SOURCE 200809L  // mkdtemp
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/check.h"

static char dir[] = "/tmp/rn_test_cli_XXXXXX";
static char out[1 << 16], err[1 << 16];

static void slurp(const char *name, char *buf, size_t cap) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

// Runs "PROG ARGS" (ARGS already shell-quoted); returns the exit status, stdout and stderr in out/err.
static int run(const char *prog, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s >%s/out.txt 2>%s/err.txt", prog, args, dir, dir);
    int st = system(cmd);
    slurp("out.txt", out, sizeof out);
    slurp("err.txt", err, sizeof err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *write_file(const char *name, const char *text) {
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void conventions(const char *prog, const char *name) {
    int rc = run(prog, "--help");
    CHECK(rc == 0 && strstr(out, "usage: ") && strstr(out, name) && strstr(out, "--version") && strstr(out, "Example") &&
              !err[0],
          "%s --help: exit %d, stdout '%.80s', stderr '%.80s'", name, rc, out, err);
    rc = run(prog, "--version");
    CHECK(rc == 0 && strstr(out, name) && strstr(out, "0.2.0") && strstr(out, "oneDNN ") && strstr(out, "CPU ISA: ") &&
              !err[0],
          "%s --version: exit %d, '%s'", name, rc, out);
    rc = run(prog, "--no-such-option");
    CHECK(rc == 2 && !out[0] && strstr(err, "unknown option '--no-such-option'") && strstr(err, "usage: "),
          "%s --no-such-option: exit %d, stdout '%.80s', stderr '%.200s'", name, rc, out, err);
}

int main(void) {
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    static const char *const progs[][2] = {
        {RESNET_TRAIN, "resnet-train"},   {RESNET_INFO, "resnet-info"},   {RESNET_EXPORT, "resnet-export"},
        {RESNET_PREDICT, "resnet-predict"}, {RESNET_EVAL, "resnet-eval"}, {RESNET_BENCH, "resnet-bench"},
        {BENCH_LOADER, "bench-loader"},   {FMNIST_TO_FOLDER, "fashion-mnist-to-folder"},
    };
    for (size_t i = 0; i < sizeof progs / sizeof *progs; i++) conventions(progs[i][0], progs[i][1]);

    // Missing values and bad numbers are usage errors too.
    int rc = run(RESNET_TRAIN, "x.ini --set");
    CHECK(rc == 2 && strstr(err, "'--set' needs a value"), "missing value: %d '%s'", rc, err);
    rc = run(RESNET_EVAL, "m.ckpt --data d --batch 12abc");
    CHECK(rc == 2 && strstr(err, "--batch: expected an integer in [1, 4096], got '12abc'"), "bad number: %d '%s'", rc, err);
    rc = run(RESNET_BENCH, "x.ini --iters 0");
    CHECK(rc == 2 && strstr(err, "--iters"), "out of range: %d '%s'", rc, err);
    rc = run(RESNET_EXPORT, "--config x.ini --seed -3 -o y.onnx");
    CHECK(rc == 2 && strstr(err, "--seed"), "negative seed: %d '%s'", rc, err);

    // resnet-train: an empty config, and one without training data, name the file, exit 2.
    char args[1400];
    snprintf(args, sizeof args, "'%s'", write_file("empty.ini", ""));
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 2 && strstr(err, "empty.ini: no [section]"), "empty config: %d '%s'", rc, err);
    snprintf(args, sizeof args, "'%s'", write_file("nodata.ini", "[model]\ndepth = 18\n"));
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 2 && strstr(err, "nodata.ini: [data] sets neither train_dir nor train_list"), "no [data]: %d '%s'", rc, err);
    const char *dup = write_file("dup.ini", "[model]\ndepth = 18\n[data]\ntrain_dir = t\nsize = 8\nsize = 9\n");
    snprintf(args, sizeof args, "'%s'", dup);
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 2 && strstr(err, "dup.ini:6: [data] size is set twice (first at line 5)"), "dup key: %d '%s'", rc, err);

    // --print-config through the program: print, read back, print again is byte-identical.
    snprintf(args, sizeof args, "--print-config '%s/configs/resnet50v1.ini' --set data.train_dir=/x --set optim.lr=0.4",
             RN_SOURCE_DIR);
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 0 && strstr(out, "\n[data]\ntrain_dir = /x\n") && strstr(out, "\nlr = 0.4\n") && !err[0],
          "--print-config: %d '%.200s'", rc, err);
    static char first[sizeof out];
    memcpy(first, out, sizeof out);
    snprintf(args, sizeof args, "--print-config '%s'", write_file("printed.ini", first));
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 0 && strcmp(out, first) == 0, "--print-config of a printed config differs (exit %d)", rc);

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary();
}
