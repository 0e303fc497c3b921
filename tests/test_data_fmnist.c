// test_data_fmnist.c — fashion-mnist-to-folder on a small synthetic IDX set: folder layout, class
// names, pixel values, idempotency and regeneration.
#include "tests/test_data_util.h"

#include <dirent.h>
#include <zlib.h>

#include "data/dataset.h"
#include "data/jpeg.h"
#include "tests/check.h"

#ifndef RN_FMNIST_TOOL
#error "RN_FMNIST_TOOL must name the fashion-mnist-to-folder executable"
#endif

static char root[256];

static int pixel(int i, int x, int y) {
    int v = 20 + x * 5 + y * 3 + i;  // smooth, so JPEG keeps it within a few levels
    return v > 255 ? 255 : v;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static void write_idx(const char *prefix, int n) {
    char p[600];
    snprintf(p, sizeof p, "%s/src/%s-images-idx3-ubyte.gz", root, prefix);
    mkdir_for(p);
    gzFile f = gzopen(p, "wb");
    uint8_t h[16];
    be32(h, 0x803), be32(h + 4, (uint32_t)n), be32(h + 8, 28), be32(h + 12, 28);
    gzwrite(f, h, 16);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                uint8_t v = (uint8_t)pixel(i, x, y);
                gzwrite(f, &v, 1);
            }
    gzclose(f);
    snprintf(p, sizeof p, "%s/src/%s-labels-idx1-ubyte.gz", root, prefix);
    f = gzopen(p, "wb");
    be32(h, 0x801), be32(h + 4, (uint32_t)n);
    gzwrite(f, h, 8);
    for (int i = 0; i < n; i++) {
        uint8_t l = (uint8_t)(i % 10);
        gzwrite(f, &l, 1);
    }
    gzclose(f);
}

// Runs the tool, returns its exit status; its stdout goes to out.
static int run_tool(const char *src, const char *dst, char *out, size_t cap) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' --src '%s' '%s' 2>&1", RN_FMNIST_TOOL, src, dst);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static ino_t inode(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? st.st_ino : 0;
}

static int count_staging(const char *out) {
    DIR *d = opendir(out);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) n += strncmp(e->d_name, ".staging", 8) == 0;
    if (d) closedir(d);
    return n;
}

int main(void) {
    tmp_dir(root, sizeof root, "fmnist");
    write_idx("train", 37);
    write_idx("t10k", 12);
    char src[512], out[512], train[600], msg[4096], p[1024];
    snprintf(src, sizeof src, "%s/src", root);
    snprintf(out, sizeof out, "%s/out/fashion-mnist", root);  // parent folders do not exist yet
    snprintf(train, sizeof train, "%s/train", out);

    int rc = run_tool(src, out, msg, sizeof msg);
    CHECK(rc == 0 && strstr(msg, "wrote 37 train + 12 val"), "first run: rc %d: %s", rc, msg);
    snprintf(p, sizeof p, "%s/T-shirt_top/00030.jpg", train);
    CHECK(access(p, F_OK) == 0, "label 0 image 30 in T-shirt_top");
    snprintf(p, sizeof p, "%s/val/Ankle_boot/00009.jpg", out);
    CHECK(access(p, F_OK) == 0, "val image 9 in Ankle_boot");
    CHECK(count_staging(out) == 0, "no staging folder left");

    rn_err err;
    rn_dataset *ds = NULL;
    CHECK(rn_dataset_open_folder(&ds, train, NULL, &err) == 0, "open: %s", err.msg);
    if (ds) {
        CHECK(ds->n == 37 && ds->n_classes == 10, "37 images in 10 classes, got %zu", ds->n);
        CHECK(strcmp(ds->class_names[0], "Ankle_boot") == 0 &&
                  strcmp(ds->class_names[8], "T-shirt_top") == 0 &&
                  strcmp(ds->class_names[9], "Trouser") == 0,
              "sorted class folders");
        int per[10] = {0};
        for (size_t i = 0; i < ds->n; i++) per[ds->labels[i]]++;
        CHECK(per[8] == 4 && per[0] == 3, "T-shirt_top 4 (0, 10, 20, 30), Ankle_boot 3: %d %d",
              per[8], per[0]);
        rn_dataset_destroy(ds);
    }
    // Pixels survive quality-95 JPEG within a few levels; the file is grayscale 28x28.
    snprintf(p, sizeof p, "%s/Bag/00018.jpg", train);
    FILE *f = fopen(p, "rb");
    uint8_t buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    rn_jpeg_decoder *d = rn_jpeg_decoder_create();
    rn_image img;
    CHECK(rn_jpeg_decode(d, buf, n, 1, 1, &img, &err) == 0 && img.w == 28 && img.h == 28,
          "decode: %s", err.msg);
    int worst = 0;
    for (int y = 0; y < 28 && img.w == 28; y++)
        for (int x = 0; x < 28; x++) {
            int diff = abs(img.px[3 * (y * 28 + x)] - pixel(18, x, y));
            worst = diff > worst ? diff : worst;
        }
    CHECK(worst <= 6, "pixels within 6 levels, worst %d", worst);
    rn_jpeg_decoder_destroy(d);

    snprintf(p, sizeof p, "%s/.complete", out);
    f = fopen(p, "r");
    char marker[128] = "";
    if (f) {
        marker[fread(marker, 1, sizeof marker - 1, f)] = 0;
        fclose(f);
    }
    CHECK(strcmp(marker, "fashion-mnist train=37 val=12\n") == 0, "marker '%s'", marker);

    // Idempotent: a second run does nothing (the train folder is the same inode).
    ino_t before = inode(train);
    rc = run_tool(src, out, msg, sizeof msg);
    CHECK(rc == 0 && strstr(msg, "nothing to do") && inode(train) == before, "second run: %s", msg);

    // Without the marker (an interrupted run), everything is rebuilt and swapped in.
    unlink(p);
    snprintf(p, sizeof p, "%s/Bag/stale.jpg", train);
    write_bytes(p, "x", 1);
    rc = run_tool(src, out, msg, sizeof msg);
    CHECK(rc == 0 && strstr(msg, "wrote") && inode(train) != before, "rebuild: %s", msg);
    CHECK(access(p, F_OK) != 0, "stale files gone after rebuild");
    CHECK(count_staging(out) == 0, "no staging folder left after rebuild");

    char nosrc[600];
    snprintf(nosrc, sizeof nosrc, "%s/nowhere", root);
    rc = run_tool(nosrc, out, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, "nowhere"), "missing source: rc %d: %s", rc, msg);

    rm_rf(root);
    return check_summary();
}
