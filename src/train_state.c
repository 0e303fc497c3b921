// train_state.c — the run's state and its checkpoint metadata; see train_state.h.
#include "src/train_state.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rn_state_init(rn_train_state *s) {
    memset(s, 0, sizeof *s);
    s->best_top1 = -1;
}

void rn_state_free(rn_train_state *s) {
    free(s->rows);
    s->rows = NULL;
    s->n_rows = s->cap_rows = 0;
}

void rn_state_add_row(rn_train_state *s, const rn_epoch_row *r) {
    if (s->n_rows == s->cap_rows) {
        s->cap_rows = s->cap_rows ? 2 * s->cap_rows : 64;
        s->rows = rn_realloc(s->rows, (size_t)s->cap_rows * sizeof *s->rows);
    }
    s->rows[s->n_rows++] = *r;
}

// ---- writing ------------------------------------------------------------------------------------

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        b->cap = (b->cap + (size_t)k + 1) * 2;
        b->p = rn_realloc(b->p, b->cap);
    }
}

// [model] as the config gave it, in keys rn_model_opts_set accepts.
static void put_model(sbuf *b, const rn_model_opts *m) {
    if (m->depth) {
        put(b, "model.depth=%d\n", m->depth);
    } else {
        put(b, "model.blocks=");
        for (int i = 0; i < m->n_stages; i++) put(b, "%s%d", i ? "," : "", m->blocks[i]);
        put(b, "\nmodel.bottleneck=%s\n", m->bottleneck ? "yes" : "no");
    }
    put(b, "model.version=%d\nmodel.num_classes=%d\nmodel.width=%d\nmodel.stem=%s\nmodel.input_size=%d\n",
        m->version, m->num_classes, m->width, m->stem_small ? "small" : "imagenet", m->input_size);
    put(b, "model.stride_in_3x3=%s\nmodel.zero_init_residual=%s\n", m->stride_in_3x3 ? "yes" : "no",
        m->zero_init_residual ? "yes" : "no");
}

char *rn_state_meta(const rn_config *c, const rn_run_shape *sh, const rn_train_state *s, int resumable,
                    const rn_model_meta *mm) {
    sbuf b = {0};
    put(&b, "producer=resnet.c resnet-train\nconfig=%s\n", c->path);
    put_model(&b, &c->model);
    put(&b, "run.batch_size=%lld\nrun.accum_steps=%lld\nrun.train_samples=%lld\nrun.batches_per_epoch=%lld\n",
        (long long)sh->batch_size, (long long)sh->accum_steps, (long long)sh->train_samples,
        (long long)sh->batches_per_epoch);
    put(&b, "run.world=%lld\n", (long long)sh->world);
    put(&b, "run.data_seed=%llu\nrun.init_seed=%llu\nrun.epochs=%d\nrun.resumable=%d\n",
        (unsigned long long)sh->data_seed, (unsigned long long)c->train.seed, c->train.epochs, resumable);
    put(&b, "state.epoch=%lld\nstate.batch=%lld\nstate.step=%lld\n", (long long)s->epoch, (long long)s->batch,
        (long long)s->step);
    put(&b, "state.best_top1=%.17g\nstate.best_epoch=%d\n", s->best_top1, s->best_epoch);
    put(&b, "state.loss_sum=%.17g\nstate.correct=%lld\nstate.seen=%lld\nstate.seconds=%.17g\nstate.lr=%.17g\n",
        s->loss_sum, (long long)s->correct, (long long)s->seen, s->seconds, s->lr);
    put(&b, "state.smooth_loss=%.17g\nstate.smooth_n=%lld\n", s->smooth_loss, (long long)s->smooth_n);
    for (int i = 0; i < s->n_rows; i++) {
        const rn_epoch_row *r = &s->rows[i];
        put(&b, "history=%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", r->epoch, r->lr,
            r->train_loss, r->train_top1, r->val_loss, r->val_top1, r->val_top5, r->img_per_s, r->seconds,
            r->val_loss_ema, r->val_top1_ema, r->val_top5_ema);
    }
    if (mm) {
        rn_kv kv = {0};
        rn_model_meta_encode(mm, &kv);
        for (int i = 0; i < kv.n; i++) put(&b, "%s=%s\n", kv.key[i], kv.val[i]);
        rn_kv_free(&kv);
    }
    return b.p;
}

int rn_state_check_model(const rn_ckpt *ck, const rn_config *c, rn_err *err) {
    sbuf b = {0};
    put_model(&b, &c->model);
    char diff[768] = "";
    size_t dl = 0;
    for (char *line = b.p, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *eq = strchr(line, '=');
        *eq = 0;
        const char *was = rn_ckpt_meta(ck, line);
        if (was && !strcmp(was, eq + 1)) continue;
        if (dl < sizeof diff)
            dl += (size_t)snprintf(diff + dl, sizeof diff - dl, "%s%s is %s in the config, %s in the checkpoint",
                                   dl ? "; " : "", line + 6, eq + 1, was ? was : "not set");
    }
    free(b.p);
    if (dl) return rn_fail(err, "%s: the config's [model] differs from the checkpoint's: %s", ck->path, diff);
    return 0;
}

