// test_config_table.c — the key tables and the one number parser: strict numbers, the config
// edges of issue 12 (each an error naming file:line), --print-config round trips, and the
// generated key reference in docs/TRAINING.md.
#define _POSIX_C_SOURCE 200809L  // open_memstream, mkdtemp
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/config.h"
#include "src/parse.h"
#include "tests/check.h"

static char dir[] = "/tmp/rn_test_config_table_XXXXXX";

static const char *write_bytes(const char *name, const char *text, size_t n) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, n, f);
    fclose(f);
    return path;
}
static const char *write_file(const char *name, const char *text) { return write_bytes(name, text, strlen(text)); }

static rn_config cfg, cfg2;  // large: off the stack

// Loading `text` fails with both strings in the message.
static void expect_error(const char *name, const char *text, size_t n, const char *want1, const char *want2) {
    const char *path = write_bytes(name, text, n ? n : strlen(text));
    rn_err err = {{0}};
    CHECK(rn_config_load(&cfg, path, NULL, 0, &err) == -1, "%s: expected an error", name);
    CHECK(strstr(err.msg, want1) != NULL, "%s: message '%s' lacks '%s'", name, err.msg, want1);
    if (want2) CHECK(strstr(err.msg, want2) != NULL, "%s: message '%s' lacks '%s'", name, err.msg, want2);
}

static void test_numbers(void) {
    static const struct {
        const char *s;
        int ok;
        long long v;
    } ints[] = {{"0", 1, 0}, {"-5", 1, -5}, {"+7", 1, 7}, {"0x1F", 1, 31}, {"9223372036854775807", 1, 9223372036854775807LL},
                {"-9223372036854775808", 1, -9223372036854775807LL - 1}, {"9223372036854775808", 0, 0},
                {"99999999999999999999", 0, 0}, {"", 0, 0}, {"12abc", 0, 0}, {" 1", 0, 0}, {"1 ", 0, 0},
                {"0x", 0, 0}, {"0x0x1", 0, 0}, {"--1", 0, 0}, {"1.0", 0, 0}, {"1e3", 0, 0}};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        long long v = -42;
        int rc = rn_parse_i64(ints[i].s, &v);
        CHECK((rc == 0) == ints[i].ok && (!ints[i].ok || v == ints[i].v), "i64 '%s': rc %d value %lld", ints[i].s, rc, v);
    }
    unsigned long long u;
    CHECK(rn_parse_u64("18446744073709551615", &u) == 0 && u == 18446744073709551615ULL, "u64 max");
    CHECK(rn_parse_u64("18446744073709551616", &u) == -1 && rn_parse_u64("-1", &u) == -1, "u64 overflow, sign");
    static const struct {
        const char *s;
        int ok;
        double v;
    } reals[] = {{"1e5", 1, 1e5}, {"-0.25", 1, -0.25}, {".5", 1, 0.5}, {"5.", 1, 5}, {"3/4", 1, 0.75},
                 {"4 / 3", 1, 4.0 / 3.0}, {"2.5E-3", 1, 2.5e-3}, {"1e", 0, 0}, {"1e+", 0, 0}, {"12abc", 0, 0},
                 {"nan", 0, 0}, {"inf", 0, 0}, {"-infinity", 0, 0}, {"1e400", 0, 0}, {"1e-400", 0, 0},
                 {"0x1p3", 0, 0}, {".", 0, 0}, {"", 0, 0}, {"1/0", 0, 0}, {"1/", 0, 0}, {" 1", 0, 0}, {"1,5", 0, 0}};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
        double v = -42;
        int rc = rn_parse_f64(reals[i].s, &v);
        CHECK((rc == 0) == reals[i].ok && (!reals[i].ok || v == reals[i].v), "f64 '%s': rc %d value %.17g", reals[i].s, rc, v);
    }
}

