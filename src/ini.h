// ini.h — a strict INI reader: `[section]`, `key = value`, `#` or `;` comments, blank lines.
// Every section has a handler; an unknown section, an unknown key or a bad value is an error
// that names file:line. The same handlers take command-line overrides `section.key=value`.
#ifndef RN_INI_H
#define RN_INI_H

#include "src/common.h"

// Takes one key of its section; on a bad key or value returns -1 with a message that does not
// repeat the location (the reader prefixes file:line).
typedef int (*rn_ini_fn)(void *ctx, const char *key, const char *value, rn_err *err);

typedef struct rn_ini_section {
    const char *name;
    rn_ini_fn fn;
    void *ctx;
} rn_ini_section;

int rn_ini_load(const char *path, const rn_ini_section *secs, int n_secs, rn_err *err);
// "section.key=value" from the command line (--set).
int rn_ini_override(const char *assignment, const rn_ini_section *secs, int n_secs, rn_err *err);

// Value parsers shared by the section handlers: each fails with "key: expected ..., got '...'".
int rn_parse_int(const char *key, const char *v, long lo, long hi, int *out, rn_err *err);
int rn_parse_float(const char *key, const char *v, double lo, double hi, double *out, rn_err *err);
int rn_parse_bool(const char *key, const char *v, int *out, rn_err *err);  // yes/no, true/false, 1/0, on/off
int rn_parse_int_list(const char *key, const char *v, int *out, int max, int *n, rn_err *err);
int rn_parse_choice(const char *key, const char *v, const char *const *choices, int *out, rn_err *err);

#endif
