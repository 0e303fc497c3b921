// test_ckpt_reader.c — crafted checkpoints (issue 12): each starts as a valid file written by
// rn_checkpoint_save, has sections rewritten and its size and CRC recomputed, and must be refused
// with a message naming the file and the section, tensor or node: never a crash, an out-of-bounds
// access (the sanitizer build runs this too) or an allocation of what the file merely declares.
// Also: a version 1 file, from a test-only version 1 writer whose layout is frozen here, loads as
// the same network as version 2; stale temporaries of dead processes go, live ones stay.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "optim/checkpoint.h"
#include "optim/ckpt_bytes.h"
#include "tests/check.h"
#include "tests/ckpt_craft.h"
#include "tests/test_data_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static char dir[256], good[512], bad[512];

// Loads as the programs do (read, then build the graph). 0 when accepted; else the message.
static int load(const char *path, rn_err *e) {
    rn_ckpt *c = NULL;
    rn_graph *g = NULL;
    memset(e, 0, sizeof *e);
    int rc = rn_ckpt_read(path, &c, e);
    if (rc == 0) rc = rn_ckpt_build_graph(c, &g, e);
    rn_graph_destroy(g);
    rn_ckpt_free(c);
    return rc;
}

// Refused, with the file's name and both strings (w2 may be NULL) in the message.
static void expect(const char *path, const char *w1, const char *w2, const char *what) {
    rn_err e;
    int rc = load(path, &e);
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(rc == 0 || (strstr(e.msg, path) && strstr(e.msg, w1) && (!w2 || strstr(e.msg, w2))),
          "%s: message '%s' lacks the file, '%s' or '%s'", what, e.msg, w1, w2 ? w2 : "");
}

static void expect_file(const ck_file *f, const char *w1, const char *w2, const char *what) {
    ck_write(f, bad);
    expect(bad, w1, w2, what);
}

// ---- sections -----------------------------------------------------------------------------------

static void test_sections(void) {
    ck_file f = ck_load(good);
    CHECK(f.n == 3 && !strcmp(f.s[0].tag, "META") && !strcmp(f.s[1].tag, "GRPH") && !strcmp(f.s[2].tag, "TENS"),
          "a checkpoint is META, GRPH, TENS");
    // Issue 12 item 1: a second META or TENS section behind a valid CRC overflowed the heap.
    const char *tags[] = {"META", "GRPH", "TENS"};
    for (int k = 0; k < 3; k++)
        for (int at = k + 1; at <= 3; at++) {
            ck_file g = ck_copy(&f);
            ck_insert(&g, at, tags[k], f.s[k].p, f.s[k].n);
            char what[64], want[32];
            snprintf(what, sizeof what, "a second %s section at position %d", tags[k], at);
            snprintf(want, sizeof want, "a second %s section", tags[k]);
            expect_file(&g, want, NULL, what);
            ck_free(&g);
        }
    // Unknown sections are refused wherever they are (a new section means a new version).
    for (int at = 0; at <= 3; at++) {
        ck_file g = ck_copy(&f);
        ck_insert(&g, at, "XTRA", "abc", 3);
        expect_file(&g, "unknown section 'XTRA'", NULL, "unknown section");
        ck_free(&g);
    }
    ck_file g = ck_copy(&f);
    ck_insert(&g, 3, "\x01\x02\x03\x04", "", 0);
    expect_file(&g, "unknown section '\\x01\\x02\\x03\\x04'", NULL, "unprintable tag");
    ck_free(&g);
    // Missing or out of order.
    for (int k = 0; k < 3; k++) {
        g = ck_copy(&f);
        ck_remove(&g, k);
        char want[32];
        snprintf(want, sizeof want, "lacks its %s section", tags[k]);
        expect_file(&g, want, NULL, "a missing section");
        ck_free(&g);
    }
    g = ck_copy(&f);
    ck_sec t = g.s[0];
    g.s[0] = g.s[1], g.s[1] = t;
    expect_file(&g, "lacks its META section", "GRPH comes first", "sections out of order");
    ck_free(&g);
    // Unknown header flags, behind a valid CRC.
    g = ck_copy(&f);
    g.head[12] = 1;
    expect_file(&g, "header flags 0x1", NULL, "header flags");
    ck_free(&g);
    ck_free(&f);
}

