// test_config.c — bad configs give a message naming file:line, and resnet-info exits with 2.
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

// resnet-info's exit status and stderr for a config file.
static void expect_exit(const char *path, int code, const char *want) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>%s/stderr.txt >/dev/null", RESNET_INFO, path, dir);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == code, "resnet-info %s: exit %d, want %d", path, WEXITSTATUS(st), code);
    char buf[2048] = "", p[512];
    snprintf(p, sizeof p, "%s/stderr.txt", dir);
    FILE *f = fopen(p, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
    }
    if (want) CHECK(strstr(buf, want) != NULL, "resnet-info %s: stderr '%s' lacks '%s'", path, buf, want);
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
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary();
}
