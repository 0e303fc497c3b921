// test_data_hostile.c — the data path against crafted inputs (issue 12): JPEG streams without a
// frame or with absurd sizes, transforms given any size, symlink cycles in a dataset folder, an
// empty class folder, a sparse 2 GB file named .jpg, an allocation failure for one sample, and the
// per-epoch count of skipped files. Every input is generated here.
#include "tests/test_data_util.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "data/jpeg.h"
#include "data/loader.h"
#include "data/transform.h"
#include "tests/check.h"

#if defined(__SANITIZE_ADDRESS__)
#define RN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RN_ASAN 1
#endif
#endif

#ifdef RN_ASAN
// ASan reserves terabytes of address space, so RLIMIT_AS cannot bound it; instead any single
// allocation over 256 MiB returns NULL, which is what a memory limit does to the code under test.
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1:max_allocation_size_mb=256";
}
#endif

static char root[256];

// ---------------------------------------------------------------------------------------------
// Crafted JPEG streams, cut from or patched into a real one.

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static bytes real_jpeg(int w, int h, int seed) {
    uint8_t *px = smooth_rgb(w, h, seed);
    unsigned char *j;
    unsigned long n = jpeg_encode(px, w, h, TJPF_RGB, 90, &j);
    free(px);
    bytes b = {malloc(n), n};
    memcpy(b.p, j, n);
    tjFree(j);
    return b;
}

// Offset of the first marker segment FF <marker> after SOI, or 0.
static size_t find_segment(const bytes *b, unsigned marker) {
    size_t i = 2;
    while (i + 4 <= b->n && b->p[i] == 0xFF) {
        if (b->p[i + 1] == marker) return i;
        if (b->p[i + 1] == 0xDA) break;  // start of scan: no more headers
        i += 2 + ((size_t)b->p[i + 2] << 8 | b->p[i + 3]);
    }
    return 0;
}

// SOI, the DQT and DHT segments of a real file, EOI: tables, no frame.
static bytes tables_only(void) {
    bytes src = real_jpeg(16, 16, 1), out = {malloc(src.n), 0};
    out.p[out.n++] = 0xFF, out.p[out.n++] = 0xD8;
    for (size_t i = 2; i + 4 <= src.n && src.p[i] == 0xFF && src.p[i + 1] != 0xDA;) {
        size_t len = 2 + ((size_t)src.p[i + 2] << 8 | src.p[i + 3]);
        if (src.p[i + 1] == 0xDB || src.p[i + 1] == 0xC4) {
            memcpy(out.p + out.n, src.p + i, len);
            out.n += len;
        }
        i += len;
    }
    out.p[out.n++] = 0xFF, out.p[out.n++] = 0xD9;
    free(src.p);
    return out;
}

// A real 16 x 16 file whose SOF0 declares w x h (the scan data stays that of 16 x 16).
static bytes with_size(int w, int h) {
    bytes b = real_jpeg(16, 16, 2);
    size_t s = find_segment(&b, 0xC0);
    if (!s) abort();
    b.p[s + 5] = (unsigned char)(h >> 8), b.p[s + 6] = (unsigned char)h;
    b.p[s + 7] = (unsigned char)(w >> 8), b.p[s + 8] = (unsigned char)w;
    return b;
}

static void write_file(const char *rel, const bytes *b) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    write_bytes(p, b->p, b->n);
}

// stderr into a file while `f` runs, then its text (static buffer).
static const char *captured(void (*f)(void *), void *arg) {
    static char text[1 << 15];
    char log[512];
    snprintf(log, sizeof log, "%s/stderr.txt", root);
    fflush(stderr);
    int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    f(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved), close(fd);
    text[0] = 0;
    FILE *in = fopen(log, "r");
    if (in) {
        text[fread(text, 1, sizeof text - 1, in)] = 0;
        fclose(in);
    }
    fputs(text, stderr);  // still shown in the test log
    return text;
}

