// test_train.c — whole training runs on a tiny generated JPEG dataset (4 classes, 16 px) with a
// tiny ResNet v2: the loss drops; metrics.csv, the plot and both checkpoints appear; a run stopped
// and resumed (mid-epoch, at an epoch's end, with gradient accumulation) ends bit-identical to one
// that never stopped; a NaN loss stops the run and keeps the last checkpoint; fine-tuning from a
// checkpoint with another class count swaps the head and honours freezing; SIGTERM saves and exits.
// Mixup / cutmix with repeated augmentation resume exactly as well.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>

#include "optim/checkpoint.h"
#include "src/resnet.h"
#include "src/rng.h"
#include "src/train.h"
#include "src/train_metrics.h"
#include "tests/check.h"
#include "tests/test_data_util.h"
#include "tests/test_run_util.h"

static char dir[256];

static void make_dataset(void) { make_band_dataset(dir, 24, 8, 9, 95, 3); }

static const char *config_text =
    "[model]\nblocks = 1,1\nbottleneck = no\nversion = 2\nnum_classes = 4\nwidth = 16\nstem = small\ninput_size = 16\n"
    "[data]\ntrain_dir = %s/train\nval_dir = %s/val\nsize = 16\nresize = 16\nbatch_size = 8\nworkers = 2\nseed = 3\n"
    "[augment]\nflip = yes\npad_crop = 2\n"
    "[train]\nepochs = 3\neval_batch_size = 12\nprogress = off\nlabel_smoothing = 0.1\n"
    "[optim]\nlr = 0.2\nnesterov = yes\nnorm_weight_decay = 0\n"
    "[schedule]\ntype = cosine\nwarmup_epochs = 1\n"
    "[checkpoint]\nevery_steps = 5\n"
    "[export]\nonnx = no\n";

static char cfg_path[512];

// Trains with the test config plus overrides; returns rn_train_run's status.
static int train(const char *run, const char *resume, const char *const *sets, int n_sets, rn_err *err) {
    return train_run(dir, cfg_path, run, resume, sets, n_sets, err);
}

static char *file_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

// Every tensor and momentum buffer bit-identical, and the same position and history.
static void expect_same_ckpt(const char *a, const char *b, const char *what) { expect_same_run_ckpt(dir, a, b, what); }

