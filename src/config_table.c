// config_table.c — setting, checking, printing and documenting keys from their tables; see
// config_table.h.
#define _POSIX_C_SOURCE 200809L  // open_memstream
#include "src/config_table.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/ini.h"
#include "src/parse.h"

#define FIELD(obj, k) ((char *)(obj) + (k)->off)
#define CFIELD(obj, k) ((const char *)(obj) + (k)->off)

// ---- what a key accepts -------------------------------------------------------------------------

static void fmt_num(char *b, size_t cap, double v, int integer) {
    if (integer) snprintf(b, cap, "%.0f", v);
    else snprintf(b, cap, "%g", v);
}

// "in [1, 100000]", ">= 0", "> 0" or "".
static void bounds(const rn_key *k, int integer, char *b, size_t cap) {
    char lo[32], hi[32];
    fmt_num(lo, sizeof lo, k->lo, integer);
    fmt_num(hi, sizeof hi, k->hi, integer);
    int open = (k->flags & RN_KEY_LO_OPEN) != 0;
    if (isfinite(k->lo) && isfinite(k->hi)) snprintf(b, cap, " in %c%s, %s]", open ? '(' : '[', lo, hi);
    else if (isfinite(k->lo)) snprintf(b, cap, " %s %s", open ? ">" : ">=", lo);
    else if (isfinite(k->hi)) snprintf(b, cap, " <= %s", hi);
    else b[0] = 0;
}

static void accepts(const rn_key *k, char *b, size_t cap) {
    char bd[80];
    switch (k->type) {
    case RN_KEY_INT: bounds(k, 1, bd, sizeof bd), snprintf(b, cap, "an integer%s", bd); break;
    case RN_KEY_U64: snprintf(b, cap, "an integer >= 0"); break;
    case RN_KEY_DOUBLE: bounds(k, 0, bd, sizeof bd), snprintf(b, cap, "a number%s", bd); break;
    case RN_KEY_DOUBLES:
    case RN_KEY_FLOATS:
        bounds(k, 0, bd, sizeof bd);
        snprintf(b, cap, "%d comma-separated numbers%s%s%s", k->n, bd[0] ? ", each" : "", bd,
                 k->flags & RN_KEY_ORDERED ? ", in order" : "");
        break;
    case RN_KEY_BOOL: snprintf(b, cap, "yes or no"); break;
    case RN_KEY_CHOICE: {
        size_t l = (size_t)snprintf(b, cap, "one of ");
        for (int i = 0; k->choices[i] && l < cap; i++)
            l += (size_t)snprintf(b + l, cap - l, "%s%s", i ? ", " : "", k->choices[i]);
        break;
    }
    case RN_KEY_PATH: snprintf(b, cap, "a path (at most %d bytes)", k->n - 1); break;
    case RN_KEY_INT_LIST:
        bounds(k, 1, bd, sizeof bd);
        snprintf(b, cap, "1 to %d comma-separated integers%s%s", k->n, bd,
                 k->flags & RN_KEY_INCREASING ? ", increasing" : "");
        break;
    case RN_KEY_CUSTOM: snprintf(b, cap, "%s", k->accepts); break;
    }
    if (k->flags & RN_KEY_OR_MINUS1) {
        size_t l = strlen(b);
        snprintf(b + l, cap - l, ", or -1");
    }
}

static int fail_expected(const rn_key *k, const char *v, const char *why, rn_err *err) {
    char a[256];
    accepts(k, a, sizeof a);
    if (why) return rn_fail(err, "%s: %s: expected %s", k->name, why, a);
    return rn_fail(err, "%s: expected %s, got '%.200s'", k->name, a, v);
}

// ---- setting ------------------------------------------------------------------------------------

static int in_bounds(const rn_key *k, double x) {
    if ((k->flags & RN_KEY_OR_MINUS1) && x == -1) return 1;
    return (k->flags & RN_KEY_LO_OPEN ? x > k->lo : x >= k->lo) && x <= k->hi;
}

static int parse_bool(const char *v, int *out) {
    static const char *yes[] = {"yes", "true", "1", "on"}, *no[] = {"no", "false", "0", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = 0, 0;
    }
    return -1;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
    return s;
}

