// test_data_loader.c — JPEG decoding (grayscale, CMYK, corrupt files), the threaded loader's
// determinism across worker counts, corrupt-file replacement and reporting, partial batches.
#include "tests/test_data_util.h"

#include <fcntl.h>

#include "data/jpeg.h"
#include "data/loader.h"
#include "data/transform.h"
#include "tests/check.h"

static char root[256], dir[512];

static void path_of(char *p, size_t cap, const char *rel) { snprintf(p, cap, "%s/%s", dir, rel); }

static unsigned char *rel_bytes(const char *rel, size_t *n) {
    char p[1024];
    path_of(p, sizeof p, rel);
    return file_bytes(p, n);
}

// 3 classes x 8 good colour JPEGs of assorted sizes, one grayscale, one CMYK, and four bad files.
static void make_dataset(void) {
    snprintf(dir, sizeof dir, "%s/train", root);
    char p[1024];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 8; i++) {
            int k = c * 8 + i, w = 40 + (k * 13) % 50, h = 36 + (k * 29) % 55;
            uint8_t *px = smooth_rgb(w, h, k);
            snprintf(p, sizeof p, "%s/cls%d/img%02d.jpg", dir, c, i);
            write_jpeg(p, px, w, h, TJPF_RGB, 90);
            free(px);
        }
    uint8_t g[50 * 40];
    for (int i = 0; i < 50 * 40; i++) g[i] = (uint8_t)(i * 7 % 256);
    path_of(p, sizeof p, "cls1/gray.jpg");
    write_jpeg(p, g, 50, 40, TJPF_GRAY, 90);
    uint8_t cmyk[48 * 32 * 4];
    for (int i = 0; i < 48 * 32; i++)  // inverted (Adobe) CMYK: RGB = (200, 100, 50) * 255/255
        cmyk[4 * i] = 200, cmyk[4 * i + 1] = 100, cmyk[4 * i + 2] = 50, cmyk[4 * i + 3] = 255;
    path_of(p, sizeof p, "cls2/cmyk.jpg");
    write_jpeg(p, cmyk, 48, 32, TJPF_CMYK, 95);

    // Bad files: truncated JPEG, text named .jpg, empty file, JPEG magic followed by garbage.
    uint8_t *px = smooth_rgb(200, 150, 5);
    unsigned char *j;
    unsigned long n = jpeg_encode(px, 200, 150, TJPF_RGB, 90, &j);
    path_of(p, sizeof p, "cls0/trunc.jpg");
    write_bytes(p, j, n / 2);
    tjFree(j);
    free(px);
    path_of(p, sizeof p, "cls1/text.jpg");
    write_bytes(p, "this is not a JPEG file\n", 24);
    path_of(p, sizeof p, "cls2/empty.jpg");
    write_bytes(p, "", 0);
    uint8_t junk[300];
    for (int i = 0; i < 300; i++) junk[i] = (uint8_t)(i * 31 + 7);
    junk[0] = 0xFF, junk[1] = 0xD8;
    path_of(p, sizeof p, "cls0/garbage.jpg");
    write_bytes(p, junk, sizeof junk);
}

static void test_decode(void) {
    rn_jpeg_decoder *d = rn_jpeg_decoder_create();
    rn_err err;
    rn_image img;
    size_t n;
    unsigned char *b = rel_bytes("cls1/gray.jpg", &n);
    CHECK(rn_jpeg_decode(d, b, n, 1, 1, &img, &err) == 0, "gray: %s", err.msg);
    int same = img.w == 50 && img.h == 40, close = 1;
    for (int i = 0; same && i < 50 * 40; i++) {
        same &= img.px[3 * i] == img.px[3 * i + 1] && img.px[3 * i] == img.px[3 * i + 2];
        close &= abs(img.px[3 * i] - (i * 7 % 256)) < 80;  // noisy pattern, lossy: loose
    }
    CHECK(same, "grayscale -> 3 equal channels");
    free(b);
    b = rel_bytes("cls2/cmyk.jpg", &n);
    CHECK(rn_jpeg_decode(d, b, n, 1, 2, &img, &err) == 0, "cmyk: %s", err.msg);
    CHECK(img.w == 24 && img.h == 16, "cmyk at 1/2: %dx%d", img.w, img.h);
    CHECK(abs(img.px[0] - 200) <= 3 && abs(img.px[1] - 100) <= 3 && abs(img.px[2] - 50) <= 3,
          "cmyk -> rgb %d %d %d", img.px[0], img.px[1], img.px[2]);
    free(b);
    b = rel_bytes("cls0/trunc.jpg", &n);
    CHECK(rn_jpeg_decode(d, b, n, 1, 1, &img, &err) == -1 && strcasestr(err.msg, "premature"),
          "truncated rejected: %s", err.msg);
    free(b);
    b = rel_bytes("cls1/text.jpg", &n);
    CHECK(rn_jpeg_decode(d, b, n, 1, 1, &img, &err) == -1 && strstr(err.msg, "not a JPEG"),
          "text rejected: %s", err.msg);
    free(b);
    b = rel_bytes("cls0/garbage.jpg", &n);
    CHECK(rn_jpeg_decode(d, b, n, 1, 1, &img, &err) == -1, "garbage rejected");
    free(b);
    CHECK(rn_jpeg_decode(d, (const uint8_t *)"", 0, 1, 1, &img, &err) == -1, "empty rejected");
    rn_jpeg_decoder_destroy(d);
}