// Every section boundary: a plain cut (the header's size disagrees) and a consistent one (size and
// CRC made to match, so the section walk itself must notice); every byte of GRPH likewise.
static void test_truncation(void) {
    size_t n;
    unsigned char *b = slurp(good, &n);
    ck_file f = ck_load(good);
    size_t at = 24;
    for (int k = 0; k < f.n; k++) {
        size_t cuts[3] = {at, at + 12, at + 12 + f.s[k].n / 2};
        for (int j = 0; j < 3; j++) {
            char what[96];
            snprintf(what, sizeof what, "cut at byte %zu (%s, %s)", cuts[j], f.s[k].tag,
                     j == 0 ? "its start" : j == 1 ? "after its header" : "half its payload");
            put_file(bad, b, cuts[j]);
            expect(bad, "truncated", NULL, what);
            unsigned char *m = malloc(cuts[j] + 4);
            memcpy(m, b, cuts[j]);
            fix_size_crc(m, cuts[j] + 4);
            put_file(bad, m, cuts[j] + 4);
            free(m);
            expect(bad, f.s[k].tag, j == 0 ? "lacks its" : "is truncated", what);
        }
        at += 12 + f.s[k].n;
    }
    // An empty TENS keeps these files small (GRPH is decoded before any tensor is looked up).
    ck_sec *grph = ck_find(&f, "GRPH"), *tens = ck_find(&f, "TENS");
    sec_splice(tens, 0, tens->n, "\0\0\0\0", 4);
    int fails = 0;
    for (size_t len = 0; len < grph->n; len++) {
        ck_file g = ck_copy(&f);
        ck_find(&g, "GRPH")->n = len;
        ck_write(&g, bad);
        rn_err e;
        fails += !(load(bad, &e) == -1 && strstr(e.msg, "GRPH: "));
        ck_free(&g);
    }
    CHECK(fails == 0, "%d of %zu GRPH payloads cut short were not refused as GRPH", fails, grph->n);
    ck_free(&f);
    free(b);
}

// ---- sizes (issue 12 item 4) --------------------------------------------------------------------

// Caps this process's address space at its current size + 256 MiB. ASan reserves terabytes of
// shadow memory, so there the cap is left off (ASan itself stops an allocation of terabytes).
static void cap_address_space(void) {
#ifndef UNDER_ASAN
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f || fscanf(f, "%lu", &pages) != 1) _exit(3);
    fclose(f);
    rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)256 << 20);
    struct rlimit rl = {cap, cap};
    if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
#endif
}

// Refused with `want` in a child whose address space is capped: a reader that allocates what a
// file declares instead of what it holds dies there (rn_malloc aborts).
static void expect_small(const ck_file *f, const char *want, const char *what) {
    ck_write(f, bad);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        cap_address_space();
        rn_err e;
        int rc = load(bad, &e);
        if (rc == 0 || !strstr(e.msg, want) || !strstr(e.msg, bad)) {
            fprintf(stderr, "%s: %s\n", what, rc ? e.msg : "accepted");
            _exit(1);
        }
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: not refused under the memory cap (status 0x%x)", what, st);
}

// Where a field of a record starts. A declared tensor in GRPH: 0 name, 1 role, 2 trainable byte,
// 3 init, 4 rank byte, 5 dims. A node in GRPH (found by its op type): 0 type, 1 name, 2 input
// count byte, 3 .. 2 + n_in inputs, 3 + n_in output, 4 + n_in attributes. A TENS entry: 0 name,
// 1 kind byte, 2 rank byte, 3 dims. The record is the first whose name (or type) is `key`.
static size_t field(const ck_sec *s, const char *key, int i) {
    long at = sec_find_str(s, key, strlen(key));
    if (at < 0) abort();
    size_t p = (size_t)at;
    int tens = !memcmp(s->tag, "TENS", 4), node = !tens && rn_op_type_from_name(key) >= 0;
    for (int k = 0; k < i; k++) {
        int byte = tens ? k >= 1 : node ? k == 2 : (k == 2 || k == 4);
        p = byte ? p + 1 : sec_skip_str(s, p);
    }
    return p;
}

// Overwrites the dims of the tensor `name` in section s (GRPH or TENS); its rank stays.
static void set_dims(ck_sec *s, const char *name, const int64_t *dims, int ndim) {
    int tens = !memcmp(s->tag, "TENS", 4);
    size_t p = field(s, name, tens ? 3 : 5);
    if (s->p[p - 1] != ndim) abort();
    for (int d = 0; d < ndim; d++) put_le(s->p + p + 8 * (size_t)d, (uint64_t)dims[d], 8);
}

