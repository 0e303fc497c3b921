// test_export_fuzz — ONNX import on damaged input must fail cleanly, never crash or read out of
// bounds: truncations at many offsets, random bytes, bit flips and byte overwrites of valid files,
// and structure-aware edits (random attribute values, dims, names) of valid models. Every import
// returns 0 with a usable graph or -1 with a message. Also built with ASan/UBSan
// (test_export_fuzz_asan), which is where out-of-bounds reads would show.
#include "export/onnx.h"
#include "src/rng.h"
#include "tests/check.h"
#include "tests/test_export_pb.h"
#include "tests/test_export_util.h"

static int n_ok, n_refused;

static void try_import(const uint8_t *buf, size_t len, const char *what) {
    rn_graph *g = NULL;
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_onnx_import_buffer(buf, len, what, &g, &err);
    if (rc == 0) {
        n_ok++;
        CHECK(g && g->arena && g->input >= 0 && g->output >= 0 && g->tensors[g->output].ndim == 2,
              "%s: accepted graph is not usable", what);
    } else {
        n_refused++;
        CHECK(rc == -1 && g == NULL && err.msg[0] != 0, "%s: failure without message (rc %d)", what, rc);
    }
    rn_graph_destroy(g);
}

static void truncations(const uint8_t *buf, size_t len) {
    size_t step = len / 1500 + 1;
    for (size_t n = 0; n < len; n += n < 2048 ? 1 : step) try_import(buf, n, "truncated");
    for (size_t n = len > 64 ? len - 64 : 0; n < len; n++) try_import(buf, n, "truncated tail");
}

static void random_bytes(rn_rng *r, const uint8_t *valid, size_t vlen) {
    uint8_t *b = malloc(8192);
    for (int it = 0; it < 1500; it++) {
        size_t n = 1 + rn_rng_below(r, 8191);
        for (size_t i = 0; i < n; i++) b[i] = (uint8_t)rn_rng_below(r, 256);
        if (it % 2 && vlen > 64) {  // a valid beginning, random after it
            size_t k = 1 + rn_rng_below(r, 63);
            memcpy(b, valid, k < n ? k : n);
        }
        try_import(b, n, "random bytes");
    }
    free(b);
}

// Position biased towards the structural parts: nodes come first in the file, graph inputs and
// outputs last; the middle is mostly weights.
static size_t position(rn_rng *r, size_t len) {
    uint32_t w = rn_rng_below(r, 3);
    size_t span = len < 4096 ? len : 4096;
    if (w == 0) return rn_rng_below(r, (uint32_t)span);
    if (w == 1) return len - 1 - rn_rng_below(r, (uint32_t)span);
    return (size_t)rn_rng_below(r, (uint32_t)len);
}

static void flips(rn_rng *r, const uint8_t *buf, size_t len) {
    uint8_t *b = malloc(len);
    for (int it = 0; it < 2500; it++) {
        memcpy(b, buf, len);
        int k = 1 + (int)rn_rng_below(r, 8);
        for (int j = 0; j < k; j++) {
            size_t p = position(r, len);
            switch (rn_rng_below(r, 4)) {
            case 0: b[p] ^= (uint8_t)(1u << rn_rng_below(r, 8)); break;
            case 1: b[p] = 0xff; break;
            case 2: b[p] = 0; break;
            default: b[p] = (uint8_t)rn_rng_below(r, 256); break;
            }
        }
        try_import(b, len, "bit flips");
    }
    free(b);
}

static const int64_t odd_values[] = {-1, 0, 1, 2, 3, 7, 64, 65536, (int64_t)1 << 31, INT64_MAX, INT64_MIN, -65536};

static int64_t odd(rn_rng *r) { return odd_values[rn_rng_below(r, sizeof odd_values / sizeof *odd_values)]; }