// A comma-separated list of numbers into out[0..*n), at most cap of them. An empty element
// (`3,,4`, a trailing comma) is an error, not skipped.
static int parse_list(const rn_key *k, const char *v, int integer, double *out, int cap, int *n, rn_err *err) {
    char *buf = rn_strdup(v), *p = buf;
    int rc = 0;
    *n = 0;
    for (;;) {
        char *comma = strchr(p, ','), why[96];
        if (comma) *comma = 0;
        char *item = trim(p);
        long long iv = 0;
        double x = 0;
        int bad = integer ? rn_parse_i64(item, &iv) : rn_parse_f64(item, &x);
        if (integer) x = (double)iv;
        if (*n == cap) snprintf(why, sizeof why, "more than %d values in '%.40s'", cap, v), rc = -1;
        else if (!*item) snprintf(why, sizeof why, "value %d of '%.40s' is empty", *n + 1, v), rc = -1;
        else if (bad) snprintf(why, sizeof why, "'%.40s' is not %s", item, integer ? "an integer" : "a number"), rc = -1;
        else if (!in_bounds(k, x)) snprintf(why, sizeof why, "%.40s is out of range", item), rc = -1;
        if (rc) {
            fail_expected(k, v, why, err);
            break;
        }
        out[(*n)++] = x;
        if (!comma) break;
        p = comma + 1;
    }
    free(buf);
    return rc;
}

static int set_value(void *obj, const rn_key *k, const char *v, rn_err *err) {
    char *f = FIELD(obj, k);
    double x, list[64];
    long long iv;
    unsigned long long uv;
    int n, b;
    switch (k->type) {
    case RN_KEY_INT:
        if (rn_parse_i64(v, &iv)) return fail_expected(k, v, NULL, err);
        if (!in_bounds(k, (double)iv)) {
            char why[64];
            snprintf(why, sizeof why, "%lld is out of range", iv);
            return fail_expected(k, v, why, err);
        }
        *(int *)f = (int)iv;
        return 0;
    case RN_KEY_U64:
        if (*v == '-' || rn_parse_u64(v, &uv)) return fail_expected(k, v, NULL, err);
        *(uint64_t *)f = uv;
        return 0;
    case RN_KEY_DOUBLE:
        if (rn_parse_f64(v, &x)) return fail_expected(k, v, NULL, err);
        if (!in_bounds(k, x)) {
            char why[64];
            snprintf(why, sizeof why, "%g is out of range", x);
            return fail_expected(k, v, why, err);
        }
        *(double *)f = x;
        return 0;
    case RN_KEY_DOUBLES:
    case RN_KEY_FLOATS:
        RN_CHECK(k->n <= 64);
        if (parse_list(k, v, 0, list, k->n, &n, err)) return -1;
        if (n != k->n) return fail_expected(k, v, NULL, err);
        for (int i = 1; i < n; i++)
            if ((k->flags & RN_KEY_ORDERED) && list[i] < list[i - 1]) return fail_expected(k, v, "out of order", err);
        for (int i = 0; i < n; i++) {
            if (k->type == RN_KEY_DOUBLES) ((double *)f)[i] = list[i];
            else ((float *)f)[i] = (float)list[i];
        }
        return 0;
    case RN_KEY_BOOL:
        if (parse_bool(v, &b)) return fail_expected(k, v, NULL, err);
        *(int *)f = b;
        return 0;
    case RN_KEY_CHOICE:
        for (int i = 0; k->choices[i]; i++)
            if (strcmp(v, k->choices[i]) == 0) return *(int *)f = k->values ? k->values[i] : i, 0;
        return fail_expected(k, v, NULL, err);
    case RN_KEY_PATH:
        if (strlen(v) >= (size_t)k->n) return fail_expected(k, v, "too long", err);
        strcpy(f, v);
        return 0;
    case RN_KEY_INT_LIST: {
        RN_CHECK(k->n <= 64);
        if (parse_list(k, v, 1, list, k->n, &n, err)) return -1;
        for (int i = 1; i < n; i++)
            if (((k->flags & RN_KEY_INCREASING) && list[i] <= list[i - 1]) ||
                ((k->flags & RN_KEY_ORDERED) && list[i] < list[i - 1]))
                return fail_expected(k, v, "out of order", err);
        for (int i = 0; i < n; i++) ((int *)f)[i] = (int)list[i];
        *(int *)((char *)obj + k->count_off) = n;
        return 0;
    }
    case RN_KEY_CUSTOM: return k->set(obj, k, v, err);
    }
    abort();
}

