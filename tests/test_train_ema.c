// test_train_ema.c — whole tiny runs with issue 14's additions on: an EMA of the weights (every 2
// steps), AdamW and gradient clipping. A run stopped twice and resumed ends bit-identical to one
// that never stopped (weights, both AdamW moments, the EMA and its update count); the checkpoint
// is format version 3 with EMA and second-moment entries; metrics.csv has the EMA's columns; the
// EMA is exported; the tools load a checkpoint's EMA (--ema) as the run's export has it; during the
// lr warm-up the EMA follows the weights (torchvision resets it). And
// configs/resnet50v1-torchvision-recipe.ini loads with the recipe's values.
#define _GNU_SOURCE
#include <math.h>

#include <sys/wait.h>

#include "export/model_io.h"
#include "optim/checkpoint.h"
#include "src/config.h"
#include "src/train.h"
#include "tests/check.h"
#include "tests/test_data_util.h"
#include "tests/test_export_util.h"  // graph_diff
#include "tests/test_run_util.h"

static char dir[256], cfg_path[512];

static const char *config_text =
    "[model]\nblocks = 1,1\nbottleneck = no\nversion = 2\nnum_classes = 4\nwidth = 16\nstem = small\ninput_size = 16\n"
    "[data]\ntrain_dir = %s/train\nval_dir = %s/val\nsize = 16\nresize = 16\nbatch_size = 8\nworkers = 2\nseed = 3\n"
    "[augment]\nflip = yes\npad_crop = 2\n"
    "[train]\nepochs = 2\neval_batch_size = 12\nprogress = off\nlabel_smoothing = 0.1\nema_decay = 0.9\nema_every_steps = 2\n"
    "[optim]\ntype = adamw\nlr = 0.003\nweight_decay = 0.05\nnorm_weight_decay = 0\nclip_grad_norm = 1\n"
    "[schedule]\ntype = cosine\nwarmup_epochs = 0\n"
    "[checkpoint]\nevery_steps = 5\n"
    "[export]\nonnx = yes\nweights = ema\n";

static int train(const char *run, const char *resume, const char *const *sets, int n_sets, rn_err *err) {
    return train_run(dir, cfg_path, run, resume, sets, n_sets, err);
}

static int count_kind(const rn_ckpt *c, int kind) {
    int n = 0;
    for (int i = 0; i < c->n_entries; i++) n += c->entries[i].kind == kind;
    return n;
}

static void test_resume(void) {
    rn_err e;
    CHECK(train("A", NULL, NULL, 0, &e) == RN_TRAIN_DONE, "A: %s", e.msg);
    const char *stop5[] = {"train.stop_after_steps=5"}, *stop14[] = {"train.stop_after_steps=14"};
    CHECK(train("B", NULL, stop5, 1, &e) == RN_TRAIN_STOPPED, "B stops at step 5: %s", e.msg);
    CHECK(train("B", "B", stop14, 1, &e) == RN_TRAIN_STOPPED, "B stops at step 14: %s", e.msg);
    CHECK(train("B", "B", NULL, 0, &e) == RN_TRAIN_DONE, "B finishes: %s", e.msg);
    expect_same_run_ckpt(dir, "A/last.ckpt", "B/last.ckpt", "EMA + AdamW + clip: stopped twice and resumed vs uninterrupted");
    expect_same_run_ckpt(dir, "A/best.ckpt", "B/best.ckpt", "best.ckpt");
    rn_ckpt *c = run_last_ckpt(dir, "A");
    if (c) {
        int values = count_kind(c, RN_CKPT_VALUE), m = count_kind(c, RN_CKPT_MOMENTUM);
        CHECK(c->version == 3, "version 3 (EMA and second-moment entries), got %u", c->version);
        CHECK(count_kind(c, RN_CKPT_EMA) == values && values > 0, "an EMA entry per value (%d, %d)",
              count_kind(c, RN_CKPT_EMA), values);
        CHECK(count_kind(c, RN_CKPT_MOMENT2) == m && m > 0, "a second moment per first moment");
        const char *n = rn_ckpt_meta(c, "ema.n_averaged");
        CHECK(n && atoi(n) > 0, "EMA update count saved (%s)", n ? n : "-");
        rn_ckpt_free(c);
    }
    char p[600];
    snprintf(p, sizeof p, "%s/A/metrics.csv", dir);
    FILE *f = fopen(p, "r");
    CHECK(f != NULL, "metrics.csv");
    if (f) {
        char line[1024];
        CHECK(fgets(line, sizeof line, f) && strstr(line, ",val_loss_ema,val_top1_ema,val_top5_ema"), "header: %s", line);
        int rows = 0;
        while (fgets(line, sizeof line, f)) {
            double x[12];
            int k = sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &x[0], &x[1], &x[2], &x[3], &x[4],
                           &x[5], &x[6], &x[7], &x[8], &x[9], &x[10], &x[11]);
            CHECK(k == 12 && x[9] > 0 && x[10] >= 0 && x[10] <= 100 && x[11] >= x[10], "row with the EMA's loss, top-1, top-5: %s",
                  line);
            rows++;
        }
        fclose(f);
        CHECK(rows == 2, "2 epochs, %d rows", rows);
    }
    snprintf(p, sizeof p, "%s/A/model.onnx", dir);
    CHECK(access(p, F_OK) == 0, "the EMA exported to %s", p);
    snprintf(p, sizeof p, "%s/A/metrics.svg", dir);
    char *svg = NULL;
    FILE *s = fopen(p, "r");
    if (s) {
        static char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf - 1, s);
        buf[n] = 0, svg = buf;
        fclose(s);
    }
    CHECK(!s || strstr(svg, "val top-1 (EMA)"), "the plot shows the EMA");
}

