// fuzz_config — the INI reader and every config section (src/ini.c, src/config*.c, data/opts.c).
//
// Input: a config file, optionally followed by a 0x01 byte and `--set` overrides, one per line
// (so the fuzzer reaches rn_ini_override with the same section handlers). A config that loads
// must also build its network when the network is small (the builder is the first consumer of
// [model]); larger ones are skipped to keep executions fast, not because they are invalid.
#define _GNU_SOURCE  // memfd_create (tests/fuzz/fuzz.h)
#include "src/config.h"
#include "src/ini.h"
#include "tests/fuzz/fuzz.h"

#define MAX_OVERRIDES 8

static int small_model(const rn_model_opts *m) {
    int blocks = 0;
    for (int i = 0; i < m->n_stages; i++) blocks += m->blocks[i];
    return m->width <= 16 && m->input_size <= 64 && blocks <= 8 && m->num_classes <= 100;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *sep = memchr(data, 0x01, size);
    size_t file_len = sep ? (size_t)(sep - data) : size;
    const char *path = fuzz_memfile(data, file_len);

    // Overrides: NUL-terminated copies of the lines after the separator.
    char *copy = NULL;
    const char *ovr[MAX_OVERRIDES];
    int n_ovr = 0;
    if (sep) {
        size_t n = size - file_len - 1;
        copy = malloc(n + 1);
        memcpy(copy, sep + 1, n);
        copy[n] = 0;
        for (char *line = strtok(copy, "\n"); line && n_ovr < MAX_OVERRIDES; line = strtok(NULL, "\n"))
            ovr[n_ovr++] = line;
    }

    rn_config *c = calloc(1, sizeof *c);  // ~10 KB of paths: heap, not the fuzzer's stack
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_config_load(c, path, ovr, n_ovr, &err);
    fuzz_check_rc(rc, &err, "rn_config_load");
    if (rc == 0 && small_model(&c->model)) {
        rn_graph *g = NULL;
        err.msg[0] = 0;
        int brc = rn_resnet_build(&c->model, &g, &err);
        fuzz_check_rc(brc, &err, "rn_resnet_build");
        FUZZ_ASSERT(brc != 0 || (g && g->output >= 0 && g->tensors[g->output].ndim == 2),
                    "built graph has no (N, classes) output");
        rn_graph_destroy(g);
    }
    free(c);
    free(copy);
    return 0;
}
