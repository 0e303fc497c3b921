// model_meta.c — the model file's preprocessing and class names as key/value pairs; see model_meta.h.
#include "src/model_meta.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/parse.h"

void rn_kv_add(rn_kv *kv, const char *key, const char *val) {
    if (kv->n == kv->cap) {
        kv->cap = kv->cap ? 2 * kv->cap : 16;
        kv->key = rn_realloc(kv->key, (size_t)kv->cap * sizeof *kv->key);
        kv->val = rn_realloc(kv->val, (size_t)kv->cap * sizeof *kv->val);
    }
    kv->key[kv->n] = rn_strdup(key);
    kv->val[kv->n++] = rn_strdup(val);
}

void rn_kv_free(rn_kv *kv) {
    for (int i = 0; i < kv->n; i++) free(kv->key[i]), free(kv->val[i]);
    free(kv->key);
    free(kv->val);
    memset(kv, 0, sizeof *kv);
}

rn_preproc rn_preproc_imagenet(void) {
    rn_preproc p = {224, 256, 0.875, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    return p;
}

void rn_model_meta_set_classes(rn_model_meta *m, const char *const *names, int n) {
    for (int i = 0; i < m->n_classes; i++) free(m->classes[i]);
    free(m->classes);
    m->classes = n > 0 ? rn_calloc((size_t)n, sizeof *m->classes) : NULL;
    for (int i = 0; i < n; i++) m->classes[i] = rn_strdup(names[i]);
    m->n_classes = n > 0 ? n : 0;
}

void rn_model_meta_free(rn_model_meta *m) {
    rn_model_meta_set_classes(m, NULL, 0);
    memset(m, 0, sizeof *m);
}

// ---- encoding -----------------------------------------------------------------------------------

// Class names joined by ',': '%', ',' and control bytes become %XX, so every name survives a line.
static int needs_escape(unsigned char ch) { return ch == '%' || ch == ',' || ch < 0x20 || ch == 0x7f; }

static char *join_classes(char *const *names, int n) {
    size_t len = 1;
    for (int i = 0; i < n; i++) {
        len += 1;
        for (const unsigned char *p = (const unsigned char *)names[i]; *p; p++) len += needs_escape(*p) ? 3 : 1;
    }
    char *out = rn_malloc(len), *o = out;
    for (int i = 0; i < n; i++) {
        if (i) *o++ = ',';
        for (const unsigned char *p = (const unsigned char *)names[i]; *p; p++) {
            if (needs_escape(*p)) o += sprintf(o, "%%%02X", *p);
            else *o++ = (char)*p;
        }
    }
    *o = 0;
    return out;
}

void rn_model_meta_encode(const rn_model_meta *m, rn_kv *kv) {
    if (m->has_preproc) {
        const rn_preproc *p = &m->pre;
        char b[160];
        snprintf(b, sizeof b, "%d", p->size), rn_kv_add(kv, RN_META_SIZE, b);
        snprintf(b, sizeof b, "%d", p->resize), rn_kv_add(kv, RN_META_RESIZE, b);
        snprintf(b, sizeof b, "%.9g", p->crop_pct), rn_kv_add(kv, RN_META_CROP_PCT, b);
        rn_kv_add(kv, RN_META_INTERP, "bilinear");
        // 9 significant digits bring a float back exactly.
        snprintf(b, sizeof b, "%.9g,%.9g,%.9g", p->mean[0], p->mean[1], p->mean[2]), rn_kv_add(kv, RN_META_MEAN, b);
        snprintf(b, sizeof b, "%.9g,%.9g,%.9g", p->std[0], p->std[1], p->std[2]), rn_kv_add(kv, RN_META_STD, b);
        rn_kv_add(kv, RN_META_CHANNELS, "RGB");
        rn_kv_add(kv, RN_META_RANGE, "0,1");
    }
    if (m->n_classes > 0) {
        char *j = join_classes(m->classes, m->n_classes);
        rn_kv_add(kv, RN_META_CLASSES, j);
        free(j);
    }
}

// ---- decoding -----------------------------------------------------------------------------------

static int bad(const char *what, const char *key, rn_err *err, const char *why, const char *val) {
    return rn_fail(err, "%s: metadata '%s': %s, got '%.80s%s'", what, key, why, val, strlen(val) > 80 ? "..." : "");
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int split_classes(const char *what, const char *v, rn_model_meta *m, rn_err *err) {
    size_t n = 1;
    for (const char *p = v; *p; p++) n += *p == ',';
    if (n > RN_META_MAX_CLASSES) return bad(what, RN_META_CLASSES, err, "more than 1000000 class names", "...");
    m->classes = rn_calloc(n, sizeof *m->classes);
    const char *p = v;
    for (size_t i = 0; i < n; i++) {
        const char *e = strchr(p, ',');
        if (!e) e = p + strlen(p);
        char *name = rn_malloc((size_t)(e - p) + 1), *o = name;
        for (const char *q = p; q < e; q++) {
            if (*q != '%') {
                *o++ = *q;
                continue;
            }
            int hi = q + 2 < e ? hexval(q[1]) : -1, lo = hi >= 0 ? hexval(q[2]) : -1;
            if (lo < 0 || hi * 16 + lo == 0) {
                free(name);
                char why[64];
                snprintf(why, sizeof why, "class name %zu has a bad %%XX escape", i);
                return bad(what, RN_META_CLASSES, err, why, v);
            }
            *o++ = (char)(hi * 16 + lo);
            q += 2;
        }
        *o = 0;
        m->classes[m->n_classes++] = name;
        if (!name[0]) {
            char why[64];
            snprintf(why, sizeof why, "class name %zu is empty", i);
            return bad(what, RN_META_CLASSES, err, why, v);
        }
        p = *e ? e + 1 : e;
    }
    return 0;
}

static int decode_pre(const char *what, const char *const *v, rn_preproc *p, rn_err *err) {
    // v: the values of size, resize, crop_pct, interpolation, mean, std, channel_order, pixel_range.
    static const char *const names[8] = {RN_META_SIZE, RN_META_RESIZE, RN_META_CROP_PCT, RN_META_INTERP,
                                         RN_META_MEAN, RN_META_STD,    RN_META_CHANNELS, RN_META_RANGE};
    for (int i = 0; i < 8; i++)
        if (!v[i] && (i <= 1 || i == 4 || i == 5))
            return rn_fail(err, "%s: metadata '%s' is missing (the file has other preprocess.* keys)", what, names[i]);
    long long s, r;
    if (rn_parse_i64(v[0], &s) || s < 1 || s > 4096) return bad(what, names[0], err, "expected an integer in [1, 4096]", v[0]);
    if (rn_parse_i64(v[1], &r) || r < s || r > 8192)
        return bad(what, names[1], err, "expected an integer in [size, 8192]", v[1]);
    p->size = (int)s, p->resize = (int)r;
    p->crop_pct = (double)s / (double)r;
    if (v[2] && (rn_parse_f64(v[2], &p->crop_pct) || !(p->crop_pct > 0 && p->crop_pct <= 1)))
        return bad(what, names[2], err, "expected a number in (0, 1]", v[2]);
    if (v[3] && strcmp(v[3], "bilinear") != 0) return bad(what, names[3], err, "only 'bilinear' is supported", v[3]);
    if (v[6] && strcmp(v[6], "RGB") != 0) return bad(what, names[6], err, "only 'RGB' is supported", v[6]);
    double scale = 1, range[2], mean[3], sd[3];
    if (v[7]) {
        if (rn_parse_f64_n(v[7], range, 2) || range[0] != 0 || (range[1] != 1 && range[1] != 255))
            return bad(what, names[7], err, "expected '0,1' or '0,255'", v[7]);
        scale = range[1];  // mean and std are in the same units as the pixels
    }
    if (rn_parse_f64_n(v[4], mean, 3)) return bad(what, names[4], err, "expected 3 comma-separated numbers", v[4]);
    if (rn_parse_f64_n(v[5], sd, 3) || !(sd[0] > 0 && sd[1] > 0 && sd[2] > 0))
        return bad(what, names[5], err, "expected 3 comma-separated positive numbers", v[5]);
    for (int c = 0; c < 3; c++) {
        p->mean[c] = (float)(mean[c] / scale), p->std[c] = (float)(sd[c] / scale);
        if (!isfinite(p->mean[c])) return bad(what, names[4], err, "a value is out of float range", v[4]);
        if (!isfinite(p->std[c]) || !(p->std[c] > 0)) return bad(what, names[5], err, "a value is out of float range", v[5]);
    }
    return 0;
}

int rn_model_meta_decode(const char *what, int n, const char *const *keys, const char *const *vals,
                         rn_model_meta *m, rn_err *err) {
    static const char *const names[9] = {RN_META_SIZE, RN_META_RESIZE, RN_META_CROP_PCT, RN_META_INTERP, RN_META_MEAN,
                                         RN_META_STD,  RN_META_CHANNELS, RN_META_RANGE, RN_META_CLASSES};
    const char *v[9] = {0};
    memset(m, 0, sizeof *m);
    int any = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < 9 && strcmp(keys[i], names[k]) != 0) k++;
        if (k == 9) continue;  // another producer's key, or a checkpoint's own
        if (v[k]) return rn_fail(err, "%s: metadata '%s' is given twice", what, names[k]);
        v[k] = vals[i];
        any |= k < 8;
    }
    int rc = 0;
    if (any) {
        rc = decode_pre(what, v, &m->pre, err);
        m->has_preproc = !rc;
    }
    if (!rc && v[8]) rc = split_classes(what, v[8], m, err);
    if (rc) rn_model_meta_free(m);
    return rc;
}