// One random semantic edit of an unpacked model.
static void edit(rn_rng *r, Onnx__ModelProto *m) {
    Onnx__GraphProto *g = m->graph;
    switch (rn_rng_below(r, 8)) {
    case 0: {  // an attribute's value
        Onnx__NodeProto *n = g->node[rn_rng_below(r, (uint32_t)g->n_node)];
        if (!n->n_attribute) break;
        Onnx__AttributeProto *a = n->attribute[rn_rng_below(r, (uint32_t)n->n_attribute)];
        if (a->n_ints) a->ints[rn_rng_below(r, (uint32_t)a->n_ints)] = odd(r);
        if (a->has_i) a->i = odd(r);
        if (a->has_f) a->f = (float)odd(r) * 0.5f;
        break;
    }
    case 1: {  // an initializer's dims
        Onnx__TensorProto *t = g->initializer[rn_rng_below(r, (uint32_t)g->n_initializer)];
        if (t->n_dims) t->dims[rn_rng_below(r, (uint32_t)t->n_dims)] = odd(r);
        break;
    }
    case 2: {  // a node input names another value
        Onnx__NodeProto *a = g->node[rn_rng_below(r, (uint32_t)g->n_node)];
        Onnx__NodeProto *b = g->node[rn_rng_below(r, (uint32_t)g->n_node)];
        if (a->n_input && b->n_output) pb_set_str(&a->input[rn_rng_below(r, (uint32_t)a->n_input)], b->output[0]);
        break;
    }
    case 3: {  // an op type changes
        static const char *const types[] = {"Conv", "BatchNormalization", "Relu", "Add", "MaxPool",
                                            "GlobalAveragePool", "Flatten", "Gemm", "Reshape", "Identity",
                                            "Constant", "Softmax", ""};
        Onnx__NodeProto *n = g->node[rn_rng_below(r, (uint32_t)g->n_node)];
        pb_set_str(&n->op_type, types[rn_rng_below(r, sizeof types / sizeof *types)]);
        break;
    }
    case 4: {  // nodes swap places
        size_t i = rn_rng_below(r, (uint32_t)g->n_node), j = rn_rng_below(r, (uint32_t)g->n_node);
        Onnx__NodeProto *t = g->node[i];
        g->node[i] = g->node[j];
        g->node[j] = t;
        break;
    }
    case 5: {  // a node loses its inputs or gets fewer outputs
        Onnx__NodeProto *n = g->node[rn_rng_below(r, (uint32_t)g->n_node)];
        while (n->n_input > 0 && rn_rng_below(r, 2)) free(n->input[--n->n_input]);
        break;
    }
    case 6: {  // an initializer's data type
        Onnx__TensorProto *t = g->initializer[rn_rng_below(r, (uint32_t)g->n_initializer)];
        t->data_type = (int32_t)rn_rng_below(r, 17);
        break;
    }
    default: {  // the graph input's shape
        Onnx__TensorShapeProto *s = g->input[0]->type->tensor_type->shape;
        Onnx__TensorShapeProto__Dimension *d = s->dim[rn_rng_below(r, (uint32_t)s->n_dim)];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) d->dim_value = odd(r);
        break;
    }
    }
}

static void semantic(rn_rng *r, const uint8_t *buf, size_t len) {
    for (int it = 0; it < 1500; it++) {
        Onnx__ModelProto *m = pb_unpack(buf, len);
        int k = 1 + (int)rn_rng_below(r, 3);
        for (int j = 0; j < k; j++) edit(r, m);
        uint8_t *b;
        size_t n;
        pb_pack(m, &b, &n);
        onnx__model_proto__free_unpacked(m, NULL);
        try_import(b, n, "semantic edit");
        free(b);
    }
}

// test_export_fuzz [ROUNDS]: ROUNDS (default 1) repeats every campaign with fresh random draws.
int main(int argc, char **argv) {
    rn_model_opts opts[2] = {tiny_opts(1, 0), tiny_opts(2, 1)};
    int rounds = argc > 1 ? atoi(argv[1]) : 1;
    rn_rng r;
    rn_rng_seed(&r, 2024);
    for (int i = 0; i < 2 * rounds; i++) {
        rn_graph *g = make_model(&opts[i % 2], 100 + (uint64_t)i);
        uint8_t *buf;
        size_t len;
        rn_err err;
        if (rn_onnx_export_buffer(g, &buf, &len, &err)) {
            fprintf(stderr, "export: %s\n", err.msg);
            return 1;
        }
        int before = n_ok;
        try_import(buf, len, "valid");
        CHECK(n_ok == before + 1, "the valid model imports");
        // The zoo's storage too (float_data, no initializers among the inputs).
        Onnx__ModelProto *m = pb_unpack(buf, len);
        pb_to_float_data(m->graph);
        pb_drop_init_inputs(m->graph);
        uint8_t *zbuf;
        size_t zlen;
        pb_pack(m, &zbuf, &zlen);
        onnx__model_proto__free_unpacked(m, NULL);

        truncations(buf, len);
        truncations(zbuf, zlen);
        flips(&r, buf, len);
        flips(&r, zbuf, zlen);
        semantic(&r, buf, len);
        if (i % 2 == 0) random_bytes(&r, buf, len);
        free(buf);
        free(zbuf);
        rn_graph_destroy(g);
    }
    printf("fuzz: %d imports accepted, %d refused\n", n_ok, n_refused);
    CHECK(n_refused > 1000 * rounds && n_ok > 10 * rounds, "both outcomes seen (%d accepted, %d refused)", n_ok, n_refused);
    return check_summary();
}
