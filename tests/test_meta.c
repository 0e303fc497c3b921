// test_meta.c — a model file says how to feed it, and runs never overwrite each other (issue 13).
//
// A tiny model trained on 28 px inputs with a normalisation that is not ImageNet's: resnet-eval on
// its exported ONNX and on its checkpoint, with no flags, reproduces the trainer's final validation
// top-1 exactly (same hits, same count); the metadata comes back equal from checkpoint, ONNX export
// and resnet-export; malformed metadata is refused naming the file and key; a file without any gets
// ImageNet's preprocessing and a notice. [data] crop_pct and resize < size; --resume of a checkpoint
// in another folder leaves the config's run_dir byte-identical; a second run into a used folder is
// refused and --overwrite replaces it.
#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/wait.h>

#include "export/model_io.h"
#include "export/onnx.h"
#include "optim/checkpoint.h"
#include "src/config.h"
#include "src/model_meta.h"
#include "tests/check.h"
#include "tests/test_data_util.h"

static char dir[256], cfg_path[512];

static const char *config_text =
    "[model]\nblocks = 1,1\nbottleneck = no\nversion = 2\nnum_classes = 4\nwidth = 16\nstem = small\ninput_size = 28\n"
    "[data]\ntrain_dir = %s/train\nval_dir = %s/val\nsize = 28\nbatch_size = 8\nworkers = 2\nseed = 3\n"
    "mean = 0.3, 0.35, 0.4\nstd = 0.2, 0.25, 0.3\n"
    "[augment]\npad_crop = 2\n"
    "[train]\nepochs = 2\nprogress = plain\nrun_dir = %s/A\n"
    "[optim]\nlr = 0.2\n"
    "[export]\nweights = last\n";

static char out[1 << 16], errs[1 << 16];

// Runs the command (stdout into out, stderr into errs); returns its exit status.
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(cmd + k, sizeof cmd - (size_t)k, " >%s/out.txt 2>%s/err.txt", dir, dir);
    int st = system(cmd);
    char p[600];
    const char *names[2] = {"out.txt", "err.txt"};
    char *bufs[2] = {out, errs};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        size_t n;
        unsigned char *b = file_bytes(p, &n);
        if (n >= sizeof out) n = sizeof out - 1;
        memcpy(bufs[i], b ? (char *)b : "", b ? n : 0);
        bufs[i][b ? n : 0] = 0;
        free(b);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

static void path(char *p, size_t cap, const char *rel) { snprintf(p, cap, "%s/%s", dir, rel); }

// ---- the codec ----------------------------------------------------------------------------------