static void test_frameless_jpegs(void) {
    struct {
        const char *name, *want;
        bytes b;
    } cases[] = {
        {"tables only", "without an image frame", tables_only()},
        {"width 0", "", with_size(0, 16)},
        {"height 0", "", with_size(16, 0)},
        {"65535 x 65535", "", with_size(65535, 65535)},  // libjpeg's own limit is 65500
        {"20000 x 20000", "too large", with_size(20000, 20000)},
    };
    rn_jpeg_decoder *d = rn_jpeg_decoder_create();
    rn_decoder *dd = rn_decoder_create();
    rn_xform_ws ws = {0};
    rn_data_opts o = rn_data_opts_default();
    o.size = 8, o.resize = 8;
    float out[3 * 8 * 8];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rn_err e;
        int w = -7, h = -7;
        rn_image img;
        e.msg[0] = 0;
        CHECK(rn_jpeg_header(d, cases[i].b.p, cases[i].b.n, &w, &h, &e) == -1 && e.msg[0] &&
                  strstr(e.msg, cases[i].want),
              "%s: header refused: '%s'", cases[i].name, e.msg);
        e.msg[0] = 0;
        CHECK(rn_jpeg_decode(d, cases[i].b.p, cases[i].b.n, 1, 8, &img, &e) == -1 && e.msg[0] &&
                  strstr(e.msg, cases[i].want),
              "%s: decode refused: '%s'", cases[i].name, e.msg);
        CHECK(rn_preprocess_image(dd, &ws, cases[i].b.p, cases[i].b.n, &o, NULL, out, &e) == -1,
              "%s: pipeline refused", cases[i].name);
    }
    // The decoder still works after all that, and the largest legal side is accepted.
    bytes good = real_jpeg(20, 12, 3), wide = with_size(65500, 1);
    rn_err e;
    int w, h;
    CHECK(rn_preprocess_image(dd, &ws, good.p, good.n, &o, NULL, out, &e) == 0, "good: %s", e.msg);
    CHECK(rn_jpeg_header(d, wide.p, wide.n, &w, &h, &e) == 0 && w == 65500 && h == 1,
          "65500 x 1 is a legal header: %s", e.msg);
    free(good.p), free(wide.p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) free(cases[i].b.p);
    rn_xform_ws_free(&ws);
    rn_decoder_destroy(dd);
    rn_jpeg_decoder_destroy(d);
}

// Crop boxes and plans for any size: never empty, never outside the image, no NaN; the sampler
// on degenerate images writes numbers, not garbage.
static void test_transform_any_size(void) {
    const int sizes[][2] = {{0, 0}, {-3, 5}, {1, 1}, {1, 65535}, {65535, 1}, {65535, 65535},
                            {INT_MAX, INT_MAX}, {INT_MAX, 1}};
    const double ratios[][2] = {{0.75, 4.0 / 3}, {1e-300, 1e300}, {1e300, 1e300}, {1e-300, 1e-300}};
    rn_rng r;
    rn_rng_seed(&r, 5);
    int box_ok = 1, plan_ok = 1;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int W = sizes[s][0], H = sizes[s][1], mw = W > 1 ? W : 1, mh = H > 1 ? H : 1;
        for (size_t q = 0; q < sizeof ratios / sizeof ratios[0]; q++)
            for (int k = 0; k < 20; k++) {
                int b[4];
                rn_rrc_box(&r, W, H, 0.08, 1, ratios[q][0], ratios[q][1], b);
                int ok = b[2] >= 1 && b[3] >= 1 && b[2] <= mw && b[3] <= mh && b[0] >= 0 &&
                         b[1] >= 0 && b[0] <= mw - b[2] && b[1] <= mh - b[3];
                if (!ok && box_ok)
                    fprintf(stderr, "box %d %d %d %d for %dx%d\n", b[0], b[1], b[2], b[3], W, H);
                box_ok &= ok;
            }
        rn_plan p;
        rn_plan_eval(W, H, 256, 224, &p);
        plan_ok &= p.out_w == 224 && p.out_h == 224 && isfinite(p.ox) && isfinite(p.oy) &&
                   p.sx > 0 && p.sy > 0 && isfinite(p.sx) && isfinite(p.sy);
        int num = 0, den = 0;
        rn_jpeg_pick_scale(W, H, 0.5, 0.5, &num, &den);
        plan_ok &= num >= 1 && den >= num && den <= 8;
    }
    CHECK(box_ok, "RandomResizedCrop boxes inside the image for every size and ratio");
    CHECK(plan_ok, "evaluation plans finite for every size");

    // A 1 x 1 decode standing for a 1 x 65535 original, and an empty image: finite output.
    uint8_t px[3] = {255, 0, 51};
    rn_image one = {px, 1, 1}, none = {px, 0, 0};
    rn_xform_ws ws = {0};
    float out[3 * 6 * 6];
    rn_plan p;
    rn_plan_eval(1, 65535, 8, 6, &p);
    CHECK(rn_sample_bilinear(&one, 1, 65535, &p, out, &ws) == 0, "sample 1 x 65535");
    int fine = 1;
    for (int i = 0; i < 36; i++)
        fine &= out[i] == 1.0f && out[36 + i] == 0.0f && fabsf(out[72 + i] - 0.2f) < 1e-6f;
    CHECK(fine, "a one-pixel image samples to its colour");
    for (int i = 0; i < 3 * 36; i++) out[i] = NAN;
    CHECK(rn_sample_bilinear(&none, 0, 0, &p, out, &ws) == 0, "sample empty");
    fine = 1;
    for (int i = 0; i < 3 * 36; i++) fine &= out[i] == 0.0f;
    CHECK(fine, "an empty image samples to zeros");
    rn_xform_ws_free(&ws);
}

