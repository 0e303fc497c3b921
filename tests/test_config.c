// test_config.c — bad configs give a message naming file:line and the programs exit with 2; the
// conventions every program follows: --help (full usage on stdout, exit 0), --version (project and
// oneDNN versions, oneDNN's CPU ISA, exit 0), usage errors (stderr, exit 2); resnet-train's config
// errors (exit 2 naming the file) and --print-config through the program.
#define _POSIX_C_SOURCE 200809L  // mkdtemp
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/config.h"
#include "tests/check.h"

static char dir[] = "/tmp/rn_test_config_XXXXXX";

static const char *write_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

// Loads `text`; expects failure with every string of `want` in the message.
static void expect_error(const char *name, const char *text, const char *want1, const char *want2) {
    const char *path = write_file(name, text);
    rn_config c;
    rn_err err = {{0}};
    int rc = rn_config_load(&c, path, NULL, 0, &err);
    CHECK(rc == -1, "%s: expected an error", name);
    CHECK(strstr(err.msg, want1) != NULL, "%s: message '%s' lacks '%s'", name, err.msg, want1);
    if (want2) CHECK(strstr(err.msg, want2) != NULL, "%s: message '%s' lacks '%s'", name, err.msg, want2);
}

static char out[1 << 16], errbuf[1 << 16];

static void slurp(const char *name, char *buf, size_t cap) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

// Runs "PROG ARGS" (ARGS already shell-quoted); returns the exit status, stdout and stderr in out/errbuf.
static int run(const char *prog, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s >%s/out.txt 2>%s/err.txt", prog, args, dir, dir);
    int st = system(cmd);
    slurp("out.txt", out, sizeof out);
    slurp("err.txt", errbuf, sizeof errbuf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// resnet-info's exit status and stderr for a config file.
static void expect_exit(const char *path, int code, const char *want) {
    char args[700];
    snprintf(args, sizeof args, "'%s'", path);
    int rc = run(RESNET_INFO, args);
    CHECK(rc == code, "resnet-info %s: exit %d, want %d", path, rc, code);
    if (want) CHECK(strstr(errbuf, want) != NULL, "resnet-info %s: stderr '%s' lacks '%s'", path, errbuf, want);
}

static void conventions(const char *prog, const char *name) {
    int rc = run(prog, "--help");
    CHECK(rc == 0 && strstr(out, "usage: ") && strstr(out, name) && strstr(out, "--version") && strstr(out, "Example") &&
              !errbuf[0],
          "%s --help: exit %d, stdout '%.80s', stderr '%.80s'", name, rc, out, errbuf);
    rc = run(prog, "--version");
    CHECK(rc == 0 && strstr(out, name) && strstr(out, "0.2.0") && strstr(out, "oneDNN ") && strstr(out, "CPU ISA: ") &&
              !errbuf[0],
          "%s --version: exit %d, '%s'", name, rc, out);
    rc = run(prog, "--no-such-option");
    CHECK(rc == 2 && !out[0] && strstr(errbuf, "unknown option '--no-such-option'") && strstr(errbuf, "usage: "),
          "%s --no-such-option: exit %d, stdout '%.80s', stderr '%.200s'", name, rc, out, errbuf);
}

static void test_programs(void) {
    static const char *const progs[][2] = {
        {RESNET_TRAIN, "resnet-train"},   {RESNET_INFO, "resnet-info"},   {RESNET_EXPORT, "resnet-export"},
        {RESNET_PREDICT, "resnet-predict"}, {RESNET_EVAL, "resnet-eval"}, {RESNET_BENCH, "resnet-bench"},
        {BENCH_LOADER, "bench-loader"},   {FMNIST_TO_FOLDER, "fashion-mnist-to-folder"},
    };
    for (size_t i = 0; i < sizeof progs / sizeof *progs; i++) conventions(progs[i][0], progs[i][1]);

    // Missing values and bad numbers are usage errors too.
    int rc = run(RESNET_TRAIN, "x.ini --set");
    CHECK(rc == 2 && strstr(errbuf, "'--set' needs a value"), "missing value: %d '%s'", rc, errbuf);
    rc = run(RESNET_EVAL, "m.ckpt --data d --batch 12abc");
    CHECK(rc == 2 && strstr(errbuf, "--batch: expected an integer in [1, 4096], got '12abc'"), "bad number: %d '%s'", rc, errbuf);
    rc = run(RESNET_PREDICT, "m.ckpt --raw-input x.bin --shape 1,3,,4");
    CHECK(rc == 2 && strstr(errbuf, "--shape: expected N,C,H,W"), "bad shape: %d '%s'", rc, errbuf);
    rc = run(RESNET_BENCH, "x.ini --iters 0");
    CHECK(rc == 2 && strstr(errbuf, "--iters"), "out of range: %d '%s'", rc, errbuf);
    rc = run(RESNET_EXPORT, "--config x.ini --seed -3 -o y.onnx");
    CHECK(rc == 2 && strstr(errbuf, "--seed"), "negative seed: %d '%s'", rc, errbuf);

    // resnet-train: an empty config, and one without training data, name the file, exit 2.
    char args[1400];
    snprintf(args, sizeof args, "'%s'", write_file("empty.ini", ""));
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 2 && strstr(errbuf, "empty.ini: no [section]"), "empty config: %d '%s'", rc, errbuf);
    snprintf(args, sizeof args, "'%s'", write_file("nodata.ini", "[model]\ndepth = 18\n"));
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 2 && strstr(errbuf, "nodata.ini: [data] sets neither train_dir nor train_list"), "no [data]: %d '%s'", rc, errbuf);
    const char *dup = write_file("dup.ini", "[model]\ndepth = 18\n[data]\ntrain_dir = t\nsize = 8\nsize = 9\n");
    snprintf(args, sizeof args, "'%s'", dup);
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 2 && strstr(errbuf, "dup.ini:6: [data] size is set twice (first at line 5)"), "dup key: %d '%s'", rc, errbuf);

    // --print-config through the program: print, read back, print again is byte-identical.
    snprintf(args, sizeof args, "--print-config '%s/configs/resnet50v1.ini' --set data.train_dir=/x --set optim.lr=0.4",
             RN_SOURCE_DIR);
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 0 && strstr(out, "\n[data]\ntrain_dir = /x\n") && strstr(out, "\nlr = 0.4\n") && !errbuf[0],
          "--print-config: %d '%.200s'", rc, errbuf);
    static char first[sizeof out];
    memcpy(first, out, sizeof out);
    snprintf(args, sizeof args, "--print-config '%s'", write_file("printed.ini", first));
    rc = run(RESNET_TRAIN, args);
    CHECK(rc == 0 && strcmp(out, first) == 0, "--print-config of a printed config differs (exit %d)", rc);

}

