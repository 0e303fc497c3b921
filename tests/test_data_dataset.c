// test_data_dataset.c — folder scan (ImageFolder label mapping), list files, class names, options,
// epoch permutation and sharding.
#include "tests/test_data_util.h"

#include "data/dataset.h"
#include "data/opts.h"
#include "tests/check.h"

static char root[256];

static void touch(const char *rel) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    write_bytes(p, "", 0);
}

static void test_folder(void) {
    // Subfolders deliberately created out of order; non-images, hidden folders and files at the
    // top level must be ignored; nested folders inside a class count.
    touch("train/b_cls/1.jpg");
    touch("train/b_cls/0.JPG");
    touch("train/a_cls/y.JPEG");
    touch("train/a_cls/x.jpg");
    touch("train/a_cls/sub/z.jpeg");
    touch("train/a_cls/notes.txt");
    touch("train/a_cls/.hidden/w.jpg");
    touch("train/C_upper/k.jpg");
    touch("train/stray.jpg");
    touch("train/.cache/q.jpg");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/train", root);
    char emptyc[600];
    snprintf(emptyc, sizeof emptyc, "%s/c_empty", dir);
    mkdir(emptyc, 0755);

    rn_err err;
    rn_dataset *ds = NULL;
    CHECK(rn_dataset_open_folder(&ds, dir, NULL, &err) == 0, "open: %s", err.msg);
    if (!ds) return;
    // Byte-wise order: 'C' (0x43) < 'a' < 'b' < 'c'.
    const char *want_cls[] = {"C_upper", "a_cls", "b_cls", "c_empty"};
    CHECK(ds->n_classes == 4, "n_classes %d", ds->n_classes);
    for (int c = 0; c < 4 && c < ds->n_classes; c++)
        CHECK(strcmp(ds->class_names[c], want_cls[c]) == 0, "class %d = %s", c, ds->class_names[c]);
    const char *want_path[] = {"C_upper/k.jpg", "a_cls/sub/z.jpeg", "a_cls/x.jpg",
                               "a_cls/y.JPEG",  "b_cls/0.JPG",      "b_cls/1.jpg"};
    const int want_label[] = {0, 1, 1, 1, 2, 2};
    CHECK(ds->n == 6, "n = %zu", ds->n);
    for (size_t i = 0; i < 6 && i < ds->n; i++) {
        CHECK(strcmp(rn_dataset_relpath(ds, i), want_path[i]) == 0, "path %zu = %s", i,
              rn_dataset_relpath(ds, i));
        CHECK(ds->labels[i] == want_label[i], "label %zu = %d", i, ds->labels[i]);
    }
    char full[4096];
    CHECK(rn_dataset_path(ds, 4, full, sizeof full) == 0, "path fits");
    char want_full[4096];
    snprintf(want_full, sizeof want_full, "%s/b_cls/0.JPG", dir);
    CHECK(strcmp(full, want_full) == 0, "full path %s", full);
    CHECK(rn_dataset_path(ds, 4, full, 10) == -1, "too small a buffer is refused");

    // Validation split with the training classes: missing classes keep their index.
    touch("val/b_cls/v1.jpg");
    touch("val/a_cls/v0.jpg");
    char vdir[512];
    snprintf(vdir, sizeof vdir, "%s/val", root);
    rn_dataset *val = NULL;
    CHECK(rn_dataset_open_folder(&val, vdir, ds, &err) == 0, "open val: %s", err.msg);
    if (val) {
        CHECK(val->n == 2 && val->n_classes == 4, "val n %zu classes %d", val->n, val->n_classes);
        CHECK(val->labels[0] == 1 && val->labels[1] == 2, "val labels %d %d", val->labels[0],
              val->labels[1]);
        rn_dataset_destroy(val);
    }
    touch("val/zebra/v2.jpg");
    val = NULL;
    CHECK(rn_dataset_open_folder(&val, vdir, ds, &err) == -1 && strstr(err.msg, "zebra"),
          "unknown val class rejected: %s", err.msg);
    rn_dataset_destroy(val);

    // Class-names file.
    char names[512];
    snprintf(names, sizeof names, "%s/names.txt", root);
    const char *txt = "Upper\nApple\nBanana\nEmpty\n\n";
    write_bytes(names, txt, strlen(txt));
    CHECK(rn_dataset_load_class_names(ds, names, &err) == 0, "names: %s", err.msg);
    CHECK(ds->n_classes == 4 && strcmp(ds->class_names[1], "Apple") == 0 &&
              strcmp(ds->class_names[3], "Empty") == 0,
          "names loaded");
    const char *txt3 = "A\nB\nC\n";
    write_bytes(names, txt3, strlen(txt3));
    CHECK(rn_dataset_load_class_names(ds, names, &err) == -1 && strstr(err.msg, "3 class names"),
          "wrong count rejected: %s", err.msg);
    const char *gap = "A\n\nB\nC\nD\n";
    write_bytes(names, gap, strlen(gap));
    CHECK(rn_dataset_load_class_names(ds, names, &err) == -1 && strstr(err.msg, ":2:"),
          "blank line rejected: %s", err.msg);
    rn_dataset_destroy(ds);

    // Errors: no images, missing folder.
    char none[512];
    snprintf(none, sizeof none, "%s/none/cls", root);
    mkdir_for(none);
    mkdir(none, 0755);
    snprintf(none, sizeof none, "%s/none", root);
    ds = NULL;
    CHECK(rn_dataset_open_folder(&ds, none, NULL, &err) == -1 && strstr(err.msg, "no .jpg"),
          "empty dataset rejected: %s", err.msg);
    snprintf(none, sizeof none, "%s/missing", root);
    CHECK(rn_dataset_open_folder(&ds, none, NULL, &err) == -1 && strstr(err.msg, "missing"),
          "missing folder rejected: %s", err.msg);
}

