// test_checkpoint.c — checkpoints round-trip bit for bit and rebuild the network (version 3 with
// AdamW's second moment and the EMA too); truncated, corrupted, wrong-version and structurally broken
// files are refused with a message (never a crash); fine-tuning swaps the classifier and keeps
// everything else; freezing by stage.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "optim/checkpoint.h"
#include "optim/finetune.h"
#include "src/resnet.h"
#include "src/rng.h"
#include "tests/check.h"
#include "tests/ckpt_craft.h"
#include "tests/test_data_util.h"

static char dir[256];

static void expect_refused(const char *path, const char *want, const char *what) {
    rn_ckpt *c = NULL;
    rn_err e = {{0}};
    int rc = rn_ckpt_read(path, &c, &e);
    rn_graph *g = NULL;
    if (rc == 0) rc = rn_ckpt_build_graph(c, &g, &e);
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(strstr(e.msg, want) != NULL, "%s: message '%s' lacks '%s'", what, e.msg, want);
    rn_ckpt_free(c);
    rn_graph_destroy(g);
}

static void test_roundtrip(void) {
    rn_graph *g = tiny(4, 7);
    float *mom = malloc(g->arena_size * sizeof(float));
    for (size_t i = 0; i < g->arena_size; i++) mom[i] = (float)i * 1e-3f - 0.5f;
    char path[512];
    snprintf(path, sizeof path, "%s/a.ckpt", dir);
    rn_err e;
    CHECK(rn_checkpoint_save(path, g, mom, "state.epoch=3\nnote=a=b\n", &e) == 0, "save: %s", e.msg);
    rn_ckpt *c;
    CHECK(rn_ckpt_read(path, &c, &e) == 0, "read: %s", e.msg);
    CHECK(c->version == 2, "version 2 (no kind of version 3 is saved)");
    CHECK(rn_ckpt_meta(c, "state.epoch") && !strcmp(rn_ckpt_meta(c, "state.epoch"), "3"), "meta value");
    CHECK(rn_ckpt_meta(c, "note") && !strcmp(rn_ckpt_meta(c, "note"), "a=b"), "meta value with '='");
    CHECK(rn_ckpt_meta(c, "absent") == NULL, "absent meta");
    rn_graph *h;
    CHECK(rn_ckpt_build_graph(c, &h, &e) == 0, "build: %s", e.msg);
    CHECK(h->n_ops == g->n_ops && h->n_tensors == g->n_tensors && h->arena_size == g->arena_size, "same structure");
    int same = 1;
    for (int k = 0; k < g->n_ops; k++)
        same &= g->ops[k].type == h->ops[k].type && !strcmp(g->ops[k].name, h->ops[k].name) &&
                !memcmp(&g->ops[k].a, &h->ops[k].a, sizeof g->ops[k].a);
    CHECK(same, "same ops and attributes");
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *a = &g->tensors[i];
        int j = rn_graph_find(h, a->name);
        CHECK(j >= 0, "tensor %s rebuilt", a->name);
        if (j < 0 || !a->data) continue;
        const rn_tensor *b = &h->tensors[j];
        CHECK(b->trainable == a->trainable && b->init == a->init && b->role == a->role, "%s flags", a->name);
        CHECK(!memcmp(a->data, b->data, rn_tensor_numel(a) * sizeof(float)), "%s bit-identical", a->name);
    }
    CHECK(!strcmp(h->tensors[h->output].name, g->tensors[g->output].name), "same output");
    float *m2 = calloc(h->arena_size, sizeof(float));
    CHECK(rn_ckpt_load_momentum(c, h, m2, &e) == 0, "momentum: %s", e.msg);
    int mom_same = 1;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *a = &g->tensors[i];
        if (a->role == RN_PARAM && a->trainable)
            mom_same &= !memcmp(mom + a->offset, m2 + h->tensors[rn_graph_find(h, a->name)].offset,
                                rn_tensor_numel(a) * sizeof(float));
    }
    CHECK(mom_same, "momentum bit-identical");
    rn_graph *k;
    CHECK(rn_checkpoint_load_model(path, &k, &e) == 0, "load_model: %s", e.msg);
    rn_graph_destroy(k);
    // A weights-only file has no momentum to resume from.
    char p2[512];
    snprintf(p2, sizeof p2, "%s/w.ckpt", dir);
    CHECK(rn_checkpoint_save(p2, g, NULL, NULL, &e) == 0, "save weights only: %s", e.msg);
    rn_ckpt *c2;
    CHECK(rn_ckpt_read(p2, &c2, &e) == 0, "read weights only");
    CHECK(rn_ckpt_load_momentum(c2, h, m2, &e) == -1 && strstr(e.msg, "momentum"), "missing momentum refused: %s", e.msg);
    CHECK(rn_ckpt_load_kind(c2, h, RN_CKPT_EMA, m2, &e) == -1 && strstr(e.msg, "EMA of"), "missing EMA refused: %s", e.msg);
    rn_ckpt_free(c2);
    // Version 3: AdamW's second moment (trainable parameters) and the EMA (parameters and statistics).
    float *ema = malloc(g->arena_size * sizeof(float)), *m3 = calloc(h->arena_size, sizeof(float));
    for (size_t i = 0; i < g->arena_size; i++) ema[i] = 0.25f - (float)i * 1e-4f;
    snprintf(p2, sizeof p2, "%s/v3.ckpt", dir);
    rn_ckpt_bufs bufs = {.momentum = mom, .moment2 = ema, .ema = ema};
    CHECK(rn_checkpoint_save_bufs(p2, g, &bufs, NULL, &e) == 0, "save version 3: %s", e.msg);
    CHECK(rn_ckpt_read(p2, &c2, &e) == 0 && c2->version == 3, "read version 3: %s", e.msg);
    if (c2) {
        int ok = rn_ckpt_load_kind(c2, h, RN_CKPT_MOMENT2, m2, &e) == 0 && rn_ckpt_load_kind(c2, h, RN_CKPT_EMA, m3, &e) == 0;
        CHECK(ok, "second moment and EMA load: %s", e.msg);
        int n2 = 0, ne = 0, bad = 0;
        for (int i = 0; ok && i < g->n_tensors; i++) {
            const rn_tensor *a = &g->tensors[i];
            size_t off = h->tensors[rn_graph_find(h, a->name)].offset, n = rn_tensor_numel(a) * sizeof(float);
            if (a->role == RN_PARAM && a->trainable) n2++, bad += memcmp(ema + a->offset, m2 + off, n) != 0;
            if (a->role == RN_PARAM || a->role == RN_STATE) ne++, bad += memcmp(ema + a->offset, m3 + off, n) != 0;
        }
        CHECK(ok && bad == 0 && ne > n2 && n2 > 0, "both bit-identical (%d second moments, %d EMA entries, %d differ)", n2, ne, bad);
        rn_ckpt_free(c2);
    }
    free(ema);
    free(m3);
    // Overwriting keeps one file and leaves no temporary behind.
    CHECK(rn_checkpoint_save(path, g, mom, NULL, &e) == 0, "overwrite");
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", path, (long)getpid());
    CHECK(access(tmpname, F_OK) != 0, "temporary file removed by the rename");
    snprintf(p2, sizeof p2, "%s/no/such/folder/x.ckpt", dir);
    CHECK(rn_checkpoint_save(p2, g, NULL, NULL, &e) == -1 && strstr(e.msg, "x.ckpt"), "unwritable path: %s", e.msg);
    free(m2);
    rn_graph_destroy(h);
    rn_ckpt_free(c);
    free(mom);
    rn_graph_destroy(g);
}