static void test_run_and_outputs(void) {
    rn_err e;
    // `onnx = PATH`: the run exports there (the default is <run_dir>/model.onnx).
    char onnx_set[600];
    snprintf(onnx_set, sizeof onnx_set, "export.onnx=%s/A/exported.onnx", dir);
    const char *onnx[] = {onnx_set};
    int rc = train("A", NULL, onnx, 1, &e);
    CHECK(rc == RN_TRAIN_DONE, "run A: %d %s", rc, e.msg);
    char p[600];
    snprintf(p, sizeof p, "%s/A/metrics.csv", dir);
    char *csv = file_text(p);
    CHECK(csv != NULL, "metrics.csv written");
    if (!csv) return;
    CHECK(!strncmp(csv, rn_metrics_header, strlen(rn_metrics_header)) && csv[strlen(rn_metrics_header)] == '\n',
          "header exactly '%s'", rn_metrics_header);
    rn_epoch_row rows[3];
    int n = 0;
    char *line = strchr(csv, '\n');
    while (line && line[1] && n < 3) {
        rn_epoch_row *r = &rows[n];
        int k = sscanf(line + 1, "%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &r->epoch, &r->lr, &r->train_loss, &r->train_top1,
                       &r->val_loss, &r->val_top1, &r->val_top5, &r->img_per_s, &r->seconds);
        CHECK(k == 9 && r->epoch == n + 1, "row %d parses (%d fields)", n + 1, k);
        n++;
        line = strchr(line + 1, '\n');
    }
    CHECK(n == 3, "3 rows, got %d", n);
    if (n == 3) {
        CHECK(rows[2].train_loss < rows[0].train_loss * 0.8, "training loss drops: %g -> %g", rows[0].train_loss,
              rows[2].train_loss);
        CHECK(rows[2].val_top1 > 50, "val top-1 %g%% beats chance (25%%)", rows[2].val_top1);
        CHECK(rows[2].val_top5 == 100, "top-5 of 4 classes is 100%%");
        CHECK(rows[0].img_per_s > 0 && rows[0].seconds > 0, "timings");
    }
    snprintf(p, sizeof p, "%s/A/metrics.svg", dir);
    char *svg = file_text(p);
    CHECK(svg && !strncmp(svg, "<svg", 4) && strstr(svg, "</svg>") && strstr(svg, "polyline"), "SVG plot");
    {  // The run folder holds the effective config, which reads back as the run's own.
        static rn_config got, want;
        char rd[600];
        snprintf(rd, sizeof rd, "train.run_dir=%s/A", dir);
        const char *over[] = {rd, onnx_set};
        snprintf(p, sizeof p, "%s/A/config.ini", dir);
        CHECK(rn_config_load(&want, cfg_path, over, 2, &e) == 0 && rn_config_load(&got, p, NULL, 0, &e) == 0 &&
                  rn_config_equal(&got, &want),
              "A/config.ini reads back as the run's config: %s", e.msg);
    }
    snprintf(p, sizeof p, "%s/A/best.ckpt", dir);
    rn_graph *g;
    CHECK(rn_checkpoint_load_model(p, &g, &e) == 0, "best.ckpt loads as a model: %s", e.msg);
    if (g) rn_graph_destroy(g);
    // The export at the end, and fine-tuning from it.
    snprintf(p, sizeof p, "%s/A/exported.onnx", dir);
    CHECK(access(p, F_OK) == 0, "exported.onnx written where [export] onnx says");
    char set[700];
    snprintf(set, sizeof set, "train.init=%s", p);
    const char *sets[] = {set, "train.epochs=1", "schedule.warmup_epochs=0"};
    CHECK(train("G", NULL, sets, 3, &e) == RN_TRAIN_DONE, "fine-tune from ONNX: %s", e.msg);
}

static void test_resume(void) {
    rn_err e;
    const char *stop7[] = {"train.stop_after_steps=7"}, *stop12[] = {"train.stop_after_steps=12"},
               *stop21[] = {"train.stop_after_steps=21"};
    CHECK(train("B", NULL, stop7, 1, &e) == RN_TRAIN_STOPPED, "B stops mid-epoch: %s", e.msg);
    CHECK(train("B", "B/last.ckpt", stop12, 1, &e) == RN_TRAIN_STOPPED, "B stops at the end of epoch 1: %s", e.msg);
    CHECK(train("B", "B", stop21, 1, &e) == RN_TRAIN_STOPPED, "B stops in epoch 2: %s", e.msg);
    // A temporary that a killed save left behind (its PID gone) is removed when a run starts there.
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char stale[600];
    snprintf(stale, sizeof stale, "%s/B/last.ckpt.tmp.%ld", dir, (long)dead);
    write_bytes(stale, "partial", 7);
    CHECK(train("B", "B/last.ckpt", NULL, 0, &e) == RN_TRAIN_DONE, "B finishes: %s", e.msg);
    CHECK(access(stale, F_OK) != 0, "stale temporary checkpoint of a dead process removed at the start");
    expect_same_ckpt("A/last.ckpt", "B/last.ckpt", "stopped 3x and resumed vs uninterrupted");
    expect_same_ckpt("A/best.ckpt", "B/best.ckpt", "best.ckpt");
    // Gradient accumulation: 2 batches per step, stopped mid-epoch between steps.
    const char *acc[] = {"train.accum_steps=2", "train.epochs=2", "checkpoint.every_steps=3"};
    CHECK(train("C", NULL, acc, 3, &e) == RN_TRAIN_DONE, "C (accumulation): %s", e.msg);
    const char *acc_stop[] = {"train.accum_steps=2", "train.epochs=2", "checkpoint.every_steps=3",
                              "train.stop_after_steps=4"};
    CHECK(train("D", NULL, acc_stop, 4, &e) == RN_TRAIN_STOPPED, "D stops: %s", e.msg);
    CHECK(train("D", "D", acc, 3, &e) == RN_TRAIN_DONE, "D resumes: %s", e.msg);
    expect_same_ckpt("C/last.ckpt", "D/last.ckpt", "accumulation: stopped and resumed vs uninterrupted");
    // Mixup / cutmix and repeated augmentation depend on (seed, epoch, batch / position): exact resume too.
    const char *mix[] = {"train.epochs=2", "augment.mixup_alpha=0.3", "augment.cutmix_alpha=1", "data.repeated_aug=3"};
    CHECK(train("MX", NULL, mix, 4, &e) == RN_TRAIN_DONE, "MX (mixup, cutmix, RA): %s", e.msg);
    const char *mix_stop[] = {"train.epochs=2", "augment.mixup_alpha=0.3", "augment.cutmix_alpha=1", "data.repeated_aug=3",
                              "train.stop_after_steps=5"};
    CHECK(train("MY", NULL, mix_stop, 5, &e) == RN_TRAIN_STOPPED, "MY stops mid-epoch: %s", e.msg);
    CHECK(train("MY", "MY", mix, 4, &e) == RN_TRAIN_DONE, "MY resumes: %s", e.msg);
    expect_same_ckpt("MX/last.ckpt", "MY/last.ckpt", "mixup, cutmix, RA: stopped and resumed vs uninterrupted");
    // A changed batch size cannot continue the same batches.
    const char *b16[] = {"data.batch_size=4"};
    CHECK(train("B", "B/last.ckpt", b16, 1, &e) == RN_TRAIN_FAILED && strstr(e.msg, "batch_size"),
          "resume with another batch size refused: %s", e.msg);
    // best.ckpt holds no momentum: not resumable.
    CHECK(train("B", "B/best.ckpt", NULL, 0, &e) == RN_TRAIN_FAILED && strstr(e.msg, "last.ckpt"),
          "resume from best.ckpt refused: %s", e.msg);
}