static void test_edges(void) {
    // A key given twice names both lines; so does a section given twice.
    expect_error("dup_key.ini", "[model]\ndepth = 18\n\nwidth = 8\ndepth = 34\n", 0, "dup_key.ini:5", "first at line 2");
    expect_error("dup_section.ini", "[model]\ndepth = 18\n[data]\nsize = 8\nresize = 8\n[model]\nwidth = 8\n", 0,
                 "dup_section.ini:6", "first at line 1");
    // No section at all: the file is named (an empty file, or comments only).
    expect_error("empty.ini", "", 0, "empty.ini", "no [section]");
    expect_error("comments.ini", "# nothing\n\n; here\n", 0, "comments.ini", "no [section]");
    // Empty list elements are errors, not skipped.
    expect_error("gap.ini", "[model]\nblocks = 3,,4\n", 0, "gap.ini:2", "value 2 of '3,,4' is empty");
    expect_error("trailing.ini", "[model]\nblocks = 3,4,\n", 0, "trailing.ini:2", "empty");
    expect_error("nine.ini", "[model]\nblocks = 1,1,1,1,1,1,1,1,1\n", 0, "nine.ini:2", "more than 8");
    expect_error("milestones.ini", "[schedule]\nmilestones = 30, 20\n", 0, "milestones.ini:2", "increasing");
    // A NUL byte is an error naming its own line (it used to shift the later line numbers).
    static const char nul[] = "[model]\ndepth = 18\nwid\0th = 8\nversion = 9\n";
    expect_error("nul.ini", nul, sizeof nul - 1, "nul.ini:3", "NUL byte");
    // Strict numbers in every section.
    expect_error("e.ini", "[optim]\n\nlr = 1e\n", 0, "e.ini:3", "[optim] lr: expected a number in [0, 1e+06], got '1e'");
    expect_error("abc.ini", "[model]\nwidth = 12abc\n", 0, "abc.ini:2", "width: expected an integer in [1, 4096]");
    expect_error("big.ini", "[model]\nnum_classes = 99999999999999999999\n", 0, "big.ini:2", "num_classes");
    expect_error("range.ini", "[model]\nnum_classes = 1000001\n", 0, "range.ini:2", "1000001 is out of range");
    expect_error("nan.ini", "[optim]\nmomentum = nan\n", 0, "nan.ini:2", "momentum");
    expect_error("inf.ini", "[augment]\nbrightness = inf\n", 0, "inf.ini:2", "brightness");
    expect_error("seed.ini", "[train]\nseed = 18446744073709551616\n", 0, "seed.ini:2", "expected an integer >= 0");
    expect_error("mean.ini", "[data]\nmean = 0.5, nan, 0.5\n", 0, "mean.ini:2", "'nan' is not a number");
    expect_error("std.ini", "[data]\nstd = 0.2, 0, 0.2\n", 0, "std.ini:2", "each > 0");
    expect_error("scale.ini", "[augment]\nscale = 1, 0.5\n", 0, "scale.ini:2", "out of order");
    expect_error("wd.ini", "[optim]\nnorm_weight_decay = -0.5\n", 0, "wd.ini:2", "or -1");
    // Unknown names: the section's keys, and the nearest one.
    expect_error("typo.ini", "[model]\nwidht = 8\n", 0, "did you mean 'width'?", "its keys: blocks, bottleneck, depth");
    expect_error("typo_sec.ini", "[modle]\n", 0, "typo_sec.ini:1", "did you mean [model]?");
    expect_error("far.ini", "[train]\ncolour = 1\n", 0, "unknown key 'colour' in [train]; its keys: epochs", NULL);

    const char *ok = write_file("ok.ini", "[model]\ndepth = 18\n");
    rn_err err = {{0}};
    // --set has no length limit: 1,100 blanks before the value are trimmed, not truncated into it.
    char *longset = malloc(2000);
    snprintf(longset, 2000, "model.width=%1100s", "32");
    const char *over[] = {longset};
    CHECK(rn_config_load(&cfg, ok, over, 1, &err) == 0 && cfg.model.width == 32, "--set of %zu bytes: %s",
          strlen(longset), err.msg);
    // ... and a value too long for its field is refused whole, naming the --set.
    memset(longset, 'x', 1999);
    memcpy(longset, "train.run_dir=", 14);
    longset[1999] = 0;
    CHECK(rn_config_load(&cfg, ok, over, 1, &err) == -1 && strstr(err.msg, "--set train.run_dir=xxx") &&
              strstr(err.msg, "too long"),
          "overlong path: '%s'", err.msg);
    free(longset);
    // Data options keep their own entry point (tests and tools set single keys).
    rn_data_opts o = rn_data_opts_default();
    CHECK(rn_data_opts_set(&o, "augment", "ratio", "3/4, 4/3", &err) == 0 && o.ratio_max == 4.0 / 3.0, "ratio");
    CHECK(rn_data_opts_set(&o, "augment", "scale_min", "0.25", &err) == 0 && o.scale_min == 0.25, "alias");
}

static char *print_config(const rn_config *c, size_t *n) {
    char *text = NULL;
    FILE *f = open_memstream(&text, n);
    rn_config_print(c, f);
    fclose(f);
    return text;
}