static void test_refusals(void) {
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/a.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    size_t n;
    unsigned char *b = slurp(path, &n);
    // Truncated at many lengths, the header included.
    size_t cuts[] = {0, 5, 8, 12, 23, 30, 100, n / 2, n - 5, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        write_bytes(bad, b, cuts[i]);
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", cuts[i]);
        expect_refused(bad, cuts[i] < 8 ? "not a resnet.c checkpoint" : "truncated", what);
    }
    // One flipped bit anywhere after the header: CRC.
    unsigned char *m = malloc(n);
    memcpy(m, b, n);
    m[n / 3] ^= 0x10;
    write_bytes(bad, m, n);
    expect_refused(bad, "CRC", "flipped bit");
    // Wrong version (with a valid CRC, so the version check itself speaks).
    memcpy(m, b, n);
    put_le32(m + 8, RN_CKPT_VERSION + 1);  // one past the newest
    fix_crc(m, n);
    write_bytes(bad, m, n);
    expect_refused(bad, "version 4 is not supported", "version 4");
    // Not a checkpoint at all.
    write_bytes(bad, "hello, world\n", 13);
    expect_refused(bad, "not a resnet.c checkpoint", "text file");
    expect_refused("/nonexistent/x.ckpt", "cannot open", "missing file");
    // Structural damage behind a valid CRC: random bytes changed, CRC recomputed. Each file must be
    // read or refused with a message; the sanitizer build checks that no read goes out of bounds.
    rn_rng r;
    rn_rng_seed(&r, 42);
    int refused = 0, tries = 300;
    for (int t = 0; t < tries; t++) {
        memcpy(m, b, n);
        int k = 1 + (int)rn_rng_below(&r, 4);
        for (int j = 0; j < k; j++) {
            // Mostly in the metadata and op list, where the structure is.
            size_t at = 24 + rn_rng_below(&r, (uint32_t)(rn_rng_below(&r, 2) ? 4000 : n - 28));
            m[at] = (unsigned char)rn_rng_below(&r, 256);
        }
        fix_crc(m, n);
        write_bytes(bad, m, n);
        rn_ckpt *c = NULL;
        rn_err e = {{0}};
        rn_graph *g = NULL;
        int rc = rn_ckpt_read(bad, &c, &e);
        if (rc == 0) rc = rn_ckpt_build_graph(c, &g, &e);
        if (rc) {
            refused++;
            CHECK(e.msg[0] != 0, "mutation %d refused without a message", t);
        }
        rn_graph_destroy(g);
        rn_ckpt_free(c);
    }
    CHECK(refused > tries / 10, "only %d of %d damaged files refused", refused, tries);
    free(m);
    free(b);
}

