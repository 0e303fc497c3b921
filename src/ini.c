// ini.c — the strict INI tokenizer; see ini.h.
#include "src/ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

// The whole file, NUL-terminated; *n excludes the terminator. The cap keeps a device or a huge
// file named as a config from being read without end.
static char *read_all(const char *path, size_t *n, rn_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail(err, "%s: cannot open config: %s", path, strerror(errno)), NULL;
    size_t cap = 4096, len = 0;
    char *buf = rn_malloc(cap + 1);
    for (;;) {
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (len < cap) break;
        if (cap >= RN_INI_MAX_BYTES) {
            fclose(f);
            free(buf);
            return rn_fail(err, "%s: larger than %d bytes: not a config", path, RN_INI_MAX_BYTES), NULL;
        }
        cap *= 2;
        buf = rn_realloc(buf, cap + 1);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return rn_fail(err, "%s: read error", path), NULL;
    }
    buf[len] = 0;
    *n = len;
    return buf;
}

// One line (NUL-terminated, no newline): -1 with the message, location not yet added.
static int parse_line(char *s, rn_ini_line *l, char *section, size_t cap, rn_ini_fn fn, void *ctx, rn_err *err) {
    s = trim(s);
    if (*s == 0 || *s == '#' || *s == ';') return 0;
    if (*s == '[') {
        char *e = strchr(s, ']');
        if (!e || trim(e + 1)[0] != 0) return rn_fail(err, "malformed section header '%s'", s);
        *e = 0;
        char *name = trim(s + 1);
        if (strlen(name) >= cap) return rn_fail(err, "section name too long");
        strcpy(section, name);
        l->section = section, l->key = NULL, l->value = NULL;
        return fn(ctx, l, err);
    }
    char *eq = strchr(s, '=');
    if (!eq) return rn_fail(err, "expected 'key = value', got '%s'", s);
    *eq = 0;
    char *key = trim(s), *val = trim(eq + 1);
    char *hash = strstr(val, " #");  // trailing comment
    if (hash) *hash = 0, val = trim(val);
    if (!l->section) return rn_fail(err, "key '%s' outside any section", key);
    l->key = key, l->value = val;
    return fn(ctx, l, err);
}

int rn_ini_parse(const char *path, rn_ini_fn fn, void *ctx, rn_err *err) {
    size_t n;
    char *buf = read_all(path, &n, err);
    if (!buf) return -1;
    char section[256];
    rn_ini_line l = {0, NULL, NULL, NULL};
    int rc = 0;
    for (size_t at = 0; at < n && !rc;) {
        char *s = buf + at, *nl = memchr(s, '\n', n - at);
        size_t len = nl ? (size_t)(nl - s) : n - at;
        at += len + 1;
        l.line++;
        rn_err e2;
        if (memchr(s, 0, len)) rc = rn_fail(&e2, "NUL byte in the line (a binary file?)");
        else s[len] = 0, rc = parse_line(s, &l, section, sizeof section, fn, ctx, &e2);
        if (rc) rn_fail(err, "%s:%d: %s", path, l.line, e2.msg);
    }
    free(buf);
    return rc;
}