static void test_codec(void) {
    rn_model_meta m = {0}, back;
    rn_err e;
    m.has_preproc = 1;
    m.pre = (rn_preproc){28, 32, 0.875, {0.1f, 0.2f, 0.3f}, {0.7f, 0.8f, 1.0f / 3}};
    const char *names[] = {"T-shirt/top", "a,b", "100%", "two\nlines", "é"};
    rn_model_meta_set_classes(&m, names, 5);
    rn_kv kv = {0};
    rn_model_meta_encode(&m, &kv);
    int line_safe = 1;
    for (int i = 0; i < kv.n; i++) line_safe &= !strchr(kv.val[i], '\n') && !strchr(kv.key[i], '=');
    CHECK(line_safe, "every encoded value fits one checkpoint line");
    CHECK(rn_model_meta_decode("x.onnx", kv.n, (const char *const *)kv.key, (const char *const *)kv.val, &back, &e) == 0,
          "decode: %s", e.msg);
    CHECK(back.has_preproc && back.pre.size == 28 && back.pre.resize == 32 && back.pre.crop_pct == 0.875 &&
              !memcmp(back.pre.mean, m.pre.mean, sizeof m.pre.mean) && !memcmp(back.pre.std, m.pre.std, sizeof m.pre.std),
          "preprocessing round-trips exactly");
    int same = back.n_classes == 5;
    for (int i = 0; same && i < 5; i++) same = !strcmp(back.classes[i], names[i]);
    CHECK(same, "class names with ',', '%%', a newline and UTF-8 round-trip");
    rn_model_meta_free(&back);
    rn_model_meta_free(&m);

    // Malformed values: refused, naming the file and the key.
    static const struct {
        const char *key, *val;
    } bad[] = {
        {RN_META_SIZE, "28px"},          {RN_META_SIZE, "0"},          {RN_META_RESIZE, "20"},
        {RN_META_CROP_PCT, "1.5"},       {RN_META_INTERP, "nearest"},  {RN_META_MEAN, "0.5,0.5"},
        {RN_META_MEAN, "0.5,abc,0.5"},   {RN_META_STD, "0.2,0,0.2"},   {RN_META_CHANNELS, "BGR"},
        {RN_META_RANGE, "-1,1"},         {RN_META_CLASSES, "a,,b,c"},  {RN_META_CLASSES, "a,b%2,c,d"},
        {RN_META_CLASSES, "a,b%00,c,d"},
    };
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        const char *keys[9], *vals[9];
        int n = 0;
        for (int i = 0; i < kv.n; i++)
            if (strcmp(kv.key[i], bad[t].key) != 0) keys[n] = kv.key[i], vals[n++] = kv.val[i];
        keys[n] = bad[t].key, vals[n++] = bad[t].val;
        int rc = rn_model_meta_decode("x.onnx", n, keys, vals, &back, &e);
        CHECK(rc == -1 && strstr(e.msg, "x.onnx") && strstr(e.msg, bad[t].key), "%s = '%s' refused: %s", bad[t].key,
              bad[t].val, rc ? e.msg : "accepted");
    }
    // A key given twice, and a required one missing among the others.
    const char *k2[] = {RN_META_SIZE, RN_META_SIZE}, *v2[] = {"28", "28"};
    CHECK(rn_model_meta_decode("x.onnx", 2, k2, v2, &back, &e) == -1 && strstr(e.msg, "twice"), "twice: %s", e.msg);
    const char *k3[] = {RN_META_SIZE}, *v3[] = {"28"};
    CHECK(rn_model_meta_decode("x.onnx", 1, k3, v3, &back, &e) == -1 && strstr(e.msg, RN_META_RESIZE), "missing: %s",
          e.msg);
    // Nothing about preprocessing: fine, and says so.
    const char *k4[] = {"producer"}, *v4[] = {"someone"};
    CHECK(rn_model_meta_decode("x.onnx", 1, k4, v4, &back, &e) == 0 && !back.has_preproc && !back.n_classes,
          "no metadata is no error");
    rn_kv_free(&kv);
}

// ---- [data] crop_pct ----------------------------------------------------------------------------

static void test_crop_pct(void) {
    char p[600];
    path(p, sizeof p, "crop.ini");
    rn_config c;
    rn_err e;
    FILE *f = fopen(p, "w");
    fprintf(f, "[model]\ndepth = 18\n[data]\nsize = 28\n");
    fclose(f);
    CHECK(rn_config_load(&c, p, NULL, 0, &e) == 0 && rn_data_resize(&c.data) == 32, "size 28, crop_pct 0.875: resize 32");
    const char *half[] = {"data.crop_pct=0.5"};
    CHECK(rn_config_load(&c, p, half, 1, &e) == 0 && rn_data_resize(&c.data) == 56, "crop_pct 0.5: resize 56");
    const char *d224[] = {"data.size=224"};
    CHECK(rn_config_load(&c, p, d224, 1, &e) == 0 && rn_data_resize(&c.data) == 256, "size 224: resize 256");
    const char *expl[] = {"data.resize=30"};
    CHECK(rn_config_load(&c, p, expl, 1, &e) == 0 && rn_data_resize(&c.data) == 30, "an explicit resize wins");
    const char *zero[] = {"data.crop_pct=0"};
    CHECK(rn_config_load(&c, p, zero, 1, &e) == -1 && strstr(e.msg, "crop_pct"), "crop_pct 0 refused: %s", e.msg);
    // resize < size: named where resize was set.
    f = fopen(p, "w");
    fprintf(f, "[model]\ndepth = 18\n[data]\nsize = 28\n# smaller than the crop\nresize = 20\n");
    fclose(f);
    char want[700];
    snprintf(want, sizeof want, "%s:6:", p);
    CHECK(rn_config_load(&c, p, NULL, 0, &e) == -1 && strstr(e.msg, want) && strstr(e.msg, "resize = 20"),
          "resize < size names file:line: %s", e.msg);
    const char *small[] = {"data.size=16", "data.resize=12"};
    CHECK(rn_config_load(&c, p, small, 2, &e) == -1 && strstr(e.msg, "--set data.resize=12"), "... or the --set: %s",
          e.msg);
    // FixRes: the evaluation's own size and resize (round(24 / 0.875) = 27, or explicit), checked alike.
    const char *fix[] = {"data.resize=0", "data.val_size=24"};
    rn_data_opts v;
    CHECK(rn_config_load(&c, p, fix, 2, &e) == 0 && (v = rn_data_val_opts(&c.data), v.size == 24 && rn_data_resize(&v) == 27) &&
              rn_data_preproc(&c.data).size == 24 && rn_data_preproc(&c.data).resize == 27 && c.data.size == 28,
          "val_size 24: evaluation 24 from 27, training 28: %s", e.msg);
    const char *fix2[] = {"data.resize=0", "data.val_size=24", "data.val_resize=32"};
    CHECK(rn_config_load(&c, p, fix2, 3, &e) == 0 && rn_data_preproc(&c.data).resize == 32, "val_resize 32: %s", e.msg);
    const char *bad[] = {"data.resize=0", "data.val_size=24", "data.val_resize=20"};
    CHECK(rn_config_load(&c, p, bad, 3, &e) == -1 && strstr(e.msg, "--set data.val_resize=20") && strstr(e.msg, "val_size = 24"),
          "val_resize < val_size names the --set: %s", e.msg);
    const char *alone[] = {"data.resize=0", "data.val_resize=30"};
    CHECK(rn_config_load(&c, p, alone, 2, &e) == -1 && strstr(e.msg, "val_resize needs val_size"), "val_resize alone: %s", e.msg);
}

