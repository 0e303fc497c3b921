// opts.c — defaults, one-key setter and cross-key checks for rn_data_opts.
#include "data/opts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

rn_data_opts rn_data_opts_default(void) {
    rn_data_opts o;
    memset(&o, 0, sizeof o);
    o.size = 224;
    o.resize = 256;
    o.batch_size = 256;
    o.workers = 4;
    o.prefetch = 4;
    o.seed = 0;
    o.shuffle = 1;
    o.drop_last = 1;
    o.max_file_mb = 64;  // far above any real photo; bounds the memory one file can take
    // torchvision model cards: ImageNet RGB mean and std, on pixels scaled to [0, 1].
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    memcpy(o.mean, mean, sizeof mean);
    memcpy(o.std, std, sizeof std);
    o.flip = 1;
    o.scale_min = 0.08;
    o.scale_max = 1.0;
    o.ratio_min = 3.0 / 4.0;
    o.ratio_max = 4.0 / 3.0;
    return o;
}

static const char *skip_blank(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

// A number, or a fraction "a/b" (for ratio = 3/4, 4/3). *end is set past it.
static int parse_num(const char *s, double *v, const char **end) {
    char *e;
    errno = 0;
    double a = strtod(s, &e);
    if (e == s || errno || !isfinite(a)) return -1;
    e = (char *)skip_blank(e);
    if (*e == '/') {
        const char *t = skip_blank(e + 1);
        double b = strtod(t, &e);
        if (e == t || errno || !isfinite(b) || b == 0) return -1;
        a /= b;
    }
    *v = a;
    *end = skip_blank(e);
    return 0;
}

// n comma-separated numbers.
static int parse_nums(const char *s, double *v, int n) {
    s = skip_blank(s);
    for (int i = 0; i < n; i++) {
        if (parse_num(s, &v[i], &s) != 0) return -1;
        if (i + 1 < n) {
            if (*s != ',') return -1;
            s = skip_blank(s + 1);
        }
    }
    return *s == 0 ? 0 : -1;
}

static int parse_int(const char *s, long lo, long hi, int *out) {
    char *e;
    errno = 0;
    long v = strtol(skip_blank(s), &e, 10);
    if (e == s || errno || *skip_blank(e) != 0 || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int parse_bool(const char *s, int *out) {
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(s, no[i]) == 0) return *out = 0, 0;
    }
    return -1;
}

static int set_path(char *dst, const char *key, const char *v, rn_err *err) {
    if (strlen(v) >= RN_DATA_PATH_MAX)
        return rn_fail(err, "%s: path longer than %d bytes", key, RN_DATA_PATH_MAX - 1);
    strcpy(dst, v);
    return 0;
}

#define BAD(what) return rn_fail(err, "%s = '%s': expected %s", key, value, what)

static int set_data(rn_data_opts *o, const char *key, const char *value, rn_err *err) {
    if (!strcmp(key, "train_dir")) return set_path(o->train_dir, key, value, err);
    if (!strcmp(key, "val_dir")) return set_path(o->val_dir, key, value, err);
    if (!strcmp(key, "train_list")) return set_path(o->train_list, key, value, err);
    if (!strcmp(key, "val_list")) return set_path(o->val_list, key, value, err);
    if (!strcmp(key, "class_names")) return set_path(o->class_names, key, value, err);
    if (!strcmp(key, "size")) {
        if (parse_int(value, 1, 4096, &o->size)) BAD("an integer in 1..4096");
        return 0;
    }
    if (!strcmp(key, "resize")) {
        if (parse_int(value, 1, 8192, &o->resize)) BAD("an integer in 1..8192");
        return 0;
    }
    if (!strcmp(key, "batch_size")) {
        if (parse_int(value, 1, 1 << 20, &o->batch_size)) BAD("a positive integer");
        return 0;
    }
    if (!strcmp(key, "workers")) {
        if (parse_int(value, 0, 256, &o->workers)) BAD("an integer in 0..256");
        return 0;
    }
    if (!strcmp(key, "prefetch")) {
        if (parse_int(value, 2, 1024, &o->prefetch)) BAD("an integer in 2..1024");
        return 0;
    }
    if (!strcmp(key, "seed")) {
        char *e;
        errno = 0;
        unsigned long long v = strtoull(value, &e, 0);
        if (e == value || *e || errno || value[0] == '-') BAD("a non-negative integer");
        o->seed = v;
        return 0;
    }
    if (!strcmp(key, "shuffle")) {
        if (parse_bool(value, &o->shuffle)) BAD("true or false");
        return 0;
    }
    if (!strcmp(key, "drop_last")) {
        if (parse_bool(value, &o->drop_last)) BAD("true or false");
        return 0;
    }
    if (!strcmp(key, "max_file_mb")) {
        if (parse_int(value, 1, 4096, &o->max_file_mb)) BAD("an integer in 1..4096 (MiB)");
        return 0;
    }
    if (!strcmp(key, "mean") || !strcmp(key, "std")) {
        double v[3];
        if (parse_nums(value, v, 3)) BAD("three comma-separated numbers");
        for (int c = 0; c < 3; c++) {
            if (key[0] == 's' && !(v[c] > 0)) BAD("positive numbers");
            (key[0] == 'm' ? o->mean : o->std)[c] = (float)v[c];
        }
        return 0;
    }
    return rn_fail(err, "unknown key '%s' in [data]", key);
}

static int set_augment(rn_data_opts *o, const char *key, const char *value, rn_err *err) {
    double v[2];
    if (!strcmp(key, "flip")) {
        if (parse_bool(value, &o->flip)) BAD("true or false");
        return 0;
    }
    if (!strcmp(key, "pad_crop")) {
        if (parse_int(value, 0, 1024, &o->pad_crop)) BAD("an integer in 0..1024 (pixels)");
        return 0;
    }
    if (!strcmp(key, "scale") || !strcmp(key, "ratio")) {
        if (parse_nums(value, v, 2) || !(v[0] > 0) || v[0] > v[1])
            BAD("'lo, hi' with 0 < lo <= hi");
        if (key[0] == 's') o->scale_min = v[0], o->scale_max = v[1];
        else o->ratio_min = v[0], o->ratio_max = v[1];
        return 0;
    }
    double *d = !strcmp(key, "scale_min")    ? &o->scale_min
                : !strcmp(key, "scale_max")  ? &o->scale_max
                : !strcmp(key, "ratio_min")  ? &o->ratio_min
                : !strcmp(key, "ratio_max")  ? &o->ratio_max
                : !strcmp(key, "brightness") ? &o->brightness
                : !strcmp(key, "contrast")   ? &o->contrast
                : !strcmp(key, "saturation") ? &o->saturation
                : !strcmp(key, "lighting")   ? &o->lighting
                                             : NULL;
    if (!d) return rn_fail(err, "unknown key '%s' in [augment]", key);
    if (parse_nums(value, v, 1) || v[0] < 0) BAD("a non-negative number");
    if (!strncmp(key, "scale", 5) || !strncmp(key, "ratio", 5)) {
        if (!(v[0] > 0)) BAD("a positive number");
    }
    *d = v[0];
    return 0;
}

int rn_data_opts_set(rn_data_opts *o, const char *section, const char *key, const char *value,
                     rn_err *err) {
    if (!strcmp(section, "data")) return set_data(o, key, value, err);
    if (!strcmp(section, "augment")) return set_augment(o, key, value, err);
    return rn_fail(err, "section [%s] is not a data section", section);
}

int rn_data_opts_check(const rn_data_opts *o, rn_err *err) {
    if (o->size < 1 || o->batch_size < 1 || o->workers < 0 || o->prefetch < 2)
        return rn_fail(err, "[data] size, batch_size must be >= 1, workers >= 0, prefetch >= 2");
    if (o->max_file_mb < 1 || o->max_file_mb > 4096)
        return rn_fail(err, "[data] max_file_mb = %d: need 1..4096", o->max_file_mb);
    if (o->resize < o->size)
        return rn_fail(err, "[data] resize = %d is smaller than size = %d", o->resize, o->size);
    if (!(o->scale_min > 0) || o->scale_min > o->scale_max || o->scale_max > 1)
        return rn_fail(err, "[augment] scale %g..%g: need 0 < scale_min <= scale_max <= 1",
                       o->scale_min, o->scale_max);
    if (!(o->ratio_min > 0) || o->ratio_min > o->ratio_max)
        return rn_fail(err, "[augment] ratio %g..%g: need 0 < ratio_min <= ratio_max",
                       o->ratio_min, o->ratio_max);
    for (int c = 0; c < 3; c++)
        if (!(o->std[c] > 0)) return rn_fail(err, "[data] std must be positive");
    return 0;
}