static void test_nan(void) {
    // A model whose classifier holds NaN: the first loss is NaN.
    rn_model_opts m = rn_model_opts_default();
    m.depth = 0, m.n_stages = 2, m.blocks[0] = m.blocks[1] = 1, m.width = 16, m.stem_small = 1, m.input_size = 16;
    m.num_classes = 4;
    rn_graph *g;
    rn_err e;
    rn_resnet_build(&m, &g, &e);
    rn_graph_init_params(g, 1);
    g->tensors[rn_graph_find(g, "fc_weight")].data[0] = NAN;
    char p[600], set[700];
    snprintf(p, sizeof p, "%s/nan.ckpt", dir);
    CHECK(rn_checkpoint_save(p, g, NULL, NULL, &e) == 0, "save poisoned model");
    rn_graph_destroy(g);
    // Into run B's folder: refused (B holds a run), and B's last.ckpt survives untouched.
    char last[600];
    snprintf(last, sizeof last, "%s/B/last.ckpt", dir);
    size_t n0 = 0;
    unsigned char *before = file_bytes(last, &n0);
    snprintf(set, sizeof set, "train.init=%s", p);
    const char *sets[] = {set};
    int rc = train("B", NULL, sets, 1, &e);
    CHECK(rc == RN_TRAIN_FAILED && strstr(e.msg, "holds a previous run") && strstr(e.msg, "--overwrite") &&
              strstr(e.msg, "--resume"),
          "a new run into B's folder is refused: %s", e.msg);
    size_t n1 = 0;
    unsigned char *after = file_bytes(last, &n1);
    CHECK(before && after && n0 == n1 && !memcmp(before, after, n0), "B's last.ckpt left intact");
    free(before), free(after);
    // In a fresh folder: the NaN stops the run in epoch 1, and no checkpoint is written.
    rc = train("N", NULL, sets, 1, &e);
    CHECK(rc == RN_TRAIN_FAILED && strstr(e.msg, "NaN") && strstr(e.msg, "epoch 1"), "NaN loss stops the run: %s", e.msg);
    snprintf(last, sizeof last, "%s/N/last.ckpt", dir);
    CHECK(access(last, F_OK) != 0, "no last.ckpt from a NaN run");
}

