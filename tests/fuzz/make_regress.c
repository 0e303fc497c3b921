// make_regress — crafted regression inputs for the defects of issue 12 that fuzzing on its own
// reaches slowly or not at all, written into OUT/<harness>/ by `fuzz_make_corpus --regress OUT`
// (tools/fuzz-corpus.sh): each one is a valid file with exactly one edit, named after the defect.
// Checkpoints are edited section by section and get a correct size and CRC again, so the real
// tools (resnet-export, resnet-predict, --resume) read them exactly like the harness does.
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include <zlib.h>

#include "optim/checkpoint.h"
#include "tests/fuzz/fuzz.h"
#include "tests/png_write.h"
#include "tests/test_export_util.h"

void fuzz_put(const char *dir, const char *harness, const char *name, const void *data, size_t len);

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

static void add(bytes *b, const void *src, size_t n) {
    b->p = realloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void add_uint(bytes *b, uint64_t v, int k) {
    for (int i = 0; i < k; i++) add(b, &(uint8_t){(uint8_t)(v >> (8 * i))}, 1);
}
static uint64_t get_uint(const uint8_t *p, int k) {
    uint64_t v = 0;
    for (int i = 0; i < k; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

// The sections of a checkpoint written by rn_checkpoint_save.
typedef struct section {
    char tag[5];
    const uint8_t *p;
    size_t n;
} section;

static int sections(const uint8_t *f, size_t n, section *s, int max) {
    int k = 0;
    for (size_t pos = 24; pos + 12 <= n - 4 && k < max; k++) {
        memcpy(s[k].tag, f + pos, 4), s[k].tag[4] = 0;
        s[k].n = (size_t)get_uint(f + pos + 4, 8);
        s[k].p = f + pos + 12;
        pos += 12 + s[k].n;
    }
    return k;
}

// Header, the sections given, then the size and the CRC made right.
static bytes assemble(const uint8_t *header, const section *s, int n) {
    bytes b = {0};
    add(&b, header, 24);
    for (int i = 0; i < n; i++) {
        add(&b, s[i].tag, 4);
        add_uint(&b, s[i].n, 8);
        add(&b, s[i].p, s[i].n);
    }
    for (int i = 0; i < 8; i++) b.p[16 + i] = (uint8_t)((uint64_t)(b.n + 4) >> (8 * i));
    add_uint(&b, (uint32_t)crc32(crc32(0L, Z_NULL, 0), b.p, (uInt)b.n), 4);
    return b;
}

// GRPH edits: walks the declared tensors and the ops (checkpoint.h) and rewrites one of them.
enum { EDIT_HUGE_TENSOR, EDIT_CONV_WEIGHT_IS_INPUT, EDIT_CONV_ONE_INPUT, EDIT_BN_ONE_INPUT };

static size_t str_len(const uint8_t *p) { return 2 + (size_t)get_uint(p, 2); }

static bytes edit_graph(const section *grph, int edit) {
    const uint8_t *p = grph->p;
    bytes b = {0};
    uint32_t nt = (uint32_t)get_uint(p, 4);
    size_t pos = 4;
    const uint8_t *input_name = p + pos;  // the first declared tensor is the graph input
    for (uint32_t i = 0; i < nt; i++) pos += str_len(p + pos) + 4 + 8 * (size_t)p[pos + str_len(p + pos) + 3];
    add_uint(&b, nt + (edit == EDIT_HUGE_TENSOR), 4);
    add(&b, p + 4, pos - 4);
    if (edit == EDIT_HUGE_TENSOR) {  // an unused parameter of 2^30 x 2^10 floats (4 TiB)
        add_uint(&b, 4, 2), add(&b, "huge", 4);
        add_uint(&b, RN_PARAM, 1), add_uint(&b, 1, 1), add_uint(&b, RN_INIT_ZERO, 1), add_uint(&b, 2, 1);
        add_uint(&b, (uint64_t)1 << 30, 8), add_uint(&b, (uint64_t)1 << 10, 8);
    }
    uint32_t nops = (uint32_t)get_uint(p + pos, 4);
    add(&b, p + pos, 4);
    pos += 4;
    int done = edit == EDIT_HUGE_TENSOR;
    static const size_t attr_bytes[RN_OP_COUNT] = {[RN_OP_CONV] = 36, [RN_OP_BATCHNORM] = 8, [RN_OP_MAXPOOL] = 32,
                                                   [RN_OP_GEMM] = 16};
    for (uint32_t k = 0; k < nops; k++) {
        int type = p[pos];
        size_t name = str_len(p + pos + 1), at = pos + 1 + name;
        int n_in = p[at];
        size_t in_pos = at + 1, in_end = in_pos;
        for (int i = 0; i < n_in; i++) in_end += str_len(p + in_end);
        size_t end = in_end + str_len(p + in_end) + attr_bytes[type];
        int mine = !done && ((type == RN_OP_CONV && edit != EDIT_BN_ONE_INPUT) ||
                             (type == RN_OP_BATCHNORM && edit == EDIT_BN_ONE_INPUT));
        if (!mine) {
            add(&b, p + pos, end - pos);
        } else if (edit == EDIT_CONV_WEIGHT_IS_INPUT) {  // Conv(X, W[, B]) with W = the graph input
            size_t x = str_len(p + in_pos), w = str_len(p + in_pos + x);
            add(&b, p + pos, in_pos + x - pos);
            add(&b, input_name, str_len(input_name));
            add(&b, p + in_pos + x + w, end - (in_pos + x + w));
        } else {  // one input only
            add(&b, p + pos, at - pos);
            add_uint(&b, 1, 1);
            size_t x = str_len(p + in_pos);
            add(&b, p + in_pos, x);
            add(&b, p + in_end, end - in_end);
        }
        done |= mine;
        pos = end;
    }
    add(&b, p + pos, grph->n - pos);  // the graph output's name
    return b;
}

static void checkpoints(const char *dir, const char *tmp) {
    rn_model_opts o = rn_model_opts_default();
    o.depth = 0, o.n_stages = 1, o.blocks[0] = 1, o.bottleneck = 0, o.version = 2;
    o.num_classes = 3, o.width = 4, o.stem_small = 1, o.input_size = 8;
    rn_graph *g = make_model(&o, 5);
    rn_err err;
    FUZZ_ASSERT(rn_checkpoint_save(tmp, g, NULL, "producer=make_regress\na=1\nb=2\nc=3\nd=4\n", &err) == 0, "%s", err.msg);
    rn_graph_destroy(g);
    FILE *f = fopen(tmp, "rb");
    static uint8_t file[1 << 20];
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    remove(tmp);
    section s[8], t[9];
    int ns = sections(file, n, s, 8);
    FUZZ_ASSERT(ns == 3 && !strcmp(s[0].tag, "META") && !strcmp(s[1].tag, "GRPH") && !strcmp(s[2].tag, "TENS"),
                "unexpected checkpoint layout");

    // A second META / TENS section (issue 12 #1).
    static const char extra_meta[] = "e=5\n";  // fewer lines than the first: the write overflows
    memcpy(t, s, sizeof s[0] * 3);
    t[3] = (section){"META", (const uint8_t *)extra_meta, sizeof extra_meta - 1};
    bytes b = assemble(file, t, 4);
    fuzz_put(dir, "checkpoint", "dup-meta.ckpt", b.p, b.n);
    free(b.p);
    t[3] = s[2];
    b = assemble(file, t, 4);
    fuzz_put(dir, "checkpoint", "dup-tens.ckpt", b.p, b.n);
    free(b.p);

    // Graph edits (issue 12 #2, #3, #4).
    static const struct { int edit; const char *name; } e[] = {
        {EDIT_HUGE_TENSOR, "huge-tensor.ckpt"}, {EDIT_CONV_WEIGHT_IS_INPUT, "conv-weight-is-input.ckpt"},
        {EDIT_CONV_ONE_INPUT, "conv-one-input.ckpt"}, {EDIT_BN_ONE_INPUT, "bn-one-input.ckpt"}};
    for (int i = 0; i < 4; i++) {
        bytes gr = edit_graph(&s[1], e[i].edit);
        memcpy(t, s, sizeof s[0] * 3);
        t[1].p = gr.p, t[1].n = gr.n;
        b = assemble(file, t, 3);
        fuzz_put(dir, "checkpoint", e[i].name, b.p, b.n);
        free(b.p);
        free(gr.p);
    }
}

void fuzz_make_regress(const char *dir) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s/.make_regress.ckpt", dir);
    checkpoints(dir, tmp);

    // SOI, one quantisation table, EOI: a valid "abbreviated tables" stream without a frame (#5).
    uint8_t jpg[2 + 4 + 65 + 2] = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    for (int i = 0; i < 64; i++) jpg[7 + i] = (uint8_t)(1 + i);
    jpg[71] = 0xFF, jpg[72] = 0xD9;
    fuzz_put(dir, "jpeg", "tables-only.jpg", jpg, sizeof jpg);

    // PNG decompression bombs and damage (issue 13): a header declaring 65536 x 65536 (2^32 px)
    // over a one-byte IDAT must be refused on its size before anything is allocated; a file cut
    // inside its IDAT is corrupt, not a partly grey image.
    {
        static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        uint8_t ihdr[13] = {0, 1, 0, 0, 0, 1, 0, 0, 8, 0, 0, 0, 0};
        uint8_t z[16];
        uLongf zn = sizeof z;
        FUZZ_ASSERT(compress2(z, &zn, (const Bytef *)"", 1, 9) == Z_OK, "compress2");
        png_buf b = {0};
        png_put(&b, sig, 8);
        png_chunk(&b, "IHDR", ihdr, 13);
        png_chunk(&b, "IDAT", z, zn);
        png_chunk(&b, "IEND", NULL, 0);
        fuzz_put(dir, "png", "bomb-65536x65536.png", b.p, b.n);
        free(b.p);
        uint16_t px[40 * 30 * 3];
        for (int i = 0; i < 40 * 30 * 3; i++) px[i] = (uint16_t)((i * 2654435761u) >> 24);
        png_spec sp = {.w = 40, .h = 30, .color = 2, .depth = 8, .px = px};
        size_t n;
        uint8_t *f = png_encode(&sp, &n);
        fuzz_put(dir, "png", "truncated-idat.png", f, n / 2);
        free(f);
    }

    // Symbolic-link cycles in a class folder (#6): one link repeats every file 32 times, two walk
    // 2^32 paths.
    static const char one[] = "d train\nd train/Bag\nf train/Bag/a.jpg\nf train/Bag/b.jpg\nl . train/Bag/self\n";
    static const char two[] = "d train\nd train/Bag\nf train/Bag/a.jpg\nl . train/Bag/s1\nl . train/Bag/s2\n";
    fuzz_put(dir, "dataset", "symlink-cycle", one, sizeof one - 1);
    fuzz_put(dir, "dataset", "symlink-cycle-two", two, sizeof two - 1);
}
