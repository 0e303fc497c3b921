// fuzz_checkpoint — the checkpoint reader (optim/checkpoint.c) and what consumes its graph: the
// rebuild of the op list (layers/graph.c), the momentum buffers, the ONNX exporter (resnet-export on a
// checkpoint, with the file's model metadata, src/model_meta.h, which must survive its own round trip)
// and, for tiny graphs, a forward pass of the reference executor (layers/ref.c).
//
// Input: checkpoint bytes. Before reading, the harness rewrites the header's file size and the
// CRC trailer to match the input, as a writer would: otherwise nearly every mutation dies at the
// CRC check and the parsers behind it stay unexplored. (The CRC check itself is covered by
// tests/test_checkpoint.c.) A broken disk cannot produce these files, an attacker can.
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include <zlib.h>

#include "export/onnx.h"
#include "optim/checkpoint.h"
#include "layers/ref.h"
#include "tests/fuzz/fuzz.h"

#define HEADER_BYTES 24  // magic, version, flags, u64 file size (checkpoint.h)

static void fix_size_and_crc(uint8_t *b, size_t n) {
    if (n < HEADER_BYTES + 4) return;
    for (int i = 0; i < 8; i++) b[16 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)(n - 4));
    for (int i = 0; i < 4; i++) b[n - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
}

// A forward pass at batch 1 and the nominal input size, when that is cheap.
static void tiny_forward(const rn_graph *g) {
    size_t trainable, total;
    int tensors;
    double flops;
    rn_graph_stats(g, &trainable, &total, &tensors, &flops);
    const rn_tensor *in = &g->tensors[g->input];
    if (flops > 2e6 || total > 100000 || in->ndim != 4) return;
    for (int k = 1; k < 4; k++)
        if (in->dims[k] < 1 || in->dims[k] > 4096) return;
    if (in->dims[1] * in->dims[2] * in->dims[3] > 4096) return;
    rn_ref *r = NULL;
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_ref_create(g, 1, in->dims[2], in->dims[3], 0, &r, &err);
    fuzz_check_rc(rc, &err, "rn_ref_create");
    if (rc) return;
    size_t n = (size_t)(in->dims[1] * in->dims[2] * in->dims[3]);
    double *x = calloc(n, sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (double)(i % 7) * 0.25 - 0.75;
    rn_ref_load_params(r);
    rn_ref_set_input(r, x);
    rn_ref_forward(r);
    free(x);
    rn_ref_destroy(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    fix_size_and_crc(b, size);
    const char *path = fuzz_memfile(b, size);
    free(b);

    rn_ckpt *c = NULL;
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_ckpt_read(path, &c, &err);
    fuzz_check_rc(rc, &err, "rn_ckpt_read");
    if (rc) return 0;
    (void)rn_ckpt_meta(c, "model.version");
    (void)rn_ckpt_meta(c, "state.epoch");
    rn_model_meta mm, back;
    rn_kv kv = {0};
    err.msg[0] = 0;
    rc = rn_model_meta_decode(path, c->n_meta, (const char *const *)c->meta_key, (const char *const *)c->meta_val, &mm,
                              &err);
    fuzz_check_rc(rc, &err, "rn_model_meta_decode");
    if (rc == 0) {
        rn_model_meta_encode(&mm, &kv);
        int again = rn_model_meta_decode(path, kv.n, (const char *const *)kv.key, (const char *const *)kv.val, &back, &err);
        FUZZ_ASSERT(again == 0 && back.has_preproc == mm.has_preproc && back.n_classes == mm.n_classes,
                    "metadata does not survive its round trip: %s", again ? err.msg : "counts differ");
        for (int i = 0; i < mm.n_classes; i++)
            FUZZ_ASSERT(!strcmp(back.classes[i], mm.classes[i]), "class %d: '%s' came back '%s'", i, mm.classes[i],
                        back.classes[i]);
        rn_model_meta_free(&back);
        rn_model_meta_free(&mm);
    }

    rn_graph *g = NULL;
    err.msg[0] = 0;
    rc = rn_ckpt_build_graph(c, &g, &err);
    fuzz_check_rc(rc, &err, "rn_ckpt_build_graph");
    if (rc == 0) {
        float *momentum = calloc(g->arena_size + 1, sizeof *momentum);
        err.msg[0] = 0;
        fuzz_check_rc(rn_ckpt_load_momentum(c, g, momentum, &err), &err, "rn_ckpt_load_momentum");
        // Version 3's kinds (AdamW's second moment, the EMA), into the same buffer.
        err.msg[0] = 0;
        fuzz_check_rc(rn_ckpt_load_kind(c, g, RN_CKPT_MOMENT2, momentum, &err), &err, "rn_ckpt_load_kind moment2");
        err.msg[0] = 0;
        fuzz_check_rc(rn_ckpt_load_kind(c, g, RN_CKPT_EMA, momentum, &err), &err, "rn_ckpt_load_kind ema");
        free(momentum);

        uint8_t *onnx = NULL;
        size_t len = 0;
        err.msg[0] = 0;
        fuzz_check_rc(rn_onnx_export_buffer_kv(g, &kv, &onnx, &len, &err), &err, "rn_onnx_export_buffer_kv");
        free(onnx);
        tiny_forward(g);
        rn_graph_destroy(g);
    }
    rn_kv_free(&kv);
    rn_ckpt_free(c);
    return 0;
}