static void test_sizes(void) {
    ck_file f = ck_load(good);
    const int64_t tb4[2] = {(int64_t)1 << 30, 1 << 10}, gb4[2] = {1 << 20, 1 << 10};
    const int64_t *huge[2] = {tb4, gb4};
    const char *what[2] = {"[2^30, 2^10] (4 TiB)", "[2^20, 2^10] (4 GiB)"};
    for (int h = 0; h < 2; h++) {
        char w[96];
        // Declared in the op list only: the stored tensor is small, so the shapes disagree.
        ck_file g = ck_copy(&f);
        set_dims(ck_find(&g, "GRPH"), "fc_weight", huge[h], 2);
        snprintf(w, sizeof w, "op list declares fc_weight %s", what[h]);
        expect_small(&g, "TENS: tensor 'fc_weight' has another shape", w);
        // Declared in the tensor section too: more data than the section holds.
        set_dims(ck_find(&g, "TENS"), "fc_weight", huge[h], 2);
        snprintf(w, sizeof w, "both sections declare fc_weight %s", what[h]);
        expect_small(&g, "TENS: tensor 'fc_weight' declares", w);
        ck_free(&g);
    }
    // A product of dimensions that overflows 64 bits, and a zero dimension.
    const int64_t big4[4] = {(int64_t)1 << 30, (int64_t)1 << 30, (int64_t)1 << 30, (int64_t)1 << 30};
    const int64_t zero4[4] = {16, 0, 3, 3};
    for (int s = 0; s < 2; s++) {
        const char *tag = s ? "TENS" : "GRPH";
        ck_file g = ck_copy(&f);
        set_dims(ck_find(&g, tag), "stem_conv_weight", big4, 4);
        expect_small(&g, "'stem_conv_weight': its dimensions hold more than 2^40 elements", "2^120 elements");
        ck_free(&g);
        g = ck_copy(&f);
        set_dims(ck_find(&g, tag), "stem_conv_weight", zero4, 4);
        expect_file(&g, "'stem_conv_weight': its dimensions hold a dimension outside", tag, "a zero dimension");
        ck_free(&g);
    }
    ck_free(&f);
}

// ---- values: enums, strings, counts, references, attributes -------------------------------------