// Bit-equality of every EMA entry with its value entry.
static int ema_equals_weights(const rn_ckpt *c) {
    int same = 0, n = 0;
    for (int i = 0; i < c->n_entries; i++) {
        const rn_ckpt_entry *v = &c->entries[i];
        if (v->kind != RN_CKPT_VALUE) continue;
        const rn_ckpt_entry *a = rn_ckpt_find(c, v->name, RN_CKPT_EMA);
        n++;
        same += a && a->numel == v->numel && !memcmp(a->data, v->data, v->numel * 4);
    }
    return n > 0 && same == n;
}

static void test_warmup(void) {
    rn_err e;
    // Every step during the warm-up epoch: the average is reset after each update, so it is the weights.
    const char *w[] = {"train.stop_after_steps=3", "train.ema_every_steps=1", "schedule.warmup_epochs=1"};
    CHECK(train("W", NULL, w, 3, &e) == RN_TRAIN_STOPPED, "W: %s", e.msg);
    const char *n[] = {"train.stop_after_steps=3", "train.ema_every_steps=1"};
    CHECK(train("N", NULL, n, 2, &e) == RN_TRAIN_STOPPED, "N: %s", e.msg);
    rn_ckpt *cw = run_last_ckpt(dir, "W"), *cn = run_last_ckpt(dir, "N");
    if (cw && cn) {
        CHECK(ema_equals_weights(cw), "warm-up: the EMA equals the weights");
        const char *k = rn_ckpt_meta(cw, "ema.n_averaged");
        CHECK(k && !strcmp(k, "0"), "warm-up: update count reset (%s)", k ? k : "-");
        CHECK(!ema_equals_weights(cn), "no warm-up: the EMA lags the weights");
        k = rn_ckpt_meta(cn, "ema.n_averaged");
        CHECK(k && !strcmp(k, "3"), "3 updates (%s)", k ? k : "-");
    }
    rn_ckpt_free(cw);
    rn_ckpt_free(cn);
    // weights = ema without an EMA is refused by the config check.
    const char *bad[] = {"train.ema_decay=0"};
    CHECK(train("X", NULL, bad, 1, &e) != RN_TRAIN_DONE && strstr(e.msg, "ema_decay"), "export ema without EMA: %s", e.msg);
}

// Parameters and statistics of a that b lacks (by name) or holds other values for, bit for bit;
// prints the first few. The ONNX importer orders tensors its own way, so graph_diff does not apply.
static int weights_diff(const rn_graph *a, const rn_graph *b) {
    int d = 0, n = 0;
    for (int i = 0; i < a->n_tensors; i++) {
        const rn_tensor *x = &a->tensors[i];
        if (x->role != RN_PARAM && x->role != RN_STATE) continue;
        int j = rn_graph_find(b, x->name);
        const rn_tensor *y = j >= 0 ? &b->tensors[j] : NULL;
        size_t k = rn_tensor_numel(x);
        int same = y && y->data && rn_tensor_numel(y) == k && !memcmp(x->data, y->data, k * sizeof(float));
        if (!same && d++ < 3) fprintf(stderr, "weights_diff: %s %s\n", x->name, y ? "differs" : "is missing");
        n++;
    }
    return n > 0 ? d : -1;
}

static int run_status(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// What resnet-eval prints for MODEL on the run's val split with FLAGS: its counts (stdout) and its
// loss (stderr), which tells two sets of weights apart where a tiny split's counts may not.
static void eval_output(const char *model, const char *flags, char *out, size_t cap) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s --data '%s/val' --workers 0 2>&1", RESNET_EVAL, model, flags, dir);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    CHECK(st == 0 && strstr(out, "top-1") && strstr(out, "loss"), "%s: status %d, '%s'", cmd, st, out);
}