// ---------------------------------------------------------------------------------------------
// Folder scans: symlink cycles, folders reachable twice, an empty class.

static void link_at(const char *target, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    mkdir_for(p);
    if (symlink(target, p) != 0) {
        perror(p);
        abort();
    }
}

static void touch(const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    write_bytes(p, "", 0);
}

typedef struct scan_args {
    const char *dir;
    rn_dataset *ds;
    rn_err err;
} scan_args;

static void do_scan(void *arg) {
    scan_args *a = arg;
    a->ds = NULL;
    rn_dataset_open_folder(&a->ds, a->dir, NULL, &a->err);
}

static void test_symlink_cycles(void) {
    touch("cyc/a/1.jpg");
    touch("cyc/a/2.jpg");
    touch("cyc/a/sub/3.jpg");
    link_at(".", "cyc/a/self");        // ln -s . a/self
    link_at("..", "cyc/a/sub/up");     // back to a
    link_at("1.jpg", "cyc/a/link.jpg");  // a symlinked file: kept, like ImageFolder
    touch("cyc/b/x/4.jpg");
    touch("cyc/b/y/5.jpg");
    link_at("../y", "cyc/b/x/to_y");   // two mutual cycle links
    link_at("../x", "cyc/b/y/to_x");
    link_at(".", "cyc/b/self1");       // two self links: 2^depth paths without the visited set
    link_at(".", "cyc/b/self2");
    touch("outside/6.jpg");
    link_at("../../outside", "cyc/b/ext");  // a folder outside the tree: scanned once
    link_at("../../outside", "cyc/b/ext2");  // a second path to it: skipped (sorted after ext)
    touch("cyc/c/real/7.jpg");
    link_at("real", "cyc/c/alias");    // a second path to a real folder: the real one wins
    link_at("../outside", "cyc/d");    // a symlinked class folder is a class
    char dir[512];
    snprintf(dir, sizeof dir, "%s/cyc", root);
    scan_args a = {.dir = dir};
    const char *log = captured(do_scan, &a);
    CHECK(a.ds != NULL, "scan with cycles: %s", a.err.msg);
    if (!a.ds) return;
    const char *want[] = {"a/1.jpg",   "a/2.jpg",   "a/link.jpg",   "a/sub/3.jpg", "b/ext/6.jpg",
                          "b/x/4.jpg", "b/y/5.jpg", "c/real/7.jpg", "d/6.jpg"};
    CHECK(a.ds->n == 9 && a.ds->n_classes == 4, "exactly 9 files in 4 classes, got %zu in %d",
          a.ds->n, a.ds->n_classes);
    for (size_t i = 0; i < 9 && i < a.ds->n; i++)
        CHECK(!strcmp(rn_dataset_relpath(a.ds, i), want[i]), "file %zu: %s, want %s", i,
              rn_dataset_relpath(a.ds, i), want[i]);
    CHECK(a.ds->skipped_dirs == 8, "8 folders skipped, got %zu", a.ds->skipped_dirs);
    const char *skipped[] = {"a/self:", "a/sub/up:", "b/x/to_y:", "b/y/to_x:", "b/self1:",
                             "b/self2:", "b/ext2:", "c/alias:"};
    for (size_t i = 0; i < 8; i++)
        CHECK(strstr(log, skipped[i]), "warning names %s", skipped[i]);
    CHECK(strstr(log, "a/self: not scanned, folder already scanned (a symlink cycle"),
          "warning says why");
    rn_dataset_destroy(a.ds);
}

