// config.c — loads, prints and documents every section of a run's config; see config.h.
#define _POSIX_C_SOURCE 200809L  // fsync, fileno
#include "src/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { N_SECTIONS = 8 };

// The sections in file order, bound to c's structs (const only in how callers use them).
static void sections(const rn_config *cc, rn_conf_sec s[N_SECTIONS]) {
    rn_config *c = (rn_config *)cc;
    rn_conf_sec t[N_SECTIONS] = {
        {&rn_model_section, &c->model},           {&rn_data_section, &c->data},
        {&rn_augment_section, &c->data},          {&rn_train_section, &c->train},
        {&rn_optim_section, &c->optim},           {&rn_schedule_section, &c->schedule},
        {&rn_checkpoint_section, &c->checkpoint}, {&rn_export_section, &c->export_opts},
    };
    memcpy(s, t, sizeof t);
}

// "configs/resnet50v2.ini" -> "resnet50v2"
static void config_name(const char *path, char *name, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(name, cap, "%s", b);
    size_t l = strlen(name);
    if (l > 4 && strcmp(name + l - 4, ".ini") == 0) name[l - 4] = 0;
}

static void set_defaults(rn_config *c) {
    memset(c, 0, sizeof *c);
    c->model = rn_model_opts_default();
    c->data = rn_data_opts_default();
    c->train = rn_train_opts_default();
    c->optim = rn_sgd_opts_default();
    c->schedule = rn_sched_opts_default();
    c->checkpoint = rn_ckpt_opts_default();
    c->export_opts = rn_export_opts_default();
}

// [data] resize < size (or val_resize < val_size), named where the resize was set: the last --set
// that did, else its line.
static int resize_error(const char *key, int resize, const char *size_key, int size, const char *path,
                        const char *const *overrides, int n, rn_err *err) {
    char msg[256], set[32];
    snprintf(msg, sizeof msg, "[data] %s = %d is smaller than %s = %d: set %s >= %s, or %s = 0 for %s / crop_pct", key,
             resize, size_key, size, key, size_key, key, size_key);
    int len = snprintf(set, sizeof set, "data.%s", key);
    for (int i = n - 1; i >= 0; i--) {
        const char *o = overrides[i];
        while (*o == ' ') o++;
        if (!strncmp(o, set, (size_t)len) && (o[len] == '=' || o[len] == ' ')) return rn_fail(err, "--set %.200s: %s", overrides[i], msg);
    }
    int line = rn_conf_key_line(path, "data", key);
    if (line > 0) return rn_fail(err, "%s:%d: %s", path, line, msg);
    return rn_fail(err, "%s: %s", path, msg);
}

int rn_config_load(rn_config *c, const char *path, const char *const *overrides, int n_overrides, rn_err *err) {
    set_defaults(c);
    if (strlen(path) >= sizeof c->path) return rn_fail(err, "%.200s...: config path too long", path);
    snprintf(c->path, sizeof c->path, "%s", path);
    config_name(path, c->name, sizeof c->name);
    rn_conf_sec secs[N_SECTIONS];
    sections(c, secs);
    if (rn_conf_load(path, secs, N_SECTIONS, err)) return -1;
    for (int i = 0; i < n_overrides; i++)
        if (rn_conf_override(overrides[i], secs, N_SECTIONS, err)) return -1;
    rn_err e2;
    const rn_data_opts *d = &c->data;
    if (d->resize && d->resize < d->size) return resize_error("resize", d->resize, "size", d->size, path, overrides, n_overrides, err);
    if (d->val_resize && d->val_size && d->val_resize < d->val_size)
        return resize_error("val_resize", d->val_resize, "val_size", d->val_size, path, overrides, n_overrides, err);
    if (rn_model_opts_resolve(&c->model, &e2) || rn_data_opts_check(&c->data, &e2) ||
        rn_train_config_check(c, &e2))
        return rn_fail(err, "%s: %s", path, e2.msg);
    if (!c->train.run_dir[0]) snprintf(c->train.run_dir, sizeof c->train.run_dir, "runs/%s", c->name);
    return 0;
}

int rn_config_check_train_data(const rn_config *c, rn_err *err) {
    if (!c->data.train_dir[0] && !c->data.train_list[0])
        return rn_fail(err, "%s: [data] sets neither train_dir nor train_list: resnet-train needs training data", c->path);
    return 0;
}

void rn_config_print(const rn_config *c, FILE *f) {
    rn_conf_sec secs[N_SECTIONS];
    sections(c, secs);
    fprintf(f, "# The effective configuration: every key of every section, defaults included.\n");
    rn_conf_print(secs, N_SECTIONS, f);
}

int rn_config_write(const rn_config *c, const char *path, rn_err *err) {
    char tmp[RN_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return rn_fail(err, "%s: cannot write: %s", tmp, strerror(errno));
    rn_config_print(c, f);
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return rn_fail(err, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

void rn_config_doc(FILE *f) {
    static rn_config d;  // large: keep it off the stack
    set_defaults(&d);
    rn_conf_sec secs[N_SECTIONS];
    sections(&d, secs);
    rn_conf_doc(secs, N_SECTIONS, f);
}

int rn_config_equal(const rn_config *a, const rn_config *b) {
    rn_conf_sec sa[N_SECTIONS], sb[N_SECTIONS];
    sections(a, sa);
    sections(b, sb);
    for (int i = 0; i < N_SECTIONS; i++)
        if (!rn_section_equal(sa[i].sec, sa[i].obj, sb[i].obj)) return 0;
    return 1;
}