// ---- reading ------------------------------------------------------------------------------------

static int get_i64(const rn_ckpt *ck, const char *key, int64_t *out, rn_err *err) {
    const char *v = rn_ckpt_meta(ck, key);
    char *end;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || *v == 0 || *end || errno) return rn_fail(err, "%s: metadata '%s' is missing or not an integer", ck->path, key);
    *out = x;
    return 0;
}

static int get_f64(const rn_ckpt *ck, const char *key, double *out, rn_err *err) {
    const char *v = rn_ckpt_meta(ck, key);
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || *v == 0 || *end) return rn_fail(err, "%s: metadata '%s' is missing or not a number", ck->path, key);
    *out = x;
    return 0;
}

int rn_state_from_ckpt(const rn_ckpt *ck, const rn_run_shape *sh, rn_train_state *s, rn_err *err) {
    int64_t v[8] = {0};
    if (get_i64(ck, "run.resumable", &v[0], err)) return -1;
    if (!v[0]) return rn_fail(err, "%s holds weights only (no momentum): resume from last.ckpt of the run", ck->path);
    static const char *keys[] = {"run.batch_size", "run.accum_steps", "run.train_samples", "run.batches_per_epoch",
                                 "run.data_seed"};
    int64_t now[5] = {sh->batch_size, sh->accum_steps, sh->train_samples, sh->batches_per_epoch, (int64_t)sh->data_seed};
    rn_state_init(s);
    if (get_i64(ck, "state.epoch", &s->epoch, err) || get_i64(ck, "state.batch", &s->batch, err) ||
        get_i64(ck, "state.step", &s->step, err) || get_f64(ck, "state.best_top1", &s->best_top1, err) ||
        get_i64(ck, "state.best_epoch", &v[1], err) || get_f64(ck, "state.loss_sum", &s->loss_sum, err) ||
        get_i64(ck, "state.correct", &s->correct, err) || get_i64(ck, "state.seen", &s->seen, err) ||
        get_f64(ck, "state.seconds", &s->seconds, err) || get_f64(ck, "state.lr", &s->lr, err) ||
        get_f64(ck, "state.smooth_loss", &s->smooth_loss, err) || get_i64(ck, "state.smooth_n", &s->smooth_n, err))
        return -1;
    s->best_epoch = (int)v[1];
    int64_t world = 1;  // checkpoints from before MPI: one process
    if (rn_ckpt_meta(ck, "run.world") && get_i64(ck, "run.world", &world, err)) return -1;
    if (world < 1) return rn_fail(err, "%s: run.world %lld is not a rank count", ck->path, (long long)world);
    for (int i = 0; i < 5; i++) {
        int64_t was = 0;
        if (get_i64(ck, keys[i], &was, err)) return -1;
        if (world != sh->world && (i == 2 || i == 3)) continue;  // per rank: converted below
        // Mid-epoch, any of these moves the batches; at an epoch boundary only the seed matters less.
        if (was != now[i] && (s->batch > 0 || i == 0 || i == 1))
            return rn_fail(err, "%s: %s was %lld, is now %lld: the run cannot continue from the same batch", ck->path,
                           keys[i], (long long)was, (long long)now[i]);
    }
    if (world != sh->world && s->batch > 0) {
        // The same global position: batches done by all ranks, in whole steps of the new shape.
        int64_t global = s->batch * world, A = sh->accum_steps, spe = (sh->batches_per_epoch + A - 1) / A;
        s->batch = global / sh->world / A * A;
        if (s->batch > sh->batches_per_epoch) s->batch = sh->batches_per_epoch;
        s->step = s->epoch * spe + s->batch / A;
    } else if (world != sh->world) {
        int64_t A = sh->accum_steps;
        s->step = s->epoch * ((sh->batches_per_epoch + A - 1) / A);
    }
    if (s->batch < 0 || s->epoch < 0 || s->step < 0 || s->batch > sh->batches_per_epoch)
        return rn_fail(err, "%s: implausible position epoch %lld batch %lld", ck->path, (long long)s->epoch,
                       (long long)s->batch);
    for (int i = 0; i < ck->n_meta; i++) {
        if (strcmp(ck->meta_key[i], "history") != 0) continue;
        rn_epoch_row r;
        r.val_loss_ema = r.val_top1_ema = r.val_top5_ema = NAN;  // checkpoints before the EMA have 9 fields
        int got = sscanf(ck->meta_val[i], "%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &r.epoch, &r.lr,
                         &r.train_loss, &r.train_top1, &r.val_loss, &r.val_top1, &r.val_top5, &r.img_per_s, &r.seconds,
                         &r.val_loss_ema, &r.val_top1_ema, &r.val_top5_ema);
        if (got != 9 && got != 12) {
            rn_state_free(s);
            return rn_fail(err, "%s: malformed history line '%s'", ck->path, ck->meta_val[i]);
        }
        rn_state_add_row(s, &r);
    }
    return 0;
}