static void test_empty_class(void) {
    touch("emp/full/1.jpg");
    touch("emp/hollow/readme.txt");
    touch("emp/zz/2.jpg");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/emp", root);
    scan_args a = {.dir = dir};
    const char *log = captured(do_scan, &a);
    CHECK(a.ds && a.ds->n_classes == 3 && a.ds->empty_classes == 1 && a.ds->n == 2 &&
              a.ds->labels[1] == 2,
          "empty class kept: labels keep the folder order");
    CHECK(strstr(log, "emp/hollow: class folder holds no") && strstr(log, "class 1"),
          "warning names the empty class folder");
    rn_dataset_destroy(a.ds);
}

// ---------------------------------------------------------------------------------------------
// File size cap, allocation failures, per-epoch counts: through the loader.

static rn_data_opts small_opts(int workers) {
    rn_data_opts o = rn_data_opts_default();
    o.size = 8, o.resize = 8, o.batch_size = 3, o.prefetch = 2, o.seed = 7, o.workers = workers;
    o.drop_last = 0;  // every sample position once per epoch
    return o;
}

// Good images in two classes, plus the listed bad files written by the caller.
static void good_images(const char *set, int n) {
    for (int i = 0; i < n; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/c%d/good%d.jpg", set, i % 2, i);
        bytes b = real_jpeg(12 + i, 10 + 2 * i, i);
        write_file(rel, &b);
        free(b.p);
    }
}

typedef struct epoch_args {
    const rn_dataset_view *v;
    rn_data_opts o;
    int train, epochs;
    int64_t replaced[3], corrupt[3];  // per epoch
    int rc;
    rn_err err;
} epoch_args;

static void run_epochs(void *arg) {
    epoch_args *a = arg;
    rn_loader *l = NULL;
    a->rc = rn_loader_create(a->v, &a->o, a->train, &l, &a->err);
    for (int e = 0; !a->rc && e < a->epochs; e++) {
        rn_loader_start_epoch(l, e);
        rn_batch *b;
        int rc;
        while ((rc = rn_loader_next(l, &b, &a->err)) == 1) rn_loader_release(l, b);
        if (rc < 0) a->rc = -1;
        rn_loader_stats st;
        rn_loader_stats_get(l, &st);
        a->replaced[e] = st.epoch_replaced;
        a->corrupt[e] = st.corrupt_files;
    }
    rn_loader_destroy(l);
}