typedef struct epoch_run {
    float *data;      // all batches of the epoch, concatenated
    int32_t *labels;
    size_t *index;
    int n, batches, last_n;
} epoch_run;

static void run_free(epoch_run *r) {
    free(r->data), free(r->labels), free(r->index);
    memset(r, 0, sizeof *r);
}

static int collect(rn_loader *l, int64_t epoch, size_t sample_floats, epoch_run *r) {
    memset(r, 0, sizeof *r);
    rn_loader_start_epoch(l, epoch);
    int64_t nb = rn_loader_num_batches(l);
    r->data = malloc((size_t)nb * 64 * sample_floats * sizeof(float));
    r->labels = malloc((size_t)nb * 64 * sizeof(int32_t));
    r->index = malloc((size_t)nb * 64 * sizeof(size_t));
    rn_batch *b;
    rn_err err;
    int rc;
    while ((rc = rn_loader_next(l, &b, &err)) == 1) {
        if (b->number != r->batches) return -1;
        memcpy(r->data + (size_t)r->n * sample_floats, b->data,
               b->n * sample_floats * sizeof(float));
        memcpy(r->labels + r->n, b->labels, b->n * sizeof(int32_t));
        memcpy(r->index + r->n, b->index, b->n * sizeof(size_t));
        r->n += b->n;
        r->last_n = b->n;
        r->batches++;
        rn_loader_release(l, b);
    }
    return rc;
}

static int same_run(const epoch_run *a, const epoch_run *b, size_t sample_floats) {
    return a->n == b->n && a->batches == b->batches &&
           memcmp(a->data, b->data, (size_t)a->n * sample_floats * sizeof(float)) == 0 &&
           memcmp(a->labels, b->labels, (size_t)a->n * sizeof(int32_t)) == 0 &&
           memcmp(a->index, b->index, (size_t)a->n * sizeof(size_t)) == 0;
}

static rn_data_opts test_opts(int workers) {
    rn_data_opts o = rn_data_opts_default();
    o.size = 24, o.resize = 28, o.batch_size = 4, o.prefetch = 3, o.seed = 99, o.workers = workers;
    o.brightness = o.contrast = o.saturation = 0.4, o.lighting = 0.1;
    return o;
}

static int is_bad(const rn_dataset *ds, size_t i) {
    const char *p = rn_dataset_relpath(ds, i);
    return strstr(p, "trunc") || strstr(p, "text") || strstr(p, "empty") || strstr(p, "garbage");
}

