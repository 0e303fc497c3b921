// ini.h — a strict INI tokenizer: `[section]`, `key = value`, `#` or `;` comment lines, a trailing
// ` # comment`, blank lines. It knows no sections or keys: it hands each line to a callback
// (src/config_table.h binds them to key tables). Malformed lines, a NUL byte and a file over
// RN_INI_MAX_BYTES are errors naming file:line.
#ifndef RN_INI_H
#define RN_INI_H

#include "src/common.h"

#define RN_INI_MAX_BYTES (1 << 20)

typedef struct rn_ini_line {
    int line;             // 1-based
    const char *section;  // the current section's name (NULL before the first header)
    const char *key;      // NULL on a section header line
    const char *value;    // trimmed; may be ""
} rn_ini_line;

// Returns -1 with a message that does not repeat the location: the reader prefixes "file:line: ".
typedef int (*rn_ini_fn)(void *ctx, const rn_ini_line *l, rn_err *err);

int rn_ini_parse(const char *path, rn_ini_fn fn, void *ctx, rn_err *err);

#endif