// ---- training, evaluation, metadata -------------------------------------------------------------

// The last epoch's validation top-1 (percent) from the checkpoint's history.
static double final_val_top1(const char *ckpt) {
    rn_ckpt *ck;
    rn_err e;
    double v = -1;
    if (rn_ckpt_read(ckpt, &ck, &e)) return -1;
    const char *h = rn_ckpt_meta(ck, "history");
    double f[8];
    int ep;
    if (h && sscanf(h, "%d,%lf,%lf,%lf,%lf,%lf", &ep, &f[0], &f[1], &f[2], &f[3], &f[4]) == 6) v = f[4];
    rn_ckpt_free(ck);
    return v;
}

// "top-1 P % (H/N)  top-5 P % (H/N)"
static int parse_eval(const char *s, long long *hits, long long *n) {
    double p1, p5;
    long long h5, n5;
    return sscanf(s, "top-1 %lf %% (%lld/%lld)  top-5 %lf %% (%lld/%lld)", &p1, hits, n, &p5, &h5, &n5) == 6 ? 0 : -1;
}

static void expect_meta_equal(const char *a, const char *b) {
    char pa[600], pb[600];
    path(pa, sizeof pa, a);
    path(pb, sizeof pb, b);
    rn_model_meta ma, mb;
    rn_graph *ga, *gb;
    rn_err e;
    int ok = rn_model_load_meta(pa, &ga, &ma, &e) == 0;
    CHECK(ok, "%s: %s", a, e.msg);
    if (!ok) return;
    ok = rn_model_load_meta(pb, &gb, &mb, &e) == 0;
    CHECK(ok, "%s: %s", b, e.msg);
    if (ok) {
        int same = ma.has_preproc && mb.has_preproc && !memcmp(&ma.pre, &mb.pre, sizeof ma.pre) &&
                   ma.n_classes == 4 && mb.n_classes == 4;
        for (int i = 0; same && i < 4; i++) same = !strcmp(ma.classes[i], mb.classes[i]);
        CHECK(same, "%s and %s carry the same preprocessing and class names", a, b);
        rn_model_meta_free(&mb);
        rn_graph_destroy(gb);
    }
    CHECK(ma.pre.size == 28 && ma.pre.resize == 32 && ma.pre.mean[1] == 0.35f && ma.pre.std[2] == 0.3f &&
              ma.n_classes == 4 && !strcmp(ma.classes[3], "class3"),
          "%s: size %d resize %d mean[1] %g std[2] %g, %d classes", a, ma.pre.size, ma.pre.resize, ma.pre.mean[1],
          ma.pre.std[2], ma.n_classes);
    rn_model_meta_free(&ma);
    rn_graph_destroy(ga);
}