// Levenshtein distance, for "did you mean"; names are short.
static int distance(const char *a, const char *b) {
    int la = (int)strlen(a), lb = (int)strlen(b), row[64];
    if (la > 63 || lb > 63) return 99;
    for (int j = 0; j <= lb; j++) row[j] = j;
    for (int i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= lb; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best, diag = up;
        }
    }
    return row[lb];
}

// " (did you mean 'x'?)" when some name is close, else "".
static void suggest(const char *given, const char *const *names, int n, const char *quote, char *b, size_t cap) {
    int best = -1, bd = (int)strlen(given) / 3 + 1;
    for (int i = 0; i < n; i++) {
        int d = distance(given, names[i]);
        if (d <= bd && (best < 0 || d < distance(given, names[best]))) best = i;
    }
    if (best >= 0) snprintf(b, cap, " (did you mean %s%s%s?)", quote, names[best], quote[0] == '[' ? "]" : quote);
    else b[0] = 0;
}

static int find_key(const rn_section *s, const char *key) {
    for (int i = 0; i < s->n_keys; i++)
        if (strcmp(s->keys[i].name, key) == 0) return i;
    return -1;
}

static int unknown_key(const rn_section *s, const char *key, rn_err *err) {
    const char *names[128];
    char known[768] = "", hint[96];
    int n = s->n_keys < 128 ? s->n_keys : 128;
    for (int i = 0; i < n; i++) {
        names[i] = s->keys[i].name;
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", names[i]);
    }
    suggest(key, names, n, "'", hint, sizeof hint);
    return rn_fail(err, "unknown key '%.100s' in [%s]%s; its keys: %s", key, s->name, hint, known);
}

int rn_section_set(const rn_section *s, void *obj, const char *key, const char *value, rn_err *err) {
    int i = find_key(s, key);
    if (i < 0) return unknown_key(s, key, err);
    const rn_key *k = &s->keys[i];
    rn_err e2;
    if (set_value(obj, k, value, &e2)) return rn_fail(err, "[%s] %s", s->name, e2.msg);
    if (k->after) k->after(obj);
    return 0;
}

// ---- loading ------------------------------------------------------------------------------------

typedef struct load_ctx {
    const rn_conf_sec *secs;
    int n, cur;       // sections; the current one (-1 before the first header)
    int *sec_line;    // (n) line of each section's header, 0 = not seen
    int *key_line;    // (sum of n_keys) line that set each key, 0 = not set
    int *first_key;   // (n) index of each section's first key in key_line
} load_ctx;

static int find_section(const rn_conf_sec *secs, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(secs[i].sec->name, name) == 0) return i;
    return -1;
}

static int unknown_section(const rn_conf_sec *secs, int n, const char *name, rn_err *err) {
    const char *names[32];
    char known[512] = "", hint[96];
    if (n > 32) n = 32;
    for (int i = 0; i < n; i++) {
        names[i] = secs[i].sec->name;
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s[%s]", i ? " " : "", names[i]);
    }
    suggest(name, names, n, "[", hint, sizeof hint);
    return rn_fail(err, "unknown section [%.100s]%s; known: %s", name, hint, known);
}

static int on_line(void *vctx, const rn_ini_line *l, rn_err *err) {
    load_ctx *c = vctx;
    if (!l->key) {
        c->cur = find_section(c->secs, c->n, l->section);
        if (c->cur < 0) return unknown_section(c->secs, c->n, l->section, err);
        if (c->sec_line[c->cur])
            return rn_fail(err, "section [%s] appears twice (first at line %d): merge them", l->section,
                           c->sec_line[c->cur]);
        c->sec_line[c->cur] = l->line;
        return 0;
    }
    const rn_section *s = c->secs[c->cur].sec;
    int k = find_key(s, l->key);
    int *seen = k >= 0 ? &c->key_line[c->first_key[c->cur] + k] : NULL;
    if (seen && *seen) return rn_fail(err, "[%s] %s is set twice (first at line %d)", s->name, l->key, *seen);
    if (rn_section_set(s, c->secs[c->cur].obj, l->key, l->value, err)) return -1;
    *seen = l->line;
    return 0;
}