static void test_finetune_run(void) {
    // A 6-class source; the 4-class dataset fine-tunes it with the stem and stage 1 frozen, BN frozen.
    rn_model_opts m = rn_model_opts_default();
    m.depth = 0, m.n_stages = 2, m.blocks[0] = m.blocks[1] = 1, m.width = 16, m.stem_small = 1, m.input_size = 16;
    m.num_classes = 6;
    rn_graph *src;
    rn_err e;
    rn_resnet_build(&m, &src, &e);
    rn_graph_init_params(src, 77);
    char p[600], set[700];
    snprintf(p, sizeof p, "%s/six.ckpt", dir);
    rn_checkpoint_save(p, src, NULL, NULL, &e);
    snprintf(set, sizeof set, "train.init=%s", p);
    const char *sets[] = {set, "train.freeze_stem=yes", "train.freeze_stages=1", "train.bn_frozen=yes", "train.epochs=1",
                          "schedule.warmup_epochs=0"};
    int rc = train("F", NULL, sets, 6, &e);
    CHECK(rc == RN_TRAIN_DONE, "fine-tune run: %s", e.msg);
    snprintf(p, sizeof p, "%s/F/last.ckpt", dir);
    rn_graph *g = NULL;
    CHECK(rn_checkpoint_load_model(p, &g, &e) == 0, "fine-tuned model loads: %s", e.msg);
    if (!g) return;
    CHECK(g->tensors[rn_graph_find(g, "fc_weight")].dims[0] == 4, "4-class head");
    int frozen_same = 1, stats_same = 1, moved = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!t->data || !strncmp(t->name, "fc_", 3)) continue;
        const rn_tensor *s = &src->tensors[rn_graph_find(src, t->name)];
        int same = !memcmp(t->data, s->data, rn_tensor_numel(t) * sizeof(float));
        if (t->role == RN_STATE) stats_same &= same;
        else if (!strncmp(t->name, "stem_", 5) || !strncmp(t->name, "stage1_", 7)) frozen_same &= same;
        else if (!strncmp(t->name, "stage2_", 7)) moved += !same;
    }
    CHECK(frozen_same, "stem and stage 1 unchanged");
    CHECK(stats_same, "BN running statistics unchanged (bn_frozen)");
    CHECK(moved > 0, "stage 2 trained");
    rn_graph_destroy(g);
    rn_graph_destroy(src);
}

static void test_signal(void) {
    char rd[600], cmd[2048];
    snprintf(rd, sizeof rd, "train.run_dir=%s/S", dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl(RESNET_TRAIN, RESNET_TRAIN, cfg_path, "--set", rd, "--set", "train.epochs=100000", "--set",
              "checkpoint.every_steps=0", (char *)NULL);
        _exit(127);
    }
    // Wait for the first epoch to be saved, then ask it to stop.
    snprintf(cmd, sizeof cmd, "%s/S/last.ckpt", dir);
    for (int i = 0; i < 600 && access(cmd, F_OK) != 0; i++) usleep(50000);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM, "SIGTERM: exit status %d, want %d",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1, 128 + SIGTERM);
    rn_ckpt *c = NULL;
    rn_err e;
    CHECK(rn_ckpt_read(cmd, &c, &e) == 0, "last.ckpt after SIGTERM: %s", e.msg);
    if (c) {
        const char *s = rn_ckpt_meta(c, "state.step");
        CHECK(s && atoi(s) > 12, "saved after the first epoch (step %s)", s ? s : "-");
        rn_ckpt_free(c);
    }
}

int main(void) {
    tmp_dir(dir, sizeof dir, "train");
    make_dataset();
    write_test_config(dir, config_text, cfg_path, sizeof cfg_path);
    test_run_and_outputs();
    test_resume();
    test_nan();
    test_finetune_run();
    test_signal();
    if (!check_failed) rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return check_summary();
}