static void test_loader(void) {
    rn_err err;
    rn_dataset *ds = NULL;
    CHECK(rn_dataset_open_folder(&ds, dir, NULL, &err) == 0, "open: %s", err.msg);
    if (!ds) return;
    CHECK(ds->n == 30 && ds->n_classes == 3, "30 files in 3 classes, got %zu", ds->n);
    rn_dataset_view v;
    rn_view_init(&v, ds, 0, 1, &err);
    size_t sf = 3 * 24 * 24;

    // Capture stderr to check that corrupt files are named.
    char log[600];
    snprintf(log, sizeof log, "%s/stderr.txt", root);
    fflush(stderr);
    int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);

    // Training: the same batches, bit for bit, with 0 (inline), 1 and 3 workers.
    epoch_run ref[2], got;
    rn_data_opts o1 = test_opts(1);
    rn_loader *l = NULL;
    CHECK(rn_loader_create(&v, &o1, 1, &l, &err) == 0, "create: %s", err.msg);
    CHECK(rn_loader_num_batches(l) == 7, "drop_last: 30 / 4 -> 7 batches");
    CHECK(collect(l, 0, sf, &ref[0]) == 0 && collect(l, 1, sf, &ref[1]) == 0, "reference epochs");
    rn_loader_stats st;
    rn_loader_stats_get(l, &st);
    rn_loader_destroy(l);
    CHECK(ref[0].n == 28 && ref[0].batches == 7 && ref[0].last_n == 4, "train epoch: %d samples",
          ref[0].n);
    CHECK(!same_run(&ref[0], &ref[1], sf), "epochs differ");
    int labels_ok = 1, shuffled = 0;
    for (int i = 0; i < ref[0].n; i++) {
        labels_ok &=
            ref[0].labels[i] == ds->labels[ref[0].index[i]] && !is_bad(ds, ref[0].index[i]);
        shuffled += ref[0].index[i] != (size_t)i;
    }
    CHECK(labels_ok, "labels follow the samples used, never a corrupt file");
    CHECK(shuffled > 10, "training order is shuffled (%d moved)", shuffled);
    CHECK(st.samples == 56, "56 samples made, got %lld", (long long)st.samples);

    const int counts[2] = {0, 3};
    for (int k = 0; k < 2; k++) {
        rn_data_opts o = test_opts(counts[k]);
        l = NULL;
        CHECK(rn_loader_create(&v, &o, 1, &l, &err) == 0, "create: %s", err.msg);
        if (!l) continue;
        for (int e = 0; e < 2; e++) {
            CHECK(collect(l, e, sf, &got) == 0, "collect");
            CHECK(same_run(&got, &ref[e], sf), "%d workers, epoch %d: identical to 1 worker",
                  counts[k], e);
            run_free(&got);
        }
        // Seek: epoch 1 from batch 3 gives batches 3.. of the full epoch, bit for bit.
        rn_loader_start_epoch_at(l, 1, 3);
        rn_batch *bs;
        int seek_ok = 1, seen = 0;
        while (rn_loader_next(l, &bs, &err) == 1) {
            size_t off = (size_t)bs->number * 4;
            seek_ok &= bs->number == 3 + seen && bs->n == 4 &&
                       memcmp(bs->data, ref[1].data + off * sf, 4 * sf * sizeof(float)) == 0 &&
                       memcmp(bs->labels, ref[1].labels + off, 4 * sizeof(int32_t)) == 0;
            seen++;
            rn_loader_release(l, bs);
        }
        CHECK(seek_ok && seen == 4, "%d workers: epoch started at batch 3 (%d batches)", counts[k], seen);
        // Abandon an epoch after one batch, then run the next one in full.
        rn_batch *b;
        rn_loader_start_epoch(l, 5);
        CHECK(rn_loader_next(l, &b, &err) == 1, "first batch");
        rn_batch *b2;
        CHECK(rn_loader_next(l, &b2, &err) == 1 && b2->number == 1, "two batches held at once");
        rn_loader_release(l, b);
        rn_loader_release(l, b2);
        CHECK(collect(l, 1, sf, &got) == 0 && same_run(&got, &ref[1], sf),
              "%d workers: epoch restarted mid-way", counts[k]);
        run_free(&got);
        rn_loader_destroy(l);
    }

    // Evaluation: dataset order, last partial batch kept, corrupt files replaced and counted.
    rn_data_opts oe = test_opts(2);
    l = NULL;
    CHECK(rn_loader_create(&v, &oe, 0, &l, &err) == 0, "create eval: %s", err.msg);
    if (l) {
        CHECK(rn_loader_num_batches(l) == 8, "eval keeps the last batch");
        epoch_run ev;
        CHECK(collect(l, 0, sf, &ev) == 0, "eval epoch");
        CHECK(ev.n == 30 && ev.batches == 8 && ev.last_n == 2, "eval: %d samples, last batch %d",
              ev.n, ev.last_n);
        int order_ok = 1, replaced_ok = 1, nbad = 0;
        for (int i = 0; i < ev.n; i++) {
            if (is_bad(ds, (size_t)i)) {
                nbad++;
                replaced_ok &= ev.index[i] != (size_t)i && !is_bad(ds, ev.index[i]) &&
                               ev.labels[i] == ds->labels[ev.index[i]];
            } else {
                order_ok &= ev.index[i] == (size_t)i && ev.labels[i] == ds->labels[i];
            }
        }
        CHECK(nbad == 4 && order_ok && replaced_ok, "eval order and replacements");
        rn_loader_stats_get(l, &st);
        CHECK(st.corrupt_files == 4 && st.replaced == 4, "corrupt %lld replaced %lld",
              (long long)st.corrupt_files, (long long)st.replaced);
        // The eval batch equals the single-image pipeline on the same file, bit for bit.
        rn_decoder *d = rn_decoder_create();
        rn_xform_ws ws = {0};
        float *one = malloc(sf * sizeof(float));
        size_t n;
        unsigned char *bytes = rel_bytes(rn_dataset_relpath(ds, 3), &n);
        CHECK(bytes && rn_preprocess_image(d, &ws, bytes, n, &oe, NULL, one, &err) == 0, "one");
        CHECK(memcmp(one, ev.data + 3 * sf, sf * sizeof(float)) == 0, "batch == single pipeline");
        free(bytes), free(one);
        rn_xform_ws_free(&ws);
        rn_decoder_destroy(d);
        // A second epoch: same samples, the known-bad files are not re-counted.
        epoch_run ev2;
        CHECK(collect(l, 1, sf, &ev2) == 0 && ev2.n == 30, "second eval epoch");
        rn_loader_stats_get(l, &st);
        CHECK(st.corrupt_files == 4 && st.replaced == 8,
              "after 2 epochs: corrupt %lld replaced %lld", (long long)st.corrupt_files,
              (long long)st.replaced);
        int same_good = 1;
        for (int i = 0; i < 30; i++)
            if (!is_bad(ds, (size_t)i))
                same_good &= memcmp(ev.data + i * sf, ev2.data + i * sf, sf * sizeof(float)) == 0;
        CHECK(same_good, "evaluation is the same every epoch");
        run_free(&ev);
        run_free(&ev2);
        rn_loader_destroy(l);
    }

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    FILE *f = fopen(log, "r");
    char text[8192] = "";
    if (f) {
        size_t got_n = fread(text, 1, sizeof text - 1, f);
        text[got_n] = 0;
        fclose(f);
    }
    fputs(text, stderr);
    CHECK(strstr(text, "cls0/trunc.jpg") && strstr(text, "cls1/text.jpg") &&
              strstr(text, "cls2/empty.jpg") && strstr(text, "cls0/garbage.jpg"),
          "corrupt files named on stderr");

    // Too few samples for one training batch with drop_last.
    rn_data_opts big = test_opts(1);
    big.batch_size = 64;
    l = NULL;
    CHECK(rn_loader_create(&v, &big, 1, &l, &err) == -1 && strstr(err.msg, "batch"),
          "dataset smaller than a batch: %s", err.msg);
    run_free(&ref[0]);
    run_free(&ref[1]);
    rn_dataset_destroy(ds);
}