static void test_train_eval(void) {
    int rc = sh("%s %s", RESNET_TRAIN, cfg_path);
    CHECK(rc == 0, "train A: exit %d\n%s", rc, errs);
    char last[600], onnx[600], val[600];
    path(last, sizeof last, "A/last.ckpt");
    path(onnx, sizeof onnx, "A/model.onnx");
    path(val, sizeof val, "val");
    double top1 = final_val_top1(last);
    long long want = llround(top1 * 64 / 100), hits = -1, n = -1;
    CHECK(top1 >= 0, "final val top-1 %.2f %%", top1);
    const char *models[] = {onnx, last};
    for (int i = 0; i < 2; i++) {
        rc = sh("%s %s --data %s", RESNET_EVAL, models[i], val);
        CHECK(rc == 0 && parse_eval(out, &hits, &n) == 0, "resnet-eval %s: exit %d: %s%s", models[i], rc, out, errs);
        CHECK(n == 64 && hits == want, "resnet-eval %s: %lld/%lld, the trainer's final val top-1 %.2f %% = %lld/64",
              models[i], hits, n, top1, want);
        CHECK(!strstr(errs, "records no preprocessing"), "no notice for a file with metadata: %s", errs);
    }
    printf("final val top-1 %.2f %%; resnet-eval: %s", top1, out);
    // classes.txt, and the metadata through every carrier.
    char p[600];
    path(p, sizeof p, "A/classes.txt");
    size_t len;
    unsigned char *txt = file_bytes(p, &len);
    CHECK(txt && len == 28 && !memcmp(txt, "class0\nclass1\nclass2\nclass3\n", 28), "classes.txt in class order");
    free(txt);
    char re[600];
    path(re, sizeof re, "reexport.onnx");
    CHECK(sh("%s %s -o %s", RESNET_EXPORT, last, re) == 0, "resnet-export: %s", errs);
    expect_meta_equal("A/last.ckpt", "A/model.onnx");
    expect_meta_equal("A/last.ckpt", "reexport.onnx");
    expect_meta_equal("A/best.ckpt", "A/model.onnx");
    // resnet-predict names the class from the file's own list.
    char img[600];
    path(img, sizeof img, "val/class2/0003.jpg");
    CHECK(sh("%s %s %s --top 1", RESNET_PREDICT, onnx, img) == 0 && strstr(out, " class"), "predict: %s%s", out, errs);
}

// A model file with the given metadata pairs; ONNX when onnx, else a checkpoint.
static void write_model(const char *rel, int onnx, const char *const *kv, int n) {
    char src[600], p[600];
    path(src, sizeof src, "A/last.ckpt");
    path(p, sizeof p, rel);
    rn_graph *g;
    rn_err e;
    if (rn_model_load(src, &g, &e)) return;
    if (onnx) {
        rn_kv m = {0};
        for (int i = 0; i < n; i++) rn_kv_add(&m, kv[2 * i], kv[2 * i + 1]);
        CHECK(rn_onnx_export_kv(g, &m, p, &e) == 0, "write %s: %s", rel, e.msg);
        rn_kv_free(&m);
    } else {
        char text[1024] = "";
        for (int i = 0; i < n; i++) snprintf(text + strlen(text), sizeof text - strlen(text), "%s=%s\n", kv[2 * i], kv[2 * i + 1]);
        CHECK(rn_checkpoint_save(p, g, NULL, text, &e) == 0, "write %s: %s", rel, e.msg);
    }
    rn_graph_destroy(g);
}