int rn_conf_load(const char *path, const rn_conf_sec *secs, int n, rn_err *err) {
    load_ctx c = {secs, n, -1, rn_calloc((size_t)n, sizeof(int)), NULL, rn_calloc((size_t)n, sizeof(int))};
    int total = 0;
    for (int i = 0; i < n; i++) c.first_key[i] = total, total += secs[i].sec->n_keys;
    c.key_line = rn_calloc((size_t)total + 1, sizeof(int));
    int rc = rn_ini_parse(path, on_line, &c, err);
    if (!rc && c.cur < 0) rc = rn_fail(err, "%s: no [section] in the file: an empty config?", path);
    free(c.sec_line);
    free(c.key_line);
    free(c.first_key);
    return rc;
}

typedef struct line_ctx {
    const char *section, *key;
    int line;
} line_ctx;

static int on_key_line(void *vctx, const rn_ini_line *l, rn_err *err) {
    (void)err;
    line_ctx *c = vctx;
    if (l->key && l->section && !strcmp(l->section, c->section) && !strcmp(l->key, c->key)) c->line = l->line;
    return 0;
}

int rn_conf_key_line(const char *path, const char *section, const char *key) {
    line_ctx c = {section, key, 0};
    rn_err e;
    rn_ini_parse(path, on_key_line, &c, &e);
    return c.line;
}

int rn_conf_override(const char *assignment, const rn_conf_sec *secs, int n, rn_err *err) {
    char *buf = rn_strdup(assignment);  // no fixed limit: a long value is parsed whole or refused whole
    char *dot = strchr(buf, '.'), *eq = strchr(buf, '=');
    int rc = 0;
    rn_err e2;
    if (!dot || !eq || dot > eq) {
        rc = rn_fail(&e2, "expected section.key=value");
    } else {
        *dot = 0, *eq = 0;
        int i = find_section(secs, n, trim(buf));
        rc = i < 0 ? unknown_section(secs, n, trim(buf), &e2)
                   : rn_section_set(secs[i].sec, secs[i].obj, trim(dot + 1), trim(eq + 1), &e2);
    }
    if (rc) rn_fail(err, "--set %.200s%s: %s", assignment, strlen(assignment) > 200 ? "..." : "", e2.msg);
    free(buf);
    return rc;
}

// ---- printing -----------------------------------------------------------------------------------

// The shortest text that reads back to exactly v (at most 17 digits for a double, 9 for a float).
static void print_real(FILE *f, double v, int is_float) {
    char b[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (is_float ? strtof(b, NULL) == (float)v : strtod(b, NULL) == v) break;
    }
    fputs(b, f);
}

static void print_value(const void *obj, const rn_key *k, FILE *f) {
    const char *p = CFIELD(obj, k);
    switch (k->type) {
    case RN_KEY_INT: fprintf(f, "%d", *(const int *)p); break;
    case RN_KEY_U64: fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case RN_KEY_DOUBLE: print_real(f, *(const double *)p, 0); break;
    case RN_KEY_DOUBLES:
    case RN_KEY_FLOATS:
        for (int i = 0; i < k->n; i++) {
            if (i) fputs(", ", f);
            if (k->type == RN_KEY_DOUBLES) print_real(f, ((const double *)p)[i], 0);
            else print_real(f, ((const float *)p)[i], 1);
        }
        break;
    case RN_KEY_BOOL: fputs(*(const int *)p ? "yes" : "no", f); break;
    case RN_KEY_CHOICE:
        for (int i = 0; k->choices[i]; i++)
            if ((k->values ? k->values[i] : i) == *(const int *)p) {
                fputs(k->choices[i], f);
                return;
            }
        RN_CHECK(!"a choice field holds none of its values");
        break;
    case RN_KEY_PATH: fputs(p, f); break;
    case RN_KEY_INT_LIST: {
        int n = *(const int *)((const char *)obj + k->count_off);
        for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", ((const int *)p)[i]);
        break;
    }
    case RN_KEY_CUSTOM: k->print(obj, k, f); break;
    }
}

