// ini.c — the strict INI reader; see ini.h.
#include "src/ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

static const rn_ini_section *find_section(const rn_ini_section *secs, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(secs[i].name, name) == 0) return &secs[i];
    return NULL;
}

static int known_sections(const rn_ini_section *secs, int n, char *buf, size_t cap) {
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s[%s]", i ? " " : "", secs[i].name);
    }
    return 0;
}

int rn_ini_load(const char *path, const rn_ini_section *secs, int n_secs, rn_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) return rn_fail(err, "%s: cannot open config: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0, rc = 0;
    const rn_ini_section *cur = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = rn_fail(err, "%s:%d: line too long", path, lineno);
            break;
        }
        char *s = trim(line);
        if (*s == 0 || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e || trim(e + 1)[0] != 0) {
                rc = rn_fail(err, "%s:%d: malformed section header '%s'", path, lineno, s);
                break;
            }
            *e = 0;
            char *name = trim(s + 1);
            cur = find_section(secs, n_secs, name);
            if (!cur) {
                char known[512];
                known_sections(secs, n_secs, known, sizeof known);
                rc = rn_fail(err, "%s:%d: unknown section [%s] (known: %s)", path, lineno, name, known);
                break;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = rn_fail(err, "%s:%d: expected 'key = value', got '%s'", path, lineno, s);
            break;
        }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        char *hash = strstr(val, " #");  // trailing comment
        if (hash) *hash = 0, val = trim(val);
        if (!cur) {
            rc = rn_fail(err, "%s:%d: key '%s' outside any section", path, lineno, key);
            break;
        }
        rn_err e2;
        if (cur->fn(cur->ctx, key, val, &e2)) {
            rc = rn_fail(err, "%s:%d: [%s] %s", path, lineno, cur->name, e2.msg);
            break;
        }
    }
    if (!rc && ferror(f)) rc = rn_fail(err, "%s: read error", path);
    fclose(f);
    return rc;
}

int rn_ini_override(const char *assignment, const rn_ini_section *secs, int n_secs, rn_err *err) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", assignment);
    char *dot = strchr(buf, '.'), *eq = strchr(buf, '=');
    if (!dot || !eq || dot > eq) return rn_fail(err, "--set %s: expected section.key=value", assignment);
    *dot = 0, *eq = 0;
    const rn_ini_section *s = find_section(secs, n_secs, trim(buf));
    if (!s) return rn_fail(err, "--set %s: unknown section [%s]", assignment, trim(buf));
    rn_err e2;
    if (s->fn(s->ctx, trim(dot + 1), trim(eq + 1), &e2)) return rn_fail(err, "--set %s: %s", assignment, e2.msg);
    return 0;
}

int rn_parse_int(const char *key, const char *v, long lo, long hi, int *out, rn_err *err) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (*v == 0 || *end != 0 || errno) return rn_fail(err, "%s: expected an integer, got '%s'", key, v);
    if (x < lo || x > hi) return rn_fail(err, "%s: %ld is out of range [%ld, %ld]", key, x, lo, hi);
    *out = (int)x;
    return 0;
}

int rn_parse_float(const char *key, const char *v, double lo, double hi, double *out, rn_err *err) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*v == 0 || *end != 0 || errno) return rn_fail(err, "%s: expected a number, got '%s'", key, v);
    if (!(x >= lo && x <= hi)) return rn_fail(err, "%s: %g is out of range [%g, %g]", key, x, lo, hi);
    *out = x;
    return 0;
}

int rn_parse_bool(const char *key, const char *v, int *out, rn_err *err) {
    static const char *yes[] = {"yes", "true", "1", "on"}, *no[] = {"no", "false", "0", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = 0, 0;
    }
    return rn_fail(err, "%s: expected yes or no, got '%s'", key, v);
}

int rn_parse_int_list(const char *key, const char *v, int *out, int max, int *n, rn_err *err) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", v);
    *n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (*n == max) return rn_fail(err, "%s: at most %d values, got '%s'", key, max, v);
        if (rn_parse_int(key, trim(tok), 1, 1000, &out[*n], err)) return -1;
        (*n)++;
    }
    if (*n == 0) return rn_fail(err, "%s: expected a list like 3,4,6,3, got '%s'", key, v);
    return 0;
}

int rn_parse_choice(const char *key, const char *v, const char *const *choices, int *out, rn_err *err) {
    char known[256] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(v, choices[i]) == 0) return *out = i, 0;
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", choices[i]);
    }
    return rn_fail(err, "%s: expected one of %s, got '%s'", key, known, v);
}
