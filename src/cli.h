// cli.h — what every program does the same way on its command line: --help (full usage, to
// stdout, exit 0), --version (project, oneDNN and the CPU ISA oneDNN dispatches to, exit 0),
// and usage errors (to stderr, exit 2).
#ifndef RN_CLI_H
#define RN_CLI_H

#include <stdio.h>

typedef struct rn_cli {
    const char *prog;   // "resnet-train"
    const char *usage;  // the synopsis: "usage: resnet-train CONFIG ...\n" (more lines allowed)
    const char *help;   // the rest of --help: what it does, every option, an example
} rn_cli;

// arg is --help or --version: prints the answer to stdout and returns 1 (main exits 0); else 0.
int rn_cli_info(const rn_cli *c, const char *arg);
// A usage error: "PROG: message", the synopsis and a hint to stderr; returns 2 (the exit status).
int rn_cli_fail(const rn_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// The value of option argv[*i], advancing *i; NULL after rn_cli_fail when it is missing.
const char *rn_cli_value(const rn_cli *c, int argc, char **argv, int *i);
// An integer option value in [lo, hi]: 0, or -1 after rn_cli_fail.
int rn_cli_int(const rn_cli *c, const char *opt, const char *v, long lo, long hi, int *out);
// "PROG (resnet.c) VERSION", the oneDNN version and its CPU ISA, one per line.
void rn_cli_version(const char *prog, FILE *f);

#endif