static void test_values(const rn_graph *net) {
    ck_file f = ck_load(good), g;
    const char *conv = NULL;  // the first Conv's node name
    for (int k = net->n_ops - 1; k >= 0; k--)
        if (net->ops[k].type == RN_OP_CONV) conv = net->ops[k].name;
    // A str field replaced (tag, record key, field, new value) or a byte set (len == 0: with[0]).
    struct {
        const char *tag, *key;
        int field;
        const char *with;
        size_t len;
        const char *w1, *w2;
    } cases[] = {
        {"GRPH", "fc_weight", 1, "bogus", 5, "tensor 'fc_weight': role 'bogus' is not data, parameter or state", NULL},
        {"GRPH", "fc_weight", 1, "activation", 10, "role 'activation' is not data", NULL},
        {"GRPH", "fc_weight", 2, "\x02", 0, "tensor 'fc_weight': trainable flag 2 is neither 0 nor 1", NULL},
        {"GRPH", "fc_weight", 3, "gaussian", 8, "tensor 'fc_weight': unknown init kind 'gaussian'", NULL},
        {"GRPH", "fc_weight", 4, "\x05", 0, "tensor 'fc_weight': rank 5 exceeds 4", NULL},
        {"GRPH", "fc_weight", 0, "fc\0weight", 9, "GRPH: the name of declared tensor", "holds a NUL byte"},
        {"GRPH", "Conv", 0, "Convolution", 11, "unknown op type 'Convolution'", conv},
        {"GRPH", "Relu", 0, "ReluReluReluReluReluReluReluReluReluReluReluReluReluReluReluReluRelu", 68,
         "the op type of node", "is too long"},
        {"GRPH", "Conv", 2, "\x00", 0, "0 inputs (1 to 5 allowed)", conv},
        {"GRPH", "Conv", 2, "\x06", 0, "6 inputs (1 to 5 allowed)", conv},
        {"GRPH", "Conv", 4, "nonexistent", 11, "input 'nonexistent' is neither declared nor produced", conv},
        {"GRPH", "Conv", 5, "fc_weight", 9, "output 'fc_weight' is already a tensor", conv},
        {"GRPH", "Conv", 6, "\x00", 0, "kernel, stride, pads or group out of range", conv},  // kh = 0
        {"TENS", "fc_weight", 0, "fc\0weight", 9, "TENS: the name of entry", "holds a NUL byte"},
        {"TENS", "fc_weight", 1, "\x02", 0, "TENS: tensor 'fc_weight': kind 2 is unknown to format version 2", NULL},
        {"TENS", "fc_weight", 2, "\x07", 0, "TENS: tensor 'fc_weight': rank 7 exceeds 4", NULL},
    };
    CHECK(f.s[1].p[field(&f.s[1], "Conv", 2)] == 2, "the first Conv has 2 inputs (fields 3, 4), so 6 is its kh");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        g = ck_copy(&f);
        ck_sec *s = ck_find(&g, cases[i].tag);
        size_t p = field(s, cases[i].key, cases[i].field);
        if (cases[i].len) sec_replace_str(s, p, cases[i].with, cases[i].len);
        else s->p[p] = (unsigned char)cases[i].with[0];
        char what[128];
        snprintf(what, sizeof what, "%s: field %d of '%s' becomes '%.16s'", cases[i].tag, cases[i].field, cases[i].key,
                 cases[i].len ? cases[i].with : "(a byte)");
        expect_file(&g, cases[i].w1, cases[i].w2, what);
        ck_free(&g);
    }
    // Bytes after the graph's output name; after the last tensor; a tensor stored twice.
    g = ck_copy(&f);
    sec_splice(ck_find(&g, "GRPH"), ck_find(&g, "GRPH")->n, 0, "xyz", 3);
    expect_file(&g, "GRPH: 3 bytes after the graph output", NULL, "trailing GRPH bytes");
    ck_free(&g);
    g = ck_copy(&f);
    sec_splice(ck_find(&g, "TENS"), ck_find(&g, "TENS")->n, 0, "xyz", 3);
    expect_file(&g, "TENS: 3 bytes after the last entry", NULL, "trailing TENS bytes");
    ck_free(&g);
    g = ck_copy(&f);
    ck_sec *t = ck_find(&g, "TENS");
    size_t first = 4, len = sec_skip_str(t, first) + 2 - first;  // name, kind, rank
    int nd = t->p[first + len - 1];
    size_t numel = 1;
    for (int d = 0; d < nd; d++) numel *= (size_t)get_le(t->p + first + len + 8 * (size_t)d, 8);
    len += 8 * (size_t)nd + 4 * numel;
    unsigned char *copy = malloc(len);
    memcpy(copy, t->p + first, len);
    sec_splice(t, t->n, 0, copy, len);
    put_le32(t->p, (uint32_t)get_le(t->p, 4) + 1);
    free(copy);
    expect_file(&g, "is stored twice", "TENS", "a tensor stored twice");
    ck_free(&g);
    // META: a line that is not key=value (which the writer refuses to write, too).
    rn_err e;
    CHECK(rn_checkpoint_save(bad, net, NULL, "a=1\n=2\n", &e) == -1 && strstr(e.msg, "key=value"),
          "metadata without a key not written: %s", e.msg);
    g = ck_copy(&f);
    sec_splice(ck_find(&g, "META"), 0, 0, "no equals sign\n", 15);
    expect_file(&g, "META: line 1 is not key=value", NULL, "META line");
    ck_free(&g);
    ck_free(&f);
}

// ---- the op contract (issue 12 items 2 and 3), which rn_graph_finalize checks for every source --

// The wording is the contract's ("op 'NAME' (Type): input 1 (W) 'x' must be a parameter, is an
// activation"; "... has 1 inputs, expected 5"): before it, these files failed only by luck, on a
// shape read from uninitialised slots or a kernel that happened to differ.
static void test_contract(void) {
    const char *what[3] = {"a Conv whose weight is an activation", "a Conv whose weight is the graph input",
                           "a BatchNormalization with one input"};
    const char *want[3] = {"must be a parameter", "must be a parameter", "has 1 inputs"};
    for (int k = 0; k < 3; k++) {
        rn_graph *g = tiny(4, 3);
        rn_op *op = NULL;
        for (int i = g->n_ops - 1; i >= 0; i--)
            if (g->ops[i].type == (k < 2 ? RN_OP_CONV : RN_OP_BATCHNORM)) op = &g->ops[i];
        CHECK(k == 2 || g->tensors[op->in[0]].role == RN_ACT, "the first Conv reads an activation");
        if (k == 0) op->in[1] = op->in[0];
        if (k == 1) op->in[1] = g->input;
        if (k == 2) op->n_in = 1;
        rn_err e;
        CHECK(rn_checkpoint_save(bad, g, NULL, NULL, &e) == 0, "save: %s", e.msg);
        expect(bad, op->name, want[k], what[k]);
        rn_graph_destroy(g);
    }
}