static void test_untrusted(void) {
    char p[600], val[600];
    path(val, sizeof val, "val");
    const char *bad_mean[] = {RN_META_SIZE, "28", RN_META_RESIZE, "32", RN_META_MEAN, "0.3,zero,0.4", RN_META_STD, "1,1,1"};
    write_model("bad_mean.onnx", 1, bad_mean, 4);
    path(p, sizeof p, "bad_mean.onnx");
    int rc = sh("%s %s --data %s", RESNET_EVAL, p, val);
    CHECK(rc == 1 && strstr(errs, p) && strstr(errs, RN_META_MEAN), "bad mean refused: exit %d: %s", rc, errs);
    const char *bad_classes[] = {RN_META_CLASSES, "a,b,c%zz,d"};
    write_model("bad_classes.ckpt", 0, bad_classes, 1);
    path(p, sizeof p, "bad_classes.ckpt");
    char img[600];
    path(img, sizeof img, "val/class0/0000.jpg");
    rc = sh("%s %s %s", RESNET_PREDICT, p, img);
    CHECK(rc == 1 && strstr(errs, p) && strstr(errs, RN_META_CLASSES), "bad escape refused: exit %d: %s", rc, errs);
    const char *three[] = {RN_META_CLASSES, "a,b,c"};
    write_model("three.onnx", 1, three, 1);
    path(p, sizeof p, "three.onnx");
    rc = sh("%s %s %s", RESNET_PREDICT, p, img);
    CHECK(rc == 1 && strstr(errs, "3 classes") && strstr(errs, "has 4"), "3 names for 4 classes refused: %s", errs);
    // No metadata (the zoo's, torchvision's): ImageNet's preprocessing, with a notice; flags override.
    write_model("plain.onnx", 1, NULL, 0);
    path(p, sizeof p, "plain.onnx");
    rc = sh("%s %s %s --top 1", RESNET_PREDICT, p, img);  // one image: the 224 px default is slow here
    CHECK(rc == 0 && strstr(errs, "records no preprocessing") && strstr(errs, "224 crop of 256") &&
              strstr(errs, "0.485,0.456,0.406"),
          "a file without metadata: ImageNet's and a notice: %s", errs);
    long long h_flags = -1, n = -1, h_meta = -1;
    rc = sh("%s %s --data %s --size 28 --mean 0.3,0.35,0.4 --std 0.2,0.25,0.3", RESNET_EVAL, p, val);
    CHECK(rc == 0 && parse_eval(out, &h_flags, &n) == 0, "flags: %s%s", out, errs);
    path(p, sizeof p, "A/model.onnx");
    rc = sh("%s %s --data %s", RESNET_EVAL, p, val);
    CHECK(rc == 0 && parse_eval(out, &h_meta, &n) == 0 && h_meta == h_flags,
          "--size 28 (crop_pct 0.875: resize 32) --mean --std on a plain file = the metadata: %lld vs %lld", h_flags, h_meta);
    // The metadata is what is used: ImageNet's mean and std by flag give other probabilities.
    static char own[sizeof out];
    rc = sh("%s %s %s --top 4", RESNET_PREDICT, p, img);
    snprintf(own, sizeof own, "%s", out);
    int rc2 = sh("%s %s %s --top 4 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225", RESNET_PREDICT, p, img);
    CHECK(rc == 0 && rc2 == 0 && strstr(own, " class") && strcmp(own, out) != 0, "--mean/--std override:\n%s%s", own, out);
    rc = sh("%s %s --data %s --resize 30 --crop-pct 0.9", RESNET_EVAL, p, val);
    CHECK(rc == 2, "--resize with --crop-pct refused: %d", rc);
}

// ---- runs never clobbered -----------------------------------------------------------------------

