// fuzz_onnx — the ONNX importer, and the exporter on whatever the importer accepts
// (export/onnx_import.c, onnx_export.c, onnx_wire.c, the generated protobuf-c code, layers/graph.c).
//
// Input: an ONNX file. Contract: import returns a usable graph or -1 with a message; a graph it
// accepts exports, and the export imports again to the same graph (structure, names, attributes,
// roles, shapes, bit-exact values) — export -> import is the identity on everything the importer
// can produce, which is what a user re-reading their own exported model relies on.
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include "export/onnx.h"
#include "tests/fuzz/fuzz.h"
#include "tests/test_export_util.h"

static rn_graph *import(const uint8_t *buf, size_t len, const char *what) {
    rn_graph *g = NULL;
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_onnx_import_buffer(buf, len, what, &g, &err);
    fuzz_check_rc(rc, &err, what);
    FUZZ_ASSERT(rc != 0 || (g && g->arena && g->input >= 0 && g->output >= 0), "%s: unusable graph", what);
    FUZZ_ASSERT(rc == 0 || g == NULL, "%s: failed but left a graph", what);
    return g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)rn_onnx_sniff(data, size);
    rn_graph *g1 = import(data, size, "fuzz input");
    if (!g1) return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_onnx_export_buffer(g1, &buf, &len, &err);
    FUZZ_ASSERT(rc == 0, "an imported graph does not export: %s", err.msg);
    FUZZ_ASSERT(rn_onnx_sniff(buf, len) == 1, "our own export does not sniff as ONNX");
    rn_graph *g2 = import(buf, len, "re-import of the export");
    FUZZ_ASSERT(g2 != NULL, "the export of an imported graph is refused");
    FUZZ_ASSERT(graph_diff(g1, g2) == 0, "export -> import changed the graph");
    free(buf);
    rn_graph_destroy(g2);
    rn_graph_destroy(g1);
    return 0;
}