// ---- version 1 ----------------------------------------------------------------------------------

// Version 1 stored these enums as their index when it was written (commit 0bd3cb2). Mapped by
// identifier here, so this writer keeps producing what version 1 meant whatever graph.h becomes.
static int v1_role(rn_role r) {
    switch (r) {
    case RN_DATA: return 0;
    case RN_ACT: return 1;
    case RN_PARAM: return 2;
    case RN_STATE: return 3;
    }
    abort();
}
static int v1_init(rn_init i) {
    switch (i) {
    case RN_INIT_NONE: return 0;
    case RN_INIT_ZERO: return 1;
    case RN_INIT_ONE: return 2;
    case RN_INIT_HE_NORMAL: return 3;
    case RN_INIT_UNIFORM_FAN: return 4;
    }
    abort();
}
static int v1_op(rn_op_type t) {
    static const rn_op_type order[] = {RN_OP_CONV,    RN_OP_BATCHNORM,     RN_OP_RELU,    RN_OP_ADD,
                                       RN_OP_MAXPOOL, RN_OP_GLOBALAVGPOOL, RN_OP_FLATTEN, RN_OP_GEMM};
    for (int i = 0; i < 8; i++)
        if (order[i] == t) return i;
    abort();
}

// The GRPH payload of version 1 (test-only writer: the format's reference for the reader).
static void v1_graph(rn_bw *b, const rn_graph *g) {
    uint32_t nd = 0;
    for (int i = 0; i < g->n_tensors; i++) nd += g->tensors[i].role != RN_ACT;
    rn_bw_uint(b, nd, 4);
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role == RN_ACT) continue;
        rn_bw_str(b, t->name);
        int v[4] = {v1_role(t->role), t->trainable, v1_init(t->init), t->ndim};
        for (int k = 0; k < 4; k++) rn_bw_uint(b, (uint64_t)v[k], 1);
        for (int d = 0; d < t->ndim; d++) rn_bw_uint(b, (uint64_t)t->dims[d], 8);
    }
    rn_bw_uint(b, (uint64_t)g->n_ops, 4);
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        rn_bw_uint(b, (uint64_t)v1_op(op->type), 1);
        rn_bw_str(b, op->name);
        rn_bw_uint(b, (uint64_t)op->n_in, 1);
        for (int i = 0; i < op->n_in; i++) rn_bw_str(b, g->tensors[op->in[i]].name);
        rn_bw_str(b, g->tensors[op->out].name);
        // Attributes: Conv kh kw sh sw pt pl pb pr group (i32), BN epsilon momentum (f32),
        // MaxPool the first eight of Conv's, Gemm alpha beta (f32) transA transB (i32).
        const rn_conv_attr *c = &op->a.conv;
        const rn_pool_attr *p = &op->a.pool;
        int cv[9] = {c->kh, c->kw, c->sh, c->sw, c->pt, c->pl, c->pb, c->pr, c->group};
        int pv[8] = {p->kh, p->kw, p->sh, p->sw, p->pt, p->pl, p->pb, p->pr};
        for (int i = 0; op->type == RN_OP_CONV && i < 9; i++) rn_bw_uint(b, (uint32_t)cv[i], 4);
        for (int i = 0; op->type == RN_OP_MAXPOOL && i < 8; i++) rn_bw_uint(b, (uint32_t)pv[i], 4);
        if (op->type == RN_OP_BATCHNORM) rn_bw_f32(b, op->a.bn.epsilon), rn_bw_f32(b, op->a.bn.momentum);
        if (op->type == RN_OP_GEMM) {
            rn_bw_f32(b, op->a.gemm.alpha), rn_bw_f32(b, op->a.gemm.beta);
            rn_bw_uint(b, (uint32_t)op->a.gemm.trans_a, 4), rn_bw_uint(b, (uint32_t)op->a.gemm.trans_b, 4);
        }
    }
    rn_bw_str(b, g->tensors[g->output].name);
}

