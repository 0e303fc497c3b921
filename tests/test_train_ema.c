// test_train_ema.c — whole tiny runs with issue 14's additions on: an EMA of the weights (every 2
// steps), AdamW and gradient clipping. A run stopped twice and resumed ends bit-identical to one
// that never stopped (weights, both AdamW moments, the EMA and its update count); the checkpoint
// is format version 3 with EMA and second-moment entries; metrics.csv has the EMA's columns; the
// EMA is exported; during the lr warm-up the EMA follows the weights (torchvision resets it). And
// configs/resnet50v1-torchvision-recipe.ini loads with the recipe's values.
#define _GNU_SOURCE
#include <math.h>

#include "optim/checkpoint.h"
#include "src/config.h"
#include "src/train.h"
#include "tests/check.h"
#include "tests/test_data_util.h"
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
    test_warmup();
    if (!check_failed) rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return check_summary();
}
