// parse.h — the project's one number parser, for config values and command-line options alike.
// Strict: the whole string must be the number (no whitespace, no trailing text such as `12abc` or
// `1e`), overflow and out-of-range are errors, NaN and infinity are refused.
#ifndef RN_PARSE_H
#define RN_PARSE_H

#include "src/common.h"

// Decimal, or hexadecimal after 0x; an optional sign (rn_parse_i64 only). 0 or -1.
int rn_parse_i64(const char *s, long long *out);
int rn_parse_u64(const char *s, unsigned long long *out);
// A finite decimal number ([+-]digits[.digits][e[+-]digits]), or a fraction `a / b` of two of them
// (for ratio = 3/4, 4/3). 0 or -1.
int rn_parse_f64(const char *s, double *out);
// Exactly n comma-separated rn_parse_f64 numbers, no blanks ("0.485,0.456,0.406"). 0 or -1.
int rn_parse_f64_n(const char *s, double *out, int n);

// An option's or key's value in [lo, hi]: -1 with "WHAT: expected an integer in [lo, hi], got 'v'".
int rn_parse_int(const char *what, const char *v, long lo, long hi, int *out, rn_err *err);
int rn_parse_double(const char *what, const char *v, double lo, double hi, double *out, rn_err *err);

#endif