static int same_graph(const rn_graph *a, const rn_graph *b) {
    if (a->n_tensors != b->n_tensors || a->n_ops != b->n_ops || a->arena_size != b->arena_size) return 0;
    int same = !strcmp(a->tensors[a->output].name, b->tensors[b->output].name) &&
               !strcmp(a->tensors[a->input].name, b->tensors[b->input].name);
    for (int k = 0; k < a->n_ops; k++) {
        const rn_op *x = &a->ops[k], *y = &b->ops[k];
        same &= x->type == y->type && !strcmp(x->name, y->name) && x->n_in == y->n_in &&
                !strcmp(a->tensors[x->out].name, b->tensors[y->out].name) && !memcmp(&x->a, &y->a, sizeof x->a);
        for (int i = 0; i < x->n_in && i < y->n_in; i++)
            same &= !strcmp(a->tensors[x->in[i]].name, b->tensors[y->in[i]].name);
    }
    for (int i = 0; i < a->n_tensors; i++) {  // by name: a loaded graph declares its tensors first
        int j = rn_graph_find(b, a->tensors[i].name);
        if (j < 0) return 0;
        const rn_tensor *x = &a->tensors[i], *y = &b->tensors[j];
        same &= !strcmp(x->name, y->name) && x->role == y->role && x->trainable == y->trainable &&
                x->init == y->init && x->ndim == y->ndim && !memcmp(x->dims, y->dims, sizeof x->dims);
        if (same && x->data) same &= !memcmp(x->data, y->data, rn_tensor_numel(x) * sizeof(float));
    }
    return same;
}

static void test_v1(const rn_graph *net) {
    char v1[600];
    snprintf(v1, sizeof v1, "%s/v1.ckpt", dir);
    ck_file f = ck_load(good);
    rn_bw b = {0};
    v1_graph(&b, net);
    ck_sec *s = ck_find(&f, "GRPH");
    sec_splice(s, 0, s->n, b.p, b.n);
    rn_bw_free(&b);
    put_le32(f.head + 8, 1);
    ck_write(&f, v1);
    rn_ckpt *c1 = NULL, *c2 = NULL;
    rn_graph *g1 = NULL, *g2 = NULL;
    rn_err e;
    CHECK(rn_ckpt_read(v1, &c1, &e) == 0 && rn_ckpt_build_graph(c1, &g1, &e) == 0, "version 1 loads: %s", e.msg);
    CHECK(rn_ckpt_read(good, &c2, &e) == 0 && rn_ckpt_build_graph(c2, &g2, &e) == 0, "version 2 loads: %s", e.msg);
    if (g1 && g2) {
        CHECK(c1->version == 1 && c2->version == 2, "versions %u and %u", c1->version, c2->version);
        CHECK(same_graph(g1, g2), "version 1 and version 2 give the same network, bit for bit");
        CHECK(same_graph(g1, net), "version 1 gives the network that was saved, bit for bit");
        int frozen = 0, inits = 0;
        for (int i = 0; i < g1->n_tensors; i++) {
            frozen += g1->tensors[i].role == RN_PARAM && !g1->tensors[i].trainable;
            inits |= 1 << g1->tensors[i].init;
        }
        CHECK(frozen == 2 && inits == (1 << RN_INIT_NONE | 1 << RN_INIT_ZERO | 1 << RN_INIT_ONE | 1 << RN_INIT_HE_NORMAL |
                                       1 << RN_INIT_UNIFORM_FAN),
              "the comparison covers frozen parameters (%d) and every init kind (mask 0x%x)", frozen, inits);
        float *m1 = calloc(g1->arena_size, 4), *m2 = calloc(g2->arena_size, 4);
        CHECK(rn_ckpt_load_momentum(c1, g1, m1, &e) == 0 && rn_ckpt_load_momentum(c2, g2, m2, &e) == 0, "momentum: %s", e.msg);
        CHECK(!memcmp(m1, m2, g1->arena_size * 4), "same momentum");
        CHECK(!strcmp(rn_ckpt_meta(c1, "state.epoch"), "3"), "version 1 metadata");
        free(m1);
        free(m2);
    }
    rn_graph_destroy(g1);
    rn_graph_destroy(g2);
    rn_ckpt_free(c1);
    rn_ckpt_free(c2);
    // Indices past version 1's tables are refused by name ("#N"). The role byte follows the first
    // declared tensor's name; the first node's type byte precedes its name.
    ck_file g = ck_copy(&f);
    s = ck_find(&g, "GRPH");
    s->p[sec_skip_str(s, 4)] = 9;
    expect_file(&g, "role '#9' is not data, parameter or state", NULL, "version 1 role index 9");
    ck_free(&g);
    g = ck_copy(&f);
    s = ck_find(&g, "GRPH");
    s->p[sec_find_str(s, net->ops[0].name, strlen(net->ops[0].name)) - 1] = 8;
    expect_file(&g, "unknown op type '#8'", net->ops[0].name, "version 1 op type index 8");
    ck_free(&g);
    ck_free(&f);
}