// Run A ended with an export of its EMA (weights = ema): loading last.ckpt's EMA gives the same
// model, bit for bit, in the library and through resnet-export --ema; its trained weights differ.
static void test_load_ema(void) {
    char onnx[600], ckpt[600], cli_out[600], cmd[2048], bare[600];
    snprintf(onnx, sizeof onnx, "%s/A/model.onnx", dir);
    snprintf(ckpt, sizeof ckpt, "%s/A/last.ckpt", dir);
    rn_graph *exported = NULL, *ema = NULL, *trained = NULL, *cli = NULL;
    rn_err e;
    CHECK(rn_model_load(onnx, &exported, &e) == 0, "%s: %s", onnx, e.msg);
    CHECK(rn_model_load_weights(ckpt, RN_WEIGHTS_EMA, &ema, NULL, &e) == 0, "EMA of %s: %s", ckpt, e.msg);
    CHECK(rn_model_load_weights(ckpt, RN_WEIGHTS_TRAINED, &trained, NULL, &e) == 0, "%s: %s", ckpt, e.msg);
    if (exported && ema && trained) {
        CHECK(weights_diff(ema, exported) == 0 && weights_diff(exported, ema) == 0,
              "the checkpoint's EMA is the model the run exported");
        CHECK(weights_diff(trained, exported) > 0, "the trained weights are not the EMA");
    }
    snprintf(cli_out, sizeof cli_out, "%s/A/ema-cli.onnx", dir);
    snprintf(cmd, sizeof cmd, "'%s' '%s' --ema -o '%s' >/dev/null", RESNET_EXPORT, ckpt, cli_out);
    CHECK(run_status(cmd) == 0, "%s", cmd);
    CHECK(rn_model_load(cli_out, &cli, &e) == 0, "%s: %s", cli_out, e.msg);
    if (cli && exported) CHECK(graph_diff(cli, exported) == 0, "resnet-export --ema writes the run's EMA export");
    char a[1024], b[1024];
    eval_output(ckpt, "--ema", a, sizeof a);
    eval_output(onnx, "", b, sizeof b);
    CHECK(!strcmp(a, b), "resnet-eval --ema of last.ckpt prints what the EMA export gets: '%s' vs '%s'", a, b);
    // Files with no EMA: an ONNX file, a checkpoint saved without one. Errors name the file.
    rn_graph *none = NULL;
    CHECK(rn_model_load_weights(onnx, RN_WEIGHTS_EMA, &none, NULL, &e) != 0 && !none && strstr(e.msg, onnx) &&
              strstr(e.msg, "no EMA"), "ONNX file: %s", e.msg);
    snprintf(bare, sizeof bare, "%s/A/no-ema.ckpt", dir);
    if (trained) CHECK(rn_checkpoint_save(bare, trained, NULL, NULL, &e) == 0, "save %s: %s", bare, e.msg);
    CHECK(rn_model_load_weights(bare, RN_WEIGHTS_EMA, &none, NULL, &e) != 0 && !none && strstr(e.msg, bare) &&
              strstr(e.msg, "no EMA"), "checkpoint without EMA: %s", e.msg);
    snprintf(cmd, sizeof cmd, "'%s' '%s' --ema -o '%s/A/x.onnx' 2>/dev/null", RESNET_EXPORT, bare, dir);
    CHECK(run_status(cmd) == 1, "resnet-export --ema of a checkpoint without EMA exits 1");
    snprintf(cmd, sizeof cmd, "'%s' --config '%s' --ema -o '%s/A/x.onnx' 2>/dev/null", RESNET_EXPORT, cfg_path, dir);
    CHECK(run_status(cmd) == 2, "resnet-export --ema --config exits 2");
    rn_graph_destroy(exported);
    rn_graph_destroy(ema);
    rn_graph_destroy(trained);
    rn_graph_destroy(cli);
}

static void test_recipe(void) {
    static rn_config c;
    rn_err e;
    const char *path = RN_SOURCE_DIR "/configs/resnet50v1-torchvision-recipe.ini";
    CHECK(rn_config_load(&c, path, NULL, 0, &e) == 0, "%s loads: %s", path, e.msg);
    CHECK(c.model.depth == 50 && c.model.version == 1, "ResNet-50 v1");
    CHECK(c.train.epochs == 600 && c.train.label_smoothing == 0.1, "600 epochs, label smoothing 0.1");
    CHECK(c.train.ema_decay == 0.99998 && c.train.ema_every_steps == 32, "EMA 0.99998 every 32 steps");
    CHECK(c.optim.type == RN_OPT_SGD && c.optim.lr == 0.5 && c.optim.lr_base_batch == 1024 && c.optim.momentum == 0.9,
          "SGD lr 0.5 at 1024");
    CHECK(c.optim.weight_decay == 2e-5 && c.optim.norm_weight_decay == 0, "wd 2e-5, none on BN");
    CHECK(c.schedule.type == RN_SCHED_COSINE && c.schedule.warmup_epochs == 5, "cosine, 5 warm-up epochs");
    CHECK(c.data.size == 176, "train crop 176");
}

int main(void) {
    tmp_dir(dir, sizeof dir, "train_ema");
    make_band_dataset(dir, 24, 8, 9, 95, 3);
    write_test_config(dir, config_text, cfg_path, sizeof cfg_path);
    test_recipe();
    test_resume();
    test_load_ema();
    test_warmup();
    if (!check_failed) rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return check_summary();
}