// Only a path or an empty list prints as nothing; the line then ends at '=' (no trailing blank).
static int is_empty(const void *obj, const rn_key *k) {
    return (k->type == RN_KEY_PATH && !*CFIELD(obj, k)) ||
           (k->type == RN_KEY_INT_LIST && *(const int *)((const char *)obj + k->count_off) == 0);
}

void rn_conf_print(const rn_conf_sec *secs, int n, FILE *f) {
    for (int i = 0; i < n; i++) {
        const rn_section *s = secs[i].sec;
        fprintf(f, "%s[%s]\n", i ? "\n" : "", s->name);
        for (int j = 0; j < s->n_keys; j++) {
            const rn_key *k = &s->keys[j];
            if (k->flags & RN_KEY_ALIAS) continue;
            fprintf(f, "%s =%s", k->name, is_empty(secs[i].obj, k) ? "" : " ");
            print_value(secs[i].obj, k, f);
            fputc('\n', f);
        }
    }
}

static const char *type_name(const rn_key *k) {
    static const char *const names[] = {"int", "int", "float", "floats", "floats", "bool", "choice", "path", "int list", "text"};
    return names[k->type];
}

void rn_conf_doc(const rn_conf_sec *defaults, int n, FILE *f) {
    for (int i = 0; i < n; i++) {
        const rn_section *s = defaults[i].sec;
        fprintf(f, "%s### [%s]\n\n", i ? "\n" : "", s->name);
        if (s->doc) fprintf(f, "%s\n\n", s->doc);
        fprintf(f, "| key | type | default | accepted | meaning |\n|---|---|---|---|---|\n");
        for (int j = 0; j < s->n_keys; j++) {
            const rn_key *k = &s->keys[j];
            char a[256];
            accepts(k, a, sizeof a);
            fprintf(f, "| `%s` | %s | ", k->name, type_name(k));
            if (is_empty(defaults[i].obj, k)) {
                fputs("(empty)", f);
            } else {
                fputc('`', f);
                print_value(defaults[i].obj, k, f);
                fputc('`', f);
            }
            fprintf(f, " | %s | %s |\n", a, k->doc);
        }
    }
}

// A custom key's fields are its own business: two values are equal when they print the same.
static int same_text(const void *a, const void *b, const rn_key *k) {
    char *ta = NULL, *tb = NULL;
    size_t na = 0, nb = 0;
    FILE *fa = open_memstream(&ta, &na), *fb = open_memstream(&tb, &nb);
    RN_CHECK(fa && fb);
    print_value(a, k, fa);
    print_value(b, k, fb);
    fclose(fa);
    fclose(fb);
    int same = na == nb && memcmp(ta, tb, na) == 0;
    free(ta);
    free(tb);
    return same;
}

int rn_section_equal(const rn_section *s, const void *a, const void *b) {
    for (int j = 0; j < s->n_keys; j++) {
        const rn_key *k = &s->keys[j];
        const char *x = CFIELD(a, k), *y = CFIELD(b, k);
        size_t size = 0;
        switch (k->type) {
        case RN_KEY_INT:
        case RN_KEY_BOOL:
        case RN_KEY_CHOICE: size = sizeof(int); break;
        case RN_KEY_U64: size = sizeof(uint64_t); break;
        case RN_KEY_DOUBLE: size = sizeof(double); break;
        case RN_KEY_DOUBLES: size = (size_t)k->n * sizeof(double); break;
        case RN_KEY_FLOATS: size = (size_t)k->n * sizeof(float); break;
        case RN_KEY_PATH:
            if (strcmp(x, y)) return 0;
            break;
        case RN_KEY_INT_LIST: {
            int na = *(const int *)((const char *)a + k->count_off), nb = *(const int *)((const char *)b + k->count_off);
            if (na != nb) return 0;
            size = (size_t)na * sizeof(int);
            break;
        }
        case RN_KEY_CUSTOM:
            if (!same_text(a, b, k)) return 0;
            break;
        }
        if (size && memcmp(x, y, size)) return 0;
    }
    return 1;
}