// ---- stale temporaries (issue 12 item 9) --------------------------------------------------------

static void test_stale(void) {
    char run[600], p[700];
    snprintf(run, sizeof run, "%s/run", dir);
    mkdir(run, 0755);
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);  // reaped: its PID names no process now
    struct {
        const char *pre;
        long pid;
        const char *post;
        int gone;
    } files[] = {
        {"last.ckpt.tmp.", dead, "", 1},     {"best.ckpt.tmp.", dead, "", 1},  {"last.ckpt.tmp.", getpid(), "", 0},
        {"last.ckpt.tmp.", dead, "x", 0},    {"last.ckpt.tmp.0", dead, "", 0}, {"metrics.csv.tmp.", dead, "", 0},
        {".ckpt.tmp.", dead, "", 0},         {"last.ckpt.", dead, "", 0},      {"last.ckpt.tmp.-", dead, "", 0},
        {"last.ckpt.tmp.", 0, "", 0},
    };
    int n = (int)(sizeof files / sizeof *files);
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s%ld%s", run, files[i].pre, files[i].pid, files[i].post);
        write_bytes(p, "0123456789", 10);
    }
    // Not regular files: a folder and a symbolic link with the stale pattern are left alone.
    snprintf(p, sizeof p, "%s/dir.ckpt.tmp.%ld", run, (long)dead);
    mkdir(p, 0755);
    char link[700];
    snprintf(link, sizeof link, "%s/link.ckpt.tmp.%ld", run, (long)dead);
    CHECK(symlink(good, link) == 0, "symlink");
    int removed = -1;
    uint64_t bytes = 0;
    rn_err e;
    CHECK(rn_checkpoint_remove_stale(run, &removed, &bytes, &e) == 0, "remove stale: %s", e.msg);
    CHECK(removed == 2 && bytes == 20, "removed %d files, %llu bytes (want 2, 20)", removed, (unsigned long long)bytes);
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s%ld%s", run, files[i].pre, files[i].pid, files[i].post);
        CHECK((access(p, F_OK) != 0) == files[i].gone, "%s %s", p, files[i].gone ? "removed" : "kept");
    }
    snprintf(p, sizeof p, "%s/dir.ckpt.tmp.%ld", run, (long)dead);
    CHECK(access(p, F_OK) == 0 && access(link, F_OK) == 0 && access(good, F_OK) == 0, "folder, link and its target kept");
    snprintf(p, sizeof p, "%s/none", dir);
    CHECK(rn_checkpoint_remove_stale(p, &removed, &bytes, &e) == 0 && removed == 0, "a missing folder is no error");
}

int main(int argc, char **argv) {
    tmp_dir(dir, sizeof dir, "ckrd");
    snprintf(good, sizeof good, "%s/good.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    rn_graph *net = tiny(4, 7);
    float *mom = malloc(net->arena_size * sizeof(float));
    for (size_t i = 0; i < net->arena_size; i++) mom[i] = (float)i * 1e-3f - 0.5f;
    rn_err e;
    CHECK(rn_checkpoint_save(good, net, mom, "state.epoch=3\nnote=a=b\n", &e) == 0, "save: %s", e.msg);
    CHECK(load(good, &e) == 0, "the uncrafted file loads: %s", e.msg);
    if (argc > 1 && !strcmp(argv[1], "contract")) {  // its own ctest, test_ckpt_contract
        test_contract();
    } else {
        test_sections();
        test_truncation();
        test_sizes();
        test_values(net);
        test_v1(net);
        test_stale();
    }
    free(mom);
    rn_graph_destroy(net);
    rm_rf(dir);
    return check_summary();
}