int main(void) {
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    expect_error("unknown_key.ini", "[model]\ndepth = 50\n\ncolour = blue\n", "unknown_key.ini:4", "unknown key 'colour'");
    expect_error("unknown_section.ini", "# c\n[modle]\ndepth = 50\n", "unknown_section.ini:2", "unknown section [modle]");
    expect_error("bad_depth.ini", "[model]\ndepth = 51\n", "bad_depth.ini:2", "expected one of 18, 34, 50, 101, 152");
    expect_error("bad_int.ini", "[model]\nnum_classes = ten\n", "bad_int.ini:2", "expected an integer");
    expect_error("bad_range.ini", "[model]\nversion = 3\n", "bad_range.ini:2", "out of range");
    expect_error("bad_bool.ini", "[model]\nbottleneck = maybe\n", "bad_bool.ini:2", "expected yes or no");
    expect_error("no_equals.ini", "[model]\ndepth 50\n", "no_equals.ini:2", "expected 'key = value'");
    expect_error("outside.ini", "depth = 50\n", "outside.ini:1", "outside any section");
    expect_error("header.ini", "[model\n", "header.ini:1", "malformed section header");
    expect_error("stem.ini", "[model]\nstem = tiny\n", "stem.ini:2", "imagenet, small");
    expect_error("v15.ini", "[model]\nversion = 2\nstride_in_3x3 = yes\n", "v15.ini", "version 1 only");
    {
        rn_config c;
        rn_err err = {{0}};
        CHECK(rn_config_load(&c, "/nonexistent/x.ini", NULL, 0, &err) == -1, "missing file accepted");
        CHECK(strstr(err.msg, "/nonexistent/x.ini") && strstr(err.msg, "cannot open"), "missing file: '%s'", err.msg);
        const char *ok = write_file("ok.ini", "[model]\ndepth = 18 # trailing comment\nversion = 1\n");
        const char *over[2] = {"model.num_classes=10", "model.width=32"};
        CHECK(rn_config_load(&c, ok, over, 2, &err) == 0, "valid config refused: %s", err.msg);
        CHECK(c.model.depth == 18 && c.model.version == 1 && c.model.num_classes == 10 && c.model.width == 32,
              "values: depth %d version %d classes %d width %d", c.model.depth, c.model.version, c.model.num_classes,
              c.model.width);
        CHECK(c.model.blocks[2] == 2 && c.model.bottleneck == 0, "depth 18 resolves to basic 2,2,2,2");
        const char *bad[1] = {"model.depth=19"};
        CHECK(rn_config_load(&c, ok, bad, 1, &err) == -1 && strstr(err.msg, "--set model.depth=19"),
              "bad override: '%s'", err.msg);
    }
    expect_exit(write_file("exit.ini", "[model]\ndepth = 50\nfoo = 1\n"), 2, "exit.ini:3");
    expect_exit("/nonexistent.ini", 2, "cannot open");
    expect_exit(write_file("good.ini", "[model]\ndepth = 18\n"), 0, NULL);
    test_programs();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary();
}