// Loads path (with overrides), prints, reads the print back and prints again: the two prints are
// byte-identical and the two configs equal key by key.
static void round_trip(const char *path, const char *const *over, int n_over) {
    rn_err err = {{0}};
    if (rn_config_load(&cfg, path, over, n_over, &err)) {
        CHECK(0, "%s does not load: %s", path, err.msg);
        return;
    }
    size_t n1, n2;
    char *t1 = print_config(&cfg, &n1);
    const char *p = write_bytes("printed.ini", t1, n1);
    CHECK(rn_config_load(&cfg2, p, NULL, 0, &err) == 0, "%s: its print does not load: %s", path, err.msg);
    char *t2 = print_config(&cfg2, &n2);
    CHECK(n1 == n2 && memcmp(t1, t2, n1) == 0, "%s: print, read back, print again differs", path);
    CHECK(rn_config_equal(&cfg, &cfg2), "%s: the config read back differs", path);
    free(t1);
    free(t2);
}

static void test_print_config(void) {
    char cdir[600];
    snprintf(cdir, sizeof cdir, "%s/configs", RN_SOURCE_DIR);
    DIR *d = opendir(cdir);
    CHECK(d != NULL, "%s", cdir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".ini")) continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", cdir, e->d_name);
        round_trip(p, NULL, 0);
        n++;
    }
    if (d) closedir(d);
    CHECK(n >= 11, "%d configs in configs/", n);
    // Values of every kind away from their defaults: explicit blocks, a path for onnx, fractions,
    // floats that need 9 digits, the largest seed, -1 as "same as weight_decay".
    const char *odd = write_file("odd.ini",
                                 "[model]\nblocks = 1, 2\nbottleneck = yes\nversion = 1\nstride_in_3x3 = yes\n"
                                 "[data]\ntrain_dir = /d/train\nmean = 0.1, 0.2, 0.3\nstd = 0.123456789, 1e-3, 7\n"
                                 "seed = 18446744073709551615\n[augment]\nratio = 3/4, 4/3\nscale_max = 0.9\n"
                                 "[train]\nprogress = plain\n[optim]\nlr = 0.123456789012345678\nweight_decay = 1e-7\n"
                                 "bias_weight_decay = -1\n[schedule]\ntype = multistep\nmilestones = 2, 5, 9\n"
                                 "resolution = epoch\n[export]\nonnx = out/m.onnx\nweights = last\n");
    round_trip(odd, NULL, 0);
    CHECK(cfg2.model.depth == 0 && cfg2.model.n_stages == 2 && cfg2.model.blocks[1] == 2 && cfg2.model.bottleneck,
          "explicit blocks survive");
    CHECK(cfg2.data.std[0] == 0.123456789f && cfg2.optim.lr == 0.123456789012345678 && cfg2.data.ratio_max == 4.0 / 3.0,
          "floats exact");
    CHECK(!strcmp(cfg2.export_opts.path, "out/m.onnx") && cfg2.export_opts.onnx && !cfg2.export_opts.use_best, "onnx path");
    CHECK(!strcmp(cfg2.train.run_dir, "runs/odd"), "run_dir resolved from the file name: '%s'", cfg2.train.run_dir);
    const char *sets[] = {"export.onnx=no", "model.depth=101", "data.workers=0"};
    round_trip(odd, sets, 3);
    CHECK(!cfg2.export_opts.onnx && cfg2.model.depth == 101 && cfg2.model.blocks[2] == 23 && cfg2.data.workers == 0,
          "overrides printed");
}

// docs/TRAINING.md holds exactly `resnet-train --print-config-doc` between its markers.
static void test_doc(void) {
    char p[600];
    snprintf(p, sizeof p, "%s/docs/TRAINING.md", RN_SOURCE_DIR);
    FILE *f = fopen(p, "rb");
    CHECK(f != NULL, "%s", p);
    if (!f) return;
    static char page[1 << 17];
    size_t n = fread(page, 1, sizeof page - 1, f);
    fclose(f);
    page[n] = 0;
    const char *begin = strstr(page, "<!-- generated by `resnet-train --print-config-doc`");
    const char *body = begin ? strchr(begin, '\n') : NULL, *end = strstr(page, "<!-- end of the generated reference -->");
    CHECK(body && end && end > body, "markers of the generated reference in %s", p);
    if (!body || !end || end < body) return;
    body++;
    char *gen = NULL;
    size_t gn = 0;
    FILE *g = open_memstream(&gen, &gn);
    rn_config_doc(g);
    fclose(g);
    CHECK((size_t)(end - body) == gn && memcmp(body, gen, gn) == 0,
          "docs/TRAINING.md's key reference differs from --print-config-doc: run tools/update-config-doc.sh");
    CHECK(strstr(gen, "| `depth` |") && strstr(gen, "| `final_div_factor` |") && strstr(gen, "### [export]"),
          "the reference covers every section");
    free(gen);
}

int main(void) {
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    test_numbers();
    test_edges();
    test_print_config();
    test_doc();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary();
}
