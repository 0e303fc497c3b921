// cli.c — --help, --version and usage errors; see cli.h.
#include "src/cli.h"

#include <stdarg.h>
#include <string.h>

#include "oneapi/dnnl/dnnl.h"
#include "src/parse.h"

#ifndef RN_VERSION
#define RN_VERSION "unknown"
#endif

// The names are oneDNN's (dnnl_cpu_isa_t, and its ONEDNN_MAX_CPU_ISA spelling); only enumerators
// that oneDNN 2.x and 3.x share are named, anything else prints as its value.
static const char *isa_name(dnnl_cpu_isa_t isa, char *buf, size_t cap) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: snprintf(buf, cap, "isa 0x%x", (unsigned)isa); return buf;
    }
}

void rn_cli_version(const char *prog, FILE *f) {
    const dnnl_version_t *v = dnnl_version();
    char buf[32];
    fprintf(f, "%s (resnet.c) %s\n", prog, RN_VERSION);
    fprintf(f, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    if (v->hash && strcmp(v->hash, "N/A") != 0) fprintf(f, " (commit %s)", v->hash);  // Debian's build has none
    fputc('\n', f);
    fprintf(f, "oneDNN CPU ISA: %s\n", isa_name(dnnl_get_effective_cpu_isa(), buf, sizeof buf));
}

int rn_cli_info(const rn_cli *c, const char *arg) {
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        printf("%s\n%s", c->usage, c->help);
        return 1;
    }
    if (strcmp(arg, "--version") == 0) {
        rn_cli_version(c->prog, stdout);
        return 1;
    }
    return 0;
}

int rn_cli_fail(const rn_cli *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", c->prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%sTry '%s --help' for every option.\n", c->usage, c->prog);
    return 2;
}

const char *rn_cli_value(const rn_cli *c, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        rn_cli_fail(c, "option '%s' needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int rn_cli_int(const rn_cli *c, const char *opt, const char *v, long lo, long hi, int *out) {
    rn_err err;
    if (rn_parse_int(opt, v, lo, hi, out, &err)) return rn_cli_fail(c, "%s", err.msg), -1;
    return 0;
}
