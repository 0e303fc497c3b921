// test_train_skipped.c — the trainer says after every epoch how many images each split skipped
// (issue 12): two epochs over a tiny dataset with 3 bad training files and 1 bad validation file.
#define _GNU_SOURCE
#include <fcntl.h>

#include "src/config.h"
#include "src/train.h"
#include "tests/check.h"
#include "tests/test_data_util.h"

static char dir[256];

static const char *config_text =
    "[model]\nblocks = 1\nbottleneck = no\nversion = 2\nnum_classes = 2\nwidth = 8\nstem = small\ninput_size = 16\n"
    "[data]\ntrain_dir = %s/train\nval_dir = %s/val\nsize = 16\nresize = 16\nbatch_size = 4\nworkers = 2\n"
    "max_file_mb = 1\n"
    "[train]\nepochs = 2\neval_batch_size = 4\nprogress = off\n"
    "[checkpoint]\nevery_steps = 0\n"
    "[export]\nonnx = no\n";

static void put(const char *rel, const void *b, size_t n) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    write_bytes(p, b, n);
}

int main(void) {
    tmp_dir(dir, sizeof dir, "train_skipped");
    // 9 + 3 training files: three full batches of 4, so drop_last drops nothing.
    for (int split = 0; split < 2; split++)
        for (int i = 0; i < (split ? 8 : 9); i++) {
            uint8_t *px = smooth_rgb(16, 16, i);
            char p[600];
            snprintf(p, sizeof p, "%s/%s/c%d/%d.jpg", dir, split ? "val" : "train", i % 2, i);
            write_jpeg(p, px, 16, 16, TJPF_RGB, 90);
            free(px);
        }
    put("train/c0/text.jpg", "not a JPEG\n", 11);
    put("train/c1/empty.jpg", "", 0);
    char *big = calloc(1, (1 << 20) + 1);  // one byte over max_file_mb = 1
    big[0] = (char)0xFF, big[1] = (char)0xD8;
    put("train/c1/big.jpg", big, (1 << 20) + 1);
    free(big);
    put("val/c0/bad.jpg", "\xFF\xD8junk", 6);
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/t.ini", dir);
    FILE *f = fopen(cfg, "w");
    fprintf(f, config_text, dir, dir);
    fclose(f);
    char rd[600];
    snprintf(rd, sizeof rd, "train.run_dir=%s/run", dir);
    const char *over[] = {rd};
    static rn_config c;
    rn_err e;
    CHECK(rn_config_load(&c, cfg, over, 1, &e) == 0, "config: %s", e.msg);

    char log[600];
    snprintf(log, sizeof log, "%s/stderr.txt", dir);
    fflush(stderr);
    int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    int rc = rn_train_run(&c, NULL, &e);
    fflush(stderr);
    dup2(saved, 2);
    close(saved), close(fd);
    static char text[1 << 16];
    f = fopen(log, "r");
    text[f ? fread(text, 1, sizeof text - 1, f) : 0] = 0;
    if (f) fclose(f);
    fputs(text, stderr);
    CHECK(rc == RN_TRAIN_DONE, "run: %d %s", rc, e.msg);
    // Every epoch visits each position once, so it skips each bad file once.
    CHECK(strstr(text, "epoch 1/2  skipped images: train 3, val 1 (3 and 1 files known bad)") &&
              strstr(text, "epoch 2/2  skipped images: train 3, val 1 (3 and 1 files known bad)"),
          "per-epoch counts printed for both splits");
    CHECK(strstr(text, "train/c1/big.jpg: file of 1048577 bytes is larger than the limit"),
          "the oversized file is named with its reason");
    if (!check_failed) rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return check_summary();
}