static int values_equal(const rn_graph *a, const rn_graph *b, const char *name) {
    int i = rn_graph_find(a, name), j = rn_graph_find(b, name);
    if (i < 0 || j < 0 || rn_tensor_numel(&a->tensors[i]) != rn_tensor_numel(&b->tensors[j])) return 0;
    return !memcmp(a->tensors[i].data, b->tensors[j].data, rn_tensor_numel(&a->tensors[i]) * sizeof(float));
}

static void test_finetune(void) {
    rn_err e;
    // Case 1: our names, 6 -> 4 classes: every tensor but the classifier comes from the source.
    rn_graph *src = tiny(6, 11), *g = tiny(4, 1), *fresh = tiny(4, 1);
    CHECK(rn_finetune_init(&g, src, "src", 4, 5, NULL, &e) == 0, "head swap: %s", e.msg);
    int kept = 1, n = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!t->data || !strncmp(t->name, "fc_", 3)) continue;
        kept &= values_equal(g, src, t->name);
        n++;
    }
    CHECK(kept && n > 20, "all %d non-classifier tensors copied", n);
    CHECK(g->tensors[rn_graph_find(g, "fc_weight")].dims[0] == 4, "classifier has 4 classes");
    CHECK(values_equal(g, fresh, "fc_weight") && values_equal(g, fresh, "fc_bias"), "classifier keeps its fresh init");
    rn_graph_destroy(g);
    // Same classes: the classifier is copied too.
    rn_graph *src4 = tiny(4, 11);
    g = tiny(4, 1);
    CHECK(rn_finetune_init(&g, src4, "src4", 4, 5, NULL, &e) == 0, "same classes: %s", e.msg);
    CHECK(values_equal(g, src4, "fc_weight"), "classifier copied when classes match");
    rn_graph_destroy(g);
    // Case 2: foreign names: the source network is adopted with a new 4-class head.
    for (int i = 0; i < src->n_tensors; i++) {
        char nm[256];
        snprintf(nm, sizeof nm, "zoo_%d_%s", i, src->tensors[i].name);
        free(src->tensors[i].name);
        src->tensors[i].name = strdup(nm);
    }
    g = tiny(4, 1);
    CHECK(rn_finetune_init(&g, src, "zoo", 4, 5, NULL, &e) == 0, "adopt foreign graph: %s", e.msg);
    CHECK(g->n_ops == src->n_ops && rn_graph_find(g, "zoo_1_data_bn_gamma") >= 0, "adopted the source network");
    int fc = rn_classifier_op(g);
    CHECK(fc >= 0 && g->tensors[g->ops[fc].in[1]].dims[0] == 4 && g->tensors[g->ops[fc].in[2]].dims[0] == 4,
          "adopted network has a 4-class head");
    kept = 1;
    for (int i = 0; i < src->n_tensors; i++) {
        const rn_tensor *t = &src->tensors[i];
        if (t->data && i != src->ops[rn_classifier_op(src)].in[1] && i != src->ops[rn_classifier_op(src)].in[2])
            kept &= values_equal(g, src, t->name);
    }
    CHECK(kept, "adopted network keeps every other value");
    rn_graph_destroy(g);
    // Case 3: some names match, some do not.
    g = tiny(4, 1);
    int sc = rn_graph_find(src4, "stem_conv_weight");
    free(src4->tensors[sc].name);
    src4->tensors[sc].name = strdup("renamed");
    CHECK(rn_finetune_init(&g, src4, "half", 4, 5, NULL, &e) == -1 && strstr(e.msg, "missing"), "partial match refused: %s",
          e.msg);
    rn_graph_destroy(g);
    // Freezing: stem and stage 1 lose trainable, stage 2 keeps it; foreign names are refused.
    g = tiny(4, 1);
    CHECK(rn_freeze(g, 1, 1, &e) == 0, "freeze: %s", e.msg);
    CHECK(!g->tensors[rn_graph_find(g, "stem_conv_weight")].trainable &&
              !g->tensors[rn_graph_find(g, "stage1_block0_conv1_weight")].trainable &&
              g->tensors[rn_graph_find(g, "stage2_block0_conv1_weight")].trainable &&
              g->tensors[rn_graph_find(g, "fc_weight")].trainable,
          "freeze stem + stage 1");
    CHECK(rn_freeze(g, 0, 3, &e) == -1 && strstr(e.msg, "stage3_"), "freezing a missing stage refused: %s", e.msg);
    rn_graph *adopted = tiny(4, 1);
    rn_finetune_init(&adopted, src, "zoo", 4, 5, NULL, &e);
    CHECK(rn_freeze(adopted, 1, 0, &e) == -1 && strstr(e.msg, "stem_"), "freezing foreign names refused: %s", e.msg);
    rn_graph_destroy(adopted);
    rn_graph_destroy(g);
    rn_graph_destroy(fresh);
    rn_graph_destroy(src);
    rn_graph_destroy(src4);
}

int main(void) {
    tmp_dir(dir, sizeof dir, "ckpt");
    test_roundtrip();
    test_refusals();
    test_finetune();
    rm_rf(dir);
    return check_summary();
}