static void test_runs(void) {
    char a[600], c[600], p[600];
    path(a, sizeof a, "A");
    path(c, sizeof c, "C");
    uint64_t before = tree_digest(a);
    // A second run into A: refused, A untouched.
    int rc = sh("%s %s", RESNET_TRAIN, cfg_path);
    CHECK(rc == 1 && strstr(errs, "holds a previous run") && strstr(errs, "--resume") && strstr(errs, "--overwrite"),
          "a second run into A is refused: exit %d: %s", rc, errs);
    CHECK(tree_digest(a) == before, "A byte-identical after the refused run");
    // A run in C, stopped; resumed with the config (run_dir A): it continues in C, A stays as it was.
    rc = sh("%s %s --set train.run_dir=%s --set train.stop_after_steps=5", RESNET_TRAIN, cfg_path, c);
    CHECK(rc == 0, "C stops: %d %s", rc, errs);
    path(p, sizeof p, "C/last.ckpt");
    rc = sh("%s %s --resume %s --set model.width=8", RESNET_TRAIN, cfg_path, p);
    CHECK(rc == 1 && strstr(errs, "width is 8 in the config, 16 in the checkpoint"), "another model refused: %s", errs);
    rc = sh("%s %s --resume %s", RESNET_TRAIN, cfg_path, p);
    CHECK(rc == 0 && strstr(errs, "continues in"), "C resumes: %d %s", rc, errs);
    CHECK(tree_digest(a) == before, "A byte-identical after resuming C's checkpoint with A's config");
    rn_ckpt *ck;
    rn_err e;
    CHECK(rn_ckpt_read(p, &ck, &e) == 0 && !strcmp(rn_ckpt_meta(ck, "state.epoch"), "2"), "C finished in C");
    rn_ckpt_free(ck);
    rn_config cc;
    path(p, sizeof p, "C/config.ini");
    CHECK(rn_config_load(&cc, p, NULL, 0, &e) == 0 && !strcmp(cc.train.run_dir, c), "C/config.ini names C: %s",
          cc.train.run_dir);
    path(p, sizeof p, "C/model.onnx");
    CHECK(access(p, F_OK) == 0, "C's export in C");
    // --overwrite: A is replaced by a one-epoch run.
    CHECK(sh("%s %s --overwrite --resume %s", RESNET_TRAIN, cfg_path, c) == 2, "--overwrite with --resume: usage error");
    rc = sh("%s %s --overwrite --set train.epochs=1", RESNET_TRAIN, cfg_path);
    CHECK(rc == 0 && strstr(errs, "removed the previous run"), "--overwrite: %d %s", rc, errs);
    path(p, sizeof p, "A/metrics.csv");
    size_t len;
    unsigned char *csv = file_bytes(p, &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += csv[i] == '\n';
    free(csv);
    CHECK(lines == 2, "A/metrics.csv holds the new run's one epoch (%d lines)", lines);
}

// FixRes ([data] val_size): trains at 16 px, validates at 24 px (resize round(24 / 0.875) = 27); the
// export records the evaluation size, so resnet-eval with no flags evaluates at 24 and counts exactly
// the trainer's last validation hits. With mixup and cutmix on and repeated augmentation, too.
static void test_fixres(void) {
    int rc = sh("%s %s --set train.run_dir=%s/F --set data.size=16 --set data.val_size=24 --set train.epochs=1 "
                "--set augment.mixup_alpha=0.2 --set augment.cutmix_alpha=1 --set data.repeated_aug=2",
                RESNET_TRAIN, cfg_path, dir);
    CHECK(rc == 0, "train F at 16 px, validate at 24: exit %d\n%s", rc, errs);
    CHECK(strstr(errs, "input: training at 16px; evaluation at 24px (resize 27); mixup alpha 0.2, cutmix alpha 1 "
                       "(mix_prob 1, switch 0.5); repeated augmentation x2"),
          "the trainer names the input recipe: %s", errs);
    char onnx[600], last[600], val[600];
    path(onnx, sizeof onnx, "F/model.onnx");
    path(last, sizeof last, "F/last.ckpt");
    path(val, sizeof val, "val");
    rn_model_meta m;
    rn_graph *g;
    rn_err e;
    int ok = rn_model_load_meta(onnx, &g, &m, &e) == 0;
    CHECK(ok, "F/model.onnx: %s", e.msg);
    if (ok) {
        CHECK(m.has_preproc && m.pre.size == 24 && m.pre.resize == 27, "the export records size %d resize %d (want 24, 27)",
              m.pre.size, m.pre.resize);
        rn_model_meta_free(&m);
        rn_graph_destroy(g);
    }
    double top1 = final_val_top1(last);
    long long want = llround(top1 * 64 / 100), hits = -1, n = -1;
    rc = sh("%s %s --data %s", RESNET_EVAL, onnx, val);
    CHECK(rc == 0 && parse_eval(out, &hits, &n) == 0 && n == 64 && hits == want,
          "resnet-eval F/model.onnx: %lld/%lld, the trainer's val top-1 %.2f %% (exit %d: %s%s)", hits, n, top1, rc, out, errs);
    printf("FixRes run: val top-1 %.2f %% at 24 px\n", top1);
}

int main(void) {
    tmp_dir(dir, sizeof dir, "meta");
    make_band_dataset(dir, 24, 16, 11, 90, 4);
    snprintf(cfg_path, sizeof cfg_path, "%s/tiny.ini", dir);
    FILE *f = fopen(cfg_path, "w");
    fprintf(f, config_text, dir, dir, dir);
    fclose(f);
    test_codec();
    test_crop_pct();
    test_train_eval();
    test_fixres();
    test_untrusted();
    test_runs();
    int rc = check_summary();
    if (rc == 0) rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return rc;
}