// A dataset of nothing but corrupt files: an error, not a hang.
static void test_all_corrupt(void) {
    char p[1024], d2[600];
    snprintf(d2, sizeof d2, "%s/bad", root);
    snprintf(p, sizeof p, "%s/a/x.jpg", d2);
    write_bytes(p, "nope", 4);
    snprintf(p, sizeof p, "%s/b/y.jpg", d2);
    write_bytes(p, "", 0);
    rn_err err;
    rn_dataset *ds = NULL;
    rn_dataset_open_folder(&ds, d2, NULL, &err);
    if (!ds) return;
    rn_dataset_view v;
    rn_view_init(&v, ds, 0, 1, &err);
    rn_data_opts o = test_opts(2);
    o.batch_size = 2;
    rn_loader *l = NULL;
    rn_loader_create(&v, &o, 0, &l, &err);
    fflush(stderr);
    int saved = dup(2), fd = open("/dev/null", O_WRONLY);
    dup2(fd, 2);
    rn_loader_start_epoch(l, 0);
    rn_batch *b;
    err.msg[0] = 0;
    int rc = rn_loader_next(l, &b, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved), close(fd);
    CHECK(rc == -1 && strstr(err.msg, "no decodable image"), "all corrupt: rc %d %s", rc, err.msg);
    rn_loader_destroy(l);
    rn_dataset_destroy(ds);
}

int main(void) {
    tmp_dir(root, sizeof root, "loader");
    make_dataset();
    test_decode();
    test_loader();
    test_all_corrupt();
    rm_rf(root);
    return check_summary();
}