static void test_list(void) {
    char list[512];
    snprintf(list, sizeof list, "%s/lists/train.txt", root);
    const char *txt = "# comment\n  a/b c.jpg   2 \n\nx.jpg\t0\r\nn01440764/img_1.JPEG 1\n";
    write_bytes(list, txt, strlen(txt));
    rn_err err;
    rn_dataset *ds = NULL;
    CHECK(rn_dataset_open_list(&ds, list, NULL, NULL, &err) == 0, "list: %s", err.msg);
    if (ds) {
        CHECK(ds->n == 3 && ds->n_classes == 3, "n %zu classes %d", ds->n, ds->n_classes);
        CHECK(strcmp(rn_dataset_relpath(ds, 0), "a/b c.jpg") == 0, "path with blank: '%s'",
              rn_dataset_relpath(ds, 0));
        CHECK(strcmp(rn_dataset_relpath(ds, 1), "x.jpg") == 0, "CRLF path '%s'",
              rn_dataset_relpath(ds, 1));
        CHECK(ds->labels[0] == 2 && ds->labels[1] == 0 && ds->labels[2] == 1, "labels");
        char want[600];
        snprintf(want, sizeof want, "%s/lists", root);
        CHECK(strcmp(ds->root, want) == 0, "root defaults to the list's folder: %s", ds->root);
        CHECK(strcmp(ds->class_names[2], "2") == 0, "numeric default names");
        // A list dataset takes its class count from a longer names file.
        char names[512];
        snprintf(names, sizeof names, "%s/lists/names.txt", root);
        write_bytes(names, "a\nb\nc\nd\ne\n", 10);
        CHECK(rn_dataset_load_class_names(ds, names, &err) == 0 && ds->n_classes == 5,
              "list names: %s", err.msg);
        rn_dataset *val = NULL;
        CHECK(rn_dataset_open_list(&val, list, "/data", ds, &err) == 0, "with classes");
        if (val) {
            CHECK(val->n_classes == 5 && strcmp(val->root, "/data") == 0, "root/classes from args");
            rn_dataset_destroy(val);
        }
        rn_dataset_destroy(ds);
    }
    const char *bad[] = {"x.jpg -1\n", "x.jpg abc\n", "justapath\n", "ok.jpg 1\nx.jpg 1.5\n"};
    const char *want_line[] = {":1:", ":1:", ":1:", ":2:"};
    for (int i = 0; i < 4; i++) {
        write_bytes(list, bad[i], strlen(bad[i]));
        ds = NULL;
        CHECK(rn_dataset_open_list(&ds, list, NULL, NULL, &err) == -1 &&
                  strstr(err.msg, want_line[i]),
              "bad list %d rejected with its line: %s", i, err.msg);
    }
    rn_dataset cls = {.n_classes = 2};
    write_bytes(list, "a.jpg 2\n", 8);
    CHECK(
        rn_dataset_open_list(&ds, list, NULL, &cls, &err) == -1 && strstr(err.msg, "out of range"),
        "label beyond the class list: %s", err.msg);
}