// Frame-less and absurd JPEGs are skipped with the file named; every epoch counts each bad file
// once (each position is visited once per epoch), for training and evaluation alike.
static void test_epoch_counts(void) {
    good_images("cnt", 8);
    bytes bad[4] = {tables_only(), with_size(0, 16), with_size(65535, 65535), with_size(16, 0)};
    const char *names[4] = {"cnt/c0/tables.jpg", "cnt/c1/w0.jpg", "cnt/c0/huge.jpg",
                            "cnt/c1/h0.jpg"};
    for (int i = 0; i < 4; i++) write_file(names[i], &bad[i]), free(bad[i].p);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/cnt", root);
    rn_dataset *ds = NULL;
    rn_err err;
    CHECK(rn_dataset_open_folder(&ds, dir, NULL, &err) == 0 && ds->n == 12, "open: %s", err.msg);
    if (!ds) return;
    rn_dataset_view v;
    rn_view_init(&v, ds, 0, 1, &err);
    for (int train = 1; train >= 0; train--) {
        epoch_args a = {.v = &v, .o = small_opts(2), .train = train, .epochs = 3};
        const char *log = captured(run_epochs, &a);
        CHECK(a.rc == 0, "%s epochs: %s", train ? "train" : "eval", a.err.msg);
        for (int e = 0; e < 3; e++)
            CHECK(a.replaced[e] == 4 && a.corrupt[e] == 4, "%s epoch %d: %lld skipped, %lld bad",
                  train ? "train" : "eval", e, (long long)a.replaced[e], (long long)a.corrupt[e]);
        for (int i = 0; i < 4; i++)
            CHECK(strstr(log, names[i]) != NULL, "%s named on stderr", names[i]);
        CHECK(strstr(log, "without an image frame"), "the tables-only file's reason is given");
    }
    rn_dataset_destroy(ds);
}

static void test_opts_key(void) {
    rn_data_opts o = rn_data_opts_default();
    rn_err e;
    CHECK(o.max_file_mb == 64, "max_file_mb defaults to 64");
    CHECK(rn_data_opts_set(&o, "data", "max_file_mb", "4096", &e) == 0 && o.max_file_mb == 4096,
          "4096 accepted");
    CHECK(rn_data_opts_set(&o, "data", "max_file_mb", "1", &e) == 0 && o.max_file_mb == 1, "1");
    CHECK(rn_data_opts_set(&o, "data", "max_file_mb", "0", &e) == -1 && strstr(e.msg, "[1, 4096]"),
          "0 refused: %s", e.msg);
    CHECK(rn_data_opts_set(&o, "data", "max_file_mb", "4097", &e) == -1, "4097 refused");
    o.max_file_mb = 0;
    CHECK(rn_data_opts_check(&o, &e) == -1 && strstr(e.msg, "max_file_mb"), "check: %s", e.msg);

    // The cap is exact: a file of n bytes reads under cap n and is refused under n - 1, before
    // anything is allocated; files that lie about their size (procfs says 0) are cut off too.
    char p[512];
    snprintf(p, sizeof p, "%s/exact.bin", root);
    unsigned char *data = calloc(1, 300001);
    write_bytes(p, data, 300001);
    free(data);
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    CHECK(rn_read_file_max(p, 300001, &buf, &cap, &len, &e) == 0 && len == 300001, "at the cap");
    free(buf), buf = NULL, cap = 0;
    CHECK(rn_read_file_max(p, 300000, &buf, &cap, &len, &e) == -1 && strstr(e.msg, "larger") &&
              cap == 0,
          "over the cap, nothing allocated: %s", e.msg);
    CHECK(rn_read_file_max("/proc/self/maps", 100, &buf, &cap, &len, &e) == -1 &&
              strstr(e.msg, "larger") && cap <= 101,
          "a file whose size stat does not tell is cut at the cap: %s (cap %zu)", e.msg, cap);
    CHECK(rn_read_file("/proc/self/maps", &buf, &cap, &len, &e) == 0 && len > 100, "uncapped");
    free(buf);
}

#ifndef RN_ASAN
// Address space the process uses now, from /proc/self/statm.
static size_t vm_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f && fscanf(f, "%lu", &pages) != 1) pages = 0;
    if (f) fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}
#endif