// Sharding: equal counts, every sample at least once, exactly world*per - n repeats.
static void test_sharding(void) {
    const size_t ns[] = {1, 7, 10, 12, 97};
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        size_t n = ns[t];
        rn_dataset ds = {.n = n, .root = "mem"};
        for (int world = 1; world <= 5; world++)
            for (int shuffle = 0; shuffle <= 1; shuffle++) {
                int *count = calloc(n, sizeof(int));
                size_t per = (n + (size_t)world - 1) / (size_t)world, total = 0;
                size_t *idx = malloc(per * sizeof(size_t));
                int ok = 1;
                for (int r = 0; r < world; r++) {
                    rn_dataset_view v;
                    rn_err err;
                    if (rn_view_init(&v, &ds, r, world, &err) != 0 || v.per_rank != per) {
                        ok = 0;
                        continue;
                    }
                    rn_view_epoch(&v, 42, 3, shuffle, idx);
                    for (size_t k = 0; k < per; k++) {
                        if (idx[k] >= n) ok = 0;
                        else count[idx[k]]++;
                        if (!shuffle && idx[k] != (k * (size_t)world + (size_t)r) % n) ok = 0;
                    }
                    total += per;
                }
                size_t twice = 0, missing = 0, more = 0;
                for (size_t i = 0; i < n; i++) {
                    if (count[i] == 0) missing++;
                    if (count[i] == 2) twice++;
                    if (count[i] > 2 && n >= (size_t)world) more++;
                }
                CHECK(ok && missing == 0 && more == 0,
                      "n %zu world %d shuffle %d: ok %d missing %zu", n, world, shuffle, ok,
                      missing);
                if (n >= (size_t)world)
                    CHECK(twice == total - n, "n %zu world %d: %zu repeats, want %zu", n, world,
                          twice, total - n);
                free(count);
                free(idx);
            }
    }
    rn_dataset ds = {.n = 5, .root = "mem"};
    rn_dataset_view v;
    rn_err err;
    CHECK(rn_view_init(&v, &ds, 2, 2, &err) == -1, "rank >= world rejected");
    CHECK(rn_view_init(&v, &ds, 0, 0, &err) == -1, "world 0 rejected");
}

static void test_permutation(void) {
    enum { N = 1000 };
    size_t *a = malloc(N * sizeof(size_t)), *b = malloc(N * sizeof(size_t)),
           *c = malloc(N * sizeof(size_t));
    rn_epoch_permutation(N, 7, 0, a);
    rn_epoch_permutation(N, 7, 0, b);
    rn_epoch_permutation(N, 7, 1, c);
    int seen[N] = {0}, same_ab = 1, same_ac = 0, fixed = 0;
    for (int i = 0; i < N; i++) {
        seen[a[i]]++;
        same_ab &= a[i] == b[i];
        same_ac += a[i] == c[i];
        fixed += a[i] == (size_t)i;
    }
    int perm = 1;
    for (int i = 0; i < N; i++) perm &= seen[i] == 1;
    CHECK(perm, "is a permutation");
    CHECK(same_ab, "same (seed, epoch) gives the same order");
    CHECK(same_ac < 20, "another epoch gives another order (%d equal places)", same_ac);
    CHECK(fixed < 20, "actually shuffled (%d fixed points)", fixed);
    free(a), free(b), free(c);
}

static void test_opts(void) {
    rn_data_opts o = rn_data_opts_default();
    rn_err err;
    CHECK(o.size == 224 && o.resize == 0 && rn_data_resize(&o) == 256 && o.flip == 1, "defaults");
    CHECK_CLOSE(o.mean[0], 0.485, 1e-7, "mean R");
    CHECK_CLOSE(o.std[2], 0.225, 1e-7, "std B");
    CHECK_CLOSE(o.ratio_max, 4.0 / 3.0, 1e-12, "ratio max");
    CHECK(rn_data_opts_set(&o, "data", "train_dir", "/x/train", &err) == 0 &&
              strcmp(o.train_dir, "/x/train") == 0,
          "train_dir");
    CHECK(rn_data_opts_set(&o, "data", "size", "28", &err) == 0 && o.size == 28, "size");
    CHECK(rn_data_opts_set(&o, "data", "batch_size", "64", &err) == 0 && o.batch_size == 64, "bs");
    CHECK(
        rn_data_opts_set(&o, "data", "seed", "12345678901", &err) == 0 && o.seed == 12345678901ULL,
        "seed");
    CHECK(rn_data_opts_set(&o, "data", "shuffle", "false", &err) == 0 && o.shuffle == 0, "shuffle");
    CHECK(rn_data_opts_set(&o, "data", "mean", "0.5, 0.25,0.125", &err) == 0 &&
              o.mean[1] == 0.25f && o.mean[2] == 0.125f,
          "mean");
    CHECK(rn_data_opts_set(&o, "augment", "ratio", "3/4, 4/3", &err) == 0 &&
              fabs(o.ratio_min - 0.75) < 1e-12 && fabs(o.ratio_max - 4.0 / 3.0) < 1e-12,
          "ratio fractions");
    CHECK(rn_data_opts_set(&o, "augment", "scale", "0.25, 1", &err) == 0 && o.scale_min == 0.25,
          "scale pair");
    CHECK(rn_data_opts_set(&o, "augment", "lighting", "0.1", &err) == 0 && o.lighting == 0.1,
          "lighting");
    CHECK(rn_data_opts_set(&o, "augment", "pad_crop", "4", &err) == 0 && o.pad_crop == 4, "pad");
    CHECK(rn_data_opts_set(&o, "augment", "flip", "no", &err) == 0 && o.flip == 0, "flip");
    CHECK(rn_data_opts_set(&o, "data", "resize", "32", &err) == 0, "resize");
    CHECK(rn_data_opts_check(&o, &err) == 0, "valid: %s", err.msg);

    CHECK(rn_data_opts_set(&o, "data", "nonsense", "1", &err) == -1 && strstr(err.msg, "nonsense"),
          "unknown key: %s", err.msg);
    CHECK(rn_data_opts_set(&o, "data", "size", "12x", &err) == -1 && strstr(err.msg, "size"),
          "bad int: %s", err.msg);
    CHECK(rn_data_opts_set(&o, "data", "workers", "-1", &err) == -1, "negative workers");
    CHECK(rn_data_opts_set(&o, "data", "std", "0.2, 0, 0.2", &err) == -1, "zero std");
    CHECK(rn_data_opts_set(&o, "data", "mean", "0.2, 0.2", &err) == -1, "two of three numbers");
    CHECK(rn_data_opts_set(&o, "augment", "scale", "1, 0.5", &err) == -1, "scale lo > hi");
    CHECK(rn_data_opts_set(&o, "augment", "brightness", "-0.1", &err) == -1, "negative jitter");
    CHECK(rn_data_opts_set(&o, "train", "size", "1", &err) == -1 && strstr(err.msg, "[train]"),
          "foreign section: %s", err.msg);
    o.resize = 16;
    CHECK(rn_data_opts_check(&o, &err) == -1 && strstr(err.msg, "resize"), "resize < size: %s",
          err.msg);
}