// Runs f in a child whose memory is limited to what it has plus `extra` bytes (RLIMIT_AS; under
// ASan the per-allocation limit above stands in). The child's checks count there; it exits with
// its failure count, which the parent checks.
static void in_limited_child(const char *what, void (*f)(void), size_t extra) {
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
#ifndef RN_ASAN
        struct rlimit rl = {vm_bytes() + extra, vm_bytes() + extra};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(99);
#else
        (void)extra;
#endif
        check_failed = 0;
        f();
        fflush(stdout), fflush(stderr);
        _exit(check_failed ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child %s %d", what,
          WIFEXITED(status) ? "exited with" : "killed by signal",
          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static rn_dataset *open_set(const char *set) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", root, set);
    rn_dataset *ds = NULL;
    rn_err err;
    CHECK(rn_dataset_open_folder(&ds, dir, NULL, &err) == 0, "open %s: %s", set, err.msg);
    return ds;
}

// One epoch of evaluation over `set` with one bad file expected: skipped, counted, named with
// `reason`, and every other sample made. resize > 8000 makes a 16000 px file decode at full size.
static void one_bad_epoch(const char *set, int resize, const char *bad_rel, const char *reason) {
    rn_dataset *ds = open_set(set);
    if (!ds) return;
    rn_dataset_view v;
    rn_err err;
    rn_view_init(&v, ds, 0, 1, &err);
    epoch_args a = {.v = &v, .o = small_opts(2), .train = 0, .epochs = 1};
    a.o.resize = resize;
    const char *log = captured(run_epochs, &a);
    CHECK(a.rc == 0 && a.replaced[0] == 1 && a.corrupt[0] == 1, "%s: rc %d, %lld skipped (%s)", set,
          a.rc, (long long)a.replaced[0], a.err.msg);
    const char *line = strstr(log, bad_rel);
    CHECK(line && strstr(line, reason), "%s named with '%s'", bad_rel, reason);
    rn_dataset_destroy(ds);
}

// A 2 GB sparse file named .jpg (no disk or memory spent making it): skipped on its size.
static void sparse_child(void) {
    one_bad_epoch("sparse", 8, "sparse/c1/big.jpg", "larger than the limit");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    CHECK(ru.ru_maxrss < 512 * 1024, "peak memory %ld KiB", ru.ru_maxrss);
}

static void test_sparse_file(void) {
    good_images("sparse", 4);
    char p[512];
    snprintf(p, sizeof p, "%s/sparse/c1/big.jpg", root);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "\xFF\xD8\xFF\xE0", 4) == 4 && ftruncate(fd, (off_t)2 << 30) == 0,
          "sparse file");
    close(fd);
    in_limited_child("2 GB sparse file", sparse_child, (size_t)256 << 20);
    remove(p);
}

// A header declaring 16000 x 16000 (256 M pixels, under the pixel cap) needs a 768 MB decode
// buffer: under a 256 MB limit its allocation fails, and that one sample is skipped.
static void alloc_child(void) {
    bytes tall = with_size(16000, 16000);
    rn_jpeg_decoder *d = rn_jpeg_decoder_create();
    rn_image img;
    rn_err e;
    CHECK(rn_jpeg_decode(d, tall.p, tall.n, 1, 1, &img, &e) == -1 && strstr(e.msg, "out of memory"),
          "decode buffer allocation fails as an error: %s", e.msg);
    bytes good = real_jpeg(10, 10, 4);  // the decoder is still usable
    CHECK(rn_jpeg_decode(d, good.p, good.n, 1, 1, &img, &e) == 0 && img.w == 10, "then: %s", e.msg);
    rn_jpeg_decoder_destroy(d);
    free(tall.p), free(good.p);
    one_bad_epoch("oom", 8192, "oom/c0/tall.jpg", "out of memory");
}

static void test_alloc_failure(void) {
    good_images("oom", 4);
    bytes tall = with_size(16000, 16000);
    write_file("oom/c0/tall.jpg", &tall);
    free(tall.p);
    in_limited_child("allocation failure", alloc_child, (size_t)256 << 20);
}

int main(void) {
    tmp_dir(root, sizeof root, "hostile");
    test_frameless_jpegs();
    test_transform_any_size();
    test_symlink_cycles();
    test_empty_class();
    test_epoch_counts();
    test_opts_key();
    test_sparse_file();
    test_alloc_failure();
    rm_rf(root);
    return check_summary();
}