// Both splits from the options, the way the trainer opens them.
static void test_data_open(void) {
    touch("od/train/y/1.jpg");
    touch("od/train/x/1.jpg");
    touch("od/train/x/2.jpg");
    touch("od/val/y/9.jpg");
    char names[600], list[600];
    snprintf(names, sizeof names, "%s/od/names.txt", root);
    write_bytes(names, "Ex\nWhy\n", 7);
    snprintf(list, sizeof list, "%s/od/val.txt", root);
    write_bytes(list, "y/9.jpg 1\nx/1.jpg 0\n", 20);
    rn_data_opts o = rn_data_opts_default();
    snprintf(o.train_dir, sizeof o.train_dir, "%s/od/train", root);
    snprintf(o.val_dir, sizeof o.val_dir, "%s/od/val", root);
    snprintf(o.class_names, sizeof o.class_names, "%s", names);
    rn_dataset *tr = NULL, *va = NULL;
    rn_err err;
    CHECK(rn_data_open(&o, &tr, &va, stdout, &err) == 0, "open both: %s", err.msg);
    if (tr && va) {
        CHECK(tr->n == 3 && va->n == 1 && va->labels[0] == 1, "train %zu val %zu", tr->n, va->n);
        CHECK(strcmp(tr->class_names[1], "Why") == 0 && strcmp(va->class_names[1], "Why") == 0,
              "class names on both splits");
    }
    rn_dataset_destroy(tr);
    rn_dataset_destroy(va);
    // Validation from a list whose paths are relative to train_dir.
    snprintf(o.val_list, sizeof o.val_list, "%s", list);
    snprintf(o.val_dir, sizeof o.val_dir, "%s", o.train_dir);
    tr = va = NULL;
    CHECK(rn_data_open(&o, &tr, &va, NULL, &err) == 0, "open with list: %s", err.msg);
    if (va) {
        char p[4096], want[4096];
        rn_dataset_path(va, 1, p, sizeof p);
        snprintf(want, sizeof want, "%s/x/1.jpg", o.train_dir);
        CHECK(va->n == 2 && strcmp(p, want) == 0 && va->n_classes == 2, "list val path %s", p);
    }
    rn_dataset_destroy(tr);
    rn_dataset_destroy(va);
    // Nothing configured for val: NULL without error; a bad train folder: error, nothing open.
    o.val_list[0] = o.val_dir[0] = 0;
    tr = va = NULL;
    CHECK(rn_data_open(&o, &tr, &va, NULL, &err) == 0 && tr && !va, "val not configured");
    rn_dataset_destroy(tr);
    snprintf(o.train_dir, sizeof o.train_dir, "%s/od/nope", root);
    tr = NULL;
    CHECK(rn_data_open(&o, &tr, NULL, NULL, &err) == -1 && !tr && strstr(err.msg, "nope"),
          "bad train folder: %s", err.msg);
}

// A larger scan: 20,000 files in 20 classes (a 1/64 ImageNet), sorted within classes. The time is
// printed, not asserted (the machine is shared; docs/PERFORMANCE.md has the 1.28 M-file figure).
static void test_scan_speed(void) {
    char dir[512], p[1024];
    snprintf(dir, sizeof dir, "%s/big", root);
    for (int c = 0; c < 20; c++) {
        snprintf(p, sizeof p, "%s/n%08d/x", dir, c);
        mkdir_for(p);
        for (int i = 0; i < 1000; i++) {
            snprintf(p, sizeof p, "%s/n%08d/n%08d_%d.JPEG", dir, c, c, i);
            FILE *f = fopen(p, "w");
            if (f) fclose(f);
        }
    }
    rn_err err;
    rn_dataset *ds = NULL;
    double t0 = rn_now();
    CHECK(rn_dataset_open_folder(&ds, dir, NULL, &err) == 0, "big: %s", err.msg);
    double dt = rn_now() - t0;
    if (ds) {
        CHECK(ds->n == 20000 && ds->n_classes == 20, "big n %zu", ds->n);
        CHECK(ds->labels[19999] == 19 &&
                  strcmp(rn_dataset_relpath(ds, 1), "n00000000/n00000000_1.JPEG") == 0 &&
                  strcmp(rn_dataset_relpath(ds, 2), "n00000000/n00000000_10.JPEG") == 0,
              "sorted within class: %s", rn_dataset_relpath(ds, 2));
        rn_dataset_describe(ds, "big", stdout);
        rn_dataset_destroy(ds);
    }
    printf("scan of 20k files: %.3f s\n", dt);
}

int main(void) {
    tmp_dir(root, sizeof root, "dataset");
    test_folder();
    test_list();
    test_sharding();
    test_permutation();
    test_opts();
    test_data_open();
    test_scan_speed();
    rm_rf(root);
    return check_summary();
}
